//! A full cycle of the forms beyond the monthly sheet (issue 18): uploads,
//! a rejection naming its cell, completeness of the form's period (its own
//! expected reporters, submissions and deadline), review, approval of the
//! form's period and the lock it puts on that form alone.
//!
//! Dates: the annual survey's 2026SY is due 2026-11-15 and closes by the
//! form's own rule 30 days later (2026-12-15), so the uploads that must be
//! stored give an admin's reason (as tests/api/forms.rs does) and every lock
//! asserted here is the approval's, named in the answer whatever the clock
//! says. The monthly sheet never closes by time here (`reporting.
//! lock_after_days = 0`, the helpers' default), nor does `service_half`
//! (it takes that setting). On time or late: a report received now (after
//! both forms' deadlines) is late; one is moved before its deadline with
//! `set_received_at` to be on time.

use serde_json::{json, Value};
use unionstat::store::keys::Role;

use crate::forms::{annual_of, september, service, store_service, store_survey};
use crate::helpers::*;
use crate::review::{cli, send};

const COUNTY: &str = "330102";
const TOWN_A: &str = "330102001";
const TOWN_B: &str = "330102002";

async fn completeness(app: &TestApp, org: &str, query: &str) -> Value {
    let (status, body) = app
        .get(
            &app.admin_key,
            &format!("/api/v1/orgs/{org}/completeness?{query}"),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

/// (expected, reported, on time, late, rejected, missing) of an answer or
/// one of its levels.
fn counts(v: &Value) -> [i64; 6] {
    [
        "expected_reporters",
        "reported",
        "on_time",
        "late",
        "rejected",
        "missing",
    ]
    .map(|k| v[k].as_i64().unwrap_or(-1))
}

/// The reporters of a completeness answer with `status`, by code.
fn with_status(v: &Value, status: &str) -> Vec<String> {
    let mut out: Vec<String> = v["reporters"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == status)
        .map(|r| r["code"].as_str().unwrap().to_string())
        .collect();
    out.sort();
    out
}

fn entry<'a>(queue: &'a Value, code: &str) -> &'a Value {
    queue["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["org"] == code)
        .unwrap_or_else(|| panic!("no {code} in {queue}"))
}

async fn approve(app: &TestApp, key: &str, org: &str, query: &str) -> (u16, Value) {
    send(
        app,
        "post",
        key,
        &format!("/api/v1/orgs/{org}/approval?{query}"),
        None,
    )
    .await
}

const SURVEY: &str = "form=annual_survey&period=2026SY";
const SERVICE: &str = "form=service_half&period=2026H1";

fn survey_a() -> Vec<u8> {
    annual_of(
        (TOWN_A, "湖滨街道总工会"),
        &[
            ("330102001001", "甲公司工会", 430, 200, 520, "单独"),
            ("330102001002", "乙公司工会", 260, 100, 300, "单独"),
            ("330102001003", "丙公司工会", 160, 60, 200, "联合"),
        ],
    )
}

/// Town B's survey; `kind` is 戊's 904 组织类型 (独立 is wrong).
fn survey_b(kind: &str) -> Vec<u8> {
    annual_of(
        (TOWN_B, "清波街道总工会"),
        &[
            ("330102002001", "丁公司工会", 90, 40, 100, "单独"),
            ("330102002002", "戊公司工会", 70, 30, 80, kind),
        ],
    )
}

#[tokio::test]
async fn an_annual_survey_goes_through_completeness_review_and_approval_which_locks_only_the_survey(
) {
    let app = spawn_app().await;
    let county = app.key(COUNTY, Role::Submitter).await;
    let town_a = app.key(TOWN_A, Role::Submitter).await;
    let town_b = app.key(TOWN_B, Role::Submitter).await;

    // Town A's survey is stored; town B's names 独立 as 戊's 904 and is
    // rejected with its cell.
    let a = store_survey(&app, survey_a()).await;
    let a_id = a["id"].as_i64().unwrap();
    app.set_received_at(a_id, "2026-11-10T02:00:00.000Z").await;
    let (status, body) = app
        .upload_as(
            Some(&app.admin_key),
            survey_b("独立"),
            "form=annual_survey&reason=survey",
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let rejected = app.wait(body["id"].as_i64().unwrap()).await;
    assert_eq!(rejected["status"], "rejected", "{rejected}");
    let item = issue(&rejected, "item_invalid").expect("item_invalid");
    assert_eq!(
        (item["sheet"].as_str(), item["cell"].as_str()),
        (Some("基层工会调查表"), Some("D5"))
    );
    assert_eq!(
        item["message"]["zh"],
        "基层工会调查表!D5（330102002002 戊公司工会）：904 组织类型填写为“独立”，应为单独、联合之一。请按报表说明填写。"
    );

    // Completeness of the survey: two towns expected, A on time (received
    // 2026-11-10, due 2026-11-15), B's only upload rejected.
    let c = completeness(&app, COUNTY, SURVEY).await;
    assert_eq!(
        (
            c["form"].as_str(),
            c["period"].as_str(),
            c["deadline"].as_str()
        ),
        (Some("annual_survey"), Some("2026SY"), Some("2026-11-15"))
    );
    assert_eq!(counts(&c), [2, 1, 1, 0, 1, 0], "{c}");
    assert_eq!(with_status(&c, "on_time"), [TOWN_A]);
    assert_eq!(with_status(&c, "rejected"), [TOWN_B]);
    // The monthly return of September knows nothing of the survey: both towns
    // missing, nothing rejected.
    let m = completeness(&app, COUNTY, "period=2026-09").await;
    assert_eq!(m["form"], "monthly");
    assert_eq!(counts(&m), [2, 0, 0, 0, 0, 2], "{m}");

    // B corrects 戊 and is stored, late (received now, after 2026-11-15).
    let b = store_survey(&app, survey_b("联合")).await;
    let b_id = b["id"].as_i64().unwrap();
    let c = completeness(&app, COUNTY, SURVEY).await;
    assert_eq!(counts(&c), [2, 2, 1, 1, 0, 0], "{c}");
    assert_eq!(with_status(&c, "late"), [TOWN_B]);
    assert_eq!(reporter_in(&c, TOWN_B)["submission_id"], b_id);
    // The city's level of the same answer, and its count for the county.
    let city = completeness(&app, "330100", SURVEY).await;
    assert_eq!(counts(&city), [3, 2, 1, 1, 0, 1], "{city}");
    let county_level = city["levels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["org"] == COUNTY)
        .expect("county level");
    assert_eq!(counts(county_level), [2, 2, 1, 1, 0, 0]);
    // The form's figures say the same of who reported.
    let (_, fig) = app
        .get(
            &app.admin_key,
            "/api/v1/orgs/330100/forms/annual_survey?period=2026SY",
        )
        .await;
    assert_eq!(fig["reported"], json!([TOWN_A, TOWN_B]), "{fig}");
    assert_eq!(fig["not_reported"], json!(["330103001"]), "{fig}");

    // The county's review queue of the survey: both towns' reports await it.
    let (status, q) = app
        .get(&county, &format!("/api/v1/orgs/{COUNTY}/reviews?{SURVEY}"))
        .await;
    assert_eq!(status, 200, "{q}");
    assert_eq!(
        (
            q["form"].as_str(),
            q["period"].as_str(),
            q["previous_period"].as_str()
        ),
        (Some("annual_survey"), Some("2026SY"), Some("2025SY"))
    );
    assert_eq!(q["own"], Value::Null);
    assert_eq!(q["unreviewed"], 2, "{q}");
    assert_eq!(entry(&q, TOWN_A)["submission_id"], a_id);
    assert_eq!(entry(&q, TOWN_B)["status"], "accepted");
    assert_eq!(entry(&q, TOWN_B)["can_review"], true);
    // The monthly queue of September is empty of reports.
    let (_, mq) = app
        .get(
            &county,
            &format!("/api/v1/orgs/{COUNTY}/reviews?period=2026-09"),
        )
        .await;
    assert_eq!(entry(&mq, TOWN_A)["status"], "missing", "{mq}");

    // The county cannot sign off before its towns have.
    let (status, body) = approve(&app, &county, COUNTY, SURVEY).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("330102 的下级尚未全部审核通过 2026SY，等待：330102001, 330102002"),
        "{body}"
    );
    // Each town signs off its own survey; then the county still waits for
    // its review of the towns' reports.
    for (key, town) in [(&town_a, TOWN_A), (&town_b, TOWN_B)] {
        let (status, body) = approve(&app, key, town, SURVEY).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            (body["form"].as_str(), body["approved"].as_bool()),
            (Some("annual_survey"), Some(true))
        );
    }
    let (status, body) = approve(&app, &county, COUNTY, SURVEY).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("未审核 330102001, 330102002"),
        "{body}"
    );
    app.approve_in_review(&county, a_id).await;
    app.approve_in_review(&county, b_id).await;
    let (status, body) = approve(&app, &county, COUNTY, SURVEY).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["approved"], true);
    assert_eq!(body["locked_by_org"], COUNTY);
    let c = completeness(&app, COUNTY, SURVEY).await;
    assert_eq!(c["approval"]["approved"], true, "{c}");
    assert_eq!(c["approval"]["locked"], true, "{c}");
    // The monthly September of the county is neither approved nor locked.
    let (_, monthly) = app
        .get(
            &county,
            &format!("/api/v1/orgs/{COUNTY}/approval?period=2026-09"),
        )
        .await;
    assert_eq!(
        (monthly["approved"].as_bool(), monthly["locked"].as_bool()),
        (Some(false), Some(false)),
        "{monthly}"
    );

    // The approval locks 2026SY: town A's new survey is refused at once, in
    // both languages, naming its own sign-off (the nearest)…
    let (status, body) = app
        .upload_as(
            Some(&town_a),
            survey_a(),
            "form=annual_survey&reporter=330102001&period=2026SY",
        )
        .await;
    assert_eq!(status, 403, "{body}");
    let msg = body["message"].as_str().unwrap();
    assert!(msg.starts_with("330102001 2026SY 已锁定（"), "{msg}");
    assert!(msg.contains("2026SY 已由 330102001 于"), "{msg}");
    assert!(
        msg.contains("修改需要管理员密钥并说明理由 / 330102001 2026SY is locked ("),
        "{msg}"
    );
    assert!(msg.contains("2026SY approved by 330102001 at"), "{msg}");
    // …and one that names neither reporter nor period is rejected by the
    // check, at the cover's period cell.
    let (status, body) = app
        .upload_as(Some(&town_a), survey_a(), "form=annual_survey")
        .await;
    assert_eq!(status, 202, "{body}");
    let refused = app.wait(body["id"].as_i64().unwrap()).await;
    assert_eq!(refused["status"], "rejected", "{refused}");
    let locked = issue(&refused, "period_locked").expect("period_locked");
    assert_eq!(
        (locked["sheet"].as_str(), locked["cell"].as_str()),
        (Some("封面"), Some("B3"))
    );
    assert_eq!(
        locked["message"]["zh"],
        "封面!B3：报告期 2026SY 已锁定，不能再修改。请联系上级工会。"
    );
    // A's accepted survey still stands.
    let c = completeness(&app, COUNTY, SURVEY).await;
    assert_eq!(counts(&c), [2, 2, 1, 1, 0, 0], "{c}");
    assert_eq!(reporter_in(&c, TOWN_A)["submission_id"], a_id);

    // The monthly sheet of 2026-09 is still taken.
    september(&app).await;
    let m = completeness(&app, COUNTY, "period=2026-09").await;
    assert_eq!(counts(&m), [2, 1, 0, 1, 0, 1], "{m}");

    // Revoked (an admin, with a reason), the survey opens again; town A's
    // monthly sign-off of September then locks September, not the survey.
    let (status, body) = send(
        &app,
        "delete",
        &app.admin_key,
        &format!("/api/v1/orgs/{TOWN_A}/approval?{SURVEY}&reason=correction"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["revoked"], json!([TOWN_A, COUNTY]));
    let (status, body) = approve(&app, &town_a, TOWN_A, "period=2026-09").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["form"].as_str(), body["locked_by"].as_str()),
        (Some("monthly"), Some("approval"))
    );
    let (_, survey) = app
        .get(&town_a, &format!("/api/v1/orgs/{TOWN_A}/approval?{SURVEY}"))
        .await;
    assert_eq!(survey["approved"], false, "{survey}");
    assert_eq!(survey["locked_by_org"], Value::Null, "{survey}");
    assert!(
        !survey["locked_by"]
            .as_str()
            .unwrap_or("")
            .contains("approval"),
        "{survey}"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_service_form_counts_every_federation_reporting_about_itself_and_is_approved_on_its_own(
) {
    let app = spawn_app().await;
    let county = app.key(COUNTY, Role::Submitter).await;
    let town_a = app.key(TOWN_A, Role::Submitter).await;
    let town_b = app.key(TOWN_B, Role::Submitter).await;
    store_service(&app, COUNTY, "上城区总工会", 66).await;
    store_service(&app, TOWN_A, "湖滨街道总工会", 10).await;

    // The county and both its towns are expected (each reports about
    // itself); the county's own report moved before 2026-07-15 is on time.
    let c = completeness(&app, COUNTY, SERVICE).await;
    assert_eq!(
        (c["form"].as_str(), c["deadline"].as_str()),
        (Some("service_half"), Some("2026-07-15"))
    );
    assert_eq!(counts(&c), [3, 2, 0, 2, 0, 1], "{c}");
    let county_id = reporter_in(&c, COUNTY)["submission_id"].as_i64().unwrap();
    let a_id = reporter_in(&c, TOWN_A)["submission_id"].as_i64().unwrap();
    app.set_received_at(county_id, "2026-07-10T01:00:00.000Z")
        .await;
    let c = completeness(&app, COUNTY, SERVICE).await;
    assert_eq!(counts(&c), [3, 2, 1, 1, 0, 1], "{c}");
    assert_eq!(with_status(&c, "missing"), [TOWN_B]);
    assert_eq!(counts(&c["levels"][0]), [3, 2, 1, 1, 0, 1], "{c}");
    // The province: its seven federations.
    let p = completeness(&app, "330000", SERVICE).await;
    assert_eq!(counts(&p), [7, 2, 1, 1, 0, 5], "{p}");
    // The form's figures list the county among those that reported.
    let (_, fig) = app
        .get(
            &app.admin_key,
            "/api/v1/orgs/330102/forms/service_half?period=2026H1",
        )
        .await;
    assert_eq!(fig["reported"], json!([COUNTY, TOWN_A]), "{fig}");
    assert_eq!(fig["not_reported"], json!([TOWN_B]), "{fig}");
    // The monthly return of June expects the towns only, none reported.
    let m = completeness(&app, COUNTY, "period=2026-06").await;
    assert_eq!(counts(&m), [2, 0, 0, 0, 0, 2], "{m}");

    // The county's queue: its own report, and its towns'.
    let (status, q) = app
        .get(&county, &format!("/api/v1/orgs/{COUNTY}/reviews?{SERVICE}"))
        .await;
    assert_eq!(status, 200, "{q}");
    assert_eq!(q["own"]["org"], COUNTY, "{q}");
    assert_eq!(q["own"]["status"], "accepted");
    assert_eq!(q["own"]["can_review"], false);
    assert_eq!(entry(&q, TOWN_A)["status"], "accepted");
    assert_eq!(entry(&q, TOWN_B)["status"], "missing");
    assert_eq!(q["unreviewed"], 1, "{q}");

    // Town B has nothing to sign off yet; once it reports, both towns sign
    // off, the county reviews them and signs off.
    let (status, body) = approve(&app, &town_b, TOWN_B, SERVICE).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("330102002 本身的 2026H1 报表尚未被接受"),
        "{body}"
    );
    store_service(&app, TOWN_B, "清波街道总工会", 4).await;
    let b_id = reporter_in(&completeness(&app, COUNTY, SERVICE).await, TOWN_B)["submission_id"]
        .as_i64()
        .unwrap();
    for (key, town) in [(&town_a, TOWN_A), (&town_b, TOWN_B)] {
        let (status, body) = approve(&app, key, town, SERVICE).await;
        assert_eq!(status, 200, "{body}");
    }
    app.approve_in_review(&county, a_id).await;
    app.approve_in_review(&county, b_id).await;
    let (status, body) = approve(&app, &county, COUNTY, SERVICE).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (
            body["form"].as_str(),
            body["period"].as_str(),
            body["approved"].as_bool()
        ),
        (Some("service_half"), Some("2026H1"), Some(true))
    );
    let c = completeness(&app, COUNTY, SERVICE).await;
    assert_eq!(counts(&c), [3, 3, 1, 2, 0, 0], "{c}");
    assert_eq!(c["approval"]["approved"], true);

    // 2026H1 of the service form is locked for the county's subtree; June's
    // monthly return is not.
    let (status, body) = app
        .upload_as(
            Some(&town_a),
            service(TOWN_A, "湖滨街道总工会", "2026H1", 11),
            "form=service_half&reporter=330102001&period=2026H1",
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("2026H1 已由 330102001 于"),
        "{body}"
    );
    let (_, june) = app
        .get(
            &county,
            &format!("/api/v1/orgs/{COUNTY}/approval?period=2026-06"),
        )
        .await;
    assert_eq!(
        (june["approved"].as_bool(), june["locked"].as_bool()),
        (Some(false), Some(false)),
        "{june}"
    );
    app.stop().await;
}

