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
    let sheet = workbook(
        None,
        BASIC,
        &[basic_row(
            "330102002001",
            "丁公司工会",
            2.0,
            1.0,
            50.0,
            40.0,
        )],
    );
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
    app.stop().await;
}

postgres_twins!(
    the_scheduled_job_reminds_the_unreported_exactly_once,
    a_refused_delivery_is_logged_and_sent_by_a_later_run,
);
