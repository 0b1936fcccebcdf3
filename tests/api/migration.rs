//! A warehouse written by the first layout (one row per unit, month and
//! metric) is converted when the new code opens it — what `unionstat migrate`
//! does — with nothing lost: figures (also of a metric the catalogue no longer
//! has), superseded submissions, audit and approvals; the roll-ups are
//! recomputed and verify.

use std::path::Path;

use crate::helpers::*;

/// Before the layout of one row per unit and period.
const FIRST_V2_MIGRATION: i64 = 20261204000001;

/// Today's tables, filled as the first layout wrote them: three months of
/// submissions (one superseded by a correction), their facts, a stale roll-up
/// row, audit rows and an approval.
const FIRST_LAYOUT: &str = r#"
INSERT INTO org_units (code, name, parent_code, kind, expected_to_report, path, depth, subtree_units, subtree_reporters, updated_at) VALUES
 ('330000', '示例省总工会', NULL, 'federation', FALSE, '/330000/', 0, 3, 2, '2026-11-01T00:00:00.000Z'),
 ('330100', '示例市总工会', '330000', 'federation', FALSE, '/330000/330100/', 1, 3, 2, '2026-11-01T00:00:00.000Z'),
 ('330102', '上城区总工会', '330100', 'federation', FALSE, '/330000/330100/330102/', 2, 3, 2, '2026-11-01T00:00:00.000Z'),
 ('330102001', '湖滨街道总工会', '330102', 'federation', TRUE, '/330000/330100/330102/330102001/', 3, 2, 1, '2026-11-01T00:00:00.000Z'),
 ('330102002', '清波街道总工会', '330102', 'federation', TRUE, '/330000/330100/330102/330102002/', 3, 1, 1, '2026-11-01T00:00:00.000Z'),
 ('330102001001', '甲公司工会', '330102001', 'grassroots', FALSE, '/330000/330100/330102/330102001/330102001001/', 4, 1, 0, '2026-11-01T00:00:00.000Z'),
 ('330102001002', '乙公司工会', '330102001', 'grassroots', FALSE, '/330000/330100/330102/330102001/330102001002/', 4, 1, 0, '2026-11-01T00:00:00.000Z'),
 ('330102002001', '丁公司工会', '330102002', 'grassroots', FALSE, '/330000/330100/330102/330102002/330102002001/', 4, 1, 0, '2026-11-01T00:00:00.000Z');
INSERT INTO submissions (sha256, reporter, period, filename, size_bytes, status, uploaded_by, received_at, finished_at, superseded_by, rows_read) VALUES
 ('aa01', '330102001', '2026-09', 'sept.xlsx', 4, 'accepted', 'key:7', '2026-10-05T08:00:00.000Z', '2026-10-05T08:00:01.000Z', NULL, 1),
 ('aa02', '330102001', '2026-10', 'oct.xlsx', 4, 'superseded', 'key:7', '2026-11-03T08:00:00.000Z', '2026-11-03T08:00:01.000Z', 3, 2),
 ('aa03', '330102001', '2026-10', 'oct-fixed.xlsx', 4, 'accepted', 'key:7', '2026-11-04T08:00:00.000Z', '2026-11-04T08:00:01.000Z', NULL, 2),
 ('aa04', '330102002', '2026-10', 'oct.xlsx', 4, 'accepted', 'key:8', '2026-11-05T08:00:00.000Z', '2026-11-05T08:00:01.000Z', NULL, 1);
INSERT INTO submission_files (submission_id, content) VALUES (1, X'01020304'), (2, X'05060708'), (3, X'090A0B0C'), (4, X'0D0E0F10');
INSERT INTO facts (unit_code, period, metric, value, submission_id) VALUES
 ('330102001001', '2026-09', 'employees', 100, 1),
 ('330102001001', '2026-09', 'members', 90, 1),
 ('330102001001', '2026-10', 'employees', 120, 3),
 ('330102001001', '2026-10', 'members', 100, 3),
 ('330102001002', '2026-10', 'employees', 50, 3),
 ('330102002001', '2026-10', 'employees', 30, 4),
 ('330102002001', '2026-10', 'members', 30, 4),
 ('330102002001', '2026-10', 'retired_metric', 7, 4);
INSERT INTO rollups (org_code, period, metric, value, units) VALUES ('330102', '2026-10', 'employees', 999, 9);
INSERT INTO rollup_coverage (org_code, period, reported_units, reported_reporters) VALUES ('330102', '2026-10', 9, 9);
INSERT INTO audit (at, actor, action, submission_id, unit_code, period, metric, old_value, new_value) VALUES
 ('2026-11-04T08:00:01.000Z', 'key:7', 'fact_set', 3, '330102001001', '2026-10', 'employees', 110, 120);
