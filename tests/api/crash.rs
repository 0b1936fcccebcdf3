//! Real processes, really killed: a worker killed with SIGKILL in the middle of
//! an ingest, the server killed right after its 202, and two worker processes
//! racing through 200 uploads into one county. Each runs on SQLite (where the
//! queue is a separate file and the reconciler re-queues what a crash left
//! behind) and on PostgreSQL (where an upload and its job commit together).

use std::path::Path;
use std::time::{Duration, Instant};

use unionstat::config::Settings;
use unionstat::store::Store;

use crate::helpers::*;

async fn open_store(dir: &Path) -> Store {
    let settings = Settings::load_from(None, Some(&cli_database_url(dir)), &[]).expect("settings");
    Store::open(&settings).await.expect("open the warehouse")
}

async fn int(store: &Store, sql: &str) -> i64 {
    store.first_row_i64(sql).await.expect(sql)[0].unwrap_or(0)
}

/// Polls until `sql` returns `want`, or panics after `secs`.
async fn wait_for(store: &Store, sql: &str, want: i64, secs: u64) {
    let started = Instant::now();
    loop {
        let got = int(store, sql).await;
        if got == want {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(secs),
            "after {secs} s `{sql}` gives {got}, not {want}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn import_orgs(dir: &Path, towns: usize, units: usize) {
    std::fs::write(dir.join("orgs.csv"), orgs_csv(towns, units)).expect("write");
    let out = unionstat(dir, &["orgs", "import", "orgs.csv"]);
    assert!(out.status.success(), "{out:?}");
}

fn verify_exits_0(dir: &Path) {
    let out = unionstat(dir, &["rollup", "verify"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn rollup(store: &Store, org: &str, period: &str, metric: &str) -> i64 {
    int(
        store,
        &format!("SELECT r.s_{metric} FROM rollup_figures r JOIN org_ids i ON i.id = r.org_id WHERE i.code = '{org}' AND r.period = {}", month_key(period)),
    )
    .await
}

/// The warehouse key of a `YYYY-MM` month.
fn month_key(period: &str) -> i64 {
    period
        .parse::<unionstat::core::Period>()
        .expect("a month")
        .key()
}

const PROCESSING: &str =
    "SELECT CAST(CASE WHEN status = 'processing' THEN 1 ELSE 0 END AS BIGINT) FROM submissions WHERE id = 1";
const ACCEPTED: &str = "SELECT COUNT(*) FROM submissions WHERE status = 'accepted'";

/// kill -9 of a worker in the middle of an ingest: another worker finishes the
/// job; one accepted submission; facts and roll-ups as a clean run gives them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_ingest_leaves_its_job_to_another() {
    const UNITS: usize = 20_000;
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path();
    import_orgs(d, 1, UNITS);
    let (bytes, emp, mem) = town_sheet(1, UNITS, "2026-10", 100);
    std::fs::write(d.join("big.xlsx"), bytes).expect("write");
    let out = unionstat(d, &["submit", "big.xlsx", "--no-wait"]);
    assert!(out.status.success(), "{out:?}");
    let store = open_store(d).await;

    let mut first = process(d, &["worker"], &[]);
    wait_for(&store, PROCESSING, 1, 60).await;
    first.kill9();
    assert_eq!(
        int(&store, PROCESSING).await,
        1,
        "the ingest ended before the worker was killed; the test proves nothing"
    );
    assert_eq!(store.count_figures(None).await.expect("count figures"), 0);

    let _second = process(d, &["worker"], &[]);
    wait_for(&store, ACCEPTED, 1, 120).await;
    assert_eq!(int(&store, "SELECT COUNT(*) FROM submissions").await, 1);
    assert_eq!(
        int(&store, "SELECT attempts FROM submissions WHERE id = 1").await,
        2
    );
    assert_eq!(
        store.count_figures(None).await.expect("count figures"),
        4 * UNITS as i64
    );
    for org in ["330102001", "330102", "330000"] {
        assert_eq!(rollup(&store, org, "2026-10", "employees").await, emp);
        assert_eq!(rollup(&store, org, "2026-10", "members").await, mem);
    }
    verify_exits_0(d);
}

/// kill -9 of the server right after it answered 202: the upload was durable,
/// and it is processed once the server is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_right_after_its_202_processes_the_upload_after_restart() {
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path();
    import_orgs(d, 1, 3);
    let key = cli_admin_key(&mut unionstat_command(d), "crash test");
    let (bytes, emp, mem) = town_sheet(1, 3, "2026-10", 1000);

    let (mut server, addr) = serve(d);
    let (status, _) = post_submission(&addr, &key, bytes).await;
    assert_eq!(status, 202);
    server.kill9();

    let store = open_store(d).await;
    assert_eq!(int(&store, "SELECT COUNT(*) FROM submissions").await, 1);
    let (_server, addr) = serve(d);
    wait_for(&store, ACCEPTED, 1, 120).await;
    let body = get_json(&addr, &key, "/api/v1/orgs/330102/indicators?period=2026-10").await;
    assert_eq!(metric(&body, "employees"), Some(emp as f64));
    assert_eq!(metric(&body, "members"), Some(mem as f64));
    verify_exits_0(d);
}

/// Two worker processes race through 200 uploads (20 towns × 10 months) into
/// one county: every total is exact and the roll-ups verify.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_racing_through_200_uploads_keep_every_total_exact() {
    const TOWNS: usize = 20;
    const MONTHS: usize = 10;
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path();
    import_orgs(d, TOWNS, 3);
    let mut expected = Vec::new();
    let mut files = Vec::new();
    for m in 1..=MONTHS {
        let period = format!("2026-{m:02}");
        let (mut emp, mut mem) = (0, 0);
        for t in 1..=TOWNS {
            let (bytes, e, mm) = town_sheet(t, 3, &period, (t * 100 + m) as i64);
            let name = format!("t{t}-m{m}.xlsx");
            std::fs::write(d.join(&name), bytes).expect("write");
            files.push(name);
            emp += e;
            mem += mm;
        }
        expected.push((period, emp, mem));
    }
    let mut args = vec!["submit", "--no-wait"];
    args.extend(files.iter().map(String::as_str));
    let out = unionstat(d, &args);
    assert!(out.status.success(), "{out:?}");
    let store = open_store(d).await;
    assert_eq!(int(&store, "SELECT COUNT(*) FROM submissions").await, 200);

    // Inline reading: the race under test is in the warehouse, not the reader.
    let env = [("UNIONSTAT_INGEST__ISOLATION", "inline")];
    let _a = process(d, &["worker"], &env);
    let _b = process(d, &["worker"], &env);
    wait_for(&store, ACCEPTED, 200, 300).await;
    for (period, emp, mem) in &expected {
        for org in ["330102", "330100", "330000"] {
            assert_eq!(
                rollup(&store, org, period, "employees").await,
                *emp,
                "{org} {period}"
            );
            assert_eq!(
                rollup(&store, org, period, "members").await,
                *mem,
                "{org} {period}"
            );
        }
        assert_eq!(
            int(
                &store,
                &format!("SELECT r.reported_reporters FROM rollup_figures r JOIN org_ids i ON i.id = r.org_id WHERE i.code = '330102' AND r.period = {}", month_key(period))
            )
            .await,
            TOWNS as i64
        );
    }
    verify_exits_0(d);
}

/// SQLite: an upload stored just before a crash, whose job never reached the
/// queue file, is found and queued by the reconciler when a worker starts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reconciler_queues_an_upload_whose_job_was_lost() {
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path();
    import_orgs(d, 1, 3);
    let (bytes, emp, _) = town_sheet(1, 3, "2026-10", 500);
    let store = open_store(d).await;
    let target = unionstat::store::JobTarget {
        queue: "unionstat.ingest",
        max_attempts: 3,
        payload: unionstat::jobs::ingest::payload,
    };
    let new = unionstat::store::submissions::NewSubmission {
        sha256: "0".repeat(64),
        req_reporter: None,
        req_period: None,
        filename: "lost.xlsx",
        bytes: &bytes,
        uploaded_by: "test",
        scope_org: None,
        lock_reason: None,
        nil_report: false,
        explanations: &[],
        req_form: None,
    };
    let (row, created, queued) = store.create_submission(&new, &target).await.expect("store");
    assert!(created);
    if queued {
        // PostgreSQL queues the job in the upload's transaction: nothing to lose.
        assert_eq!(backend(), Backend::Postgres);
    } else {
        assert_eq!(backend(), Backend::Sqlite);
    }
    let _worker = process(d, &["worker"], &[]);
    wait_for(&store, ACCEPTED, 1, 60).await;
    assert_eq!(
        int(
            &store,
            &format!("SELECT attempts FROM submissions WHERE id = {}", row.id)
        )
        .await,
        1
    );
    assert_eq!(rollup(&store, "330102", "2026-10", "employees").await, emp);
    verify_exits_0(d);
}

postgres_twins!(
    the_reconciler_queues_an_upload_whose_job_was_lost,
    a_worker_killed_mid_ingest_leaves_its_job_to_another,
    a_server_killed_right_after_its_202_processes_the_upload_after_restart,
    two_workers_racing_through_200_uploads_keep_every_total_exact,
);
