//! Review and return (审核与退回): a federation above a reporter approves its
//! accepted report or returns it with a comment; a returned report counts as
//! returned, not reported, until a new upload is accepted; a federation's
//! approval of its subtree waits for its children's reports to be approved in
//! review.
//!
//! The months are fixed (2026-09, 2026-10) and never close by time: the
//! helpers set `reporting.lock_after_days = 0`. Locks here come from approvals.

use serde_json::{json, Value};
use unionstat::store::keys::Role;

use crate::helpers::*;

const TOWN_A: &str = "330102001";
const TOWN_B: &str = "330102002";

pub(crate) async fn send(
    app: &TestApp,
    method: &str,
    key: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let url = format!("{}{path}", app.addr);
    let mut req = match method {
        "post" => app.client.post(url),
        "delete" => app.client.delete(url),
        other => panic!("{other}"),
    };
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.bearer_auth(key).send().await.expect("request");
    let s = resp.status().as_u16();
    (s, resp.json().await.unwrap_or(Value::Null))
}

async fn review(
    app: &TestApp,
    key: &str,
    id: i64,
    decision: &str,
    comment: Option<&str>,
) -> (u16, Value) {
    let body = match comment {
        Some(c) => json!({"decision": decision, "comment": c}),
        None => json!({"decision": decision}),
    };
    send(
        app,
        "post",
        key,
        &format!("/api/v1/submissions/{id}/review"),
        Some(body),
    )
    .await
}

async fn approve_subtree(app: &TestApp, key: &str, org: &str) -> (u16, Value) {
    send(
        app,
        "post",
        key,
        &format!("/api/v1/orgs/{org}/approval?period=2026-10"),
        None,
    )
    .await
}

/// Town B's two units; 丁公司 with `members` members of 500 employees.
fn town_b_sheet_with(members: f64) -> Vec<u8> {
    workbook(
        None,
        BASIC,
        &[
            basic_row("330102002001", "丁公司工会", 3.0, 2.0, 500.0, members),
            basic_row("330102002002", "戊公司工会", 1.0, 1.0, 70.0, 70.0),
        ],
    )
}

fn town_b_sheet() -> Vec<u8> {
    town_b_sheet_with(450.0)
}

fn message(body: &Value) -> &str {
    body["message"].as_str().unwrap_or("")
}

fn reporter<'a>(completeness: &'a Value, code: &str) -> &'a Value {
    completeness["reporters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == code)
        .unwrap_or_else(|| panic!("{code} in {completeness}"))
}

fn entry<'a>(queue: &'a Value, code: &str) -> &'a Value {
    queue["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["org"] == code)
        .unwrap_or_else(|| panic!("{code} in {queue}"))
}