INSERT INTO audit (at, actor, action, submission_id, period, detail) VALUES
 ('2026-11-04T08:00:01.000Z', 'key:7', 'submission_accepted', 3, '2026-10', 'reporter 330102001; supersedes submission 2');
INSERT INTO approvals (org_code, period, approved_by, approved_at) VALUES ('330102001', '2026-09', 'key:9', '2026-10-20T08:00:00.000Z');
"#;

/// Today's migrations, applied to a fresh warehouse at `url`, then the rows.
async fn first_layout_warehouse(url: &str) {
    let dialect = match backend() {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(dialect);
    let mut migrator = sqlx::migrate::Migrator::new(dir).await.expect("migrations");
    let before: Vec<_> = migrator
        .migrations
        .iter()
        .filter(|m| m.version < FIRST_V2_MIGRATION)
        .cloned()
        .collect();
    // The first layout: every migration before v2, up to the periods one.
    assert!(
        before.iter().any(|m| m.version == 20261202000001) && before.len() >= 3,
        "the first layout's migrations"
    );
    migrator.migrations = before.into();
    match backend() {
        Backend::Sqlite => {
            let options: sqlx::sqlite::SqliteConnectOptions = url.parse().expect("sqlite url");
            let pool = sqlx::SqlitePool::connect_with(options.create_if_missing(true))
                .await
                .expect("sqlite");
            migrator.run(&pool).await.expect("today's migrations");
            sqlx::raw_sql(FIRST_LAYOUT)
                .execute(&pool)
                .await
                .expect("rows");
            pool.close().await;
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(url).await.expect("postgres");
            migrator.run(&pool).await.expect("today's migrations");
            // Bytes are written '\x…' in PostgreSQL, X'…' in SQLite.
            let rows = FIRST_LAYOUT.replace("X'", "'\\x");
            sqlx::raw_sql(sqlx::AssertSqlSafe(rows))
                .execute(&pool)
                .await
                .expect("rows");
            pool.close().await;
        }
    }
}

/// A warehouse URL that outlives one app: a file in `dir`, or a database.
async fn lasting_warehouse(dir: &Path) -> String {
    match backend() {
        Backend::Sqlite => format!("sqlite://{}", dir.join("lasting.db").display()),
        Backend::Postgres => fresh_pg_database().await,
    }
}

async fn drop_lasting_warehouse(url: &str) {
    if backend() == Backend::Postgres {
        drop_pg_database(url).await;
    }
}

/// Uploads one unit's four basic figures for 2026-10 and checks it is accepted.
async fn accept_one(app: &TestApp, reporter: &str, unit: &'static str, emp: f64, mem: f64) {
    let sheet = workbook(
        None,
        BASIC,
        &[basic_row(unit, "某工会", 2.0, 1.0, emp, mem)],
    );
    let sub = app.submit(sheet, reporter, "2026-10").await;
    assert_eq!(sub["status"], "accepted", "{sub}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_warehouse_of_the_first_layout_opens_converted_with_nothing_lost() {
    let dir = tempfile::tempdir().expect("dir");
    let url = lasting_warehouse(dir.path()).await;
    first_layout_warehouse(&url).await;
    let to = url.clone();
    let app = spawn_app_with(move |s| s.database.url = to).await;

    // Figures through the API: roll-ups recomputed from the moved figures (the
    // stale roll-up row is gone), coverage included.
    let county = app.indicators("330102", "2026-10").await;
    assert_eq!(metric(&county, "employees"), Some(200.0), "{county}");
    assert_eq!(metric(&county, "members"), Some(130.0), "{county}");
    assert_eq!(county["coverage"]["reported_units"], 3, "{county}");
    assert_eq!(county["coverage"]["reported_reporters"], 2, "{county}");
    let sept = app.indicators("330102001", "2026-09").await;
    assert_eq!(metric(&sept, "employees"), Some(100.0), "{sept}");
    assert_eq!(metric(&sept, "members"), Some(90.0), "{sept}");
    // A unit that reported no members keeps "not reported", not zero.
    let unit = app.indicators("330102001002", "2026-10").await;
    assert_eq!(metric(&unit, "employees"), Some(50.0), "{unit}");
    assert_eq!(metric(&unit, "members"), None, "{unit}");
    assert!(
        app.verify().await.ok(),
        "{:?}",
        app.verify().await.mismatches
    );

    // Every figure arrived, the retired metric's too, in a column of its own.
    assert_eq!(app.ctx.store.count_figures(None).await.expect("count"), 8);
    assert_eq!(
        app.count("SELECT CAST(SUM(m_retired_metric) AS BIGINT) FROM unit_figures")
            .await,
        7
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM metric_columns WHERE metric = 'retired_metric'")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT CAST(SUM(pending) AS BIGINT) FROM legacy_conversion")
            .await,
        0
    );

    // The superseded submission and its file stay.
    let old = app.wait(2).await;
    assert_eq!(old["status"], "superseded", "{old}");
    assert_eq!(old["superseded_by"], 3, "{old}");
    assert_eq!(app.count("SELECT COUNT(*) FROM submission_files").await, 4);

    // Audit: the old change row, and the conversion named.
    let (s, h) = app
        .get(&app.admin_key, "/api/v1/orgs/330102/history?period=2026-10")
        .await;
    assert_eq!(s, 200, "{h}");
    let change = h["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .find(|e| e["action"] == "fact_set" && e["unit"] == "330102001001")
        .unwrap_or_else(|| panic!("{h}"));
    assert_eq!(
        (change["old_value"].as_f64(), change["new_value"].as_f64()),
        (Some(110.0), Some(120.0))
    );
    assert_eq!(change["actor"], "key:7");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit WHERE action = 'warehouse_converted'")
            .await,
        1
    );

    // The approval holds.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM approvals WHERE org_code = '330102001' AND period = '2026-09' AND revoked_at IS NULL AND approved_by = 'key:9'")
            .await,
        1
    );

    // And the converted warehouse takes a correction as any other.
    accept_one(&app, "330102002", "330102002001", 40.0, 35.0).await;
    let county = app.indicators("330102", "2026-10").await;
    assert_eq!(metric(&county, "employees"), Some(210.0), "{county}");
    assert_eq!(metric(&county, "members"), Some(135.0), "{county}");
    assert!(app.verify().await.ok());
    assert_eq!(app.wait(4).await["status"], "superseded");
    app.stop().await;
    drop_lasting_warehouse(&url).await;
}

