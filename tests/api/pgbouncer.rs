//! The scale-out deployment of the README, proven: an API process (`serve
//! --no-workers`) and two `unionstat worker` processes reach PostgreSQL only
//! through PgBouncer in transaction pooling mode, with fewer server connections
//! than the processes hold; a batch of uploads gets its verdicts, the roll-ups
//! are exact, and `rollup verify` agrees.
//!
//! PgBouncer is the binary named by `UNIONSTAT_TEST_PGBOUNCER` (`.ci/run` sets it
//! from `.ci/pgbouncer`), else Debian's (`pgbouncer` on PATH or /usr/sbin). sqlx
//! names its prepared statements and keeps them across transactions; only
//! PgBouncer 1.21 and later can carry them in transaction mode
//! (`max_prepared_statements`), and Debian 12 ships 1.18. With no PgBouncer, or
//! an older one, the test is skipped with a message — except under `CI=true`,
//! where it fails.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::postgres::PgConnectOptions;
use sqlx::Connection;

use crate::helpers::*;

/// Server connections PgBouncer may open to the test database.
const POOL_SIZE: i64 = 3;
const TOWNS: usize = 12;
const UNITS: usize = 4;
const PERIOD: &str = "2026-10";

/// Why the test cannot run here: a skip outside CI, a failure under `CI=true`.
fn cannot_run(why: &str) {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{why} (CI=true: the PgBouncer test may not be skipped)");
    }
    eprintln!("SKIPPED the PgBouncer test: {why}");
}