fn figure(e: &Value, code: &str) -> (f64, f64, f64) {
    let f = e["figures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == code)
        .unwrap_or_else(|| panic!("{code} in {e}"));
    (
        f["value"].as_f64().unwrap(),
        f["previous"].as_f64().unwrap(),
        f["change"].as_f64().unwrap(),
    )
}

/// Expected reporters, reported, returned, missing.
fn counts(c: &Value) -> [Option<u64>; 4] {
    ["expected_reporters", "reported", "returned", "missing"].map(|k| c[k].as_u64())
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_returned_report_counts_as_not_reported_until_a_new_upload_is_accepted() {
    let app = spawn_app().await;
    let county = app.key("330102", Role::Submitter).await;
    let city = app.key("330100", Role::Submitter).await;
    let county_viewer = app.key("330102", Role::Viewer).await;
    let town_a = app.key(TOWN_A, Role::Submitter).await;
    let town_b = app.key(TOWN_B, Role::Submitter).await;
    let other_county = app.key("330103", Role::Submitter).await;
    app.submit(town_a_sheet(), TOWN_A, "2026-09").await;
    // October: unit …001 has 110,000 employees instead of 100,000.
    let first = app
        .submit(town_a_sheet_with(0, 110_000.0), TOWN_A, "2026-10")
        .await;
    assert_eq!(first["status"], "accepted", "{first}");
    let first_id = first["id"].as_i64().unwrap();
    app.submit(town_b_sheet(), TOWN_B, "2026-10").await;

    // The county's queue: both towns accepted and awaiting review, with
    // town A's headline figures against September.
    let (s, q) = app
        .get(&county, "/api/v1/orgs/330102/reviews?period=2026-10")
        .await;
    assert_eq!(s, 200, "{q}");
    assert_eq!(
        (q["unreviewed"].as_u64(), q["returned"].as_u64()),
        (Some(2), Some(0)),
        "{q}"
    );
    assert_eq!(q["previous_period"], "2026-09");
    assert!(q["own"].is_null(), "the county does not report: {q}");
    let a = entry(&q, TOWN_A);
    assert_eq!(
        (a["status"].as_str(), a["can_review"].as_bool()),
        (Some("accepted"), Some(true))
    );
    assert_eq!(a["submission_id"].as_i64(), Some(first_id));
    assert_eq!(a["error_count"], 0);
    let (v, p, c) = figure(a, "employees");
    assert_eq!((v, p), (208_000.0, 198_000.0));
    assert!(close(c, 10_000.0 / 198_000.0 * 100.0), "{c}");
    // 入会率 196,000/208,000 = 94.2308 % against 196,000/198,000 = 98.9899 %.
    let (v, p, c) = figure(a, "membership_rate");
    assert!(
        close(v, 196_000.0 / 208_000.0) && close(p, 196_000.0 / 198_000.0),
        "{a}"
    );
    assert!(
        close(c, (196_000.0 / 208_000.0 - 196_000.0 / 198_000.0) * 100.0),
        "{c}"
    );
    assert!((c - -4.7591).abs() < 1e-3, "{c}");
    // Town B reported nothing in September: no change to give.
    let b = entry(&q, TOWN_B);
    assert!(
        b["figures"][0]["previous"].is_null() && b["figures"][0]["change"].is_null(),
        "{b}"
    );
    // The town itself reads its queue: its own report, which it may not review.
    let (s, own) = app
        .get(&town_a, "/api/v1/orgs/330102001/reviews?period=2026-10")
        .await;
    assert_eq!(s, 200, "{own}");
    assert_eq!(own["own"]["status"], "accepted");
    assert_eq!(own["own"]["can_review"], false);
    assert_eq!(own["children"], json!([]));

    // Refusals: no comment, the reporter itself, another subtree, a viewer.
    let (s, body) = review(&app, &county, first_id, "return", Some("   ")).await;
    assert_eq!(s, 422, "{body}");
    assert!(
        message(&body).contains("退回须填写意见") && message(&body).contains("comment is required"),
        "{body}"
    );
    let (s, body) = review(&app, &county, first_id, "return", Some(&"长".repeat(501))).await;
    assert_eq!(s, 422, "{body}");
    let (s, body) = review(&app, &county, first_id, "reject", Some("x")).await;
    assert_eq!(s, 422, "{body}");
    let (s, body) = review(&app, &town_a, first_id, "return", Some("自己退回")).await;
    assert_eq!(s, 403, "{body}");
    assert!(
        message(&body).contains("不能审核自己的报表")
            && message(&body).contains("cannot review its own report"),
        "{body}"
    );
    let (s, body) = review(&app, &town_a, first_id, "approve", None).await;
    assert_eq!(s, 403, "{body}");
    let (s, outside) = review(&app, &other_county, first_id, "return", Some("x")).await;
    assert_eq!(s, 404, "{outside}");
    // A sibling answers as for an id that does not exist.
    let (s, unknown) = review(&app, &town_b, 999_999, "return", Some("x")).await;
    assert_eq!(s, 404);
    let (_, sibling) = review(&app, &town_b, first_id, "return", Some("x")).await;
    assert_eq!(sibling, unknown);
    assert_eq!(outside, unknown);
    let (s, body) = review(&app, &county_viewer, first_id, "return", Some("x")).await;
    assert_eq!(s, 403, "{body}");
    let (s, _) = app
        .get(&town_b, "/api/v1/orgs/330102001/reviews?period=2026-10")
        .await;
    assert_eq!(s, 404);
    assert_eq!(app.count("SELECT COUNT(*) FROM reviews").await, 0);

    // The county returns town A's report.
    let comment = "甲公司职工人数比上月多一万，请核实 / employees up 10,000: please check";
    let (s, r) = review(&app, &county, first_id, "return", Some(comment)).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["review"]["decision"], "returned");
    assert_eq!(r["review"]["comment"], comment);
    assert_eq!(r["review"]["reviewer_org"], "330102");
    assert_eq!(
        r["review"]["reviewed_by"],
        "key \"test 330102 submitter\" (#2)"
    );
    // Not twice, and a returned report cannot be approved.
    let (s, body) = review(&app, &county, first_id, "return", Some("again")).await;
    assert_eq!(s, 409, "{body}");
    assert!(
        message(&body).contains("already returned") && message(&body).contains("已于"),
        "{body}"
    );
    let (s, body) = review(&app, &county, first_id, "approve", None).await;
    assert_eq!(s, 409, "{body}");

    // The reporter sees the return on its submission: comment, who, when.
    let (s, sub) = app
        .get(&town_a, &format!("/api/v1/submissions/{first_id}"))
        .await;
    assert_eq!(s, 200, "{sub}");
    assert_eq!(sub["status"], "accepted");
    assert_eq!(sub["review"]["decision"], "returned");
    assert_eq!(sub["review"]["comment"], comment);
    assert_eq!(
        sub["review"]["reviewer_org"], "330102",
        "the parent is named: {sub}"
    );
    assert_eq!(sub["review"]["reviewed_at"], r["review"]["reviewed_at"]);
    assert_eq!(sub["reviews"].as_array().unwrap().len(), 1);

    // Completeness: returned, not reported. County: 1 of 2 reported (50 %);
    // city: 1 of 3 (town B only).
    let (_, c) = app
        .get(&county, "/api/v1/orgs/330102/completeness?period=2026-10")
        .await;
    assert_eq!(counts(&c), [Some(2), Some(1), Some(1), Some(0)], "{c}");
    assert_eq!(c["reporting_rate"]["value"].as_f64(), Some(0.5));
    assert_eq!(c["reporting_rate"]["numerator"].as_f64(), Some(1.0));
    let ra = reporter(&c, TOWN_A);
    assert_eq!(ra["status"], "returned");
    assert_eq!(ra["review"]["comment"], comment);
    // October's deadline has passed: reports arriving now are late.
    assert_eq!(reporter(&c, TOWN_B)["status"], "late");
    assert_eq!(c["levels"][0]["returned"], 1);
    let (_, c) = app
        .get(
            &app.admin_key,
            "/api/v1/orgs/330100/completeness?period=2026-10",
        )
        .await;
    assert_eq!(counts(&c), [Some(3), Some(1), Some(1), Some(1)], "{c}");
    assert!(
        close(c["reporting_rate"]["value"].as_f64().unwrap(), 1.0 / 3.0),
        "{c}"
    );
    let (_, q) = app
        .get(&county, "/api/v1/orgs/330102/reviews?period=2026-10")
        .await;
    assert_eq!(
        (q["unreviewed"].as_u64(), q["returned"].as_u64()),
        (Some(1), Some(1)),
        "{q}"
    );
    assert_eq!(entry(&q, TOWN_A)["status"], "returned");
    assert_eq!(entry(&q, TOWN_A)["can_review"], false);
    // The export's completeness sheet says so too: the county's row (row 3)
    // has 1 reported (column E) and 1 returned in review (column N).
    let resp = app
        .client
        .get(format!(
            "{}/api/v1/orgs/330102/export.xlsx?period=2026-10",
            app.addr
        ))
        .bearer_auth(&county)
        .send()
        .await
        .expect("export");
    assert_eq!(resp.status().as_u16(), 200);
    let bytes = resp.bytes().await.expect("export bytes").to_vec();
    let mut book: calamine::Xlsx<_> =
        calamine::Reader::new(std::io::Cursor::new(bytes)).expect("xlsx");
    let levels = calamine::Reader::worksheet_range(
        &mut book,
        unionstat::core::workbook_out::export::COMPLETENESS_SHEET,
    )
    .expect("completeness sheet");
    assert_eq!(
        levels.get_value((1, 13)),
        Some(&calamine::Data::String(
            "审核退回 Returned in review".into()
        ))
    );
    assert_eq!(
        levels.get_value((2, 0)),
        Some(&calamine::Data::String("330102".into()))
    );
    assert_eq!(levels.get_value((2, 4)), Some(&calamine::Data::Float(1.0)));
    assert_eq!(levels.get_value((2, 13)), Some(&calamine::Data::Float(1.0)));
    // The figures stay in the roll-ups while returned (see the README), and
    // the roll-ups still equal a full recomputation.
    let v = app.indicators("330102", "2026-10").await;
    assert_eq!(metric(&v, "employees"), Some(208_000.0 + 570.0));
    assert!(app.verify().await.ok());

    // Town A uploads again: accepted, the return cleared, counted reported.
    let (s, up) = app
        .upload_as(
            Some(&town_a),
            town_a_sheet(),
            "reporter=330102001&period=2026-10",
        )
        .await;
    assert_eq!(s, 202, "{up}");
    let second = app.wait(up["id"].as_i64().unwrap()).await;
    assert_eq!(second["status"], "accepted", "{second}");
    assert!(second["review"].is_null(), "{second}");
    assert_eq!(second["reviews"], json!([]));
    let (_, c) = app
        .get(&county, "/api/v1/orgs/330102/completeness?period=2026-10")
        .await;
    assert_eq!(
        (
            c["reported"].as_u64(),
            c["returned"].as_u64(),
            c["reporting_rate"]["value"].as_f64()
        ),
        (Some(2), Some(0), Some(1.0)),
        "{c}"
    );
    assert_eq!(reporter(&c, TOWN_A)["status"], "late");
    assert!(reporter(&c, TOWN_A)["review"].is_null());
    // The old submission keeps its return.
    let (_, old) = app
        .get(&town_a, &format!("/api/v1/submissions/{first_id}"))
        .await;
    assert_eq!(old["status"], "superseded");
    assert_eq!(old["review"]["comment"], comment);
    let v = app.indicators("330102", "2026-10").await;
    assert_eq!(metric(&v, "employees"), Some(198_000.0 + 570.0));
    assert!(app.verify().await.ok());

    // The city, two levels up, approves the new report: the town sees who,
    // not the city's code (outside its subtree and not its parent).
    let second_id = second["id"].as_i64().unwrap();
    let (s, r) = review(&app, &city, second_id, "approve", Some("核实无误")).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["review"]["reviewer_org"], "330100");
    let (_, sub) = app
        .get(&town_a, &format!("/api/v1/submissions/{second_id}"))
        .await;
    assert_eq!(sub["review"]["decision"], "approved");
    assert!(sub["review"]["reviewer_org"].is_null(), "{sub}");
    assert_eq!(
        sub["review"]["reviewed_by"],
        "key \"test 330100 submitter\" (#3)"
    );
    let (_, q) = app
        .get(&county, "/api/v1/orgs/330102/reviews?period=2026-10")
        .await;
    assert_eq!(entry(&q, TOWN_A)["status"], "reviewed");
    assert!(entry(&q, TOWN_A)["review"]["reviewer_org"].is_null(), "{q}");

    // Every review is in the audit trail, the old return included.
    let (_, h) = app
        .get(&town_a, "/api/v1/orgs/330102001/history?period=2026-10")
        .await;
    let reviews: Vec<(String, String)> = h["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"].as_str().unwrap().starts_with("report_"))
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_string(),
                e["actor"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        reviews,
        vec![
            (
                "report_returned".to_string(),
                "key \"test 330102 submitter\" (#2)".to_string()
            ),
            (
                "report_approved".to_string(),
                "key \"test 330100 submitter\" (#3)".to_string()
            ),
        ],
        "{h}"
    );
    let returned = h["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "report_returned")
        .unwrap();
    assert!(
        returned["detail"].as_str().unwrap().contains(comment),
        "{returned}"
    );
    // Chinese first, then English, then the comment.
    assert!(
        returned["detail"]
            .as_str()
            .unwrap()
            .starts_with("330102001 2026-10 报表（报送记录 "),
        "{returned}"
    );
    assert!(
        !returned["detail"].as_str().unwrap().contains("330100"),
        "{returned}"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM reviews").await, 2);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_federation_approves_its_subtree_only_once_its_childrens_reports_are_approved_in_review()
{
    let app = spawn_app().await;
    let county = app.key("330102", Role::Submitter).await;
    let town_a = app.key(TOWN_A, Role::Submitter).await;
    let town_b = app.key(TOWN_B, Role::Submitter).await;
    let a_id = app.submit(town_a_sheet(), TOWN_A, "2026-10").await["id"]
        .as_i64()
        .unwrap();
    let b_id = app.submit(town_b_sheet(), TOWN_B, "2026-10").await["id"]
        .as_i64()
        .unwrap();
    for (key, town) in [(&town_a, TOWN_A), (&town_b, TOWN_B)] {
        let (s, body) = approve_subtree(&app, key, town).await;
        assert_eq!(s, 200, "{town}: {body}");
    }

    // Both towns' reports are unreviewed: the county's approval names them.
    let (s, body) = approve_subtree(&app, &county, "330102").await;
    assert_eq!(s, 409, "{body}");
    let msg = message(&body);
    assert!(
        msg.contains("未审核 330102001, 330102002")
            && msg.contains("unreviewed 330102001, 330102002; returned -"),
        "{msg}"
    );

    let (s, first) = review(&app, &county, a_id, "approve", None).await;
    assert_eq!(s, 200, "{first}");
    // Approving again answers the same review.
    let (s, again) = review(&app, &county, a_id, "approve", Some("再次")).await;
    assert_eq!(s, 200, "{again}");
    assert_eq!(again["review"]["id"], first["review"]["id"]);
    assert!(again["review"]["comment"].is_null());

    // Town B's month is locked by its own approval: no return.
    let (s, body) = review(&app, &county, b_id, "return", Some("请核实")).await;
    assert_eq!(s, 409, "{body}");
    assert!(
        message(&body).contains("已锁定") && message(&body).contains("approved by 330102002"),
        "{body}"
    );
    let (s, body) = send(
        &app,
        "delete",
        &app.admin_key,
        "/api/v1/orgs/330102002/approval?period=2026-10&reason=county%20review",
        None,
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let (s, body) = review(
        &app,
        &county,
        b_id,
        "return",
        Some("戊公司会员数请核实 / check 戊's members"),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let (s, body) = approve_subtree(&app, &town_b, TOWN_B).await;
    assert_eq!(s, 200, "{body}");
    let (s, body) = approve_subtree(&app, &county, "330102").await;
    assert_eq!(s, 409, "{body}");
    assert!(
        message(&body).contains("已退回 330102002")
            && message(&body).contains("unreviewed -; returned 330102002"),
        "{body}"
    );

    // Town B corrects (an admin: its month is locked by its approval), and the
    // new report waits for review.
    let (s, body) = send(
        &app,
        "delete",
        &app.admin_key,
        "/api/v1/orgs/330102002/approval?period=2026-10&reason=correction",
        None,
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let (s, up) = app
        .upload_as(
            Some(&town_b),
            town_b_sheet_with(440.0),
            "reporter=330102002&period=2026-10",
        )
        .await;
    assert_eq!(s, 202, "{up}");
    let b2 = app.wait(up["id"].as_i64().unwrap()).await;
    assert_eq!(b2["status"], "accepted", "{b2}");
    let (s, body) = approve_subtree(&app, &town_b, TOWN_B).await;
    assert_eq!(s, 200, "{body}");
    let (s, body) = approve_subtree(&app, &county, "330102").await;
    assert_eq!(s, 409, "{body}");
    assert!(
        message(&body).contains("unreviewed 330102002; returned -"),
        "{body}"
    );

    // Approving in review is allowed in the locked month; then the county signs.
    let (s, body) = review(&app, &county, b2["id"].as_i64().unwrap(), "approve", None).await;
    assert_eq!(s, 200, "{body}");
    let (s, body) = approve_subtree(&app, &county, "330102").await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["approved"], true);
    let (_, q) = app
        .get(&county, "/api/v1/orgs/330102/reviews?period=2026-10")
        .await;
    assert_eq!(
        (
            q["reviewed"].as_u64(),
            q["unreviewed"].as_u64(),
            q["returned"].as_u64()
        ),
        (Some(2), Some(0), Some(0)),
        "{q}"
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM audit WHERE action IN ('report_approved', 'report_returned')"
        )
        .await,
        3
    );
    app.stop().await;
}

/// `unionstat --database <the app's warehouse> ARGS`: (exit code, stdout and stderr).
pub(crate) fn cli(app: &TestApp, dir: &std::path::Path, args: &[&str]) -> (Option<i32>, String) {
    let out = unionstat_command(dir)
        .arg("--database")
        .arg(&app.ctx.settings.database.url)
        .args(args)
        .output()
        .expect("run unionstat");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_the_command_line_a_report_is_returned_listed_and_shown_with_its_comment() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let a_id = app.submit(town_a_sheet(), TOWN_A, "2026-10").await["id"]
        .as_i64()
        .unwrap();
    let p = ["--period", "2026-10"];

    // A return needs a comment (clap: exit 2); the reporter cannot review itself.
    let (code, _) = cli(&app, d, &[&["review", "return", TOWN_A][..], &p].concat());
    assert_eq!(code, Some(2));
    let (code, text) = cli(
        &app,
        d,
        &[&["review", "approve", TOWN_A, "--by", TOWN_A][..], &p].concat(),
    );
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("cannot review its own report"), "{text}");
    // Town B has nothing accepted to review.
    let (code, text) = cli(&app, d, &[&["review", "approve", TOWN_B][..], &p].concat());
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("330102002 has no accepted report for 2026-10 (missing)"),
        "{text}"
    );

    let (code, text) = cli(
        &app,
        d,
        &[
            &[
                "review",
                "return",
                TOWN_A,
                "--comment",
                "乙公司会员数请核实",
            ][..],
            &p,
        ]
        .concat(),
    );
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains(&format!(
            "submission {a_id} of 330102001 for 2026-10: returned by 330102, cli"
        )),
        "{text}"
    );
    assert!(text.contains(": 乙公司会员数请核实"), "{text}");
    let (code, text) = cli(
        &app,
        d,
        &[&["review", "return", TOWN_A, "--comment", "again"][..], &p].concat(),
    );
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("already returned"), "{text}");

    // The queue, the reporter's reviews and completeness say so.
    let (code, text) = cli(
        &app,
        d,
        &["review", "list", "--org", "330102", "--period", "2026-10"],
    );
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("0 awaiting review, 0 approved, 1 returned (figures against 2026-09)"),
        "{text}"
    );
    let row = text
        .lines()
        .find(|l| l.starts_with("330102001"))
        .expect(&text);
    assert!(
        row.contains("returned") && row.ends_with(": 乙公司会员数请核实"),
        "{row}"
    );
    let row = text
        .lines()
        .find(|l| l.starts_with("330102002"))
        .expect(&text);
    assert!(row.contains("missing"), "{row}");
    let (code, text) = cli(&app, d, &[&["review", "show", TOWN_A][..], &p].concat());
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("330102001 湖滨街道总工会 — 2026-10: returned"),
        "{text}"
    );
    assert!(
        text.contains(&format!("submission {a_id}: returned by 330102, cli")),
        "{text}"
    );
    let (code, text) = cli(
        &app,
        d,
        &["completeness", "--org", "330102", "--period", "2026-10"],
    );
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("2 expected, 0 reported (0 on time, 0 late), 0 pending, 0 rejected, 1 returned, 1 missing; 报送率 0.00%"), "{text}");
    assert!(text.contains("退回 returned by cli"), "{text}");
    let (_, sub) = app
        .get(&app.admin_key, &format!("/api/v1/submissions/{a_id}"))
        .await;
    assert!(
        sub["review"]["reviewed_by"]
            .as_str()
            .unwrap()
            .starts_with("cli"),
        "{sub}"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit WHERE action = 'report_returned'")
            .await,
        1
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_the_county_returns_a_report_and_the_town_reads_the_comment() {
    use crate::web::{
        click, last_month, quit_clean, screenshot_dir, sign_in, text_of, wait_status, WAIT,
    };
    use crate::webdriver::{Browser, BrowserTools};
    let Some(tools) = BrowserTools::find("review::in_a_browser") else {
        return;
    };
    // The page opens on last month; months stay open (lock_after_days = 0).
    let app = spawn_app().await;
    let period = last_month();
    let before: String = {
        let p: unionstat::core::Period = period.parse().unwrap();
        p.previous().to_string()
    };
    app.submit(town_a_sheet(), TOWN_A, &before).await;
    let a = app
        .submit(town_a_sheet_with(0, 110_000.0), TOWN_A, &period)
        .await;
    let a_id = a["id"].as_i64().unwrap();
    let b = app.submit(town_b_sheet(), TOWN_B, &period).await;
    let b_id = b["id"].as_i64().unwrap();
    app.create_user(
        "lisi",
        "李四",
        "330102",
        Role::Submitter,
        "county-reviewer-2026",
    )
    .await;
    app.create_user(
        "zhaoliu",
        "赵六",
        TOWN_A,
        Role::Submitter,
        "hubin-clerk-2026",
    )
    .await;
    let shots = screenshot_dir();

    let br = Browser::start(&tools, 1280, 900)
        .await
        .expect("headless Chromium");
    br.goto(&format!("{}/", app.addr)).await.expect("open page");
    sign_in(&br, "lisi", "county-reviewer-2026").await;
    click(&br, "#app-view:not([hidden]) #tab-rollups").await;
    let row_a = r#"#review-queue tr[data-code="330102001"]"#;
    br.wait(&format!(r#"{row_a}[data-status="accepted"]"#), WAIT)
        .await
        .expect("town A awaiting review");
    // 入会率 from 98.99 % to 94.23 %; members unchanged; town B had no September.
    assert_eq!(
        text_of(&br, &format!("{row_a} td.change.membership_rate")).await,
        "-4.76 pt"
    );
    assert_eq!(
        text_of(&br, &format!("{row_a} td.change.members")).await,
        "0.00%"
    );
    assert_eq!(
        text_of(
            &br,
            r#"#review-queue tr[data-code="330102002"] td.change.members"#
        )
        .await,
        "—"
    );
    assert_eq!(
        text_of(&br, &format!("{row_a} td.issues-count")).await,
        "0 错 · 0 提醒"
    );

    // Return asks for a comment; an empty one is refused on the page.
    click(&br, &format!("{row_a} button.return")).await;
    click(&br, "tr.return-form button.confirm-return").await;
    assert_eq!(
        text_of(&br, "tr.return-form p.error").await,
        "退回须填写意见。"
    );
    let comment = "甲公司职工人数比上月多一万，请核实";
    let area = br
        .wait("#return-comment-330102001", WAIT)
        .await
        .expect("comment field");
    br.send_keys(&area, comment).await.expect("type comment");
    click(&br, "tr.return-form button.confirm-return").await;
    wait_status(&br, "报表已退回").await;
    br.wait(&format!(r#"{row_a}[data-status="returned"]"#), WAIT)
        .await
        .expect("returned");
    assert_eq!(
        text_of(&br, &format!("{row_a} .review-comment")).await,
        format!("退回意见：{comment}")
    );
    // And town B is approved from the page.
    click(
        &br,
        r#"#review-queue tr[data-code="330102002"] button.approve"#,
    )
    .await;
    br.wait(
        r#"#review-queue tr[data-code="330102002"][data-status="reviewed"]"#,
        WAIT,
    )
    .await
    .expect("approved");
    let summary = text_of(&br, "#review-summary").await;
    assert!(
        summary.contains("待审核 0，已通过 1，审核退回 1"),
        "{summary}"
    );
    br.screenshot(&shots.join("10-review-queue-returned.png"))
        .await
        .expect("screenshot");

    // The county's own approval of the month (逐级审核) under the tiles: not
    // approved, the month open (lock_after_days = 0), both towns below it
    // reporting; approving now is refused, naming what is missing.
    assert_eq!(
        text_of(&br, r#"#node-approval .pill[data-approved="false"]"#).await,
        "本级汇总尚未审核通过"
    );
    assert_eq!(
        text_of(&br, r#"#node-approval .pill[data-locked="false"]"#).await,
        "本月开放"
    );
    click(&br, "#approve-node").await;
    let started = std::time::Instant::now();
    let refusal = loop {
        let got = text_of(&br, "#approval-error").await;
        if got.contains("330102001") || started.elapsed() > WAIT {
            break got;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    // The towns have not approved their own months yet: the service names them.
    assert!(
        refusal.contains("330102 的下级尚未全部审核通过")
            && refusal.contains("等待：330102001, 330102002")
            && !refusal.contains("waiting"),
        "{refusal}"
    );
    assert_eq!(
        text_of(&br, "#node-approval .pill[data-children-approved]").await,
        "下级审核通过 0/2"
    );
    br.screenshot(&shots.join("10-approval-refused.png"))
        .await
        .expect("screenshot");

    // What the page sent is what the service keeps, in the person's name.
    let (_, sub) = app
        .get(&app.admin_key, &format!("/api/v1/submissions/{a_id}"))
        .await;
    assert_eq!(sub["review"]["decision"], "returned");
    assert_eq!(sub["review"]["comment"], comment);
    assert_eq!(sub["review"]["reviewed_by"], "李四 (lisi)");
    let (_, sub) = app
        .get(&app.admin_key, &format!("/api/v1/submissions/{b_id}"))
        .await;
    assert_eq!(sub["review"]["decision"], "approved");

    // The town's clerk signs in and reads the return on the upload tab.
    click(&br, "#signout").await;
    sign_in(&br, "zhaoliu", "hubin-clerk-2026").await;
    br.wait(r#"#own-review[data-status="returned"]"#, WAIT)
        .await
        .expect("own review");
    let own = text_of(&br, "#own-review").await;
    assert!(
        own.contains("审核退回")
            && own.contains(&format!("退回意见：{comment}"))
            && own.contains("李四 (lisi) (330102)"),
        "{own}"
    );
    br.screenshot(&shots.join("11-reporter-sees-return.png"))
        .await
        .expect("screenshot");

    quit_clean(br).await;
    app.stop().await;
}

postgres_twins!(
    a_returned_report_counts_as_not_reported_until_a_new_upload_is_accepted,
    a_federation_approves_its_subtree_only_once_its_childrens_reports_are_approved_in_review,
    from_the_command_line_a_report_is_returned_listed_and_shown_with_its_comment,
);
