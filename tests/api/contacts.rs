//! Contacts (联系人) as master data: taken from covers that carry them (a blank
//! cover field never erases one), shown by completeness, read and edited by the
//! reporter's federation and those above it only, and filled on upgrade from
//! each reporter's latest cover that had them.

use std::path::Path;

use serde_json::{json, Value};
use unionstat::store::keys::Role;

use crate::helpers::*;

fn one_unit() -> Vec<Vec<C>> {
    vec![basic_row(
        "330102001001",
        "甲公司工会",
        2.0,
        1.0,
        100.0,
        90.0,
    )]
}

async fn contact(app: &TestApp, key: &str, code: &str) -> (u16, Value) {
    app.get(key, &format!("/api/v1/orgs/{code}/contact")).await
}

async fn put_contact(app: &TestApp, key: &str, code: &str, body: Value) -> (u16, Value) {
    let resp = app
        .client
        .put(format!("{}/api/v1/orgs/{code}/contact", app.addr))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .expect("put");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blank_cover_keeps_the_contact_and_completeness_shows_it() {
    let app = spawn_app().await;
    let october = workbook_with_cover(
        Some(("330102001", "2026-10", "张三", Some("0571-88881234"))),
        BASIC,
        &one_unit(),
    );
    assert_eq!(
        app.submit(october, "330102001", "2026-10").await["status"],
        "accepted"
    );
    let (status, c) = contact(&app, &app.admin_key, "330102001").await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["name"], "张三");
    assert_eq!(c["phone"], "0571-88881234");
    assert_eq!(c["email"], Value::Null);
    assert_eq!(c["source"], "cover");

    // November's cover leaves 填报人 and 联系电话 blank: the contact stays.
    let november =
        workbook_with_cover(Some(("330102001", "2026-11", "", None)), BASIC, &one_unit());
    assert_eq!(
        app.submit(november, "330102001", "2026-11").await["status"],
        "accepted"
    );
    let (_, c) = contact(&app, &app.admin_key, "330102001").await;
    assert_eq!(c["name"], "张三", "{c}");
    assert_eq!(c["phone"], "0571-88881234", "{c}");

    let (_, comp) = app
        .get(
            &app.admin_key,
            "/api/v1/orgs/330102/completeness?period=2026-11",
        )
        .await;
    let town = reporter_in(&comp, "330102001");
    // 2026-11 is due 2026-12-10: by the clock the upload may be on time or
    // late; either way reported.
    assert!(
        ["on_time", "late"].contains(&town["status"].as_str().unwrap()),
        "{town}"
    );
    assert_eq!(comp["reported"], 1);
    assert_eq!(town["preparer"], "张三");
    assert_eq!(town["phone"], "0571-88881234");
    let other = reporter_in(&comp, "330102002");
    assert_eq!(other["status"], "missing");
    assert_eq!(other["preparer"], Value::Null);

    // A cover carrying only a new preparer changes the name and keeps the phone.
    let september = workbook_with_cover(
        Some(("330102001", "2026-09", "李四", None)),
        BASIC,
        &one_unit(),
    );
    assert_eq!(
        app.submit(september, "330102001", "2026-09").await["status"],
        "accepted"
    );
    let (_, c) = contact(&app, &app.admin_key, "330102001").await;
    assert_eq!(c["name"], "李四", "{c}");
    assert_eq!(c["phone"], "0571-88881234", "{c}");
    let (_, comp) = app
        .get(
            &app.admin_key,
            "/api/v1/orgs/330102/completeness?period=2026-10",
        )
        .await;
    assert_eq!(reporter_in(&comp, "330102001")["preparer"], "李四");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_are_edited_within_the_subtree_and_refused_outside_it() {
    let app = spawn_app().await;
    let county = app.key("330102", Role::Submitter).await;
    let town = app.key("330102001", Role::Submitter).await;
    let sibling = app.key("330102002", Role::Submitter).await;
    let elsewhere = app.key("330103", Role::Submitter).await;
    let viewer = app.key("330102", Role::Viewer).await;

    // The county sets the town's contact; a field left out is kept.
    let (status, c) = put_contact(
        &app,
        &county,
        "330102001",
        json!({"name": "王五", "phone": "13800000001", "email": "hubin@example.com"}),
    )
    .await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["email"], "hubin@example.com");
    assert_eq!(c["source"], "edit");
    assert!(
        c["updated_by"]
            .as_str()
            .unwrap()
            .starts_with("key \"test 330102 submitter\" (#"),
        "{c}"
    );
    // The town itself changes its phone only.
    let (status, c) = put_contact(&app, &town, "330102001", json!({"phone": "13800000002"})).await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["name"], "王五");
    assert_eq!(c["phone"], "13800000002");
    assert_eq!(c["email"], "hubin@example.com");
    // An empty string clears a field.
    let (_, c) = put_contact(&app, &town, "330102001", json!({"name": ""})).await;
    assert_eq!(c["name"], Value::Null);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit WHERE action = 'contact_changed' AND unit_code = '330102001'")
            .await,
        3
    );

    // Outside the subtree: 404 with the body of a code that does not exist.
    let (_, unknown) = contact(&app, &elsewhere, "999999999").await;
    for (key, code) in [(&elsewhere, "330102001"), (&sibling, "330102001")] {
        let (status, body) = contact(&app, key, code).await;
        assert_eq!(status, 404, "{body}");
        assert_eq!(body, unknown);
        let (status, body) = put_contact(&app, key, code, json!({"phone": "1"})).await;
        assert_eq!(status, 404, "{body}");
        assert_eq!(body, unknown);
    }
    let (status, _) = app.get(&elsewhere, "/api/v1/orgs/330102/contacts").await;
    assert_eq!(status, 404);
    // A viewer reads and may not write.
    let (status, c) = contact(&app, &viewer, "330102001").await;
    assert_eq!((status, c["phone"].as_str()), (200, Some("13800000002")));
    let (status, body) = put_contact(&app, &viewer, "330102001", json!({"phone": "1"})).await;
    assert_eq!(status, 403, "{body}");
    // Bad input is named in both languages; nothing changes.
    let (status, body) = put_contact(&app, &county, "330102001", json!({"email": "hubin"})).await;
    assert_eq!(status, 422, "{body}");
    let msg = body["message"].as_str().unwrap();
    assert!(
        msg.contains("电子邮箱“hubin”格式不对") && msg.contains("is not an email address"),
        "{msg}"
    );
    let (status, _) = put_contact(&app, &county, "330102001001", json!({"phone": "1"})).await;
    assert_eq!(status, 422, "a grassroots union has no contact");

    // The county's list: both towns, one without a contact; nothing of 330103.
    let (status, list) = app.get(&county, "/api/v1/orgs/330102/contacts").await;
    assert_eq!(status, 200, "{list}");
    let rows = list["contacts"].as_array().unwrap();
    let codes: Vec<&str> = rows.iter().map(|c| c["org"].as_str().unwrap()).collect();
    assert_eq!(codes, ["330102001", "330102002"]);
    assert_eq!(rows[0]["email"], "hubin@example.com");
    assert_eq!(rows[1]["phone"], Value::Null);
    // Completeness shows the master-data contact.
    let (_, comp) = app
        .get(&county, "/api/v1/orgs/330102/completeness?period=2026-10")
        .await;
    assert_eq!(
        reporter_in(&comp, "330102001")["email"],
        "hubin@example.com"
    );
    assert_eq!(reporter_in(&comp, "330102001")["phone"], "13800000002");
    app.stop().await;
}

