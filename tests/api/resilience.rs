//! The service under slow clients, many connections, a busy or crashing pool
//! of workbook readers, an unreachable database, and many short CLI runs.

use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use unionstat::store::Backend as StoreBackend;

use crate::helpers::*;

/// The `host:port` of a `http://host:port` address.
fn host(app: &TestApp) -> String {
    app.addr.trim_start_matches("http://").to_string()
}

/// Reads from `stream` until the server closes it (or `limit` passes); returns
/// what was read and when the connection ended (None: still open at `limit`).
async fn read_until_closed(
    stream: &mut tokio::net::tcp::OwnedReadHalf,
    started: Instant,
    limit: Duration,
) -> (String, Option<Duration>) {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        let left = limit.saturating_sub(started.elapsed());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                return (
                    String::from_utf8_lossy(&got).into(),
                    Some(started.elapsed()),
                )
            }
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => return (String::from_utf8_lossy(&got).into(), None),
        }
    }
}

/// Connects, sends `head` at once and then `trickle` one byte every `every`;
/// returns what the server answered and when it closed the connection,
/// counted from the first trickled byte (None: still open after 10 s).
async fn trickle(
    app: &TestApp,
    head: &[u8],
    trickle: &'static [u8],
    every: Duration,
) -> (String, Option<Duration>) {
    let stream = TcpStream::connect(host(app)).await.expect("connect");
    let (mut rd, mut wr) = stream.into_split();
    wr.write_all(head).await.expect("send");
    let started = Instant::now();
    let sender = tokio::spawn(async move {
        for b in trickle {
            if wr.write_all(&[*b]).await.is_err() {
                break;
            }
            tokio::time::sleep(every).await;
        }
    });
    let answer = read_until_closed(&mut rd, started, Duration::from_secs(10)).await;
    sender.abort();
    answer
}

/// A client that sends a request header one byte a second is cut off once the
/// header deadline (2 s here) passes, whatever it keeps sending.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_dribbling_its_header_is_disconnected_at_the_header_deadline() {
    let app = spawn_app_with(|s| s.server.header_read_timeout_seconds = 2).await;
    let (answer, closed) = trickle(
        &app,
        b"",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaa",
        Duration::from_secs(1),
    )
    .await;
    let closed = closed.expect("the dribbling client was still connected after 10 s");
    assert!(
        closed >= Duration::from_millis(1500) && closed < Duration::from_secs(5),
        "closed after {closed:?}"
    );
    assert!(!answer.contains("200 OK"), "{answer}");
    // The service itself is fine.
    let (status, _) = app.get(&app.admin_key, "/healthz").await;
    assert_eq!(status, 200);
    app.stop().await;
}

/// An upload whose body trickles in below the minimum rate is answered 408 and
/// its connection closed, long before the body would be complete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_trickling_its_body_is_answered_408_and_closed() {
    let app = spawn_app_with(|s| {
        s.server.body_grace_seconds = 1;
        s.server.body_min_bytes_per_second = 1000;
    })
    .await;
    let head = format!(
        "POST /api/v1/submissions?reporter=330102001&period=2026-10 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Length: 100000\r\n\r\n",
        app.admin_key
    );
    let (answer, closed) = trickle(
        &app,
        head.as_bytes(),
        &[b'x'; 40],
        Duration::from_millis(250),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 408"), "answer: {answer:?}");
    assert!(answer.contains("\"error\":\"timeout\""), "{answer}");
    let closed = closed.expect("the connection stayed open after the 408");
    assert!(closed < Duration::from_secs(5), "closed after {closed:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM submissions").await, 0);
    app.stop().await;
}

