//! Reminders (催报) through a real SMTP server started here (`smtp.rs`): the
//! scheduled job mails each expected reporter without an accepted report once
//! per month and notice, however often it runs and however many run it at
//! once; a reporter that reported gets nothing; one without an email is listed
//! as unreachable; a refused delivery is logged and sent by a later run.
//!
//! The month is the one being reported by the clock (last month), with
//! `reporting.deadline_day = 28` and `reminders.days_before_deadline = 40`, so
//! the schedule always has a notice due: `due_soon` up to the 28th, `overdue`
//! after it. Tests keep `reporting.lock_after_days = 0`, so it stays open.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use unionstat::core::Period;
use unionstat::flows::reminders::{self, Kind};
use unionstat::mail::Mailer;
use unionstat::store::keys::Role;
use unionstat::store::orgs::TreeAt;

use crate::helpers::*;
use crate::smtp::SmtpServer;
use crate::web::{
    click, close_clean, open_signed_in, shot, text_of, upload, wait_status, wait_text, WAIT,
};
use crate::webdriver::BrowserTools;

const HUBIN: &str = "hubin@unionstat.test";
const QINGBO: &str = "qingbo@unionstat.test";

/// The month being reported now, its deadline and the notice due today.
fn open_month(app: &TestApp) -> (Period, String, Kind) {
    let reporting = &app.ctx.settings.reporting;
    let now = chrono::Utc::now();
    let period = reporting.reporting_period(now);
    let deadline = period.deadline(reporting.deadline_day);
    (
        period,
        deadline.to_string(),
        Kind::on(reporting.today(now), deadline),
    )
}

fn expected_subject(kind: Kind, name: &str, period: Period, deadline: &str) -> String {
    let month = format!("{}年{}月", period.year(), period.month());
    match kind {
        Kind::DueSoon => format!("【催报】{name}：{month}统计月报请于 {deadline} 前报送 / Reminder: the {period} report of {name} is due by {deadline}"),
        Kind::Overdue => format!("【催报】{name}：{month}统计月报已逾期（应于 {deadline} 前报送）/ Overdue: the {period} report of {name} was due by {deadline}"),
    }
}

/// Town 330102002's report with one unit: accepted.
fn town_b_one_unit() -> Vec<u8> {
    let row = basic_row("330102002001", "丁公司工会", 2.0, 1.0, 50.0, 40.0);
    workbook(None, BASIC, &[row])
}

async fn spawn_with_mail(smtp: &SmtpServer, schedule: Option<String>) -> TestApp {
    let port = smtp.port;
    spawn_app_with(move |s| {
        s.mail.smtp_host = "127.0.0.1".into();
        s.mail.smtp_port = port;
        s.mail.tls = "none".into();
        s.mail.from = "统计催报 <cuibao@unionstat.test>".into();
        s.mail.timeout_seconds = 10;
        s.reporting.deadline_day = 28;
        s.reminders.days_before_deadline = 40;
        s.reminders.days_after_deadline = 0;
        if let Some(schedule) = schedule {
            s.reminders.enabled = true;
            s.reminders.schedule = schedule;
        }
    })
    .await
}