/// The contacts migration.
const CONTACTS_MIGRATION: i64 = 20261206000002;

/// Covers as the submissions table held them before the contacts table.
const COVERS: &str = r#"
INSERT INTO submissions (sha256, reporter, period, filename, size_bytes, status, uploaded_by, received_at, cover) VALUES
 ('c1', '330102001', '2026-09', 'a.xlsx', 1, 'accepted', 'key:7', '2026-10-05T08:00:00.000Z', '{"sheet":"封面","preparer":{"value":"王五","cell":"B3"},"phone":{"value":"0571-1","cell":"B4"}}'),
 ('c2', '330102001', '2026-10', 'b.xlsx', 1, 'accepted', 'key:7', '2026-11-05T08:00:00.000Z', '{"sheet":"封面","preparer":{"value":"赵六","cell":"B3"}}'),
 ('c3', '330102001', '2026-11', 'c.xlsx', 1, 'rejected', 'key:7', '2026-12-01T08:00:00.000Z', '{"sheet":"封面"}'),
 ('c4', '330102002', '2026-10', 'd.xlsx', 1, 'accepted', 'key:8', '2026-11-05T08:00:00.000Z', NULL);
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_are_filled_from_the_latest_covers_on_upgrade() {
    let dialect = match backend() {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(dialect);
    let all = sqlx::migrate::Migrator::new(dir).await.expect("migrations");
    let mut before = sqlx::migrate::Migrator::new(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(dialect),
    )
    .await
    .expect("migrations");
    before.migrations = all
        .migrations
        .iter()
        .filter(|m| m.version < CONTACTS_MIGRATION)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    let query = "SELECT org_code, name, phone, source FROM contacts ORDER BY org_code";
    let found: Vec<(String, String, String, String)> = match backend() {
        Backend::Sqlite => {
            let tmp = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}", tmp.path().join("w.db").display());
            let options: sqlx::sqlite::SqliteConnectOptions = url.parse().unwrap();
            let pool = sqlx::SqlitePool::connect_with(options.create_if_missing(true))
                .await
                .unwrap();
            before.run(&pool).await.expect("migrations before");
            sqlx::raw_sql(COVERS).execute(&pool).await.expect("covers");
            all.run(&pool).await.expect("the contacts migration");
            sqlx::query_as(query).fetch_all(&pool).await.unwrap()
        }
        Backend::Postgres => {
            let url = fresh_pg_database().await;
            let pool = sqlx::PgPool::connect(&url).await.unwrap();
            before.run(&pool).await.expect("migrations before");
            sqlx::raw_sql(COVERS).execute(&pool).await.expect("covers");
            all.run(&pool).await.expect("the contacts migration");
            let rows = sqlx::query_as(query).fetch_all(&pool).await.unwrap();
            pool.close().await;
            drop_pg_database(&url).await;
            rows
        }
    };
    // Each field from the latest cover that had it; a reporter with no cover
    // carrying one gets no contact.
    assert_eq!(
        found,
        [(
            "330102001".to_string(),
            "赵六".to_string(),
            "0571-1".to_string(),
            "migration".to_string()
        )]
    );
}

fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn the_command_line_sets_contacts_and_submits_a_nil_report() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("orgs.csv"),
        "code,name,parent_code,kind,expected_to_report\n330102,上城区总工会,,federation,false\n330102001,湖滨街道总工会,330102,federation,true\n330102001001,甲公司工会,330102001,grassroots,false\n",
    )
    .unwrap();
    assert!(unionstat(d, &["orgs", "import", "orgs.csv"])
        .status
        .success());
    // A sheet listing the unit with no figure: refused, then a nil report.
    let blank = workbook(
        None,
        BASIC,
        &[vec![C::S("330102001001"), C::S("甲公司工会")]],
    );
    std::fs::write(d.join("blank.xlsx"), blank).unwrap();
    let args = [
        "submit",
        "blank.xlsx",
        "--as",
        "330102001",
        "--period",
        "2026-10",
    ];
    let out = unionstat(d, &args);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("no_figures"), "{}", text(&out));
    let out = unionstat(d, &[&args[..], &["--nil-report"]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = unionstat(
        d,
        &["completeness", "--org", "330102", "--period", "2026-10"],
    );
    assert!(
        text(&out).contains("1 of the reported are nil reports (零报告): 330102001"),
        "{}",
        text(&out)
    );

    let out = unionstat(
        d,
        &[
            "contacts",
            "set",
            "330102001",
            "--name",
            "张三",
            "--email",
            "hubin@example.com",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = unionstat(d, &["contacts", "show", "330102001", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        (v["name"].as_str(), v["email"].as_str(), v["phone"].as_str()),
        (Some("张三"), Some("hubin@example.com"), None)
    );
    assert!(v["updated_by"].as_str().unwrap().starts_with("cli"), "{v}");
    let out = unionstat(d, &["contacts", "set", "330102001", "--email", "hubin"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("is not an email address"),
        "{}",
        text(&out)
    );
    let out = unionstat(
        d,
        &[
            "reminders",
            "log",
            "--org",
            "330102",
            "--period",
            "2026-10",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        serde_json::from_slice::<Value>(&out.stdout).unwrap(),
        json!([])
    );
}

postgres_twins!(
    the_command_line_sets_contacts_and_submits_a_nil_report,
    a_blank_cover_keeps_the_contact_and_completeness_shows_it,
    contacts_are_edited_within_the_subtree_and_refused_outside_it,
    contacts_are_filled_from_the_latest_covers_on_upgrade,
);