/// With a cap of 4 connections, 8 clients that connect and send nothing never
/// hold more than 4 connections of the service; the idle ones are closed at
/// the header deadline and /healthz is answered all the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_over_the_cap_do_not_stop_healthz() {
    let app = spawn_app_with(|s| {
        s.server.max_connections = 4;
        s.server.header_read_timeout_seconds = 2;
    })
    .await;
    let mut idle = Vec::new();
    for _ in 0..8 {
        idle.push(TcpStream::connect(host(&app)).await.expect("connect"));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let open = app.ctx.metrics.http_connections.get();
    assert_eq!(
        open, 4,
        "open connections with 8 idle clients and a cap of 4"
    );
    let started = Instant::now();
    let resp = app
        .client
        .get(format!("{}/healthz", app.addr))
        .timeout(Duration::from_secs(15))
        .send()
        .await
        .expect("/healthz answered while idle clients hold connections");
    assert_eq!(resp.status().as_u16(), 200);
    assert!(started.elapsed() < Duration::from_secs(10));
    // Every idle client has been closed by the server by now or soon after.
    let started = Instant::now();
    for s in idle {
        let (mut rd, _wr) = s.into_split();
        let (_, closed) = read_until_closed(&mut rd, started, Duration::from_secs(10)).await;
        assert!(closed.is_some(), "an idle client was never disconnected");
    }
    assert!(app.ctx.metrics.http_connections.get() <= 4);
    app.stop().await;
}

/// A workbook of `rows` units of town 330102001 (most unknown to master data:
/// a dry run reports them, which is all these tests need).
fn big_sheet(rows: usize) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet().set_name("基层工会情况").expect("sheet");
    for (c, h) in BASIC.iter().enumerate() {
        ws.write_string(0, c as u16, *h).expect("cell");
    }
    for r in 1..=rows as u32 {
        ws.write_string(r, 0, format!("330102001{r:06}"))
            .expect("cell");
        ws.write_string(r, 1, format!("工会{r}")).expect("cell");
        for c in 2..6u16 {
            ws.write_number(r, c, f64::from(r % 97 + u32::from(c)))
                .expect("cell");
        }
    }
    wb.save_to_buffer().expect("bytes")
}

async fn dry_run(app: &TestApp, bytes: Vec<u8>) -> (u16, Option<String>, serde_json::Value) {
    let resp = app
        .client
        .post(format!(
            "{}/api/v1/submissions?reporter=330102001&period=2026-10&dry_run=true",
            app.addr
        ))
        .bearer_auth(&app.admin_key)
        .body(bytes)
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .expect("dry run");
    let status = resp.status().as_u16();
    let retry = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    (status, retry, resp.json().await.unwrap_or_default())
}

/// One reader and a wait of 1 s: of six dry runs at once, some are read in
/// turn and answered 200, the others 503 with Retry-After — and the one child
/// process served every read. The same bound holds for "inline" reading.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_reader_pool_answers_dry_runs_503_with_retry_after() {
    let bytes = big_sheet(BIG_ROWS);
    for isolation in ["process", "inline"] {
        let app = spawn_app_with(|s| {
            s.ingest.readers = 1;
            s.ingest.reader_wait_seconds = 1;
            s.ingest.isolation = isolation.into();
        })
        .await;
        let app = Arc::new(app);
        let runs: Vec<JoinHandle<_>> = (0..6)
            .map(|_| {
                let (app, bytes) = (app.clone(), bytes.clone());
                tokio::spawn(async move { dry_run(&app, bytes).await })
            })
            .collect();
        let (mut ok, mut busy) = (0, 0);
        for r in runs {
            let (status, retry, body) = r.await.expect("dry run task");
            match status {
                200 => {
                    assert_eq!(body["dry_run"], true, "{isolation}: {body}");
                    assert_eq!(body["status"], "rejected", "unknown units: {body}");
                    ok += 1;
                }
                503 => {
                    assert_eq!(retry.as_deref(), Some("1"), "{isolation}: {body}");
                    assert_eq!(body["error"], "busy", "{isolation}: {body}");
                    busy += 1;
                }
                other => panic!("{isolation}: dry run answered {other}: {body}"),
            }
        }
        assert!(
            ok >= 1 && busy >= 1,
            "{isolation}: {ok} answered, {busy} busy"
        );
        let m = &app.ctx.metrics;
        assert_eq!(m.reader_busy.get(), busy as u64, "{isolation}");
        let children = if isolation == "process" { 1 } else { 0 };
        assert_eq!(m.reader_children_started.get(), children, "{isolation}");
        let app = Arc::try_unwrap(app).ok().expect("no other owner");
        app.stop().await;
    }
}