/// `unionstat --database <the app's warehouse> ARGS` that must succeed: its
/// standard output as JSON.
fn cli_json(app: &TestApp, dir: &std::path::Path, args: &[&str]) -> Value {
    let out = crate::backends::unionstat_command(dir)
        .arg("--database")
        .arg(&app.ctx.settings.database.url)
        .args(args)
        .output()
        .expect("run unionstat");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("a JSON answer")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_counts_and_reviews_a_forms_period_with_form() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    store_service(&app, COUNTY, "上城区总工会", 66).await;
    store_service(&app, TOWN_A, "湖滨街道总工会", 10).await;
    let base = [
        "--org",
        COUNTY,
        "--period",
        "2026H1",
        "--form",
        "service_half",
    ];

    let c = cli_json(&app, d, &[&["completeness", "--json"][..], &base].concat());
    assert_eq!(counts(&c), [3, 2, 0, 2, 0, 1], "{c}");
    let q = cli_json(
        &app,
        d,
        &[&["review", "list", "--json"][..], &base].concat(),
    );
    assert_eq!(q["form"], "service_half");
    assert_eq!(q["own"]["status"], "accepted", "{q}");

    // The county approves town A's report of the form from the command line.
    let (code, text) = cli(
        &app,
        d,
        &[
            "review",
            "approve",
            TOWN_A,
            "--period",
            "2026H1",
            "--form",
            "service_half",
        ],
    );
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("of 330102001 for 2026H1: approved"), "{text}");
    let q = cli_json(
        &app,
        d,
        &[&["review", "list", "--json"][..], &base].concat(),
    );
    assert_eq!(entry(&q, TOWN_A)["status"], "reviewed", "{q}");
    // A period of the wrong kind for the form is refused in both languages.
    let (code, text) = cli(
        &app,
        d,
        &[
            "completeness",
            "--org",
            COUNTY,
            "--period",
            "2026-06",
            "--form",
            "service_half",
        ],
    );
    assert_ne!(code, Some(0), "{text}");
    assert!(
        text.contains("工会服务职工工作半年报为半年报，报告期应写作 2026H1，不是 2026-06"),
        "{text}"
    );
    app.stop().await;
}

postgres_twins!(
    an_annual_survey_goes_through_completeness_review_and_approval_which_locks_only_the_survey,
    the_service_form_counts_every_federation_reporting_about_itself_and_is_approved_on_its_own,
);
