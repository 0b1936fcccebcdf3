//! The suite runs on both warehouses. Every test runs on SQLite under its own
//! name; the tests listed in a module's `postgres_twins!` run again, unchanged,
//! on PostgreSQL as `<module>::on_postgres::<name>`, each on a fresh database.
//!
//! PostgreSQL is found at `UNIONSTAT_TEST_PG_URL` (a server URL whose database
//! may be used to create others), else at 127.0.0.1:5432 as user postgres, else
//! a throwaway cluster is started with `initdb`/`pg_ctl` when they exist. With
//! none of these the PostgreSQL twins are skipped with a message — except under
//! `CI=true`, where they fail.

use std::cell::Cell;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use sqlx::Connection;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

thread_local! {
    static BACKEND: Cell<Backend> = const { Cell::new(Backend::Sqlite) };
}

/// The backend of the test running on this thread.
pub fn backend() -> Backend {
    BACKEND.with(Cell::get)
}

/// Runs a test body (a `#[test]`/`#[tokio::test]` function) on PostgreSQL.
pub fn on_postgres(test: fn()) {
    if pg_server().is_none() {
        let why = "no PostgreSQL: set UNIONSTAT_TEST_PG_URL, run a server on 127.0.0.1:5432, or install initdb/pg_ctl";
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{why} (CI=true: PostgreSQL tests may not be skipped)");
        }
        eprintln!("SKIPPED on PostgreSQL: {why}");
        return;
    }
    BACKEND.with(|b| b.set(Backend::Postgres));
    test();
}

/// Declares the PostgreSQL runs of the named tests of the current module.
macro_rules! postgres_twins {
    ($($name:ident),* $(,)?) => {
        mod on_postgres {
            $(
                #[test]
                fn $name() {
                    crate::backends::on_postgres(super::$name)
                }
            )*
        }
    };
}

static SERVER: OnceLock<Option<String>> = OnceLock::new();
static NEXT_DB: AtomicUsize = AtomicUsize::new(0);

/// The PostgreSQL server URL (its maintenance database), found or started once.
pub fn pg_server() -> Option<&'static str> {
    SERVER.get_or_init(find_or_start_server).as_deref()
}

fn find_or_start_server() -> Option<String> {
    if let Ok(url) = std::env::var("UNIONSTAT_TEST_PG_URL") {
        if !url.is_empty() {
            return Some(url);
        }
    }
    if TcpStream::connect_timeout(&"127.0.0.1:5432".parse().ok()?, Duration::from_secs(1)).is_ok() {
        return Some("postgres://postgres@127.0.0.1:5432/postgres".into());
    }
    start_throwaway_cluster()
}

fn pg_bin(name: &str) -> Option<PathBuf> {
    let on_path = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    on_path.or_else(|| {
        let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok())
            .map(|e| e.path().join("bin").join(name))
            .filter(|p| p.exists())
            .collect();
        found.sort();
        found.pop()
    })
}

static CLUSTER_DIR: OnceLock<PathBuf> = OnceLock::new();