/// One reader: two good dry runs share its child; a hostile workbook (one
/// shared string that inflates past the reader's memory limit) kills it and is
/// answered that reading it needs more memory or time than allowed; the next dry run is read by a new child.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_crashes_is_replaced_and_the_next_read_works() {
    let app = spawn_app_with(|s| {
        s.ingest.readers = 1;
        s.ingest.reader_memory_mb = CRASH_MEMORY_MB;
    })
    .await;
    let started = |app: &TestApp| app.ctx.metrics.reader_children_started.get();
    for _ in 0..2 {
        let (status, _, body) = dry_run(&app, town_a_sheet()).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["status"], "accepted", "{body}");
    }
    assert_eq!(started(&app), 1, "both read by one child");
    let (status, _, body) =
        dry_run(&app, crate::hostile::long_shared_string(CRASH_STRING_BYTES)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "rejected", "{body}");
    let unreadable =
        issue(&body, "unreadable").unwrap_or_else(|| panic!("no unreadable issue: {body}"));
    assert!(
        unreadable["message"]["en"]
            .as_str()
            .is_some_and(|m| m.contains("needs more memory or time than the reader allows")),
        "{unreadable}"
    );
    assert!(
        unreadable["message"]["zh"]
            .as_str()
            .is_some_and(|m| m.contains("所需的内存或时间超过了允许的上限")),
        "{unreadable}"
    );
    let (status, _, body) = dry_run(&app, town_a_sheet()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "accepted", "{body}");
    assert_eq!(app.count("SELECT COUNT(*) FROM submissions").await, 0);
    assert_eq!(started(&app), 2, "the crashed child was replaced once");
    app.stop().await;
}

/// The reader's address-space limit in the crash test, and the shared string
/// that does not fit in it.
const CRASH_MEMORY_MB: u64 = 512;
const CRASH_STRING_BYTES: u64 = 150 << 20;

/// Rows of the workbook that takes a reader long enough for the busy test.
const BIG_ROWS: usize = 30_000;

/// `/readyz` answers within 2 s even when the warehouse cannot hand out a
/// connection (its only one is held here), naming the warehouse as down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_answers_503_within_two_seconds_naming_a_stuck_warehouse() {
    let app = spawn_app_with(|s| s.database.max_connections = 1).await;
    let started = Instant::now();
    let resp = app
        .client
        .get(format!("{}/readyz", app.addr))
        .send()
        .await
        .expect("readyz");
    assert_eq!(resp.status().as_u16(), 200, "ready while the pool is free");
    // Hold the pool's only connection: the probe cannot get one.
    let held = match &app.ctx.store.backend {
        StoreBackend::Sqlite(r) => Held::Sqlite(r.pool.acquire().await.expect("acquire")),
        StoreBackend::Postgres(r) => Held::Postgres(r.pool.acquire().await.expect("acquire")),
    };
    let started_probe = Instant::now();
    let resp = app
        .client
        .get(format!("{}/readyz", app.addr))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("readyz answered");
    let took = started_probe.elapsed();
    assert_eq!(resp.status().as_u16(), 503);
    let text = resp.text().await.expect("body");
    assert!(took < Duration::from_secs(2), "answered after {took:?}");
    assert!(text.contains("warehouse down"), "{text}");
    // On PostgreSQL the queue lives in the warehouse's pool; on SQLite it is
    // its own file and still answers.
    match backend() {
        Backend::Sqlite => assert!(text.contains("queue ok"), "{text}"),
        Backend::Postgres => assert!(text.contains("queue down"), "{text}"),
    }
    drop(held);
    let resp = app
        .client
        .get(format!("{}/readyz", app.addr))
        .send()
        .await
        .expect("readyz");
    assert_eq!(resp.status().as_u16(), 200, "ready again");
    assert!(started.elapsed() < Duration::from_secs(10));
    app.stop().await;
}

/// A connection held out of a pool, for either backend.
#[allow(dead_code)]
enum Held {
    Sqlite(sqlx::pool::PoolConnection<sqlx::Sqlite>),
    Postgres(sqlx::pool::PoolConnection<sqlx::Postgres>),
}

