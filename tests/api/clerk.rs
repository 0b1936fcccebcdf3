//! The clerk's day: the list of submissions (`GET /api/v1/submissions`) with
//! where a month stands, a check-only upload in a locked month, and the upload
//! tab of the page that shows both.

use serde_json::Value;
use unionstat::core::Period;
use unionstat::store::keys::Role;

use crate::helpers::*;
use crate::web::{click, close_clean, open_signed_in, shot, text_of, upload, wait_text, WAIT};
use crate::webdriver::BrowserTools;

/// The ids of a list answer, in order.
fn ids(list: &Value) -> Vec<i64> {
    list["submissions"]
        .as_array()
        .unwrap_or_else(|| panic!("{list}"))
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .collect()
}

/// A submission's id.
fn id(sub: &Value) -> i64 {
    sub["id"].as_i64().unwrap()
}

/// Town B's two units, one figure wrong when `bad` (members above employees).
fn town_b_sheet(bad: bool) -> Vec<u8> {
    let members = if bad { 75.0 } else { 65.0 };
    workbook(
        None,
        BASIC,
        &[
            basic_row("330102002001", "丁公司工会", 3.0, 2.0, 500.0, 450.0),
            basic_row("330102002002", "戊公司工会", 1.0, 1.0, 70.0, members),
        ],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_submissions_list_is_newest_first_paginated_filtered_and_within_the_subtree() {
    // Months do not close by time here (reporting.lock_after_days = 0).
    let app = spawn_app().await;
    let a1 = app.submit(town_a_sheet(), "330102001", "2026-10").await;
    let b_bad = app.submit(town_b_sheet(true), "330102002", "2026-10").await;
    let b_good = app
        .submit(town_b_sheet(false), "330102002", "2026-10")
        .await;
    let c_row = basic_row("330103001001", "己公司工会", 5.0, 4.0, 1e3, 9e2);
    let other = workbook(None, BASIC, &[c_row]);
    let c1 = app.submit(other, "330103001", "2026-10").await;
    let a_sep = app.submit(town_a_sheet(), "330102001", "2026-09").await;
    assert_eq!(
        [
            &a1["status"],
            &b_bad["status"],
            &b_good["status"],
            &c1["status"],
            &a_sep["status"]
        ],
        ["accepted", "rejected", "accepted", "accepted", "accepted"]
    );
    // The town's own upload with neither reporter nor cover: rejected, and
    // kept under the uploader's scope alone.
    let town = app.key("330102001", Role::Submitter).await;
    let (status, body) = app
        .upload_as(Some(&town), town_a_sheet(), "period=2026-10")
        .await;
    assert_eq!(status, 202, "{body}");
    let nobody = app.wait(id(&body)).await;
    assert_eq!(nobody["status"], "rejected", "{nobody}");
    assert!(nobody["reporter"].is_null(), "{nobody}");

    // The town sees its own three, newest first, with what the page shows.
    let (status, list) = app.get(&town, "/api/v1/submissions").await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(ids(&list), [id(&nobody), id(&a_sep), id(&a1)]);
    assert!(list["next_before"].is_null());
    assert!(list["month"].is_null(), "no reporter and month asked");
    let first = &list["submissions"][2];
    assert_eq!(first["reporter"], "330102001");
    assert_eq!(first["period"], "2026-10");
    assert_eq!(first["status"], "accepted");
    assert_eq!(first["error_count"], 0);
    assert_eq!(first["nil_report"], false);
    assert!(first["review"].is_null());
    assert_eq!(first["locked"], false);
    assert_eq!(first["received_at"], a1["received_at"]);
    assert_eq!(first["uploaded_by"], "key \"test admin\" (#1)");
    let (_, nobody_listed) = app.get(&town, "/api/v1/submissions?period=2026-10").await;
    assert_eq!(ids(&nobody_listed), [id(&nobody), id(&a1)]);
    assert!(nobody_listed["submissions"][0]["reporter"].is_null());

    // The county sees its two towns' (and the town's scope-only upload), not
    // the other county's; filters narrow it.
    let county = app.key("330102", Role::Viewer).await;
    let (_, list) = app.get(&county, "/api/v1/submissions").await;
    assert_eq!(
        ids(&list),
        [id(&nobody), id(&a_sep), id(&b_good), id(&b_bad), id(&a1)]
    );
    let (_, list) = app
        .get(&county, "/api/v1/submissions?reporter=330102002")
        .await;
    assert_eq!(ids(&list), [id(&b_good), id(&b_bad)]);
    assert_eq!(list["submissions"][1]["status"], "rejected");
    assert_eq!(list["submissions"][1]["error_count"], 1);
    let (_, list) = app.get(&county, "/api/v1/submissions?period=2026-09").await;
    assert_eq!(ids(&list), [id(&a_sep)]);
    let (_, list) = app.get(&county, "/api/v1/submissions?period=2026-08").await;
    assert_eq!(ids(&list), Vec::<i64>::new());

    // Pages of two: the next page starts below the last id shown.
    let (_, page1) = app.get(&county, "/api/v1/submissions?limit=2").await;
    assert_eq!(ids(&page1), [id(&nobody), id(&a_sep)]);
    assert_eq!(page1["next_before"], id(&a_sep));
    let (_, page2) = app
        .get(
            &county,
            &format!("/api/v1/submissions?limit=2&before={}", id(&a_sep)),
        )
        .await;
    assert_eq!(ids(&page2), [id(&b_good), id(&b_bad)]);
    let (_, page3) = app
        .get(
            &county,
            &format!("/api/v1/submissions?limit=2&before={}", id(&b_bad)),
        )
        .await;
    assert_eq!(ids(&page3), [id(&a1)]);
    assert!(page3["next_before"].is_null());
    for bad in ["limit=0", "limit=201", "period=2026-13", "period=October"] {
        let (status, body) = app
            .get(&county, &format!("/api/v1/submissions?{bad}"))
            .await;
        assert_eq!(status, 422, "{bad}: {body}");
    }

    // An outsider sees its own only; naming a reporter outside its subtree is
    // answered as an unknown code.
    let outsider = app.key("330103", Role::Submitter).await;
    let (_, list) = app.get(&outsider, "/api/v1/submissions").await;
    assert_eq!(ids(&list), [id(&c1)]);
    let (status, unknown) = app
        .get(&outsider, "/api/v1/submissions?reporter=330102001")
        .await;
    let (_, nowhere) = app
        .get(&outsider, "/api/v1/submissions?reporter=999999")
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        unknown, nowhere,
        "the same answer as a code that does not exist"
    );
    let (_, all) = app.get(&app.admin_key, "/api/v1/submissions").await;
    assert_eq!(ids(&all).len(), 6);

    // Where 2026-10 stands for town A: due 2026-11-10, accepted (late: it
    // arrived in the test's present), open; after the county approves it in
    // review, the list and the standing say so.
    let county_submitter = app.key("330102", Role::Submitter).await;
    app.approve_in_review(&county_submitter, id(&a1)).await;
    let (_, list) = app
        .get(
            &town,
            "/api/v1/submissions?reporter=330102001&period=2026-10",
        )
        .await;
    assert_eq!(
        ids(&list),
        [id(&a1)],
        "the scope-only upload has no reporter"
    );
    assert_eq!(list["submissions"][0]["review"], "approved");
    let m = &list["month"];
    assert_eq!(m["reporter"], "330102001");
    assert_eq!(m["reporter_name"], "湖滨街道总工会");
    assert_eq!(m["period"], "2026-10");
    assert_eq!(m["deadline"], "2026-11-10");
    assert_eq!(m["status"], "late", "{m}");
    assert_eq!(m["accepted"], true);
    assert_eq!(m["nil_report"], false);
    assert_eq!(m["review"], "approved");
    assert_eq!(m["approved"], false, "the town has not approved a subtree");
    assert_eq!(m["locked"], false);
    assert!(m["locked_by"].is_null() && m["closes_on"].is_null(), "{m}");
    // Town B, whose only accepted upload followed a rejected one.
    let (_, list) = app
        .get(
            &county,
            "/api/v1/submissions?reporter=330102002&period=2026-10",
        )
        .await;
    assert_eq!(list["month"]["status"], "late");
    assert!(list["month"]["review"].is_null());
    // A federation that does not report has no standing.
    let (_, list) = app
        .get(
            &county,
            "/api/v1/submissions?reporter=330102&period=2026-10",
        )
        .await;
    assert!(list["month"].is_null(), "{list}");
    app.stop().await;
}

/// The month before the one being reported now: with
/// `reporting.lock_after_days = 1` it closed the day after its deadline (the
/// 11th of last month), so it is locked whenever the test runs; the month
/// being reported stays open until the day after its own deadline.
fn locked_and_open(app: &TestApp) -> (Period, Period) {
    let open = app
        .ctx
        .settings
        .reporting
        .reporting_period(chrono::Utc::now());
    (open.previous(), open)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_only_upload_in_a_locked_month_changes_nothing_and_says_the_month_is_locked() {
    // Locks by the clock: reporting.lock_after_days = 1 (see locked_and_open).
    let app = spawn_app_with(|s| s.reporting.lock_after_days = 1).await;
    let (locked, open) = locked_and_open(&app);
    let town = app.key("330102001", Role::Submitter).await;
    let q = format!("reporter=330102001&period={locked}");

    // A real upload is refused, as before.
    let (status, body) = app.upload_as(Some(&town), town_a_sheet(), &q).await;
    assert_eq!(status, 403, "{body}");

    let counts = [
        "SELECT COUNT(*) FROM submissions",
        "SELECT COUNT(*) FROM submission_files",
        "SELECT COUNT(*) FROM unit_figures",
        "SELECT COUNT(*) FROM rollup_figures",
        "SELECT COUNT(*) FROM audit",
    ];
    let mut before = Vec::new();
    for sql in counts {
        before.push(app.count(sql).await);
    }
    let county_before = app.indicators("330102", &locked.to_string()).await;

    // A check-only upload is answered: the findings of an open month, and a note.
    let (status, good) = app
        .upload_as(Some(&town), town_a_sheet(), &format!("{q}&dry_run=true"))
        .await;
    assert_eq!(status, 200, "{good}");
    assert_eq!(good["dry_run"], true);
    assert_eq!(good["status"], "accepted", "{good}");
    assert_eq!(good["error_count"], 0, "{good}");
    assert!(issue(&good, "period_locked").is_none(), "{good}");
    assert_eq!(good["locked"], true);
    let closes = locked.closes_on(10, 1).unwrap();
    assert_eq!(
        good["note"]["zh"],
        format!("{locked} 已锁定（报送期已于 {closes} 结束）。本次仅检查，什么也没有保存；正式上报会被拒绝，如需更改请联系管理员并说明理由。")
    );
    assert_eq!(
        good["note"]["en"],
        format!("{locked} is locked (it closed after {closes}). This was a check only and nothing was stored; a real upload would be refused: to change the month, ask an admin, with a reason.")
    );
    // A bad sheet gets its issues as usual.
    let bad_sheet = workbook(
        None,
        BASIC,
        &[
            basic_row("330102001001", "甲公司工会", 20.0, 19.0, 100.0, 120.0),
            basic_row("330102001002", "乙公司工会", 15.0, 14.0, 60.0, 50.0),
        ],
    );
    let (status, bad) = app
        .upload_as(Some(&town), bad_sheet, &format!("{q}&dry_run=true"))
        .await;
    assert_eq!(status, 200, "{bad}");
    assert_eq!(bad["status"], "rejected");
    assert_eq!(bad["locked"], true);
    let i = issue(&bad, "members_le_employees").expect("members_le_employees");
    assert_eq!(i["cell"], "F3");
    assert_eq!(i["value"], "120");
    assert!(issue(&bad, "period_locked").is_none(), "{bad}");

    // Nothing was stored or moved.
    for (sql, was) in counts.iter().zip(&before) {
        assert_eq!(app.count(sql).await, *was, "{sql}");
    }
    assert_eq!(
        app.indicators("330102", &locked.to_string()).await,
        county_before
    );
    assert_eq!(
        app.indicators("330102001", &locked.to_string()).await["coverage"]["reported_units"],
        0
    );
    let (_, list) = app.get(&town, "/api/v1/submissions").await;
    assert_eq!(ids(&list), Vec::<i64>::new());
    let (_, list) = app
        .get(
            &town,
            &format!("/api/v1/submissions?reporter=330102001&period={locked}"),
        )
        .await;
    assert_eq!(list["month"]["locked"], true);
    assert_eq!(list["month"]["locked_by"], "time");
    assert_eq!(list["month"]["closes_on"], closes.to_string());
    assert_eq!(list["month"]["status"], "missing");

    // In the month being reported (open) a check-only upload has no note.
    let (status, open_check) = app
        .upload_as(
            Some(&town),
            town_a_sheet(),
            &format!("reporter=330102001&period={open}&dry_run=true"),
        )
        .await;
    assert_eq!(status, 200, "{open_check}");
    assert_eq!(open_check["locked"], false);
    assert!(open_check.get("note").is_none(), "{open_check}");
    // A viewer still may not upload, check-only or not.
    let viewer = app.key("330102001", Role::Viewer).await;
    let (status, _) = app
        .upload_as(Some(&viewer), town_a_sheet(), &format!("{q}&dry_run=true"))
        .await;
    assert_eq!(status, 403);

    // An admin's change of the locked month (with a reason) is listed, marked
    // locked; the month's standing says accepted and locked.
    let (status, body) = app
        .upload_as(
            Some(&app.admin_key),
            town_a_sheet(),
            &format!("{q}&reason=figures%20found%20late"),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let fixed = app.wait(id(&body)).await;
    assert_eq!(fixed["status"], "accepted", "{fixed}");
    let (_, list) = app
        .get(
            &town,
            &format!("/api/v1/submissions?reporter=330102001&period={locked}"),
        )
        .await;
    assert_eq!(ids(&list), [id(&fixed)]);
    assert_eq!(list["submissions"][0]["locked"], true);
    assert_eq!(list["month"]["status"], "late");
    assert_eq!(list["month"]["accepted"], true);
    assert_eq!(list["month"]["locked"], true);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_the_clerk_sees_the_months_standing_and_uploads_and_checks_a_locked_month() {
    let Some(tools) = BrowserTools::find("clerk::in_a_browser") else {
        return;
    };
    // Locks by the clock: reporting.lock_after_days = 1 (see locked_and_open).
    let app = spawn_app_with(|s| s.reporting.lock_after_days = 1).await;
    let (locked, open) = locked_and_open(&app);
    let done = app
        .submit(town_a_sheet(), "330102001", &open.to_string())
        .await;
    assert_eq!(done["status"], "accepted");
    let (_, comp) = app
        .get(
            &app.admin_key,
            &format!("/api/v1/orgs/330102001/completeness?period={open}"),
        )
        .await;
    let standing = match comp["reporters"][0]["status"].as_str() {
        Some("on_time") => "已按时报送",
        Some("late") => "已报送（逾期）",
        other => panic!("{other:?}: {comp}"),
    };
    let deadline = comp["deadline"].as_str().unwrap().to_string();
    app.create_user(
        "zhangsan",
        "张三",
        "330102001",
        Role::Submitter,
        "hubin-clerk-2026",
    )
    .await;
    let files = tempfile::tempdir().unwrap();
    let good = files.path().join("good.xlsx");
    std::fs::write(&good, town_a_sheet()).unwrap();
    let b = open_signed_in(&tools, &app, "zhangsan", "hubin-clerk-2026", (1280, 900)).await;
    // The page opens on the month being reported (by the browser's clock).
    let period: String = b
        .execute("return document.getElementById('period').value")
        .await
        .unwrap()
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        period,
        open.to_string(),
        "the browser's and the service's month"
    );

    // The month's standing and its upload, listed by the server.
    b.wait(r#"#month-standing[data-locked="false"]"#, WAIT)
        .await
        .expect("standing");
    assert_eq!(
        text_of(&b, "#month-standing .month-of").await,
        format!("湖滨街道总工会（330102001）{open}：截止日期 {deadline}")
    );
    assert_eq!(text_of(&b, "#month-standing .month-status").await, standing);
    let closes = open.closes_on(10, 1).unwrap();
    assert_eq!(
        text_of(&b, "#month-standing .month-lock").await,
        format!("本月开放上报至 {closes}")
    );
    let row = format!(r#"#history tr[data-id="{}"]"#, id(&done));
    assert_eq!(text_of(&b, &format!("{row} .status")).await, "已接受");
    assert_eq!(text_of(&b, &format!("{row} .reporter")).await, "330102001");
    assert_eq!(
        text_of(&b, &format!("{row} .counts")).await,
        "0 错 · 0 提醒"
    );
    // Its report opens as a card, from the server (not the browser's memory).
    click(&b, &format!("{row} button.show")).await;
    let card = text_of(
        &b,
        &format!(
            r#"#uploads li[data-id="{}"][data-status="accepted"]"#,
            id(&done)
        ),
    )
    .await;
    assert!(card.contains("0 个错误"), "{card}");
    shot(&b, "#month-card", "30-clerk-month-and-uploads.png").await;

    // The month before is locked: the standing says so, a check-only upload
    // is answered with the note, a real one is refused.
    click(&b, "#period-prev").await;
    b.wait(
        r#"#month-standing[data-locked="true"][data-status="missing"]"#,
        WAIT,
    )
    .await
    .expect("locked standing");
    let lock_closes = locked.closes_on(10, 1).unwrap();
    assert_eq!(
        text_of(&b, "#month-standing .month-lock").await,
        format!("已锁定 本月已锁定：只能“仅检查”，正式上报须管理员说明理由（报送期已于 {lock_closes} 结束）")
    );
    wait_text(&b, "#history-empty", "所选报告期还没有上报记录。").await;
    click(&b, "#dry-run").await;
    upload(&b, "330102001", &good).await;
    let note = text_of(
        &b,
        r#"#uploads li[data-file="good.xlsx"]:not([data-id])[data-status="accepted"] .locked-note"#,
    )
    .await;
    assert!(
        note.starts_with(&format!("{locked} 已锁定（报送期已于 {lock_closes} 结束）")),
        "{note}"
    );
    let before = app.count("SELECT COUNT(*) FROM submissions").await;
    click(&b, "#dry-run").await;
    upload(&b, "330102001", &good).await;
    let refused = text_of(
        &b,
        r#"#uploads li[data-file="good.xlsx"][data-status="error"]"#,
    )
    .await;
    assert!(
        refused.contains("本月已锁定，正式上报被拒绝：可勾选“仅检查”检查文件"),
        "{refused}"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM submissions").await, before);
    shot(&b, "#month-card", "31-clerk-locked-month-standing.png").await;
    shot(&b, "#uploads li", "31-clerk-locked-month-check-only.png").await;

    // At phone width nothing is wider than the window.
    b.set_window(390, 844).await.expect("resize");
    click(&b, "#period-next").await;
    b.wait(r#"#month-standing[data-locked="false"]"#, WAIT)
        .await
        .expect("open again");
    b.wait(&row, WAIT).await.expect("the upload listed again");
    let fits = "return document.documentElement.scrollWidth <= window.innerWidth";
    let wide = b
        .execute("return [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 8).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))")
        .await
        .expect("layout");
    assert_eq!(
        b.execute(fits).await.expect("layout"),
        true,
        "wider than the window: {wide}"
    );
    shot(&b, "#month-card", "32-clerk-phone.png").await;
    close_clean(b).await;
    app.stop().await;
}

postgres_twins!(
    the_submissions_list_is_newest_first_paginated_filtered_and_within_the_subtree,
    a_check_only_upload_in_a_locked_month_changes_nothing_and_says_the_month_is_locked,
    in_a_browser_the_clerk_sees_the_months_standing_and_uploads_and_checks_a_locked_month,
);
