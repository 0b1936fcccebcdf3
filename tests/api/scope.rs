//! Scope: nothing about a unit outside a key's subtree reaches the caller — not
//! through validation messages, not through a forged cover, not through
//! duplicate detection, and not through answers that differ by existence.
//!
//! Town A is 330102001, town B its sibling 330102002 (units 330102002001
//! 丁公司工会 and 330102002002 戊公司工会). The months are fixed (spawn_app sets
//! `reporting.lock_after_days = 0`, so none closes by time).

use serde_json::Value;
use unionstat::store::keys::Role;

use crate::helpers::*;

const TOWN_A: &str = "330102001";
const TOWN_B: &str = "330102002";
const B1: &str = "330102002001";
const B2: &str = "330102002002";

/// Town B's names: none may reach town A.
const B_NAMES: &[&str] = &["丁公司工会", "戊公司工会", "清波街道总工会"];

/// Digits of every figure town B reported (and of their means): none may reach
/// town A. Town A's own figures contain none of them.
const B_FIGURES: &[&str] = &["4821", "4739", "3195", "3085"];

/// Town B's units with figures that move a little month by month: employees
/// 48213/48215 and 31951/31953, members 47391/47393 and 30851/30853.
fn town_b_sheet(cover: Option<(&str, &str, &str, Option<&str>)>, odd: bool) -> Vec<u8> {
    let d = if odd { 2.0 } else { 0.0 };
    workbook_with_cover(
        cover,
        BASIC,
        &[
            basic_row(B1, "丁公司工会", 3.0, 2.0, 48_213.0 + d, 47_391.0 + d),
            basic_row(B2, "戊公司工会", 2.0, 2.0, 31_951.0 + d, 30_851.0 + d),
        ],
    )
}

/// Fails when any of `needles` occurs in the answer.
fn assert_quotes_none(body: &Value, needles: &[&str], what: &str) {
    let text = body.to_string();
    for n in needles {
        assert!(!text.contains(n), "{what} quotes {n:?}: {body:#}");
    }
}