/// No pool of the service runs sqlx's maintenance task (an idle timeout or a
/// maximum lifetime starts it; in sqlx 0.9.0 it can spin for ever and hold the
/// process at exit).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_pool_runs_the_maintenance_task() {
    let app = spawn_app().await;
    fn check<DB: sqlx::Database>(what: &str, pool: &sqlx::Pool<DB>) {
        let o = pool.options();
        assert_eq!(o.get_idle_timeout(), None, "{what}: idle timeout");
        assert_eq!(o.get_max_lifetime(), None, "{what}: max lifetime");
        assert_eq!(o.get_min_connections(), 0, "{what}: min connections");
    }
    match &app.ctx.store.backend {
        StoreBackend::Sqlite(r) => check("warehouse", &r.pool),
        StoreBackend::Postgres(r) => check("warehouse", &r.pool),
    }
    match &app.ctx.queue.db {
        unionstat::queue::QueueDb::Sqlite(p) => check("queue", p),
        unionstat::queue::QueueDb::Postgres(p) => check("queue", p),
    }
    app.stop().await;
}

/// Runs `unionstat ARGS` in `dir`, killing it (and failing) if it has not
/// exited within `limit`.
fn run_within(dir: &Path, args: &[&str], limit: Duration) -> std::process::ExitStatus {
    let mut child: Child = unionstat_command(dir)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start unionstat");
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("unionstat {args:?} had not exited after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Short CLI commands write their result and exit, every time: 30 runs of
/// `template`, each within 30 s (a hang at exit would stop one for minutes).
#[test]
fn short_cli_commands_exit_every_time() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        dir.path().join("orgs.csv"),
        "code,name,parent_code,kind,expected_to_report\n330000,示例省总工会,,federation,false\n330102001,湖滨街道总工会,330000,federation,true\n330102001001,甲公司工会,330102001,grassroots,false\n",
    )
    .expect("write");
    let limit = Duration::from_secs(30);
    assert!(run_within(dir.path(), &["orgs", "import", "orgs.csv"], limit).success());
    for i in 0..30 {
        let out = format!("t{i}.xlsx");
        let args = [
            "template",
            "--org",
            "330102001",
            "--period",
            "2026-10",
            "-o",
            &out,
        ];
        let status = run_within(dir.path(), &args, limit);
        assert!(status.success(), "run {i}: {status}");
        let written = std::fs::metadata(dir.path().join(&out)).expect("template written");
        assert!(written.len() > 1000, "run {i}: {} bytes", written.len());
    }
}

postgres_twins!(
    readyz_answers_503_within_two_seconds_naming_a_stuck_warehouse,
    no_pool_runs_the_maintenance_task,
    short_cli_commands_exit_every_time,
    a_client_dribbling_its_header_is_disconnected_at_the_header_deadline,
    an_upload_trickling_its_body_is_answered_408_and_closed,
    idle_connections_over_the_cap_do_not_stop_healthz,
    a_busy_reader_pool_answers_dry_runs_503_with_retry_after,
    a_reader_that_crashes_is_replaced_and_the_next_read_works,
);

/// A TCP proxy between the service and PostgreSQL that the test can cut (every
/// connection through it closed, new ones closed at once) and restore.
struct Proxy {
    port: u16,
    up: Arc<std::sync::atomic::AtomicBool>,
    links: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: JoinHandle<()>,
}