/// The PgBouncer binary: `UNIONSTAT_TEST_PGBOUNCER`, else Debian's.
fn pgbouncer_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("UNIONSTAT_TEST_PGBOUNCER").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let on_path = Command::new("sh")
        .args(["-c", "command -v pgbouncer"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    on_path.or_else(|| Some(PathBuf::from("/usr/sbin/pgbouncer")).filter(|p| p.exists()))
}

/// `PgBouncer 1.18.0` → (1, 18).
fn version(bin: &Path) -> Option<(u32, u32)> {
    let out = Command::new(bin).arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let v = text.lines().next()?.strip_prefix("PgBouncer ")?;
    let mut parts = v.split('.').map(|p| p.parse::<u32>().ok());
    Some((parts.next()??, parts.next()??))
}

/// A PgBouncer of the test's own: its config and log in a temp dir, stopped
/// (SIGKILL) when dropped.
struct Bouncer {
    _proc: Proc,
    port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Bouncer {
    /// Starts `bin` in transaction pooling mode in front of `server` (the test
    /// server's database `db`), on a free port of 127.0.0.1.
    fn start(bin: &Path, server: &PgConnectOptions, db: &str) -> Bouncer {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let log = dir.path().join("pgbouncer.log");
        let config = dir.path().join("pgbouncer.ini");
        // auth_type any: clients are not checked, the server is reached as the
        // user named here (the test server trusts it). What unionstat needs of
        // a transaction pooler (README, Scale-out): max_prepared_statements, as
        // sqlx keeps named prepared statements across transactions;
        // extra_float_digits, a startup parameter sqlx sends, ignored; and the
        // session advisory lock of the migrators (sqlx's, taken by every
        // process at start) released whenever a server connection goes back to
        // the pool, so a lock and its unlock that land on different server
        // connections cannot leave it held for ever.
        let ini = format!(
            "[databases]\n\
             {db} = host={host} port={pg_port} user={user} dbname={db} pool_size={POOL_SIZE}\n\
             [pgbouncer]\n\
             listen_addr = 127.0.0.1\n\
             listen_port = {port}\n\
             unix_socket_dir =\n\
             auth_type = any\n\
             pool_mode = transaction\n\
             max_prepared_statements = 200\n\
             ignore_startup_parameters = extra_float_digits\n\
             server_reset_query = SELECT pg_advisory_unlock_all()\n\
             server_reset_query_always = 1\n\
             max_client_conn = 200\n\
             logfile = {log}\n\
             pidfile = {pid}\n",
            host = server.get_host(),
            pg_port = server.get_port(),
            user = server.get_username(),
            log = log.display(),
            pid = dir.path().join("pgbouncer.pid").display(),
        );
        std::fs::write(&config, ini).expect("write pgbouncer.ini");
        // A copy beside its config: the user it runs as may not reach the
        // original (a build under a private checkout).
        let local = dir.path().join("pgbouncer");
        std::fs::copy(bin, &local).expect("copy pgbouncer");
        let mut cmd = Command::new(&local);
        // PgBouncer refuses to run as root: as root, it runs as postgres (the
        // process itself, so that dropping the test's handle stops it).
        if unsafe { libc::geteuid() } == 0 {
            use std::os::unix::process::CommandExt;
            // SAFETY: getpwnam's result is read at once, on this thread.
            let (uid, gid) = unsafe {
                let pw = libc::getpwnam(c"postgres".as_ptr());
                assert!(!pw.is_null(), "no user postgres to run PgBouncer as");
                ((*pw).pw_uid, (*pw).pw_gid)
            };
            for path in [dir.path(), config.as_path(), local.as_path()] {
                std::os::unix::fs::chown(path, Some(uid), Some(gid)).expect("chown to postgres");
            }
            cmd.uid(uid).gid(gid);
        }
        let child = cmd
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start pgbouncer");
        let bouncer = Bouncer {
            _proc: Proc(child),
            port,
            log,
            _dir: dir,
        };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "PgBouncer did not listen within 10 s: {}",
                bouncer.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        bouncer
    }

    fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// Runs `unionstat ARGS` in `dir` against `url`; panics unless it exits 0.
fn run_ok(dir: &Path, url: &str, args: &[&str]) -> String {
    let out = unionstat_command(dir)
        .env("UNIONSTAT_DATABASE_URL", url)
        .args(args)
        .output()
        .expect("run unionstat");
    assert!(
        out.status.success(),
        "unionstat {args:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_and_workers_through_pgbouncer_in_transaction_mode_keep_every_total_exact() {
    let Some(server) = pg_server() else {
        return cannot_run(
            "no PostgreSQL: set UNIONSTAT_TEST_PG_URL or run a server on 127.0.0.1:5432",
        );
    };
    let Some(bin) = pgbouncer_binary() else {
        return cannot_run("pgbouncer is not installed (apt-get install -y pgbouncer)");
    };
    match version(&bin) {
        Some(v) if v >= (1, 21) => {}
        v => {
            return cannot_run(&format!(
                "{} is PgBouncer {v:?}: transaction pooling needs 1.21 or later \
                 (max_prepared_statements), as sqlx keeps named prepared statements \
                 across transactions; set UNIONSTAT_TEST_PGBOUNCER to a newer binary",
                bin.display()
            ))
        }
    }
    let server_options: PgConnectOptions = server.parse().expect("the test server's URL");
    let db_url = fresh_pg_database().await;
    let db = db_url
        .rsplit('/')
        .next()
        .expect("a database name")
        .to_string();
    let bouncer = Bouncer::start(&bin, &server_options, &db);
    let url = bouncer.url(&db);

    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path();
    std::fs::write(d.join("orgs.csv"), orgs_csv(TOWNS, UNITS)).expect("write");
    run_ok(d, &url, &["orgs", "import", "orgs.csv"]);
    let key = cli_admin_key(
        unionstat_command(d).env("UNIONSTAT_DATABASE_URL", &url),
        "pgbouncer test",
    );

    // One API process without workers, two worker processes: each has a pool
    // of up to 8 connections, all through PgBouncer.
    let env = [("UNIONSTAT_DATABASE_URL", url.as_str())];
    let (api, addr) = serve_with(d, &["--no-workers"], &env);
    let workers = [process(d, &["worker"], &env), process(d, &["worker"], &env)];

    let mut ids = Vec::new();
    let (mut emp, mut mem) = (0, 0);
    for t in 1..=TOWNS {
        let (bytes, e, m) = town_sheet(t, UNITS, PERIOD, 1000 + t as i64);
        emp += e;
        mem += m;
        let (status, body) = post_submission(&addr, &key, bytes).await;
        assert_eq!(status, 202, "town {t}: {body}");
        ids.push(body["id"].as_i64().expect("an id"));
    }

    let started = Instant::now();
    let mut accepted = 0;
    for id in &ids {
        loop {
            let body = get_json(&addr, &key, &format!("/api/v1/submissions/{id}")).await;
            match body["status"].as_str() {
                Some("accepted") => {
                    accepted += 1;
                    break;
                }
                Some("rejected") => panic!("submission {id} rejected: {body}"),
                _ => {}
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "no verdict for {id} within 120 s: {body}\nPgBouncer log:\n{}",
                bouncer.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    assert_eq!(accepted, TOWNS);

    let path = format!("/api/v1/orgs/330000/indicators?period={PERIOD}");
    let body = get_json(&addr, &key, &path).await;
    assert_eq!(metric(&body, "employees"), Some(emp as f64), "{body}");
    assert_eq!(metric(&body, "members"), Some(mem as f64), "{body}");
    assert_eq!(
        metric(&body, "enterprises_required"),
        Some((2 * TOWNS * UNITS) as f64)
    );
    assert_eq!(
        metric(&body, "unions_established"),
        Some((TOWNS * UNITS) as f64)
    );
    assert_eq!(
        body["coverage"]["reported_units"].as_i64(),
        Some((TOWNS * UNITS) as i64),
        "{body}"
    );

    // PgBouncer multiplexed: PostgreSQL saw at most the pool's server
    // connections to the test database, while three processes were connected.
    let mut admin = sqlx::PgConnection::connect(server)
        .await
        .expect("connect to the test server");
    let backends: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend'",
    )
    .bind(&db)
    .fetch_one(&mut admin)
    .await
    .expect("count backends");
    assert!(
        (1..=POOL_SIZE).contains(&backends),
        "{backends} server connections to {db}, pool_size {POOL_SIZE}"
    );

    let out = run_ok(d, &url, &["rollup", "verify"]);
    assert!(out.contains("equal a full recomputation"), "{out}");
    drop(admin);
    drop(workers);
    drop(api);
    drop(bouncer);
    drop_pg_database(&db_url).await;
}