/// The issues of a report as (rule, cell).
fn rules_at(body: &Value) -> Vec<(String, String)> {
    body["issues"]
        .as_array()
        .expect("issues")
        .iter()
        .map(|i| {
            (
                i["rule"].as_str().unwrap_or_default().to_string(),
                i["cell"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The issue at a cell.
fn issue_at<'a>(body: &'a Value, cell: &str) -> &'a Value {
    body["issues"]
        .as_array()
        .expect("issues")
        .iter()
        .find(|i| i["cell"] == cell)
        .unwrap_or_else(|| panic!("no issue at {cell}: {body:#}"))
}

/// An issue's message with its cell and value made generic, to compare two
/// issues' wording.
/// An issue's words with its cell, its value and any did-you-mean suggestion
/// taken out: a suggestion depends only on the code and name typed and on the
/// reporter's own units, never on whether the code exists elsewhere.
fn wording(issue: &Value) -> (String, String) {
    let cell = issue["cell"].as_str().unwrap_or_default();
    let value = issue["value"].as_str().unwrap_or_default();
    let generic = |s: &Value| {
        let text = s
            .as_str()
            .unwrap_or_default()
            .replace(value, "{value}")
            .replace(cell, "{cell}");
        without_suggestion(
            &without_suggestion(&text, "是否应为 ", "？"),
            " Did you mean ",
            "?",
        )
    };
    (
        generic(&issue["message"]["zh"]),
        generic(&issue["message"]["en"]),
    )
}

fn without_suggestion(text: &str, start: &str, end: &str) -> String {
    match text.find(start) {
        Some(at) => match text[at..].find(end) {
            Some(len) => format!("{}{}", &text[..at], &text[at + len + end.len()..]),
            None => text.to_string(),
        },
        None => text.to_string(),
    }
}

/// Any request; the status and the body as text (exports are binary when they
/// succeed).
async fn call(app: &TestApp, method: &str, key: &str, path: &str) -> (u16, String) {
    let url = format!("{}{path}", app.addr);
    let req = match method {
        "get" => app.client.get(url),
        "post" => app.client.post(url),
        "delete" => app.client.delete(url),
        other => panic!("{other}"),
    };
    let resp = req.bearer_auth(key).send().await.expect("request");
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.expect("body");
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// Town B's accepted months 2026-03 … 2026-09 (seven: enough for the outlier
/// baseline), uploaded by an admin.
async fn town_b_history(app: &TestApp) {
    for (i, month) in ["03", "04", "05", "06", "07", "08", "09"]
        .iter()
        .enumerate()
    {
        let sub = app
            .submit(
                town_b_sheet(None, i % 2 == 1),
                TOWN_B,
                &format!("2026-{month}"),
            )
            .await;
        assert_eq!(sub["status"], "accepted", "{sub}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validation_quotes_no_name_and_no_figure_of_another_subtree() {
    let app = spawn_app().await;
    town_b_history(&app).await;
    let town = app.key(TOWN_A, Role::Submitter).await;
    let county = app.key("330102", Role::Submitter).await;

    // Town A lists its own unit, town B's two units under other names and with
    // figures far from B's past (0), and a code that exists nowhere.
    let sheet = workbook(
        None,
        BASIC,
        &[
            basic_row("330102001001", "甲公司工会", 2.0, 1.0, 100.0, 90.0),
            basic_row(B1, "别的名字", 1.0, 1.0, 0.0, 0.0),
            basic_row(B2, "另一个名字", 1.0, 1.0, 0.0, 0.0),
            basic_row("330102009999", "不存在工会", 1.0, 1.0, 0.0, 0.0),
        ],
    );
    let query = "reporter=330102001&period=2026-10";

    let (s, dry) = app
        .upload_as(Some(&town), sheet.clone(), &format!("{query}&dry_run=true"))
        .await;
    assert_eq!(s, 200, "{dry}");
    assert_eq!(dry["status"], "rejected");
    let (s, body) = app.upload_as(Some(&town), sheet.clone(), query).await;
    assert_eq!(s, 202, "{body}");
    let stored = app.wait(body["id"].as_i64().unwrap()).await;
    assert_eq!(stored["status"], "rejected");
    // The town reads its own report: the same answer as the dry run.
    let (s, own) = app
        .get(&town, &format!("/api/v1/submissions/{}", stored["id"]))
        .await;
    assert_eq!(s, 200, "{own}");

    for report in [&dry, &own] {
        assert_quotes_none(&report["issues"], B_NAMES, "town A's report");
        assert_quotes_none(&report["issues"], B_FIGURES, "town A's report");
        let found = rules_at(report);
        for rule in ["name_mismatch", "monthly_change", "outlier"] {
            assert!(
                found.iter().all(|(r, _)| r != rule),
                "{rule} about another subtree: {report:#}"
            );
        }
        // B's codes are answered exactly as a code that exists nowhere.
        for cell in ["A4", "A5", "A6"] {
            assert_eq!(issue_at(report, cell)["rule"], "unit_unknown", "{report:#}");
        }
        assert_eq!(issue_at(report, "A4")["value"], B1);
        assert_eq!(
            wording(issue_at(report, "A4")),
            wording(issue_at(report, "A6"))
        );
        assert_eq!(
            wording(issue_at(report, "A5")),
            wording(issue_at(report, "A6"))
        );
    }

    // The county sees both towns: B's units are not under town A, and still
    // nothing of them (name, figures) is quoted.
    let (s, dry) = app
        .upload_as(Some(&county), sheet, &format!("{query}&dry_run=true"))
        .await;
    assert_eq!(s, 200, "{dry}");
    assert_eq!(issue_at(&dry, "A4")["rule"], "unit_not_under_reporter");
    assert_eq!(issue_at(&dry, "A5")["rule"], "unit_not_under_reporter");
    assert_eq!(issue_at(&dry, "A6")["rule"], "unit_unknown");
    assert_quotes_none(&dry["issues"], B_NAMES, "the county's dry run");
    assert_quotes_none(&dry["issues"], B_FIGURES, "the county's dry run");
    let a4 = issue_at(&dry, "A4");
    assert!(
        a4["message"]["en"]
            .as_str()
            .unwrap()
            .contains("not a grassroots union under reporter 330102001"),
        "{a4}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_cover_changes_nothing_of_the_unit_it_names() {
    let app = spawn_app().await;
    let town_a = app.key(TOWN_A, Role::Submitter).await;
    let town_b = app.key(TOWN_B, Role::Submitter).await;

    // Town B reports September itself, with its contact on the cover.
    let (s, body) = app
        .upload_as(
            Some(&town_b),
            town_b_sheet(
                Some((TOWN_B, "2026-09", "李四", Some("0571-86001234"))),
                false,
            ),
            "",
        )
        .await;
    assert_eq!(s, 202, "{body}");
    let sub = app.wait(body["id"].as_i64().unwrap()).await;
    assert_eq!(sub["status"], "accepted", "{sub}");

    // Town A sends October with a cover naming town B, and no reporter=.
    let forged = town_b_sheet(
        Some((TOWN_B, "2026-10", "伪造者", Some("13900000000"))),
        true,
    );
    let (s, body) = app.upload_as(Some(&town_a), forged, "").await;
    assert_eq!(s, 202, "{body}");
    let id = body["id"].as_i64().unwrap();
    let sub = app.wait(id).await;
    assert_eq!(sub["status"], "rejected", "{sub}");

    // Town A sees its own rejected submission and why; it names no reporter.
    let (s, own) = app.get(&town_a, &format!("/api/v1/submissions/{id}")).await;
    assert_eq!(s, 200, "{own}");
    assert_eq!(own["status"], "rejected");
    assert_eq!(own["reporter"], Value::Null, "{own}");
    let why = issue(&own, "reporter_out_of_scope").expect("reporter_out_of_scope");
    assert_eq!(why["value"], TOWN_B);
    let (s, _) = call(
        &app,
        "get",
        &town_a,
        &format!("/api/v1/submissions/{id}/annotated.xlsx"),
    )
    .await;
    assert_eq!(s, 200);

    // Town B can neither see nor download it.
    let (s, _) = app.get(&town_b, &format!("/api/v1/submissions/{id}")).await;
    assert_eq!(s, 404);
    let (s, _) = call(
        &app,
        "get",
        &town_b,
        &format!("/api/v1/submissions/{id}/annotated.xlsx"),
    )
    .await;
    assert_eq!(s, 404);

    // Town B's October is still missing, with its own contact, not the forger's.
    let (s, c) = app
        .get(
            &town_b,
            "/api/v1/orgs/330102002/completeness?period=2026-10",
        )
        .await;
    assert_eq!(s, 200, "{c}");
    let b = &c["reporters"][0];
    assert_eq!(b["code"], TOWN_B, "{c}");
    assert_eq!(
        (
            b["status"].as_str(),
            b["submission_id"].as_i64(),
            b["preparer"].as_str(),
            b["phone"].as_str()
        ),
        (Some("missing"), None, Some("李四"), Some("0571-86001234")),
        "{c}"
    );
    assert_eq!(
        (c["rejected"].as_i64(), c["missing"].as_i64()),
        (Some(0), Some(1))
    );
    // The county's view of October: no rejection anywhere, B's contact its own.
    let (s, c) = app
        .get(
            &app.admin_key,
            "/api/v1/orgs/330102/completeness?period=2026-10",
        )
        .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["rejected"], 0, "{c}");
    assert_quotes_none(&c, &["伪造者", "13900000000"], "the county's completeness");
    // B's September stands as it was.
    let (_, c) = app
        .get(
            &town_b,
            "/api/v1/orgs/330102002/completeness?period=2026-09",
        )
        .await;
    assert_eq!(c["reporters"][0]["status"], "late", "{c}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_bytes_from_another_scope_are_another_submission() {
    let app = spawn_app().await;
    let town_a = app.key(TOWN_A, Role::Submitter).await;
    let town_b = app.key(TOWN_B, Role::Submitter).await;

    // Town B's September is accepted; town A posts the very same bytes.
    let september = town_b_sheet(Some((TOWN_B, "2026-09", "李四", None)), false);
    let (s, body) = app.upload_as(Some(&town_b), september.clone(), "").await;
    assert_eq!(s, 202, "{body}");
    let b_id = body["id"].as_i64().unwrap();
    assert_eq!(app.wait(b_id).await["status"], "accepted");
    let (s, body) = app.upload_as(Some(&town_a), september.clone(), "").await;
    assert_eq!(s, 202, "not B's submission: {body}");
    let a_id = body["id"].as_i64().unwrap();
    assert_ne!(a_id, b_id);
    let sub = app.wait(a_id).await;
    assert_eq!(sub["status"], "rejected", "{sub}");
    assert!(issue(&sub, "reporter_out_of_scope").is_some(), "{sub}");
    // B's own repeat is still answered with B's submission (idempotent).
    let (s, body) = app.upload_as(Some(&town_b), september, "").await;
    assert_eq!((s, body["id"].as_i64()), (200, Some(b_id)), "{body}");
    assert_eq!(body["status"], "accepted");

    // Town A pushes October's bytes first; town B can still send them.
    let october = town_b_sheet(Some((TOWN_B, "2026-10", "李四", None)), true);
    let (s, body) = app.upload_as(Some(&town_a), october.clone(), "").await;
    assert_eq!(s, 202, "{body}");
    let first = body["id"].as_i64().unwrap();
    assert_eq!(app.wait(first).await["status"], "rejected");
    let (s, body) = app.upload_as(Some(&town_b), october, "").await;
    assert_eq!(s, 202, "B's own upload: {body}");
    let second = body["id"].as_i64().unwrap();
    assert_ne!(second, first);
    let sub = app.wait(second).await;
    assert_eq!(sub["status"], "accepted", "{sub}");
    let october = app.indicators(TOWN_B, "2026-10").await;
    assert_eq!(metric(&october, "employees"), Some(48_215.0 + 31_953.0));
    assert_eq!(metric(&october, "members"), Some(47_393.0 + 30_853.0));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM submissions WHERE status = 'accepted'")
            .await,
        2
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_and_out_of_reach_codes_and_ids_answer_alike() {
    let app = spawn_app().await;
    let b_sub = app
        .submit(town_b_sheet(None, false), TOWN_B, "2026-10")
        .await;
    assert_eq!(b_sub["status"], "accepted", "{b_sub}");
    let b_id = b_sub["id"].as_i64().unwrap();
    let town = app.key(TOWN_A, Role::Submitter).await;
    let viewer = app.key("330103", Role::Viewer).await;

    // Every route that takes an org code, with parameters that are otherwise right.
    let routes: &[(&str, &str)] = &[
        ("get", "/api/v1/orgs/{}/indicators?period=2026-10"),
        (
            "get",
            "/api/v1/orgs/{}/indicators?period=2026-10&children=true",
        ),
        ("get", "/api/v1/orgs/{}/completeness?period=2026-10"),
        (
            "get",
            "/api/v1/orgs/{}/series?indicator=membership_rate&from=2026-01&to=2026-10",
        ),
        ("get", "/api/v1/orgs/{}/export.xlsx?period=2026-10"),
        ("get", "/api/v1/orgs/{}/history?period=2026-10"),
        ("get", "/api/v1/orgs/{}/approval?period=2026-10"),
        ("post", "/api/v1/orgs/{}/approval?period=2026-10"),
        ("delete", "/api/v1/orgs/{}/approval?period=2026-10&reason=x"),
        ("get", "/api/v1/orgs/{}/reviews?period=2026-10"),
        ("get", "/api/v1/templates/{}/2026-10.xlsx"),
        ("get", "/api/v1/orgs/{}/contact"),
        ("get", "/api/v1/orgs/{}/contacts"),
        ("get", "/api/v1/orgs/{}/reminders?period=2026-10"),
        (
            "post",
            "/api/v1/orgs/{}/reminders?period=2026-10&kind=overdue",
        ),
    ];
    // An unknown code, a sibling town, a grassroots unit elsewhere, the county
    // above: for town A all are out of reach.
    let codes = ["999999999", TOWN_B, B1, "330102"];
    for key in [&town, &viewer] {
        for (method, template) in routes {
            let answers: Vec<(u16, String)> = {
                let mut out = Vec::new();
                for code in codes {
                    out.push(call(&app, method, key, &template.replace("{}", code)).await);
                }
                out
            };
            assert_eq!(answers[0].0, 404, "{method} {template}: {answers:?}");
            for a in &answers[1..] {
                assert_eq!(a, &answers[0], "{method} {template}: {answers:?}");
            }
        }
    }
    // The key's own unit still answers.
    let (s, _) = call(
        &app,
        "get",
        &town,
        "/api/v1/orgs/330102001/indicators?period=2026-10",
    )
    .await;
    assert_eq!(s, 200);

    // An upload naming a reporter: unknown and out of reach alike, nothing stored.
    let before = app.count("SELECT COUNT(*) FROM submissions").await;
    let mut uploads = Vec::new();
    for code in ["999999999", TOWN_B, "330103001"] {
        uploads.push(
            app.upload_as(
                Some(&town),
                town_a_sheet(),
                &format!("reporter={code}&period=2026-10"),
            )
            .await,
        );
    }
    assert_eq!(uploads[0].0, 404, "{uploads:?}");
    assert!(uploads.iter().all(|u| u == &uploads[0]), "{uploads:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM submissions").await, before);

    // A reporter only on the cover: the same issue and wording, whether the code
    // exists elsewhere or nowhere.
    let mut verdicts = Vec::new();
    for code in ["999999999", TOWN_B] {
        let (s, body) = app
            .upload_as(
                Some(&town),
                workbook(Some((code, "2026-10")), BASIC, &[]),
                "dry_run=true",
            )
            .await;
        assert_eq!(s, 200, "{body}");
        let found = rules_at(&body);
        assert_eq!(
            found,
            [("reporter_out_of_scope".to_string(), String::new())],
            "{body}"
        );
        assert_eq!(body["reporter"], Value::Null, "{body}");
        verdicts.push(wording(&body["issues"][0]));
    }
    assert_eq!(verdicts[0], verdicts[1]);

    // Submission ids: another subtree's and one that does not exist.
    for suffix in ["", "/annotated.xlsx"] {
        let theirs = call(
            &app,
            "get",
            &town,
            &format!("/api/v1/submissions/{b_id}{suffix}"),
        )
        .await;
        let none = call(
            &app,
            "get",
            &town,
            &format!("/api/v1/submissions/999999{suffix}"),
        )
        .await;
        assert_eq!(theirs.0, 404, "{theirs:?}");
        assert_eq!(theirs, none);
    }
    // An admin is told the same about a code that does not exist.
    let (s, body) = app
        .get(
            &app.admin_key,
            "/api/v1/orgs/999999999/indicators?period=2026-10",
        )
        .await;
    assert_eq!((s, &body["error"]), (404, &Value::from("not_found")));
    app.stop().await;
}

postgres_twins!(
    validation_quotes_no_name_and_no_figure_of_another_subtree,
    a_forged_cover_changes_nothing_of_the_unit_it_names,
    the_same_bytes_from_another_scope_are_another_submission,
    unknown_and_out_of_reach_codes_and_ids_answer_alike,
);
