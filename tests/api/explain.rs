//! Explained exceptions (强制上报 with 说明): a figure that breaks an
//! explain-severity rule (`monthly_change`: more than 50 % away from the
//! unit's previous report) is accepted only with the submitter's explanation —
//! from the 说明 column of its row or given with the upload for the finding —
//! and the reviewer sees every explanation. Errors cannot be explained away.
//!
//! The months are fixed (2026-09, 2026-10) and never close by time: the
//! helpers set `reporting.lock_after_days = 0`.

use serde_json::{json, Value};
use unionstat::store::keys::Role;

use crate::helpers::*;

const TOWN_A: &str = "330102001";
const QUERY: &str = "reporter=330102001&period=2026-10";
const MERGER: &str = "甲公司吸收合并本区另一家企业，职工增加 6 万人";

/// BASIC with a 说明 column (G).
fn with_note() -> Vec<&'static str> {
    [BASIC, &["说明"]].concat()
}

/// Town A's September (甲公司 100,000 employees), so October is compared.
async fn september(app: &TestApp) {
    let sub = app.submit(town_a_sheet(), TOWN_A, "2026-09").await;
    assert_eq!(sub["status"], "accepted", "{sub}");
}

/// Town A's October with 甲公司's employees at 160,000 (+60 %: E3), and a 说明
/// for its row when given.
fn october(note: Option<&'static str>) -> Vec<u8> {
    let mut rows = town_a_rows();
    rows[0][4] = C::N(160_000.0);
    match note {
        Some(text) => {
            rows[0].push(C::S(text));
            workbook(None, &with_note(), &rows)
        }
        None => workbook(None, BASIC, &rows),
    }
}

/// Uploads with the admin key and a multipart form: `explanations` (JSON)
/// before `file`; returns the upload's answer.
async fn upload_form(
    app: &TestApp,
    bytes: Vec<u8>,
    query: &str,
    explanations: &Value,
) -> (u16, Value) {
    app.upload_form(
        query,
        &[("explanations", &explanations.to_string())],
        "october.xlsx",
        &bytes,
    )
    .await
}