extern "C" fn stop_cluster() {
    if let (Some(dir), Some(pg_ctl)) = (CLUSTER_DIR.get(), pg_bin("pg_ctl")) {
        let _ = as_postgres(
            &pg_ctl,
            &["-D", &dir.display().to_string(), "-m", "immediate", "stop"],
        )
        .output();
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// A command run as the postgres user when this process is root (initdb refuses
/// to run as root).
fn as_postgres(bin: &Path, args: &[&str]) -> Command {
    if unsafe { libc::geteuid() } == 0 {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin).args(args);
        c
    } else {
        let mut c = Command::new(bin);
        c.args(args);
        c
    }
}

fn start_throwaway_cluster() -> Option<String> {
    let (initdb, pg_ctl) = (pg_bin("initdb")?, pg_bin("pg_ctl")?);
    let dir = std::env::temp_dir().join(format!("unionstat-test-pg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).ok()?;
    if unsafe { libc::geteuid() } == 0 {
        Command::new("chown")
            .args(["-R", "postgres", &dir.display().to_string()])
            .status()
            .ok()?;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let data = dir.join("data");
    let d = data.display().to_string();
    let ok = as_postgres(&initdb, &["-D", &d, "-A", "trust", "-U", "postgres"])
        .output()
        .ok()?
        .status
        .success();
    if !ok {
        eprintln!("initdb failed in {}", dir.display());
        return None;
    }
    let opts = format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1",
        dir.display()
    );
    let log = dir.join("log").display().to_string();
    let ok = as_postgres(&pg_ctl, &["-D", &d, "-o", &opts, "-l", &log, "-w", "start"])
        .output()
        .ok()?
        .status
        .success();
    if !ok {
        eprintln!("pg_ctl start failed; see {log}");
        return None;
    }
    let _ = CLUSTER_DIR.set(data);
    unsafe { libc::atexit(stop_cluster) };
    eprintln!("started a throwaway PostgreSQL on port {port}");
    Some(format!("postgres://postgres@127.0.0.1:{port}/postgres"))
}

/// The URL of `db` on the test server.
fn database_url(server: &str, db: &str) -> String {
    let base = server.split('?').next().unwrap_or(server);
    match base.rfind('/') {
        Some(i) if i > base.find("://").map_or(0, |s| s + 2) => format!("{}/{db}", &base[..i]),
        _ => format!("{base}/{db}"),
    }
}

/// Creates a fresh, empty database for one test; returns its URL. Databases of
/// earlier runs older than a day are dropped on the way.
pub async fn fresh_pg_database() -> String {
    let server = pg_server().expect("PostgreSQL server");
    let mut admin = sqlx::PgConnection::connect(server)
        .await
        .expect("connect to the PostgreSQL test server");
    let now = chrono::Utc::now().timestamp();
    if NEXT_DB.load(Ordering::SeqCst) == 0 {
        let stale: Vec<String> =
            sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'us_t_%'")
                .fetch_all(&mut admin)
                .await
                .unwrap_or_default();
        for name in stale {
            let created = name.split('_').nth(2).and_then(|t| t.parse::<i64>().ok());
            if created.is_some_and(|t| now - t > 86_400) {
                let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                )))
                .execute(&mut admin)
                .await;
            }
        }
    }
    let name = format!(
        "us_t_{now}_{}_{}",
        std::process::id(),
        NEXT_DB.fetch_add(1, Ordering::SeqCst)
    );
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&mut admin)
        .await
        .expect("create a test database");
    database_url(server, &name)
}

/// [`fresh_pg_database`] from synchronous code (on its own thread, so it works
/// inside and outside a runtime).
pub fn fresh_pg_database_blocking() -> String {
    std::thread::spawn(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(fresh_pg_database())
    })
    .join()
    .expect("create a test database")
}

/// Drops a test database (connections are closed by force).
pub async fn drop_pg_database(url: &str) {
    let (Some(server), Some(name)) = (pg_server(), url.rsplit('/').next()) else {
        return;
    };
    if let Ok(mut admin) = sqlx::PgConnection::connect(server).await {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
        )))
        .execute(&mut admin)
        .await;
    }
}

thread_local! {
    static CLI_DB: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// The `unionstat` binary, run in `dir` against this test's warehouse: the
/// default SQLite file under `dir`, or (on PostgreSQL) one fresh database per
/// test, the same for every command the test runs.
pub fn unionstat_command(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_unionstat"));
    cmd.current_dir(dir)
        .env_remove("UNIONSTAT_DATABASE_URL")
        .env("UNIONSTAT_WORKER__POLL_INTERVAL_MS", "20")
        .env("UNIONSTAT_LOG__LEVEL", "warn")
        // Tests use fixed months that the calendar would lock; the locking tests
        // turn it on where they need it.
        .env("UNIONSTAT_REPORTING__LOCK_AFTER_DAYS", "0");
    if backend() == Backend::Postgres {
        cmd.env("UNIONSTAT_DATABASE_URL", cli_database_url(dir));
    }
    cmd
}

/// The warehouse URL the commands of [`unionstat_command`] use.
pub fn cli_database_url(dir: &Path) -> String {
    match backend() {
        Backend::Sqlite => format!("sqlite://{}", dir.join("data/unionstat.db").display()),
        Backend::Postgres => CLI_DB.with(|db| {
            db.borrow_mut()
                .get_or_insert_with(fresh_pg_database_blocking)
                .clone()
        }),
    }
}

/// Runs `unionstat ARGS` in `dir` (see [`unionstat_command`]).
pub fn unionstat(dir: &Path, args: &[&str]) -> std::process::Output {
    unionstat_command(dir)
        .args(args)
        .output()
        .expect("run unionstat")
}

#[test]
fn database_urls_replace_the_database() {
    assert_eq!(
        database_url("postgres://postgres@127.0.0.1:5432/postgres", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        database_url("postgres://postgres@127.0.0.1:5432", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
}