/// The built-in catalogue with one more (flow) metric.
fn catalogue_with_a_new_metric(dir: &Path) -> String {
    let text = unionstat::core::catalog::BUILTIN_CATALOG.replacen(
        "[[indicators]]",
        "[[metrics]]\ncode = \"legal_consultations\"\nzh = \"法律咨询人次\"\nen = \"Legal consultations\"\nkind = \"flow\"\n\n[[indicators]]",
        1,
    );
    let path = dir.join("catalog.toml");
    std::fs::write(&path, text).expect("write the catalogue");
    path.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_metric_added_to_the_catalogue_gets_columns_and_keeps_them_when_it_leaves() {
    let dir = tempfile::tempdir().expect("dir");
    let url = lasting_warehouse(dir.path()).await;
    let to = url.clone();
    let app = spawn_app_with(move |s| s.database.url = to).await;
    accept_one(&app, "330102001", "330102001001", 100.0, 90.0).await;
    let builtin = app.count("SELECT COUNT(*) FROM metric_columns").await;
    app.stop().await;

    // Restarted with a catalogue that has one more metric: its columns appear,
    // the figures already held stay, and the new metric is taken and rolled up.
    let (to, catalogue) = (url.clone(), catalogue_with_a_new_metric(dir.path()));
    let app = spawn_app_with(move |s| {
        s.database.url = to;
        s.catalog.path = catalogue;
    })
    .await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM metric_columns").await,
        builtin + 1
    );
    let sub = app
        .submit(
            workbook(
                None,
                &["单位代码", "单位名称", "职工人数", "法律咨询人次"],
                &[vec![
                    C::S("330102002001"),
                    C::S("丁公司工会"),
                    C::N(40.0),
                    C::N(12.0),
                ]],
            ),
            "330102002",
            "2026-10",
        )
        .await;
    assert_eq!(sub["status"], "accepted", "{sub}");
    let county = app.indicators("330102", "2026-10").await;
    assert_eq!(metric(&county, "employees"), Some(140.0), "{county}");
    assert_eq!(metric(&county, "members"), Some(90.0), "{county}");
    assert_eq!(
        metric(&county, "legal_consultations"),
        Some(12.0),
        "{county}"
    );
    assert!(app.verify().await.ok());
    app.stop().await;

    // Back to the built-in catalogue: the metric's column and figure are kept.
    let to = url.clone();
    let app = spawn_app_with(move |s| s.database.url = to).await;
    assert_eq!(
        app.count("SELECT CAST(SUM(m_legal_consultations) AS BIGINT) FROM unit_figures")
            .await,
        12
    );
    assert_eq!(app.ctx.store.count_figures(None).await.expect("count"), 6);
    assert!(app.verify().await.ok());
    app.stop().await;
    drop_lasting_warehouse(&url).await;
}

postgres_twins!(
    a_warehouse_of_the_first_layout_opens_converted_with_nothing_lost,
    a_metric_added_to_the_catalogue_gets_columns_and_keeps_them_when_it_leaves,
);