fn texts(v: &Value) -> (&str, &str) {
    (
        v["message"]["zh"].as_str().unwrap_or(""),
        v["message"]["en"].as_str().unwrap_or(""),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jump_is_held_until_explained_in_the_note_column_and_the_reviewer_reads_it() {
    let app = spawn_app().await;
    september(&app).await;

    // Without an explanation: not accepted, the cell and rule named, and how to explain.
    let sub = app.submit(october(None), TOWN_A, "2026-10").await;
    assert_eq!(sub["status"], "rejected", "{sub}");
    assert_eq!(sub["error_count"], 1, "{sub}");
    let i = issue(&sub, "monthly_change").expect("monthly_change");
    assert_eq!(i["severity"], "explain");
    assert_eq!(
        (i["sheet"].as_str(), i["cell"].as_str()),
        (Some("基层工会情况"), Some("E3"))
    );
    assert_eq!(i["value"], "160000");
    assert!(i.get("explanation").is_none(), "{i}");
    assert_eq!(
        texts(i),
        (
            "基层工会情况!E3（330102001001 甲公司工会）：职工人数由上次报送的 100000 变为 160000，变动超过 50%（变动量占本表合计的 23.3%）。请确认。如数字属实（例如单位合并、拆分），须说明原因后方可上报：在上传页该问题下的“说明”框填写后点“附说明重新提交”（接口参数 explanations），或在本表第 3 行的“说明”列填写原因后重新上传。",
            "基层工会情况!E3 (330102001001 甲公司工会): Employees moved from 100000 in the previous report to 160000, more than 50% (a change of 23.3% of the sheet's total). Please confirm. If the figure is right (say, after a merger or a split), it is accepted with an explanation: type it in the Explanation box under this issue on the upload page and choose “Resubmit with explanations” (API field explanations), or write it in the 说明 (Explanation) column of row 3 and upload again.",
        )
    );
    // Nothing of October reached the roll-ups.
    assert_eq!(
        metric(&app.indicators(TOWN_A, "2026-10").await, "employees"),
        None
    );

    // The same figures with a 说明 on 甲公司's row: accepted, the explanation kept.
    let sub = app.submit(october(Some(MERGER)), TOWN_A, "2026-10").await;
    assert_eq!(sub["status"], "accepted", "{sub}");
    assert_eq!(
        (sub["error_count"].as_i64(), sub["warning_count"].as_i64()),
        (Some(0), Some(1))
    );
    let i = issue(&sub, "monthly_change").expect("monthly_change");
    assert_eq!(i["severity"], "explain");
    assert_eq!(
        i["explanation"],
        json!({"text": MERGER, "source": "column", "note_cell": "G3",
               "unit": "330102001001", "metric": "employees"})
    );
    // The 说明 column is neither a metric nor an unknown column.
    assert!(issue(&sub, "unknown_column").is_none(), "{sub}");
    assert_eq!(
        metric(&app.indicators(TOWN_A, "2026-10").await, "employees"),
        Some(258_000.0)
    );
    let id = sub["id"].as_i64().unwrap();

    // The county, reviewing, reads it with rule, cell, unit and value.
    let county = app.key("330102", Role::Submitter).await;
    let (s, queue) = app
        .get(&county, "/api/v1/orgs/330102/reviews?period=2026-10")
        .await;
    assert_eq!(s, 200, "{queue}");
    let a = queue["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["org"] == TOWN_A)
        .expect("town A in the queue");
    assert_eq!(a["submission_id"], id);
    let explained = a["explanations"].as_array().unwrap();
    assert_eq!(explained.len(), 1, "{a}");
    let x = &explained[0];
    assert_eq!(
        (
            x["rule"].as_str(),
            x["sheet"].as_str(),
            x["cell"].as_str(),
            x["unit"].as_str(),
            x["metric"].as_str(),
            x["value"].as_str(),
            x["explanation"].as_str(),
            x["source"].as_str(),
            x["title_zh"].as_str(),
        ),
        (
            Some("monthly_change"),
            Some("基层工会情况"),
            Some("E3"),
            Some("330102001001"),
            Some("employees"),
            Some("160000"),
            Some(MERGER),
            Some("column"),
            Some("与上月相比变动过大"),
        )
    );
    // Town B reported nothing: nothing to explain.
    let b = queue["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["org"] == "330102002")
        .unwrap();
    assert_eq!(b["explanations"], json!([]));

    // The audit keeps it, with the unit and the metric.
    let (s, history) = app
        .get(&county, "/api/v1/orgs/330102/history?period=2026-10")
        .await;
    assert_eq!(s, 200, "{history}");
    let row = history["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "issue_explained")
        .expect("issue_explained in the audit");
    assert_eq!(row["unit"], "330102001001");
    assert_eq!(row["metric"], "employees");
    assert_eq!(row["submission_id"], id);
    assert_eq!(
        row["detail"],
        format!("monthly_change at 基层工会情况!E3 (value 160000): {MERGER}")
    );

    // The command line prints it in the queue and with the reporter's reviews.
    let dir = tempfile::tempdir().expect("temp dir");
    let line =
        format!("330102001 说明 monthly_change 基层工会情况!E3 330102001001 = 160000: {MERGER}");
    let list: &[&str] = &["review", "list", "--org", "330102", "--period", "2026-10"];
    let show: &[&str] = &["review", "show", TOWN_A, "--period", "2026-10"];
    for args in [list, show] {
        let (code, text) = crate::review::cli(&app, dir.path(), args);
        assert_eq!(code, Some(0), "{text}");
        assert!(text.lines().any(|l| l == line), "{args:?}: {text}");
    }

    // Nobody outside the reporter's subtree reads it: the other county gets
    // the 404 of an unknown code or id.
    let other = app.key("330103", Role::Submitter).await;
    let (s, body) = app
        .get(&other, "/api/v1/orgs/330102/reviews?period=2026-10")
        .await;
    assert_eq!(s, 404, "{body}");
    let (s, body) = app.get(&other, &format!("/api/v1/submissions/{id}")).await;
    assert_eq!(s, 404, "{body}");
    assert!(!body.to_string().contains(MERGER));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_explanation_given_with_the_upload_explains_its_finding() {
    let app = spawn_app().await;
    september(&app).await;
    let given = json!([{"rule": "monthly_change", "cell": "E3", "text": MERGER}]);

    // A dry run with it: would be accepted.
    let (s, dry) = upload_form(
        &app,
        october(None),
        &format!("{QUERY}&dry_run=true"),
        &given,
    )
    .await;
    assert_eq!(s, 200, "{dry}");
    assert_eq!(
        (dry["status"].as_str(), dry["error_count"].as_i64()),
        (Some("accepted"), Some(0))
    );

    // The first upload without, then the same file with the explanation: a new
    // submission (not the rejected one again), accepted.
    let rejected = app.submit(october(None), TOWN_A, "2026-10").await;
    assert_eq!(rejected["status"], "rejected");
    // An explanation for another cell or rule explains nothing.
    let wrong = json!([{"rule": "monthly_change", "cell": "E4", "text": MERGER},
                       {"rule": "outlier", "cell": "E3", "text": MERGER}]);
    let (s, body) = upload_form(&app, october(None), QUERY, &wrong).await;
    assert_eq!(s, 202, "{body}");
    let sub = app.wait(body["id"].as_i64().unwrap()).await;
    assert_eq!(sub["status"], "rejected", "{sub}");

    let (s, body) = upload_form(&app, october(None), QUERY, &given).await;
    assert_eq!(s, 202, "{body}");
    assert_ne!(body["id"], rejected["id"]);
    let sub = app.wait(body["id"].as_i64().unwrap()).await;
    assert_eq!(sub["status"], "accepted", "{sub}");
    let i = issue(&sub, "monthly_change").unwrap();
    assert_eq!(
        i["explanation"],
        json!({"text": MERGER, "source": "upload", "unit": "330102001001", "metric": "employees"})
    );
    // The same bytes and explanations again: the same submission.
    let (s, again) = upload_form(&app, october(None), QUERY, &given).await;
    assert_eq!((s, &again["id"]), (200, &sub["id"]));

    // The query parameter works as the form field does (cell as findings name it).
    let given = json!([{"rule": "monthly_change", "cell": "基层工会情况!E3", "text": "两厂合并"}]);
    let q = format!(
        "{QUERY}&dry_run=true&explanations={}",
        urlencode(&given.to_string())
    );
    let (s, dry) = app.upload_as(Some(&app.admin_key), october(None), &q).await;
    assert_eq!(s, 200, "{dry}");
    assert_eq!(dry["status"], "accepted", "{dry}");
    assert_eq!(
        issue(&dry, "monthly_change").unwrap()["explanation"]["text"],
        "两厂合并"
    );

    // The command line gives one with --explain RULE:CELL=TEXT.
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("october.xlsx");
    std::fs::write(&file, october(None)).expect("write october.xlsx");
    let file = file.display().to_string();
    let submit = [
        "submit", &file, "--as", TOWN_A, "--period", "2026-10", "--json",
    ];
    let (code, text) = crate::review::cli(
        &app,
        dir.path(),
        &[
            &submit[..],
            &["--explain", "monthly_change:E3=命令行说明：两厂合并"],
        ]
        .concat(),
    );
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("命令行说明：两厂合并"), "{text}");
    let (code, text) = crate::review::cli(
        &app,
        dir.path(),
        &[&submit[..], &["--explain", "monthly_change=两厂合并"]].concat(),
    );
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("--explain \"monthly_change=两厂合并\": write RULE:CELL=TEXT"),
        "{text}"
    );

    // The reviewer reads the upload's explanation too.
    let county = app.key("330102", Role::Submitter).await;
    let (_, queue) = app
        .get(&county, "/api/v1/orgs/330102/reviews?period=2026-10")
        .await;
    let a = queue["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["org"] == TOWN_A)
        .unwrap();
    assert_eq!(a["explanations"][0]["explanation"], "命令行说明：两厂合并");
    assert_eq!(a["explanations"][0]["source"], "upload");
    assert_eq!(a["explanations"][0]["cell"], "E3");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_cannot_be_explained_away() {
    let app = spawn_app().await;
    september(&app).await;
    // 甲公司: 160,000 employees (explained) but 170,000 members: an error.
    let mut rows = town_a_rows();
    rows[0][4] = C::N(160_000.0);
    rows[0][5] = C::N(170_000.0);
    rows[0].push(C::S(MERGER));
    let sheet = workbook(None, &with_note(), &rows);
    let given = json!([{"rule": "members_le_employees", "cell": "F3", "text": "会员含退休职工"}]);
    let (s, body) = upload_form(&app, sheet, QUERY, &given).await;
    assert_eq!(s, 202, "{body}");
    let sub = app.wait(body["id"].as_i64().unwrap()).await;
    assert_eq!(sub["status"], "rejected", "{sub}");
    assert_eq!(sub["error_count"], 1, "{sub}");
    let e = issue(&sub, "members_le_employees").expect("members_le_employees");
    assert_eq!(
        (e["severity"].as_str(), e["cell"].as_str()),
        (Some("error"), Some("F3"))
    );
    assert!(e.get("explanation").is_none(), "{e}");
    // The jump itself was explained by the row's 说明.
    let j = issue(&sub, "monthly_change").unwrap();
    assert_eq!(j["explanation"]["text"], MERGER);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_explanation_too_long_is_refused_with_a_clear_message() {
    let app = spawn_app().await;
    september(&app).await;
    let long = "合".repeat(501);
    let given = json!([{"rule": "monthly_change", "cell": "E3", "text": long}]);
    let (s, body) = upload_form(&app, october(None), QUERY, &given).await;
    assert_eq!(s, 422, "{body}");
    assert_eq!(
        body["message"],
        "第 1 条说明（monthly_change，E3）有 501 个字，最多 500 个字，请精简后重新提交 / explanation 1 (monthly_change at E3) has 501 characters; at most 500 are kept: shorten it and submit again"
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM submissions WHERE period = '2026-10' OR req_period = '2026-10'"
        )
        .await,
        0
    );
    // Not JSON: refused and said.
    let (s, body) = upload_form(&app, october(None), QUERY, &json!("两厂合并")).await;
    assert_eq!(s, 422, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("说明（explanations）应为 JSON 数组"),
        "{body}"
    );

    // In the 说明 column: that cell named, the jump still unexplained.
    let text: &'static str = Box::leak(long.into_boxed_str());
    let sub = app.submit(october(Some(text)), TOWN_A, "2026-10").await;
    assert_eq!(sub["status"], "rejected", "{sub}");
    assert_eq!(sub["error_count"], 2, "{sub}");
    let e = issue(&sub, "explanation_too_long").expect("explanation_too_long");
    assert_eq!(e["cell"], "G3");
    assert_eq!(
        texts(e),
        (
            "基层工会情况!G3（330102001001 甲公司工会）：说明超过 500 个字，未予采用。请精简到 500 个字以内后重新上传。",
            "基层工会情况!G3 (330102001001 甲公司工会): The explanation is longer than 500 characters and was not taken. Shorten it to at most 500 characters and upload again.",
        )
    );
    assert!(issue(&sub, "monthly_change")
        .unwrap()
        .get("explanation")
        .is_none());
    app.stop().await;
}

/// Percent-encodes a query value.
fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_the_clerk_explains_a_jump_and_the_county_reads_it() {
    use crate::web::{
        click, last_month, quit_clean, screenshot_dir, sign_in, text_of, upload, WAIT,
    };
    use crate::webdriver::{Browser, BrowserTools};
    let Some(tools) = BrowserTools::find("explain::in_a_browser") else {
        return;
    };
    // The page opens on last month; months stay open (lock_after_days = 0).
    let app = spawn_app().await;
    let period = last_month();
    let before = {
        let p: unionstat::core::Period = period.parse().unwrap();
        p.previous().to_string()
    };
    app.submit(town_a_sheet(), TOWN_A, &before).await;
    app.create_user(
        "zhaoliu",
        "赵六",
        TOWN_A,
        Role::Submitter,
        "hubin-clerk-2026",
    )
    .await;
    app.create_user(
        "lisi",
        "李四",
        "330102",
        Role::Submitter,
        "county-reviewer-2026",
    )
    .await;
    let files = tempfile::tempdir().expect("temp dir");
    let jump = files.path().join("jump.xlsx");
    std::fs::write(&jump, october(None)).expect("write jump.xlsx");
    let shots = screenshot_dir();

    let br = Browser::start(&tools, 1280, 900)
        .await
        .expect("headless Chromium");
    br.goto(&format!("{}/", app.addr)).await.expect("open page");
    sign_in(&br, "zhaoliu", "hubin-clerk-2026").await;
    br.wait("#app-view:not([hidden]) #reporter", WAIT)
        .await
        .expect("the upload form");
    upload(&br, TOWN_A, &jump).await;
    let card = r#"#uploads li[data-file="jump.xlsx"][data-status="rejected"]"#;
    let rule = format!(r#"{card} details[data-rule="monthly_change"]"#);
    assert_eq!(
        text_of(&br, &format!("{rule} summary .pill")).await,
        "须说明"
    );
    let msg = text_of(&br, &format!(r#"{rule} tr.issue[data-cell="E3"] .msg"#)).await;
    assert!(
        msg.contains("职工人数由上次报送的 100000 变为 160000"),
        "{msg}"
    );
    assert!(msg.contains("本表第 3 行的“说明”列"), "{msg}");
    // Resubmitting with every box empty is refused on the page.
    click(&br, &format!("{card} button.resubmit-explained")).await;
    assert_eq!(
        text_of(&br, &format!("{card} .explain-form p.error")).await,
        "请至少填写一条说明。"
    );
    let area = br
        .wait(
            &format!(r#"{rule} tr.issue[data-cell="E3"] textarea.explain-text"#),
            WAIT,
        )
        .await
        .expect("explanation box");
    br.send_keys(&area, MERGER).await.expect("type explanation");
    br.screenshot(&shots.join("12-explain-upload.png"))
        .await
        .expect("screenshot");
    click(&br, &format!("{card} button.resubmit-explained")).await;
    let accepted = r#"#uploads li[data-file="jump.xlsx"][data-status="accepted"]"#;
    let explained = text_of(
        &br,
        &format!(r#"{accepted} details[data-rule="monthly_change"] tr.issue[data-cell="E3"] .explanation"#),
    )
    .await;
    assert_eq!(explained, format!("说明：{MERGER}"));
    br.screenshot(&shots.join("12-explain-resubmitted.png"))
        .await
        .expect("screenshot");
    // What the page sent is what the service keeps.
    let id: i64 = {
        let e = br
            .wait(&format!("{accepted}[data-id]"), WAIT)
            .await
            .unwrap();
        br.attribute(&e, "data-id")
            .await
            .unwrap()
            .unwrap()
            .parse()
            .unwrap()
    };
    let (_, sub) = app
        .get(&app.admin_key, &format!("/api/v1/submissions/{id}"))
        .await;
    assert_eq!(sub["status"], "accepted");
    assert_eq!(
        issue(&sub, "monthly_change").unwrap()["explanation"]["source"],
        "upload"
    );

    // The county's reviewer reads the explanation under town A's row.
    click(&br, "#signout").await;
    sign_in(&br, "lisi", "county-reviewer-2026").await;
    click(&br, "#app-view:not([hidden]) #tab-rollups").await;
    let line = text_of(
        &br,
        r#"#review-queue tr.explanations[data-code="330102001"] li.explained-issue[data-rule="monthly_change"][data-cell="E3"]"#,
    )
    .await;
    assert_eq!(
        line,
        format!("基层工会情况!E3（330102001001）160000：与上月相比变动过大。说明：{MERGER}")
    );
    br.execute(r#"document.getElementById('review-card').scrollIntoView()"#)
        .await
        .expect("scroll");
    br.screenshot(&shots.join("12-explain-review-queue.png"))
        .await
        .expect("screenshot");
    quit_clean(br).await;
    app.stop().await;
}

postgres_twins!(
    a_jump_is_held_until_explained_in_the_note_column_and_the_reviewer_reads_it,
    an_explanation_given_with_the_upload_explains_its_finding,
    an_error_cannot_be_explained_away,
    an_explanation_too_long_is_refused_with_a_clear_message,
);
