use unionstat::store::accept::{AcceptedSubmission, SheetFigures};

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn county_rates_match_the_reported_figures() {
    let app = spawn_app().await;
    let sub = app.submit(town_a_sheet(), "330102001", "2026-10").await;
    assert_eq!(sub["status"], "accepted", "{sub}");
    let county = app.indicators("330102", "2026-10").await;
    assert_eq!(metric(&county, "employees"), Some(198_000.0));
    assert_eq!(metric(&county, "members"), Some(196_000.0));
    assert_eq!(metric(&county, "enterprises_required"), Some(41.0));
    assert_eq!(metric(&county, "unions_established"), Some(39.0));
    let membership = rate(&county, "membership_rate").unwrap();
    let unionisation = rate(&county, "unionisation_rate").unwrap();
    assert_eq!(format!("{membership:.5}"), "0.98990");
    assert_eq!(format!("{unionisation:.5}"), "0.95122");
    assert_eq!(
        county["indicators"]["membership_rate"]["numerator"],
        196_000.0
    );
    assert_eq!(
        county["indicators"]["membership_rate"]["denominator"],
        198_000.0
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_above_employees_is_rejected_naming_the_cell() {
    let app = spawn_app().await;
    let sheet = workbook(
        None,
        BASIC,
        &[
            basic_row("330102001001", "甲公司工会", 2.0, 1.0, 100.0, 90.0),
            basic_row("330102001002", "乙公司工会", 2.0, 2.0, 1200.0, 1205.0),
        ],
    );
    let sub = app.submit(sheet, "330102001", "2026-10").await;
    assert_eq!(sub["status"], "rejected");
    let i = issue(&sub, "members_le_employees").expect("members_le_employees issue");
    assert_eq!(i["severity"], "error");
    assert_eq!(i["sheet"], "基层工会情况");
    assert_eq!(i["cell"], "F4");
    assert_eq!(i["value"], "1205");
    assert!(
        i["message"]["zh"].as_str().unwrap().contains("会员人数"),
        "{i}"
    );
    assert!(
        i["message"]["en"].as_str().unwrap().contains("Members"),
        "{i}"
    );
    // Nothing of a rejected sheet reaches the roll-ups.
    let county = app.indicators("330102", "2026-10").await;
    assert_eq!(metric(&county, "employees"), None);
    assert_eq!(county["coverage"]["reported_units"], 0);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn needy_workers_must_equal_their_parts() {
    let app = spawn_app().await;
    let header = [
        "单位代码",
        "单位名称",
        "在档困难职工人数",
        "全国级困难职工人数",
        "省级困难职工人数",
        "市县级困难职工人数",
    ];
    let row = |n: f64, a: f64, b: f64, c: f64| {
        vec![
            C::S("330102001001"),
            C::S("甲公司工会"),
            C::N(n),
            C::N(a),
            C::N(b),
            C::N(c),
        ]
    };
    let bad = app
        .submit(
            workbook(None, &header, &[row(38.0, 8.0, 16.0, 15.0)]),
            "330102001",
            "2026-10",
        )
        .await;
    assert_eq!(bad["status"], "rejected");
    let i = issue(&bad, "needy_parts_sum").expect("needy_parts_sum issue");
    assert_eq!(
        (i["cell"].as_str(), i["value"].as_str()),
        (Some("C3"), Some("38"))
    );
    let good = app
        .submit(
            workbook(None, &header, &[row(38.0, 8.0, 16.0, 14.0)]),
            "330102001",
            "2026-10",
        )
        .await;
    assert_eq!(good["status"], "accepted", "{good}");
    let county = app.indicators("330102", "2026-10").await;
    assert_eq!(metric(&county, "needy_workers"), Some(38.0));
    assert_eq!(metric(&county, "needy_local"), Some(14.0));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_total_row_that_disagrees_is_rejected() {
    let app = spawn_app().await;
    let rows = |total: f64| {
        vec![
            basic_row("330102001001", "甲公司工会", 2.0, 1.0, 100.0, 90.0),
            basic_row("330102001002", "乙公司工会", 2.0, 2.0, 200.0, 150.0),
            vec![
                C::S("合计"),
                C::E,
                C::N(4.0),
                C::N(3.0),
                C::N(total),
                C::N(240.0),
            ],
        ]
    };
    let bad = app
        .submit(workbook(None, BASIC, &rows(301.0)), "330102001", "2026-10")
        .await;
    assert_eq!(bad["status"], "rejected");
    let i = issue(&bad, "total_mismatch").expect("total_mismatch issue");
    assert_eq!(i["cell"], "E5");
    assert_eq!(i["value"], "301");
    let good = app
        .submit(workbook(None, BASIC, &rows(300.0)), "330102001", "2026-10")
        .await;
    assert_eq!(good["status"], "accepted", "{good}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_and_out_of_subtree_units_are_rejected() {
    let app = spawn_app().await;
    let sheet = workbook(
        None,
        BASIC,
        &[
            basic_row("330102001001", "甲公司工会", 2.0, 1.0, 100.0, 90.0),
            basic_row("330102002001", "丁公司工会", 2.0, 2.0, 200.0, 150.0),
            basic_row("999999999999", "不存在工会", 1.0, 1.0, 10.0, 9.0),
            basic_row("330102001001", "甲公司工会", 2.0, 1.0, 100.0, 90.0),
        ],
    );
    let sub = app.submit(sheet, "330102001", "2026-10").await;
    assert_eq!(sub["status"], "rejected");
    assert_eq!(
        issue(&sub, "unit_not_under_reporter").unwrap()["cell"],
        "A4"
    );
    assert_eq!(issue(&sub, "unit_unknown").unwrap()["cell"], "A5");
    assert_eq!(issue(&sub, "duplicate_unit").unwrap()["cell"], "A6");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_cells_are_not_reported_and_zero_denominators_are_null() {
    let app = spawn_app().await;
    let sheet = workbook(
        None,
        BASIC,
        &[
            vec![
                C::S("330102001001"),
                C::S("甲公司工会"),
                C::N(0.0),
                C::N(0.0),
                C::N(100.0),
                C::N(90.0),
            ],
            vec![
                C::S("330102001002"),
                C::S("乙公司工会"),
                C::N(0.0),
                C::N(0.0),
                C::E,
                C::E,
            ],
        ],
    );
    let sub = app.submit(sheet, "330102001", "2026-10").await;
    assert_eq!(sub["status"], "accepted", "{sub}");
    let town = app.indicators("330102001", "2026-10").await;
    // Only one unit reported employees: the sum is 100, not "100 with a zero".
    assert_eq!(metric(&town, "employees"), Some(100.0));
    assert_eq!(town["metric_coverage"]["employees"]["reported_units"], 1);
    assert_eq!(
        town["metric_coverage"]["enterprises_required"]["reported_units"],
        2
    );
    assert_eq!(town["coverage"]["expected_units"], 3);
    assert_eq!(town["coverage"]["reported_units"], 2);
    // 0 / 0 is null, never NaN.
    assert_eq!(metric(&town, "enterprises_required"), Some(0.0));
    assert!(town["indicators"]["unionisation_rate"]["value"].is_null());
    // Nobody reported gig workers: the metric is null, not 0.
    assert!(town["metrics"]["gig_workers"].is_null());
    assert!(town["indicators"]["gig_membership_rate"]["value"].is_null());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_random_and_truncated_files_are_rejected_and_the_server_stays_up() {
    let app = spawn_app().await;
    let good = town_a_sheet();
    let mut random = vec![0u8; 4096];
    let mut x: u32 = 12345;
    for b in random.iter_mut() {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        *b = (x >> 16) as u8;
    }
    let truncated = good[..good.len() / 2].to_vec();
    let mut zip_random = b"PK\x03\x04".to_vec();
    zip_random.extend_from_slice(&random[..512]);
    for (name, bytes) in [
        ("empty", vec![]),
        ("random", random),
        ("truncated", truncated),
        ("zip-like", zip_random),
    ] {
        let sub = app.submit(bytes, "330102001", "2026-10").await;
        assert_eq!(sub["status"], "rejected", "{name}: {sub}");
        let i = issue(&sub, "unreadable").unwrap_or_else(|| panic!("{name}: {sub}"));
        assert!(!i["message"]["zh"].as_str().unwrap().is_empty());
        assert!(!i["message"]["en"].as_str().unwrap().is_empty());
    }
    let (status, _) = app.get(&app.admin_key, "/healthz").await;
    assert_eq!(status, 200);
    let sub = app.submit(good, "330102001", "2026-10").await;
    assert_eq!(sub["status"], "accepted");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cover_names_reporter_and_period_when_the_caller_does_not() {
    let app = spawn_app().await;
    let sheet = workbook(
        Some(("330102001", "2026年10月")),
        BASIC,
        &[basic_row(
            "330102001001",
            "甲公司工会",
            2.0,
            1.0,
            100.0,
            90.0,
        )],
    );
    let (status, body) = app.upload_as(Some(&app.admin_key), sheet.clone(), "").await;
    assert_eq!(status, 202, "{body}");
    let sub = app.wait(body["id"].as_i64().unwrap()).await;
    assert_eq!(sub["status"], "accepted", "{sub}");
    assert_eq!(sub["reporter"], "330102001");
    assert_eq!(sub["period"], "2026-10");
    // A cover that disagrees with the caller is an error.
    let sub = app.submit(sheet, "330102001", "2026-09").await;
    assert_eq!(sub["status"], "rejected");
    assert!(issue(&sub, "cover_mismatch").is_some(), "{sub}");
    app.stop().await;
}

/// A reader that dies on every attempt (here: an address-space limit too small
/// for the child to live) ends as "rejected" after the job's attempts, with the
/// attempts counted, and the service keeps serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_keeps_dying_ends_rejected_after_three_attempts() {
    // The attempts wait 1 s and 2 s between them (the backoff is not what is
    // tested here), so a busy machine still sees the verdict in time.
    let app = spawn_app_with(|s| {
        s.ingest.reader_memory_mb = 16;
        s.jobs
            .get_mut("ingest")
            .expect("ingest job")
            .backoff_seconds = 1;
    })
    .await;
    let sub = app.submit(town_a_sheet(), "330102001", "2026-10").await;
    assert_eq!(sub["status"], "rejected", "{sub}");
    assert_eq!(sub["attempts"], 3);
    let i = issue(&sub, "unreadable").expect("unreadable issue");
    assert!(
        i["message"]["en"]
            .as_str()
            .unwrap()
            .contains("needs more memory or time than the reader allows (tried 3 times); older formats such as .xls take far more memory to read, so saving it as .xlsx usually solves this, and a file that is itself large should be split into smaller files. Save it as .xlsx in Excel or WPS"),
        "{i}"
    );
    assert!(
        i["message"]["zh"]
            .as_str()
            .unwrap()
            .contains("无法读取文件：读取该文件所需的内存或时间超过了允许的上限（已尝试 3 次）；旧版 .xls 等格式读取时占用内存很多，另存为 .xlsx 通常即可解决，文件本身很大时请把数据拆分为几个较小的文件。请用 Excel 或 WPS 另存为 .xlsx"),
        "{i}"
    );
    let county = app.indicators("330102", "2026-10").await;
    assert_eq!(metric(&county, "employees"), None);
    let (status, _) = app.get(&app.admin_key, "/healthz").await;
    assert_eq!(status, 200);
    app.stop().await;
}

/// A CSV of the units table, as Chinese Excel saves it (GBK), with reporter and
/// period from the caller; without them it is rejected saying so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gbk_csv_units_table_is_accepted_when_the_caller_names_reporter_and_period() {
    let app = spawn_app().await;
    let table = "单位代码,单位名称,应建会单位数,已建会单位数,职工人数,会员人数\r\n330102001001,甲公司工会,20,19,\"100,000\",99000\r\n330102001002,乙公司工会,15,14,60000,59500\r\n330102001003,丙公司工会,6,6,38000,37500\r\n";
    let (gbk, _, _) = encoding_rs::GB18030.encode(table);
    let sub = app.submit(gbk.to_vec(), "330102001", "2026-10").await;
    assert_eq!(sub["status"], "accepted", "{sub}");
    let county = app.indicators("330102", "2026-10").await;
    assert_eq!(metric(&county, "employees"), Some(198_000.0));
    assert_eq!(
        format!("{:.5}", rate(&county, "membership_rate").unwrap()),
        "0.98990"
    );

    let (status, body) = app
        .upload_as(Some(&app.admin_key), table.as_bytes().to_vec(), "")
        .await;
    assert_eq!(status, 202);
    let sub = app.wait(body["id"].as_i64().unwrap()).await;
    assert_eq!(sub["status"], "rejected");
    assert!(issue(&sub, "reporter_missing").is_some(), "{sub}");
    app.stop().await;
}

/// A rate column the clerk computed is cross-checked against the row's figures:
/// off by more than 0.1 point is a warning naming the cell; the sheet is accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clerks_own_rate_column_is_cross_checked() {
    let app = spawn_app().await;
    let header = ["单位代码", "单位名称", "职工人数", "会员人数", "入会率"];
    let sheet = workbook(
        None,
        &header,
        &[
            vec![
                C::S("330102001001"),
                C::S("甲公司工会"),
                C::N(198_000.0),
                C::N(196_000.0),
                C::S("98.9%"),
            ],
            vec![
                C::S("330102001002"),
                C::S("乙公司工会"),
                C::N(1000.0),
                C::N(900.0),
                C::N(0.92),
            ],
        ],
    );
    let sub = app.submit(sheet, "330102001", "2026-10").await;
    assert_eq!(sub["status"], "accepted", "{sub}");
    let found: Vec<&serde_json::Value> = sub["issues"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["rule"] == "rate_mismatch")
        .collect();
    assert_eq!(found.len(), 1, "{sub}");
    assert_eq!(found[0]["cell"], "E4");
    assert_eq!(found[0]["severity"], "warning");
    assert!(found[0]["message"]["zh"]
        .as_str()
        .unwrap()
        .contains("90.00%"));
    app.stop().await;
}

/// A submission in `processing`, as a worker's claim leaves it (no job queued).
async fn processing_submission(app: &TestApp, n: u32) -> i64 {
    app.ctx
        .store
        .first_row_i64(&format!(
            "INSERT INTO submissions (sha256, size_bytes, status, uploaded_by, received_at) VALUES ('batch{n}', 1, 'processing', 'test', '2026-11-01T00:00:00.000Z') RETURNING id"
        ))
        .await
        .expect("submission")[0]
        .expect("id")
}

fn employees_of(id: i64, reporter: &str, unit: &str, value: i64) -> AcceptedSubmission {
    AcceptedSubmission {
        submission_id: id,
        reporter: reporter.into(),
        period: "2026-10".parse().unwrap(),
        form: None,
        figures: SheetFigures {
            metrics: vec!["employees".into()],
            rows: vec![(unit.into(), vec![Some(value)])],
        },
        issues: Vec::new(),
        rows_read: 1,
        cover: None,
        actor: "test".into(),
        nil_report: false,
        lock_override: false,
    }
}

/// The job places a sheet's units (ids, paths) before the writer takes the
/// acceptance; a tree change committed in between is seen by the writer,
/// which places the units again: the figure rolls up under the unit's new
/// town, not the one the job read. The change here is made by hand while the
/// writer waits for it (SQLite: the write lock; PostgreSQL: the tree's lock).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tree_change_after_the_job_placed_its_units_is_seen_by_the_writer() {
    let app = spawn_app().await;
    let id = processing_submission(&app, 1).await;
    let mut conn = match &app.ctx.store.backend {
        unionstat::store::Backend::Sqlite(r) => {
            let mut conn = r.pool.acquire().await.unwrap().detach();
            sqlx::query("BEGIN IMMEDIATE")
                .execute(&mut conn)
                .await
                .unwrap();
            Held::Sqlite(conn)
        }
        unionstat::store::Backend::Postgres(r) => {
            let mut conn = r.pool.acquire().await.unwrap().detach();
            sqlx::query("BEGIN").execute(&mut conn).await.unwrap();
            sqlx::query("LOCK TABLE org_versions IN EXCLUSIVE MODE")
                .execute(&mut conn)
                .await
                .unwrap();
            Held::Postgres(conn)
        }
    };
    let store = app.ctx.store.clone();
    let task = tokio::spawn(async move {
        store
            .accept(employees_of(id, "330102001", "330102001001", 100))
            .await
    });
    // The job has placed the unit under 330102001 and waits for the writer.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!task.is_finished(), "the acceptance did not wait");
    let edit = "UPDATE org_versions SET parent_code = '330102002', path = REPLACE(path, '/330102001/', '/330102002/') WHERE code = '330102001001'";
    match &mut conn {
        Held::Sqlite(c) => {
            sqlx::query(edit).execute(&mut *c).await.unwrap();
            sqlx::query("COMMIT").execute(&mut *c).await.unwrap();
        }
        Held::Postgres(c) => {
            sqlx::query(edit).execute(&mut *c).await.unwrap();
            sqlx::query("COMMIT").execute(&mut *c).await.unwrap();
        }
    }
    assert!(matches!(task.await.unwrap(), Ok(Some(_))));
    assert_eq!(
        metric(&app.indicators("330102002", "2026-10").await, "employees"),
        Some(100.0)
    );
    assert_eq!(
        metric(&app.indicators("330102001", "2026-10").await, "employees"),
        None
    );
    assert!(app.verify().await.ok());
    app.stop().await;
}

/// A connection held outside the pools by a test.
enum Held {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

/// Three acceptances at once, the second naming a unit the warehouse does not
/// know: it is rolled back alone, the other two are written, and none is
/// answered before it is committed. On SQLite the first waits for the write
/// lock while the other two queue behind it, so they share the next batch:
/// the failing one's savepoint is rolled back, the third's commits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_acceptance_is_rolled_back_alone_and_the_others_commit() {
    let app = spawn_app().await;
    let ids = [
        processing_submission(&app, 1).await,
        processing_submission(&app, 2).await,
        processing_submission(&app, 3).await,
    ];
    // On SQLite another connection holds the write lock, so the three wait
    // for the writer together.
    let held = match &app.ctx.store.backend {
        unionstat::store::Backend::Sqlite(r) => {
            let mut conn = r.pool.acquire().await.unwrap();
            sqlx::query("BEGIN IMMEDIATE")
                .execute(&mut *conn)
                .await
                .unwrap();
            Some(conn)
        }
        unionstat::store::Backend::Postgres(_) => None,
    };
    let subs = [
        employees_of(ids[0], "330102001", "330102001001", 100),
        employees_of(ids[1], "330102002", "330199999999", 5),
        employees_of(ids[2], "330103001", "330103001001", 7),
    ];
    let mut tasks = Vec::new();
    for s in subs {
        let store = app.ctx.store.clone();
        tasks.push(tokio::spawn(async move { store.accept(s).await }));
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    if let Some(mut conn) = held {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(
            tasks.iter().all(|t| !t.is_finished()),
            "an acceptance was answered before it could commit"
        );
        sqlx::query("COMMIT").execute(&mut *conn).await.unwrap();
    }
    let mut verdicts = Vec::new();
    for t in tasks {
        verdicts.push(t.await.unwrap());
    }
    assert!(matches!(verdicts[0], Ok(Some(_))), "{:?}", verdicts[0]);
    let err = verdicts[1].as_ref().unwrap_err().to_string();
    assert!(err.contains("330199999999"), "{err}");
    assert!(matches!(verdicts[2], Ok(Some(_))), "{:?}", verdicts[2]);
    for (id, status) in ids.iter().zip(["accepted", "processing", "accepted"]) {
        let (_, sub) = app
            .get(&app.admin_key, &format!("/api/v1/submissions/{id}"))
            .await;
        assert_eq!(sub["status"], status, "{sub}");
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM unit_figures WHERE m_employees IN (100, 7)")
            .await,
        2
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM unit_figures").await, 2);
    assert_eq!(
        metric(&app.indicators("330100", "2026-10").await, "employees"),
        Some(107.0)
    );
    assert!(app.verify().await.ok());
    app.stop().await;
}

/// PostgreSQL plans its statements by the statistics it last gathered of a
/// table, and the service keeps its connections (and their plans): a table
/// that grew since is gathered again after the service's next write, without
/// waiting for autovacuum. SQLite keeps no such statistics: there the test
/// only checks that writing goes on as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_that_grew_gets_its_statistics_gathered_after_the_next_write() {
    use sqlx::Connection;
    let app = spawn_app().await;
    let Some(url) = app.pg_url().map(str::to_string) else {
        let sub = app.submit(town_a_sheet(), "330102001", "2026-10").await;
        assert_eq!(sub["status"], "accepted", "{sub}");
        app.stop().await;
        return;
    };
    let mut conn = sqlx::PgConnection::connect(&url).await.expect("connect");
    // 2,000 rows the planner has never seen (autovacuum would take a minute
    // or more; it counts in autoanalyze_count, not here).
    sql(&mut conn, "CREATE TABLE grown (n integer)").await;
    grow(&mut conn, 2000).await;
    assert_eq!(analyses_of_grown(&mut conn).await, 0);
    // The service writes (an acceptance): it looks and gathers.
    let sub = app.submit(town_a_sheet(), "330102001", "2026-10").await;
    assert_eq!(sub["status"], "accepted", "{sub}");
    let mut after = 0;
    for _ in 0..100 {
        after = analyses_of_grown(&mut conn).await;
        if after > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        after, 1,
        "the grown table was not analysed within 10 s of the write"
    );
    // Gathered: 100 more rows (5 %) are not worth another look.
    grow(&mut conn, 100).await;
    let sub = app
        .submit(town_a_sheet_with(0, 120_000.0), "330102001", "2026-10")
        .await;
    assert_eq!(sub["status"], "accepted", "{sub}");
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(
        analyses_of_grown(&mut conn).await,
        1,
        "a table that barely changed was analysed again"
    );
    conn.close().await.expect("close");
    app.stop().await;
}

async fn sql(conn: &mut sqlx::PgConnection, statement: &str) {
    sqlx::query(sqlx::AssertSqlSafe(statement))
        .execute(conn)
        .await
        .expect(statement);
}

/// Adds `rows` rows to the table `grown`; this connection's counts reach the
/// shared statistics as it next goes idle.
async fn grow(conn: &mut sqlx::PgConnection, rows: i64) {
    sql(
        conn,
        &format!("INSERT INTO grown SELECT generate_series(1, {rows})"),
    )
    .await;
    sql(conn, "SELECT pg_stat_force_next_flush()").await;
}

/// How often `grown` was analysed other than by autovacuum.
async fn analyses_of_grown(conn: &mut sqlx::PgConnection) -> i64 {
    sqlx::query_scalar("SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'grown'")
        .fetch_one(conn)
        .await
        .expect("analyze_count")
}

postgres_twins!(
    county_rates_match_the_reported_figures,
    members_above_employees_is_rejected_naming_the_cell,
    needy_workers_must_equal_their_parts,
    a_total_row_that_disagrees_is_rejected,
    unknown_and_out_of_subtree_units_are_rejected,
    empty_cells_are_not_reported_and_zero_denominators_are_null,
    empty_random_and_truncated_files_are_rejected_and_the_server_stays_up,
    the_cover_names_reporter_and_period_when_the_caller_does_not,
    a_reader_that_keeps_dying_ends_rejected_after_three_attempts,
    a_gbk_csv_units_table_is_accepted_when_the_caller_names_reporter_and_period,
    a_clerks_own_rate_column_is_cross_checked,
    a_failing_acceptance_is_rolled_back_alone_and_the_others_commit,
    a_tree_change_after_the_job_placed_its_units_is_seen_by_the_writer,
    a_table_that_grew_gets_its_statistics_gathered_after_the_next_write,
);