impl Proxy {
    async fn start(target: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let up = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let links: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (up2, links2) = (up.clone(), links.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !up2.load(std::sync::atomic::Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let target = target.clone();
                let link = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                links2.lock().expect("links").push(link);
            }
        });
        Proxy {
            port,
            up,
            links,
            accept,
        }
    }

    fn cut(&self) {
        self.up.store(false, std::sync::atomic::Ordering::SeqCst);
        for l in self.links.lock().expect("links").drain(..) {
            l.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// `url` (postgres://user@host:port/db) through this proxy.
    fn url(&self, url: &str) -> String {
        let (scheme, rest) = url.split_once("://").expect("a URL");
        let (auth, rest) = rest.rsplit_once('@').map_or(("", rest), |(a, r)| (a, r));
        let path = rest.find('/').map_or("", |i| &rest[i..]);
        let auth = if auth.is_empty() {
            String::new()
        } else {
            format!("{auth}@")
        };
        format!("{scheme}://{auth}127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
        self.accept.abort();
    }
}

/// The `host:port` of a PostgreSQL URL.
fn pg_host(url: &str) -> String {
    let rest = url.split_once("://").expect("a URL").1;
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    let hostport = rest.split(['/', '?']).next().unwrap_or(rest);
    if hostport.contains(':') {
        hostport.to_string()
    } else {
        format!("{hostport}:5432")
    }
}

/// A `unionstat worker` process, killed when dropped.
struct WorkerProc(Child);

impl Drop for WorkerProc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn worker_process(dir: &Path, url: &str, give_up_seconds: u64) -> WorkerProc {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_unionstat"))
        .current_dir(dir)
        .arg("worker")
        .env("UNIONSTAT_DATABASE_URL", url)
        .env("UNIONSTAT_WORKER__POLL_INTERVAL_MS", "20")
        .env("UNIONSTAT_REPORTING__LOCK_AFTER_DAYS", "0")
        .env("UNIONSTAT_DATABASE__BUSY_TIMEOUT_MS", "2000")
        .env(
            "UNIONSTAT_DATABASE__OUTAGE_GIVE_UP_SECONDS",
            give_up_seconds.to_string(),
        )
        .env(
            "UNIONSTAT_INGEST__READER_EXE",
            env!("CARGO_BIN_EXE_unionstat"),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start a worker");
    WorkerProc(child)
}

/// PostgreSQL unreachable for 5 s (the proxy in front of it cut): `/readyz`
/// answers 503 within 2 s naming the warehouse and the queue; a worker process
/// and the server's own workers ride it out and process an upload afterwards;
/// a worker told to give up after 2 s exits non-zero. (A SQLite warehouse is a
/// local file: it has no outage of this kind; its `/readyz` bound is pinned by
/// the test above.)
#[test]
fn a_database_outage_is_ridden_out_and_giving_up_exits_non_zero() {
    crate::backends::on_postgres(outage_body);
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn outage_body() {
    let server = pg_server().expect("PostgreSQL").to_string();
    let proxy = Proxy::start(pg_host(&server)).await;
    let mut via_proxy = String::new();
    let app = spawn_app_with(|s| {
        s.database.url = proxy.url(&s.database.url);
        s.database.busy_timeout_ms = 2000;
        s.database.outage_give_up_seconds = 120;
        via_proxy = s.database.url.clone();
    })
    .await;
    let dir = tempfile::tempdir().expect("dir");
    let mut patient = worker_process(dir.path(), &via_proxy, 120);
    let mut quitter = worker_process(dir.path(), &via_proxy, 2);
    // Both workers are up and polling.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        patient.0.try_wait().expect("wait").is_none(),
        "worker exited before the outage"
    );
    assert!(
        quitter.0.try_wait().expect("wait").is_none(),
        "worker exited before the outage"
    );

    proxy.cut();
    let cut_at = Instant::now();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let resp = app
        .client
        .get(format!("{}/readyz", app.addr))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("readyz answered during the outage");
    let took = started.elapsed();
    assert_eq!(resp.status().as_u16(), 503);
    let text = resp.text().await.expect("body");
    assert!(
        took < Duration::from_secs(2),
        "answered after {took:?}: {text}"
    );
    assert!(
        text.contains("warehouse down") && text.contains("queue down"),
        "{text}"
    );
    // The quitter gives up (non-zero); the patient one keeps trying.
    let quit = loop {
        if let Some(status) = quitter.0.try_wait().expect("wait") {
            break status;
        }
        assert!(
            cut_at.elapsed() < Duration::from_secs(20),
            "the worker told to give up after 2 s was still running after 20 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(!quit.success(), "giving up must exit non-zero: {quit}");
    if let Some(wait) = Duration::from_secs(5).checked_sub(cut_at.elapsed()) {
        tokio::time::sleep(wait).await;
    }
    assert!(
        patient.0.try_wait().expect("wait").is_none(),
        "the worker exited during the outage"
    );

    proxy.restore();
    let back = Instant::now();
    loop {
        let resp = app
            .client
            .get(format!("{}/readyz", app.addr))
            .timeout(Duration::from_secs(5))
            .send()
            .await;
        if resp.is_ok_and(|r| r.status().as_u16() == 200) {
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(20),
            "not ready 20 s after the outage"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        patient.0.try_wait().expect("wait").is_none(),
        "the worker exited after the outage"
    );
    // Without the worker process, the server's own workers take the upload.
    drop(patient);
    let sub = app.submit(town_a_sheet(), "330102001", "2026-10").await;
    assert_eq!(sub["status"], "accepted", "{sub}");
    let town = app.indicators("330102001", "2026-10").await;
    assert_eq!(metric(&town, "members"), Some(196_000.0));
    app.stop().await;
}

/// A passing failure (the warehouse cannot hand out a connection) sends the
/// ingest job back to the queue to run after its backoff, as attempt 2, and
/// frees the worker at once; the retry then accepts the file. SQLite (whose
/// queue has a pool of its own, so it takes the retry while the warehouse is
/// stuck).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transient_failure_queues_the_job_again_after_its_backoff() {
    use unionstat::jobs::ingest::{self, IngestJob};
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("w.db").display());
    let mut settings = unionstat::Settings::load_from(None, Some(&url), &[]).expect("settings");
    settings.database.max_connections = 1;
    settings.database.busy_timeout_ms = 300;
    settings.reporting.lock_after_days = 0;
    settings.ingest.reader_exe = env!("CARGO_BIN_EXE_unionstat").into();
    settings
        .jobs
        .get_mut("ingest")
        .expect("ingest job")
        .backoff_seconds = 5;
    let ctx = unionstat::AppContext::build(settings)
        .await
        .expect("context");
    ctx.store.import_orgs(&test_orgs()).await.expect("orgs");
    let bytes = town_a_sheet();
    let new = unionstat::store::submissions::NewSubmission {
        sha256: "1".repeat(64),
        req_reporter: Some("330102001"),
        req_period: Some("2026-10"),
        filename: "a.xlsx",
        bytes: &bytes,
        uploaded_by: "test",
        scope_org: None,
        lock_reason: None,
        nil_report: false,
        explanations: &[],
        req_form: None,
    };
    let (row, created) = ingest::submit(&ctx, &new).await.expect("submit");
    assert!(created);

    let StoreBackend::Sqlite(repo) = &ctx.store.backend else {
        panic!("a SQLite warehouse")
    };
    // The warehouse is out of reach: its only read connection and its write
    // connection are taken.
    let held = (
        repo.pool.acquire().await.expect("the only connection"),
        repo.write_pool
            .acquire()
            .await
            .expect("the write connection"),
    );
    let started = Instant::now();
    ingest::handle(IngestJob::new(row.id), ctx.clone())
        .await
        .expect("the delivery ends, its retry queued");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the worker waited out the backoff: {:?}",
        started.elapsed()
    );
    let unionstat::queue::QueueDb::Sqlite(queue) = &ctx.queue.db else {
        panic!("a SQLite queue")
    };
    let waiting: Vec<(Vec<u8>, i64)> = sqlx::query_as(
        "SELECT job, run_at - strftime('%s','now') FROM Jobs WHERE status = 'Pending' ORDER BY id",
    )
    .fetch_all(queue)
    .await
    .expect("pending jobs");
    let jobs: Vec<(IngestJob, i64)> = waiting
        .iter()
        .map(|(job, wait)| (serde_json::from_slice(job).expect("payload"), *wait))
        .collect();
    assert_eq!(jobs.len(), 2, "{jobs:?}");
    assert_eq!(jobs[0].0, IngestJob::new(row.id));
    assert_eq!(
        jobs[1].0,
        IngestJob {
            submission_id: row.id,
            attempt: 2
        }
    );
    assert!((3..=5).contains(&jobs[1].1), "runs in {} s", jobs[1].1);

    drop(held);
    ingest::handle(jobs[1].0.clone(), ctx.clone())
        .await
        .expect("the retry");
    let done = ctx
        .store
        .submission(row.id)
        .await
        .expect("read")
        .expect("row");
    assert_eq!(done.status, "accepted");
    // The first delivery could not even claim the submission (the claim is a
    // write to the warehouse), so only the retry's claim is counted.
    assert_eq!(done.attempts, 1);
    ctx.store.close().await;
}
