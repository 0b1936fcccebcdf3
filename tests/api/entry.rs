//! Entering figures in the page (网页填报): the form of a reporter's units, the
//! figures written as a Template v1 workbook and taken as an upload — the same
//! rules, submission, roll-ups, audit and kept bytes — and the page that does it.
//! Months do not close by time here (`reporting.lock_after_days = 0`, the test
//! default), so 2026-09 and 2026-10 are open.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use serde_json::{json, Value};
use unionstat::store::keys::Role;

use crate::helpers::*;
use crate::web::{click, close_clean, open_signed_in, page_period, shot, text_of, wait_text, WAIT};
use crate::webdriver::{Browser, BrowserTools};

const TOWN: &str = "330102001";

/// POSTs an entry body (any bytes) with `key`; returns (status, body).
async fn post_entry(app: &TestApp, key: &str, path: &str, body: Vec<u8>) -> (u16, Value) {
    let resp = app
        .client
        .post(format!("{}/api/v1/entry/{path}", app.addr))
        .bearer_auth(key)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn enter(app: &TestApp, key: &str, path: &str, body: &Value) -> (u16, Value) {
    post_entry(app, key, path, body.to_string().into_bytes()).await
}

/// Town A's three units: (enterprises required, unionised, employees, members).
fn town_a(figures: [(f64, f64, f64, f64); 3]) -> Value {
    let codes = ["330102001001", "330102001002", "330102001003"];
    let units: Vec<Value> = codes
        .iter()
        .zip(figures)
        .map(|(code, (req, est, emp, mem))| {
            json!({"code": code, "figures": {
                "enterprises_required": req, "unions_established": est,
                "employees": emp, "members": mem, "new_members": null,
            }})
        })
        .collect();
    json!({"units": units, "preparer": "张三", "phone": "0571-87654321"})
}

const GOOD: [(f64, f64, f64, f64); 3] = [
    (4.0, 3.0, 1000.0, 950.0),
    (2.0, 2.0, 510.0, 505.0),
    (1.0, 0.0, 59.0, 0.0),
];

/// The cells of the units sheet of an xlsx, by (row, column) from 0.
fn units_sheet(bytes: &[u8]) -> calamine::Range<Data> {
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    wb.worksheet_range("基层工会情况").unwrap()
}

fn cover_value(bytes: &[u8], label: &str) -> String {
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    let range = wb.worksheet_range("封面").unwrap();
    range
        .rows()
        .find(|r| r.first().map(|c| c.to_string()) == Some(label.to_string()))
        .map(|r| r[1].to_string())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_form_lists_the_reporters_units_the_metrics_and_last_months_figures() {
    let app = spawn_app().await;
    let town = app.key(TOWN, Role::Submitter).await;
    let september = app.submit(town_a_sheet(), TOWN, "2026-09").await;
    assert_eq!(september["status"], "accepted", "{september}");

    let (status, form) = app.get(&town, "/api/v1/entry/330102001/2026-10").await;
    assert_eq!(status, 200, "{form}");
    assert_eq!(form["reporter"], TOWN);
    assert_eq!(form["reporter_name"], "湖滨街道总工会");
    assert_eq!(form["period"], "2026-10");
    assert_eq!(form["sheet"], "基层工会情况");
    let units = form["units"].as_array().unwrap();
    let listed: Vec<(&str, &str, i64)> = units
        .iter()
        .map(|u| {
            (
                u["code"].as_str().unwrap(),
                u["name"].as_str().unwrap(),
                u["row"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            ("330102001001", "甲公司工会", 4),
            ("330102001002", "乙公司工会", 5),
            ("330102001003", "丙公司工会", 6)
        ]
    );
    let metrics = form["metrics"].as_array().unwrap();
    assert_eq!(metrics.len(), app.ctx.catalog.metrics.len());
    assert!(metrics.len() >= 31);
    assert_eq!(metrics[0]["code"], "enterprises_required");
    assert_eq!(metrics[0]["zh"], "应建会单位数");
    assert_eq!(metrics[0]["column"], "C");
    assert_eq!(metrics[3]["code"], "members");
    assert_eq!(metrics[3]["zh"], "会员人数");
    assert_eq!(metrics[3]["kind"], "stock");
    assert_eq!(metrics[3]["column"], "F");
    let yuan = metrics.iter().find(|m| m["code"] == "relief_yuan").unwrap();
    assert_eq!(
        (yuan["decimals"].as_i64(), &yuan["kind"]),
        (Some(2), &json!("flow"))
    );
    // Nothing accepted for October yet; September's figures for reference.
    assert_eq!(units[0]["figures"], json!({}));
    assert_eq!(units[0]["previous"]["employees"], 100_000.0, "{form}");
    assert_eq!(units[1]["previous"]["members"], 59_500.0, "{form}");
    assert_eq!(units[2]["previous"]["unions_established"], 6.0, "{form}");

    // A federation without reporting units and a bad month.
    let (status, body) = app.get(&town, "/api/v1/entry/330102001001/2026-10").await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("是基层工会"),
        "{body}"
    );
    let (status, body) = app.get(&town, "/api/v1/entry/330102001/2026-13").await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("应为 年-月"),
        "{body}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entered_figures_are_accepted_rolled_up_audited_and_kept_as_a_workbook() {
    let app = spawn_app().await;
    let town = app.key(TOWN, Role::Submitter).await;
    let (status, body) = enter(&app, &town, "330102001/2026-10", &town_a(GOOD)).await;
    assert_eq!(status, 202, "{body}");
    let id = body["id"].as_i64().unwrap();
    let sub = app.wait(id).await;
    assert_eq!(sub["status"], "accepted", "{sub}");
    assert_eq!(sub["reporter"], TOWN);
    assert_eq!(sub["period"], "2026-10");
    assert_eq!(sub["filename"], "网页填报-330102001-2026-10.xlsx");
    assert_eq!(sub["error_count"], 0, "{sub}");

    // The roll-ups are the entered numbers, up to the county.
    let county = app.indicators("330102", "2026-10").await;
    assert_eq!(metric(&county, "employees"), Some(1569.0));
    assert_eq!(metric(&county, "members"), Some(1455.0));
    assert_eq!(metric(&county, "enterprises_required"), Some(7.0));
    assert_eq!(metric(&county, "unions_established"), Some(5.0));
    assert_eq!(
        rate(&county, "membership_rate").map(|r| (r * 1e4).round()),
        Some(9273.0)
    );

    // The kept bytes are the reporter's template holding the entered values.
    let bytes = app.ctx.store.submission_bytes(id).await.unwrap();
    let sheet = units_sheet(&bytes);
    assert_eq!(
        sheet.get_value((3, 0)),
        Some(&Data::String("330102001001".into()))
    );
    assert_eq!(
        sheet.get_value((4, 1)),
        Some(&Data::String("乙公司工会".into()))
    );
    // E5 (employees of 乙) and F4 (members of 甲).
    assert_eq!(sheet.get_value((4, 4)), Some(&Data::Float(510.0)));
    assert_eq!(sheet.get_value((3, 5)), Some(&Data::Float(950.0)));
    assert_eq!(sheet.get_value((5, 5)), Some(&Data::Float(0.0)));
    // new_members was sent as null: an empty cell, not a zero.
    let new_members = 2 + app.ctx.catalog.metric_position("new_members").unwrap() as u32;
    assert_eq!(
        sheet.get_value((2, new_members)),
        Some(&Data::String("新发展会员人数（人）".into()))
    );
    assert!(matches!(
        sheet.get_value((3, new_members)),
        None | Some(Data::Empty)
    ));
    assert_eq!(cover_value(&bytes, "填报人"), "张三");
    assert_eq!(cover_value(&bytes, "联系电话"), "0571-87654321");
    assert_eq!(cover_value(&bytes, "报告期"), "2026-10");
    let accepted = app
        .count(&format!(
            "SELECT COUNT(*) FROM audit WHERE action = 'submission_accepted' AND submission_id = {id}"
        ))
        .await;
    assert_eq!(accepted, 1);

    // The form now holds the month's accepted figures.
    let (_, form) = app.get(&town, "/api/v1/entry/330102001/2026-10").await;
    assert_eq!(form["units"][1]["figures"]["members"], 505.0);
    assert_eq!(form["units"][2]["figures"]["members"], 0.0);

    // The same figures again the same day: the same workbook, the same submission.
    let (status, again) = enter(&app, &town, "330102001/2026-10", &town_a(GOOD)).await;
    assert_eq!((status, again["id"].as_i64()), (200, Some(id)), "{again}");

    // A correction supersedes it, and the audit has the old and new figure.
    let mut fixed = GOOD;
    fixed[1].3 = 509.0;
    let (status, body) = enter(&app, &town, "330102001/2026-10", &town_a(fixed)).await;
    assert_eq!(status, 202, "{body}");
    let second = body["id"].as_i64().unwrap();
    assert_eq!(app.wait(second).await["status"], "accepted");
    assert_eq!(app.wait(id).await["status"], "superseded");
    let county = app.indicators("330102", "2026-10").await;
    assert_eq!(metric(&county, "members"), Some(1459.0));
    let audit = app
        .ctx
        .store
        .first_row_i64(&format!(
            "SELECT old_value, new_value FROM audit WHERE unit_code = '330102001002' AND metric = 'members' AND submission_id = {second}"
        ))
        .await
        .unwrap();
    assert_eq!(audit, vec![Some(505), Some(509)]);
    assert!(app.verify().await.ok());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_above_employees_is_rejected_naming_the_units_cell_and_a_dry_run_stores_nothing() {
    let app = spawn_app().await;
    let town = app.key(TOWN, Role::Submitter).await;
    let mut bad = GOOD;
    bad[1].3 = 520.0; // 乙: 520 members of 510 employees
    let mut body = town_a(bad);
    body["dry_run"] = json!(true);
    let (status, check) = enter(&app, &town, "330102001/2026-10", &body).await;
    assert_eq!(status, 200, "{check}");
    assert_eq!(check["dry_run"], true);
    assert_eq!(check["status"], "rejected", "{check}");
    let breach = issue(&check, "members_le_employees").expect("the breach");
    assert_eq!(breach["cell"], "F5", "{breach}");
    assert_eq!(breach["sheet"], "基层工会情况");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM submissions").await,
        0,
        "a dry run stores nothing"
    );

    body["dry_run"] = json!(false);
    let (status, stored) = enter(&app, &town, "330102001/2026-10", &body).await;
    assert_eq!(status, 202, "{stored}");
    let sub = app.wait(stored["id"].as_i64().unwrap()).await;
    assert_eq!(sub["status"], "rejected", "{sub}");
    let breach = issue(&sub, "members_le_employees").expect("the breach");
    assert_eq!(breach["cell"], "F5", "{breach}");
    assert_eq!(app.count("SELECT COUNT(*) FROM submissions").await, 1);
    let county = app.indicators("330102", "2026-10").await;
    assert_eq!(
        metric(&county, "members"),
        None,
        "nothing written: {county}"
    );
    // A negative number is written as entered, for the rule to name its cell.
    let mut negative = town_a(GOOD);
    negative["units"][2]["figures"]["employees"] = json!(-59);
    negative["dry_run"] = json!(true);
    let (status, check) = enter(&app, &town, "330102001/2026-10", &negative).await;
    assert_eq!(status, 200, "{check}");
    assert_eq!(
        issue(&check, "negative_value").expect("negative")["cell"],
        "E6"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entry_outside_the_subtree_is_not_found_and_a_viewer_cannot_submit() {
    let app = spawn_app().await;
    let town = app.key(TOWN, Role::Submitter).await;
    let county = app.key("330103", Role::Submitter).await;
    let viewer = app.key(TOWN, Role::Viewer).await;
    let (status, unknown) = app.get(&town, "/api/v1/entry/999999999/2026-10").await;
    assert_eq!(status, 404);
    for (key, path) in [(&town, "330102002/2026-10"), (&county, "330102001/2026-10")] {
        let (status, body) = app.get(key, &format!("/api/v1/entry/{path}")).await;
        assert_eq!((status, &body), (404, &unknown), "GET {path}");
        let (status, body) = enter(&app, key, path, &town_a(GOOD)).await;
        assert_eq!((status, &body), (404, &unknown), "POST {path}");
    }
    let (status, body) = enter(&app, &viewer, "330102001/2026-10", &town_a(GOOD)).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("查看账号不能填报"),
        "{body}"
    );
    // A viewer reads the form of its own subtree.
    assert_eq!(
        app.get(&viewer, "/api/v1/entry/330102001/2026-10").await.0,
        200
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM submissions").await, 0);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_json_and_figures_that_cannot_be_written_are_422_in_both_languages() {
    let app = spawn_app().await;
    let town = app.key(TOWN, Role::Submitter).await;
    let path = "330102001/2026-10";
    let (status, body) = post_entry(&app, &town, path, b"{\"units\": [".to_vec()).await;
    assert_eq!(status, 422, "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(message.starts_with("填报内容应为 JSON"), "{message}");
    assert!(message.contains("/ the body must be JSON"), "{message}");
    let (status, body) = enter(&app, &town, path, &json!({"units": [], "extra": 1})).await;
    assert_eq!(status, 422, "{body}");

    let cases = [
        (
            json!({"units": [{"code": "330102002001", "figures": {}}]}),
            "单位代码 330102002001 不是本单位本月所辖的基层工会 / unit 330102002001 is not one of the reporter's grassroots unions this month",
        ),
        (
            json!({"units": [{"code": "330102001001", "figures": {"membres": 5}}]}),
            "没有指标 membres / no metric membres",
        ),
        (
            json!({"units": [{"code": "330102001001", "figures": {"members": 5.5}}]}),
            "单位 330102001001 的“会员人数”应为整数 / unit 330102001001, Members (members): must be a whole number",
        ),
        (
            json!({"units": [{"code": "330102001001", "figures": {"members": 1e300}}]}),
            "单位 330102001001 的“会员人数”不是可接受的数字 / unit 330102001001, Members (members): is not a number that can be taken",
        ),
    ];
    for (body, want) in cases {
        let (status, answer) = enter(&app, &town, path, &body).await;
        assert_eq!(
            (status, answer["message"].as_str()),
            (422, Some(want)),
            "{body}"
        );
    }
    // A body over 4 MiB is refused before it is read as JSON.
    let huge = vec![b' '; 4 * 1024 * 1024 + 1];
    assert_eq!(post_entry(&app, &town, path, huge).await.0, 413);
    assert_eq!(app.count("SELECT COUNT(*) FROM submissions").await, 0);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_month_refuses_entered_figures_but_checks_them_and_a_nil_report_is_taken() {
    // Locks by the clock: reporting.lock_after_days = 1, so the month before
    // the one being reported is locked and that one is open.
    let app = spawn_app_with(|s| s.reporting.lock_after_days = 1).await;
    let open = app
        .ctx
        .settings
        .reporting
        .reporting_period(chrono::Utc::now());
    let locked = open.previous();
    let town = app.key(TOWN, Role::Submitter).await;
    let path = format!("{TOWN}/{locked}");
    let (status, body) = enter(&app, &town, &path, &town_a(GOOD)).await;
    assert_eq!(status, 403, "{body}");
    let mut dry = town_a(GOOD);
    dry["dry_run"] = json!(true);
    let (status, check) = enter(&app, &town, &path, &dry).await;
    assert_eq!(status, 200, "{check}");
    assert_eq!(
        (&check["status"], &check["locked"]),
        (&json!("accepted"), &json!(true)),
        "{check}"
    );
    assert!(
        check["note"]["zh"].as_str().unwrap().contains("锁定"),
        "{check}"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM submissions").await, 0);

    // 零报告 in the open month: no figures, declared so.
    let nil = json!({"units": [], "nil_report": true, "preparer": "张三"});
    let (status, body) = enter(&app, &town, &format!("{TOWN}/{open}"), &nil).await;
    assert_eq!(status, 202, "{body}");
    let sub = app.wait(body["id"].as_i64().unwrap()).await;
    assert_eq!(
        (&sub["status"], &sub["nil_report"]),
        (&json!("accepted"), &json!(true)),
        "{sub}"
    );
    let (status, body) = enter(
        &app,
        &town,
        &format!("{TOWN}/{open}"),
        &json!({"units": []}),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let sub = app.wait(body["id"].as_i64().unwrap()).await;
    assert_eq!(sub["status"], "rejected", "{sub}");
    assert!(issue(&sub, "no_figures").is_some(), "{sub}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_big_monthly_change_entered_needs_its_explanation_and_is_accepted_with_it() {
    let app = spawn_app().await;
    let town = app.key(TOWN, Role::Submitter).await;
    let september = app.submit(town_a_sheet(), TOWN, "2026-09").await;
    assert_eq!(september["status"], "accepted", "{september}");
    // September's figures again, but 甲's employees from 100,000 to 160,000.
    let figures = [
        (20.0, 19.0, 160_000.0, 99_000.0),
        (15.0, 14.0, 60_000.0, 59_500.0),
        (6.0, 6.0, 38_000.0, 37_500.0),
    ];
    let (status, body) = enter(&app, &town, "330102001/2026-10", &town_a(figures)).await;
    assert_eq!(status, 202, "{body}");
    let sub = app.wait(body["id"].as_i64().unwrap()).await;
    assert_eq!(sub["status"], "rejected", "{sub}");
    let change = issue(&sub, "monthly_change").expect("the change");
    assert_eq!(
        (&change["cell"], &change["severity"]),
        (&json!("E4"), &json!("explain")),
        "{change}"
    );

    let mut explained = town_a(figures);
    let why = "甲公司吸收合并本区另一家企业，职工增加 6 万人";
    explained["explanations"] = json!([{"rule": "monthly_change", "cell": "E4", "text": why}]);
    let (status, body) = enter(&app, &town, "330102001/2026-10", &explained).await;
    assert_eq!(status, 202, "{body}");
    let sub = app.wait(body["id"].as_i64().unwrap()).await;
    assert_eq!(sub["status"], "accepted", "{sub}");
    let change = issue(&sub, "monthly_change").expect("the change");
    assert_eq!(change["explanation"]["text"], why, "{change}");
    let county = app.indicators("330102", "2026-10").await;
    assert_eq!(metric(&county, "employees"), Some(258_000.0));
    app.stop().await;
}

postgres_twins!(
    the_form_lists_the_reporters_units_the_metrics_and_last_months_figures,
    entered_figures_are_accepted_rolled_up_audited_and_kept_as_a_workbook,
    members_above_employees_is_rejected_naming_the_units_cell_and_a_dry_run_stores_nothing,
    entry_outside_the_subtree_is_not_found_and_a_viewer_cannot_submit,
    bad_json_and_figures_that_cannot_be_written_are_422_in_both_languages,
    a_locked_month_refuses_entered_figures_but_checks_them_and_a_nil_report_is_taken,
    a_big_monthly_change_entered_needs_its_explanation_and_is_accepted_with_it,
);

/// Types `text` into the element `css` names, found again when the page
/// re-rendered it between the look-up and the keys (the page gives the new
/// input the focus, so keys already sent are not lost).
async fn type_into(b: &Browser, css: &str, text: &str) {
    let mut tries = 0;
    loop {
        let e = b.wait(css, WAIT).await.expect("element");
        match b.send_keys(&e, text).await {
            Ok(_) => return,
            Err(err) if tries < 20 && format!("{err:#}").contains("stale element") => {
                tries += 1;
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            Err(err) => panic!("type into {css}: {err:#}"),
        }
    }
}

/// Empties an entry cell as a clerk deleting its text would.
async fn empty_cell(b: &Browser, cell: &str) {
    b.execute(&format!(
        "const i = document.querySelector('#entry-grid input[data-cell=\"{cell}\"]'); i.focus(); i.value = ''; i.dispatchEvent(new Event('input'));"
    ))
    .await
    .expect("empty the cell");
}

/// Waits until no element matches `css`.
async fn wait_gone(b: &Browser, css: &str) {
    let started = std::time::Instant::now();
    while !b.find_all(css).await.expect("find").is_empty() {
        assert!(started.elapsed() < WAIT, "{css} still there");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_a_clerk_enters_figures_sees_an_issue_at_its_cell_fixes_it_and_submits() {
    let Some(tools) = BrowserTools::find("entry::in_a_browser") else {
        return;
    };
    // Months do not close by time (reporting.lock_after_days = 0): the page's
    // month, whatever the clock, is open.
    let app = spawn_app().await;
    app.create_user("lisi", "李四", TOWN, Role::Submitter, "hubin-entry-2026")
        .await;
    let b = open_signed_in(&tools, &app, "lisi", "hubin-entry-2026", (1280, 900)).await;
    let period = page_period(&b).await;
    click(&b, "#entry-open").await;
    // The heading is on the page already, empty until the sheet has loaded.
    wait_text(
        &b,
        "#entry-head",
        &format!("湖滨街道总工会（330102001）{period} · 3 个基层工会"),
    )
    .await;
    assert_eq!(
        text_of(&b, "#entry-grid tbody tr:nth-child(2) th").await,
        "330102001002"
    );
    assert_eq!(
        text_of(&b, "#entry-grid tbody tr:nth-child(2) th:nth-child(2)").await,
        "乙公司工会"
    );
    type_into(&b, "#entry-preparer", "李四").await;
    // 乙 with more members than employees: typed, then marked at F5.
    for (i, (req, est, emp, mem)) in [(4, 3, 1000, 950), (2, 2, 510, 520), (1, 0, 59, 0)]
        .into_iter()
        .enumerate()
    {
        let row = 4 + i;
        for (col, v) in [("C", req), ("D", est), ("E", emp), ("F", mem)] {
            type_into(
                &b,
                &format!("#entry-grid input[data-cell=\"{col}{row}\"]"),
                &v.to_string(),
            )
            .await;
        }
    }
    b.wait("#entry-grid input[data-cell=\"F5\"].cell-error", WAIT)
        .await
        .expect("the issue at F5");
    let message = text_of(&b, "#entry-msg-F5").await;
    assert!(
        message.contains("会员人数（520）不能大于职工人数（510）"),
        "{message}"
    );
    assert!(text_of(&b, "#entry-check")
        .await
        .starts_with("检查未通过："));
    assert_eq!(
        b.find_all("#entry-grid input.cell-error")
            .await
            .unwrap()
            .len(),
        1,
        "one cell marked"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM submissions").await, 0);
    shot(&b, "#entry-card", "50-entry-issue-desktop.png").await;

    // Fixed: the mark goes, the check passes, the submission is accepted.
    empty_cell(&b, "F5").await;
    type_into(&b, "#entry-grid input[data-cell=\"F5\"]", "505").await;
    wait_gone(&b, "#entry-grid input.cell-error").await;
    let started = std::time::Instant::now();
    let check = loop {
        let check = text_of(&b, "#entry-check").await;
        if check.starts_with("检查通过")
            || check.starts_with("可以提交")
            || started.elapsed() > WAIT
        {
            break check;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert!(
        check.starts_with("检查通过") || check.starts_with("可以提交"),
        "{check}"
    );
    click(&b, "#entry-submit").await;
    let file = format!("网页填报-330102001-{period}.xlsx");
    let item = format!("#uploads li[data-file=\"{file}\"][data-status=\"accepted\"]");
    b.wait(&item, WAIT).await.expect("accepted");
    assert_eq!(text_of(&b, &format!("{item} .verdict")).await, "已接受");
    b.wait(&format!("{item} .annotated"), WAIT)
        .await
        .expect("the annotated link");
    shot(&b, &item, "51-entry-accepted-desktop.png").await;
    let county = app.indicators("330102", &period).await;
    assert_eq!(metric(&county, "members"), Some(1455.0));
    assert_eq!(metric(&county, "employees"), Some(1569.0));

    // At phone width: one unit at a time as a form, the accepted figures in it.
    b.set_window(390, 844).await.expect("phone width");
    click(&b, "#entry-open").await;
    b.wait("#entry-unit-pick:not([hidden]) select", WAIT)
        .await
        .expect("the unit picker");
    b.execute("const s = document.getElementById('entry-unit'); s.value = '1'; s.dispatchEvent(new Event('change'));")
        .await
        .unwrap();
    let members = "#entry-grid .entry-form input[data-cell=\"F5\"]";
    b.wait(members, WAIT).await.expect("乙's members");
    let value = b
        .execute(&format!(
            "return document.querySelector('{}').value",
            members.replace('\'', "\\'")
        ))
        .await
        .unwrap();
    assert_eq!(value, "505");
    let right = b
        .execute("return Math.max(...[...document.querySelectorAll('#entry-card input, #entry-card select')].map((e) => e.getBoundingClientRect().right))")
        .await
        .unwrap()
        .as_f64()
        .unwrap();
    assert!(right <= 390.0, "the form fits the phone: {right}");
    empty_cell(&b, "F5").await;
    type_into(&b, members, "600").await;
    b.wait(
        "#entry-grid .entry-form input[data-cell=\"F5\"].cell-error",
        WAIT,
    )
    .await
    .expect("the issue at F5 on the phone");
    assert!(text_of(&b, "#entry-msg-F5").await.contains("（600）"));
    shot(&b, "#entry-card", "52-entry-issue-phone.png").await;
    close_clean(b).await;
    app.stop().await;
}