async fn set_email(app: &TestApp, code: &str, email: &str) {
    let resp = app
        .client
        .put(format!("{}/api/v1/orgs/{code}/contact", app.addr))
        .bearer_auth(&app.admin_key)
        .json(&json!({ "email": email }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
}

async fn post(app: &TestApp, key: &str, path: &str) -> (u16, Value) {
    let resp = app
        .client
        .post(format!("{}{path}", app.addr))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn codes(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|d| {
            d["org"]
                .as_str()
                .unwrap_or_else(|| d.as_str().unwrap())
                .to_string()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduled_job_reminds_the_unreported_exactly_once() {
    let smtp = SmtpServer::start().await;
    // Three ticks a minute, the first well after the set-up below.
    let s = chrono::Utc::now().timestamp() + 20;
    let ticks = [s, s + 2, s + 4];
    let schedule = format!(
        "{},{},{} * * * * *",
        ticks[0] % 60,
        ticks[1] % 60,
        ticks[2] % 60
    );
    let app = spawn_with_mail(&smtp, Some(schedule)).await;
    let (period, deadline, kind) = open_month(&app);
    set_email(&app, "330102001", HUBIN).await;
    set_email(&app, "330102002", QINGBO).await;
    // Town 330102002 reports the month: it gets nothing. 330103001 has no email.
    let sheet = town_b_one_unit();
    let sub = app.submit(sheet, "330102002", &period.to_string()).await;
    assert_eq!(sub["status"], "accepted", "{sub}");
    assert!(
        chrono::Utc::now().timestamp() < ticks[0],
        "the set-up outlasted the first tick"
    );

    // Wait for the first tick's mail, then past the last tick.
    let until = Instant::now() + Duration::from_secs(45);
    while smtp.received().is_empty() && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    while chrono::Utc::now().timestamp() <= ticks[2] + 1 {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mails = smtp.received();
    assert_eq!(mails.len(), 1, "three ticks, one mail: {mails:#?}");
    let m = &mails[0];
    assert_eq!(m.to, [HUBIN]);
    assert_eq!(m.from, "cuibao@unionstat.test");
    assert_eq!(
        m.subject,
        expected_subject(kind, "湖滨街道总工会", period, &deadline)
    );
    assert!(
        m.body.starts_with("湖滨街道总工会（330102001）："),
        "{}",
        m.body
    );
    assert!(
        m.body.contains(&format!("（{period}）的工会统计月报")),
        "{}",
        m.body
    );
    assert!(
        m.body
            .contains(&format!("the trade-union statistics report for {period}")),
        "{}",
        m.body
    );
    assert!(
        m.body
            .contains(&format!("{deadline}（Asia/Shanghai 当日 24 时）")),
        "{}",
        m.body
    );
    assert!(
        m.body
            .contains(&format!("{deadline} (end of day, Asia/Shanghai)")),
        "{}",
        m.body
    );

    // The sent log: one sent, one unreachable, nothing for the town that reported.
    let (status, log) = app
        .get(
            &app.admin_key,
            &format!("/api/v1/orgs/330000/reminders?period={period}"),
        )
        .await;
    assert_eq!(status, 200, "{log}");
    let rows = log["reminders"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{log}");
    assert_eq!(rows[0]["org"], "330102001");
    assert_eq!(rows[0]["status"], "sent");
    assert_eq!(rows[0]["kind"], kind.as_str());
    assert_eq!(rows[0]["address"], HUBIN);
    assert_eq!(rows[0]["attempts"], 1);
    assert_eq!(rows[1]["org"], "330103001");
    assert_eq!(rows[1]["status"], "unreachable");
    assert_eq!(rows[1]["address"], "");

    // A chase by hand of the same notice sends nothing again.
    let county = app.key("330102", Role::Submitter).await;
    let (status, run) = post(
        &app,
        &county,
        &format!(
            "/api/v1/orgs/330102/reminders?period={period}&kind={}",
            kind.as_str()
        ),
    )
    .await;
    assert_eq!(status, 200, "{run}");
    assert_eq!(codes(&run["sent"]), Vec::<String>::new());
    assert_eq!(codes(&run["already_sent"]), ["330102001"]);
    assert_eq!(smtp.received().len(), 1);

    // The other notice, by two runs at once (two workers): one mail.
    let other = match kind {
        Kind::DueSoon => Kind::Overdue,
        Kind::Overdue => Kind::DueSoon,
    };
    let root = app
        .ctx
        .store
        .org_at("330102", TreeAt::Month(period))
        .await
        .unwrap()
        .unwrap();
    let mailer = Mailer::new(&app.ctx.settings.mail);
    let (a, b) = tokio::join!(
        reminders::run_for(&app.ctx, &mailer, &root, period, other),
        reminders::run_for(&app.ctx, &mailer, &root, period, other),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.sent.len() + b.sent.len(), 1, "{a:?} {b:?}");
    assert_eq!(a.already_sent.len() + b.already_sent.len(), 1);
    let mails = smtp.received();
    assert_eq!(mails.len(), 2);
    assert_eq!(mails[1].to, [HUBIN]);
    assert_eq!(
        mails[1].subject,
        expected_subject(other, "湖滨街道总工会", period, &deadline)
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_delivery_is_logged_and_sent_by_a_later_run() {
    let smtp = SmtpServer::start().await;
    let app = spawn_with_mail(&smtp, None).await;
    let (period, deadline, _) = open_month(&app);
    set_email(&app, "330102001", HUBIN).await;
    let county = app.key("330102", Role::Submitter).await;
    let path = format!("/api/v1/orgs/330102/reminders?period={period}&kind=overdue");

    smtp.refuse(HUBIN, true);
    let (status, run) = post(&app, &county, &path).await;
    assert_eq!(status, 200, "{run}");
    assert_eq!(run["kind"], "overdue");
    assert_eq!(run["deadline"], deadline.as_str());
    assert_eq!(codes(&run["failed"]), ["330102001"]);
    assert!(
        run["failed"][0]["error"].as_str().unwrap().contains("550"),
        "{run}"
    );
    // 330102002 has no email: not reachable.
    assert_eq!(codes(&run["unreachable"]), ["330102002"]);
    assert_eq!(codes(&run["sent"]), Vec::<String>::new());
    assert!(smtp.received().is_empty());
    let (_, log) = app
        .get(
            &county,
            &format!("/api/v1/orgs/330102/reminders?period={period}"),
        )
        .await;
    assert_eq!(log["reminders"][0]["status"], "failed", "{log}");
    assert!(log["reminders"][0]["error"]
        .as_str()
        .unwrap()
        .contains("550"));

    // The server takes it again: the next run sends it, once.
    smtp.refuse(HUBIN, false);
    let (_, run) = post(&app, &county, &path).await;
    assert_eq!(codes(&run["sent"]), ["330102001"], "{run}");
    let (_, run) = post(&app, &county, &path).await;
    assert_eq!(codes(&run["sent"]), Vec::<String>::new(), "{run}");
    assert_eq!(codes(&run["already_sent"]), ["330102001"]);
    let mails = smtp.received();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, [HUBIN]);
    assert_eq!(
        mails[0].subject,
        expected_subject(Kind::Overdue, "湖滨街道总工会", period, &deadline)
    );
    let (_, log) = app
        .get(
            &county,
            &format!("/api/v1/orgs/330102/reminders?period={period}"),
        )
        .await;
    assert_eq!(log["reminders"][0]["status"], "sent");
    assert_eq!(log["reminders"][0]["attempts"], 2);

    // Outside the subtree: 404 as for a code that does not exist; a viewer: 403.
    let elsewhere = app.key("330103", Role::Submitter).await;
    let (status, _) = post(&app, &elsewhere, &path).await;
    assert_eq!(status, 404);
    let (status, _) = app
        .get(
            &elsewhere,
            &format!("/api/v1/orgs/330102/reminders?period={period}"),
        )
        .await;
    assert_eq!(status, 404);
    let (status, own) = app
        .get(
            &elsewhere,
            &format!("/api/v1/orgs/330103/reminders?period={period}"),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(own["reminders"], json!([]));
    let viewer = app.key("330102", Role::Viewer).await;
    let (status, _) = post(&app, &viewer, &path).await;
    assert_eq!(status, 403);
    assert_eq!(smtp.received().len(), 1);

    // The metrics count each notice's end: one failed, then sent; 330102002
    // (no email) was logged unreachable by each of the three runs; the other
    // notice and channel stay at 0.
    let text = app.ctx.metrics.render();
    for line in [
        r#"unionstat_reminders_failed_total{channel="email",notice="overdue"} 1"#,
        r#"unionstat_reminders_sent_total{channel="email",notice="overdue"} 1"#,
        r#"unionstat_reminders_unreachable_total{notice="overdue"} 3"#,
        r#"unionstat_reminders_sent_total{channel="email",notice="due_soon"} 0"#,
        r#"unionstat_reminders_failed_total{channel="email",notice="due_soon"} 0"#,
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
    }
    app.stop().await;
}

/// GET with a key; (status, bytes).
async fn download(app: &TestApp, key: &str, path: &str) -> (u16, Vec<u8>) {
    let (status, _, _, bytes) = crate::templates::download(app, key, path).await;
    (status, bytes)
}

/// The rows of the 催报 list's only sheet, as text.
fn chase_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    use calamine::Reader;
    let mut wb: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let range = wb.worksheet_range("催报名单 To chase").unwrap();
    range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chase_list_names_who_to_chase_with_contact_and_reminders_within_the_subtree() {
    let smtp = SmtpServer::start().await;
    let app = spawn_with_mail(&smtp, None).await;
    let (period, deadline, _) = open_month(&app);
    set_email(&app, "330102001", HUBIN).await;
    let resp = app
        .client
        .put(format!("{}/api/v1/orgs/330102001/contact", app.addr))
        .bearer_auth(&app.admin_key)
        .json(&json!({"name": "张三", "phone": "0571-87654321"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    // 330102002 reports; 330102001 is chased (overdue) and stays missing.
    let sheet = town_b_one_unit();
    assert_eq!(
        app.submit(sheet, "330102002", &period.to_string()).await["status"],
        "accepted"
    );
    let county = app.key("330102", Role::Viewer).await;
    let (status, run) = post(
        &app,
        &app.admin_key,
        &format!("/api/v1/orgs/330102/reminders?period={period}&kind=overdue"),
    )
    .await;
    assert_eq!(status, 200, "{run}");
    assert_eq!(codes(&run["sent"]), ["330102001"]);

    let path = format!("/api/v1/orgs/330102/reminders.xlsx?period={period}");
    let (status, bytes) = download(&app, &county, &path).await;
    assert_eq!(status, 200);
    let rows = chase_rows(&bytes);
    assert_eq!(
        rows[0][0],
        format!("330102 上城区总工会 — {period} 催报名单 Reporters to chase")
    );
    assert_eq!(
        rows[1][0],
        format!("截止 due {deadline}；应报 expected 2，未报送 missing 1，未通过校验 rejected 0，审核退回 returned 0；列出 listed 1")
    );
    assert_eq!(rows[2][0], "报送单位代码 Code");
    assert_eq!(rows.len(), 4, "{rows:?}");
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    assert_eq!(
        rows[3],
        [
            "330102001",
            "湖滨街道总工会",
            "330102 上城区总工会",
            "未报送 missing",
            "张三",
            "0571-87654321",
            HUBIN,
            &format!("逾期催报 overdue：已发送 sent {today}"),
        ]
    );

    // The province's list holds both counties' unreported towns; the other
    // county sees only its own; outside the subtree it is 404 as an unknown code.
    let (_, bytes) = download(
        &app,
        &app.admin_key,
        &format!("/api/v1/orgs/330000/reminders.xlsx?period={period}"),
    )
    .await;
    let codes_listed: Vec<String> = chase_rows(&bytes)[3..]
        .iter()
        .map(|r| r[0].clone())
        .collect();
    assert_eq!(codes_listed, ["330102001", "330103001"]);
    let other = app.key("330103", Role::Viewer).await;
    let (status, _) = download(&app, &other, &path).await;
    assert_eq!(status, 404);
    let (status, bytes) = download(
        &app,
        &other,
        &format!("/api/v1/orgs/330103/reminders.xlsx?period={period}"),
    )
    .await;
    assert_eq!(status, 200);
    let rows = chase_rows(&bytes);
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[3][0], "330103001");
    assert_eq!(rows[3][2], "330103 下城区总工会");
    assert_eq!(rows[3][6], "", "no email known");
    assert_eq!(rows[3][7], "", "no reminder sent");
    let (status, _) = download(
        &app,
        &other,
        "/api/v1/orgs/330103/reminders.xlsx?period=2026-13",
    )
    .await;
    assert_eq!(status, 422);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_staff_read_the_reminders_sent_see_nil_reports_marked_and_download_the_chase_list(
) {
    let Some(tools) = BrowserTools::find("reminders::in_a_browser") else {
        return;
    };
    let smtp = SmtpServer::start().await;
    let app = spawn_with_mail(&smtp, None).await;
    let (period, _, _) = open_month(&app);
    set_email(&app, "330102001", HUBIN).await;
    let (status, run) = post(
        &app,
        &app.admin_key,
        &format!("/api/v1/orgs/330102/reminders?period={period}&kind=due_soon"),
    )
    .await;
    assert_eq!(status, 200, "{run}");
    assert_eq!(codes(&run["sent"]), ["330102001"]);
    assert_eq!(codes(&run["unreachable"]), ["330102002"]);
    let (_, blank) = download(
        &app,
        &app.admin_key,
        &format!("/api/v1/templates/330102002/{period}.xlsx"),
    )
    .await;
    let files = tempfile::tempdir().unwrap();
    let nil_file = files.path().join("nil.xlsx");
    std::fs::write(&nil_file, blank).unwrap();
    let (login, password) = ("sunli", "county-chaser-2026");
    app.create_user(login, "孙丽", "330102", Role::Submitter, password)
        .await;
    let b = open_signed_in(&tools, &app, login, password, (1280, 900)).await;

    // The county uploads the town's blank template as a nil report: the card says so.
    click(&b, "#nil-report").await;
    upload(&b, "330102002", &nil_file).await;
    let card = text_of(
        &b,
        r#"#uploads li[data-file="nil.xlsx"][data-status="accepted"]"#,
    )
    .await;
    assert!(card.contains("已接受"), "{card}");
    assert_eq!(
        text_of(
            &b,
            r#"#uploads li[data-file="nil.xlsx"] .upload-head .nil-report"#
        )
        .await,
        "零报告"
    );
    click(&b, "#nil-report").await;
    shot(&b, "#uploads", "20-nil-report-upload.png").await;

    // Roll-ups of the county: the nil report is marked among the children and
    // counted in the summary; the sent log lists both notices.
    click(&b, "#tab-rollups").await;
    b.wait(r#"#node-cards[data-org="330102"]"#, WAIT)
        .await
        .expect("county shown");
    let town_b = text_of(&b, r#"#children tr[data-code="330102002"] td.reporting"#).await;
    assert!(town_b.contains("零报告"), "{town_b}");
    let town_a = text_of(&b, r#"#children tr[data-code="330102001"] td.reporting"#).await;
    assert_eq!(town_a, "未报送");
    let summary = text_of(&b, "#completeness-summary").await;
    assert!(summary.ends_with("其中零报告 1 个。"), "{summary}");
    let sent = r#"#reminders tr[data-code="330102001"]"#;
    assert_eq!(text_of(&b, &format!("{sent} .kind")).await, "到期提醒");
    assert_eq!(text_of(&b, &format!("{sent} .delivery")).await, "已发送");
    assert_eq!(text_of(&b, &format!("{sent} .address")).await, HUBIN);
    assert_eq!(
        text_of(&b, r#"#reminders tr[data-code="330102002"] .delivery"#).await,
        "无邮箱"
    );
    assert!(text_of(&b, &format!("{sent} th"))
        .await
        .contains("湖滨街道总工会"));
    click(&b, "#chase-list").await;
    wait_status(&b, &format!("330102_{period}_reminders.xlsx")).await;
    shot(&b, "#reminders-card", "21-reminders-sent-log.png").await;
    click(&b, "#lang").await;
    wait_text(&b, &format!("{sent} .kind"), "due soon").await;
    close_clean(b).await;
    app.stop().await;
}

postgres_twins!(
    the_chase_list_names_who_to_chase_with_contact_and_reminders_within_the_subtree,
    in_a_browser_staff_read_the_reminders_sent_see_nil_reports_marked_and_download_the_chase_list,
    the_scheduled_job_reminds_the_unreported_exactly_once,
    a_refused_delivery_is_logged_and_sent_by_a_later_run,
);
