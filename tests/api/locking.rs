//! Locking (a month closes some days after its deadline), approval (逐级审核)
//! and the audit history.

use serde_json::Value;
use unionstat::store::keys::Role;

use crate::helpers::*;

fn one_unit(code: &'static str, emp: f64, mem: f64) -> Vec<u8> {
    workbook(
        None,
        BASIC,
        &[basic_row(code, "某工会", 2.0, 1.0, emp, mem)],
    )
}

async fn post(app: &TestApp, key: &str, path: &str) -> (u16, Value) {
    let resp = app
        .client
        .post(format!("{}{path}", app.addr))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    let s = resp.status().as_u16();
    (s, resp.json().await.unwrap_or(Value::Null))
}

async fn delete(app: &TestApp, key: &str, path: &str) -> (u16, Value) {
    let resp = app
        .client
        .delete(format!("{}{path}", app.addr))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    let s = resp.status().as_u16();
    (s, resp.json().await.unwrap_or(Value::Null))
}

fn actions(history: &Value) -> Vec<String> {
    history["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_month_refuses_a_submitter_and_lets_an_admin_through_with_an_audit_row() {
    // 2026-09 is due 2026-10-10 and closes 20 days later: after 2026-10-30.
    let app = spawn_app_with(|s| s.reporting.lock_after_days = 20).await;
    let town = app.key("330102001", Role::Submitter).await;
    let q = "reporter=330102001&period=2026-09";

    let (s, body) = app
        .upload_as(Some(&town), one_unit("330102001001", 100.0, 90.0), q)
        .await;
    assert_eq!(s, 403, "{body}");
    let msg = body["message"].as_str().unwrap();
    assert!(
        msg.contains("locked") && msg.contains("2026-10-30"),
        "{msg}"
    );
    // With the month only on the cover, the upload is stored and rejected.
    let covered = workbook(
        Some(("330102001", "2026-09")),
        BASIC,
        &[basic_row("330102001001", "某工会", 2.0, 1.0, 100.0, 90.0)],
    );
    let (s, body) = app.upload_as(Some(&town), covered, "").await;
    assert_eq!(s, 202, "{body}");
    let sub = app.wait(body["id"].as_i64().unwrap()).await;
    assert_eq!(sub["status"], "rejected");
    assert!(issue(&sub, "period_locked").is_some(), "{sub}");

    // An admin needs a reason…
    let (s, body) = app
        .upload_as(
            Some(&app.admin_key),
            one_unit("330102001001", 100.0, 90.0),
            q,
        )
        .await;
    assert_eq!(s, 422, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("reason"),
        "{body}"
    );
    // …and with one the change goes through, audited with the reason.
    let (s, body) = app
        .upload_as(
            Some(&app.admin_key),
            one_unit("330102001001", 100.0, 90.0),
            &format!("{q}&reason=审计调整 audit correction"),
        )
        .await;
    assert_eq!(s, 202, "{body}");
    let id = body["id"].as_i64().unwrap();
    assert_eq!(app.wait(id).await["status"], "accepted");
    assert_eq!(
        metric(&app.indicators("330102", "2026-09").await, "employees"),
        Some(100.0)
    );

    let (s, h) = app
        .get(&app.admin_key, "/api/v1/orgs/330102/history?period=2026-09")
        .await;
    assert_eq!(s, 200, "{h}");
    let change = h["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "locked_period_changed")
        .unwrap_or_else(|| panic!("{h}"));
    assert_eq!(change["submission_id"], id);
    assert_eq!(change["unit"], "330102001");
    assert_eq!(change["actor"], "key \"test admin\" (#1)");
    let detail = change["detail"].as_str().unwrap();
    assert!(
        detail.contains("审计调整 audit correction") && detail.contains("closed after 2026-10-30"),
        "{detail}"
    );
    assert_eq!(
        actions(&h).iter().filter(|a| *a == "fact_set").count(),
        4,
        "{h}"
    );

    // At the console: refused without a reason, accepted and audited with one.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sept.xlsx");
    std::fs::write(&file, one_unit("330102001001", 120.0, 90.0)).unwrap();
    let submit = |extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_unionstat"))
            .args([
                "--database",
                &app.ctx.settings.database.url,
                "submit",
                "--as",
                "330102001",
                "--period",
                "2026-09",
            ])
            .arg(&file)
            .args(extra)
            .env("UNIONSTAT_LOG__LEVEL", "warn")
            .env("UNIONSTAT_REPORTING__LOCK_AFTER_DAYS", "20")
            .output()
            .unwrap()
    };
    let out = submit(&[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("period_locked"));
    // (Other bytes: the same file again would be answered with its rejection.)
    std::fs::write(&file, one_unit("330102001001", 120.0, 91.0)).unwrap();
    let out = submit(&["--reason", "统计口径更正"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        metric(&app.indicators("330102", "2026-09").await, "employees"),
        Some(120.0)
    );
    let (_, h) = app
        .get(
            &app.admin_key,
            "/api/v1/orgs/330102001/history?period=2026-09",
        )
        .await;
    assert!(
        h["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "locked_period_changed"
                && e["actor"]
                    .as_str()
                    .is_some_and(|a| a == "cli" || a.starts_with("cli ("))
                && e["detail"].as_str().unwrap().contains("统计口径更正")),
        "{h}"
    );

    // The lock shows in the answers.
    let v = app.indicators("330102001", "2026-09").await;
    assert_eq!(v["approval"]["locked"], true);
    assert_eq!(v["approval"]["locked_by"], "time");
    assert_eq!(v["approval"]["closes_on"], "2026-10-30");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_waits_for_the_children_then_locks_the_subtree_until_an_admin_revokes() {
    let app = spawn_app().await;
    let (town_a, town_b) = (
        app.key("330102001", Role::Submitter).await,
        app.key("330102002", Role::Submitter).await,
    );
    let county = app.key("330102", Role::Submitter).await;
    let viewer = app.key("330102", Role::Viewer).await;
    let q = |p: &str| format!("/api/v1/orgs/{p}/approval?period=2026-10");
    let a_id = app
        .submit(
            one_unit("330102001001", 100.0, 90.0),
            "330102001",
            "2026-10",
        )
        .await["id"]
        .as_i64()
        .unwrap();

    // The county cannot approve before its towns have.
    let (s, body) = post(&app, &county, &q("330102")).await;
    assert_eq!(s, 409, "{body}");
    let msg = body["message"].as_str().unwrap();
    assert!(
        msg.contains("330102001") && msg.contains("330102002"),
        "{msg}"
    );
    // Town B cannot approve without an accepted report.
    let (s, body) = post(&app, &town_b, &q("330102002")).await;
    assert_eq!(s, 409, "{body}");
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("no accepted report"));
    // A viewer cannot approve at all.
    let (s, _) = post(&app, &viewer, &q("330102001")).await;
    assert_eq!(s, 403);

    let (s, body) = post(&app, &town_a, &q("330102001")).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(
        (body["approved"].as_bool(), body["locked"].as_bool()),
        (Some(true), Some(true))
    );
    assert_eq!(body["locked_by"], "approval");
    // Approval locks the town's month: its submitter is refused.
    let (s, body) = app
        .upload_as(
            Some(&town_a),
            one_unit("330102001001", 101.0, 90.0),
            "reporter=330102001&period=2026-10",
        )
        .await;
    assert_eq!(s, 403, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("approved by 330102001"),
        "{body}"
    );

    let b_id = app
        .submit(one_unit("330102002001", 50.0, 40.0), "330102002", "2026-10")
        .await["id"]
        .as_i64()
        .unwrap();
    let (s, _) = post(&app, &town_b, &q("330102002")).await;
    assert_eq!(s, 200);
    // Both towns approved their subtrees, but the county reviews their reports
    // (审核) before it signs: until then it is refused, naming them.
    let (s, body) = post(&app, &county, &q("330102")).await;
    assert_eq!(s, 409, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("unreviewed 330102001, 330102002"),
        "{body}"
    );
    app.approve_in_review(&county, a_id).await;
    app.approve_in_review(&county, b_id).await;
    let (s, body) = post(&app, &county, &q("330102")).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["children"].as_array().unwrap().len(), 2);
    // The city waits for its other county.
    let (s, body) = post(&app, &app.admin_key, &q("330100")).await;
    assert_eq!(s, 409, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("330103"),
        "{body}"
    );

    // State shown in indicators and completeness.
    let (_, v) = app
        .get(
            &app.admin_key,
            "/api/v1/orgs/330102/indicators?period=2026-10&children=true",
        )
        .await;
    assert_eq!(v["approval"]["approved"], true);
    assert_eq!(v["approval"]["locked_by_org"], "330102");
    assert!(v["children"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["approval"]["approved"] == true));
    let (_, c) = app
        .get(
            &app.admin_key,
            "/api/v1/orgs/330100/completeness?period=2026-10",
        )
        .await;
    assert_eq!(c["approval"]["approved"], false);
    let approved: Vec<(String, bool)> = c["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["org"].as_str().unwrap().to_string(),
                l["approved"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        approved,
        vec![
            ("330100".into(), false),
            ("330102".into(), true),
            ("330103".into(), false)
        ]
    );
    assert!(c["reporters"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["code"] == "330102001" && r["approved"] == true));

    // Revoking needs an admin and a reason, and takes the county's approval too.
    let (s, _) = delete(&app, &county, &format!("{}&reason=x", q("330102001"))).await;
    assert_eq!(s, 403);
    let (s, _) = delete(&app, &app.admin_key, &q("330102001")).await;
    assert_eq!(s, 422);
    let (s, body) = delete(
        &app,
        &app.admin_key,
        &format!("{}&reason=数据有误 wrong figures", q("330102001")),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["revoked"], serde_json::json!(["330102001", "330102"]));
    assert_eq!(body["locked"], false);
    let (s, body) = app
        .upload_as(
            Some(&town_a),
            one_unit("330102001001", 101.0, 90.0),
            "reporter=330102001&period=2026-10",
        )
        .await;
    assert_eq!(s, 202, "{body}");
    app.wait(body["id"].as_i64().unwrap()).await;
    let (_, h) = app
        .get(&app.admin_key, "/api/v1/orgs/330102/history?period=2026-10")
        .await;
    let revoked: Vec<&Value> = h["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "approval_revoked")
        .collect();
    assert_eq!(revoked.len(), 2, "{h}");
    assert!(revoked[0]["detail"]
        .as_str()
        .unwrap()
        .contains("数据有误 wrong figures"));
    assert_eq!(
        actions(&h).iter().filter(|a| *a == "approved").count(),
        3,
        "{h}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_says_who_changed_which_figure_from_which_submission() {
    let app = spawn_app().await;
    let first = app.submit(town_a_sheet(), "330102001", "2026-10").await;
    let corrected = workbook(
        None,
        BASIC,
        &[basic_row(
            "330102001001",
            "甲公司工会",
            20.0,
            19.0,
            100_250.0,
            99_000.0,
        )],
    );
    let second = app.submit(corrected, "330102001", "2026-10").await;
    let (s, h) = app
        .get(
            &app.admin_key,
            "/api/v1/orgs/330102001001/history?period=2026-10&metric=employees",
        )
        .await;
    assert_eq!(s, 200, "{h}");
    let rows: Vec<(Option<f64>, Option<f64>, i64)> = h["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["old_value"].as_f64(),
                e["new_value"].as_f64(),
                e["submission_id"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            (None, Some(100_000.0), first["id"].as_i64().unwrap()),
            (
                Some(100_000.0),
                Some(100_250.0),
                second["id"].as_i64().unwrap()
            ),
        ]
    );
    assert_eq!(h["entries"][0]["actor"], "key \"test admin\" (#1)");
    // The county sees its units' changes; the other county's key does not.
    let (_, h) = app
        .get(
            &app.admin_key,
            "/api/v1/orgs/330102/history?period=2026-10&metric=employees&limit=3",
        )
        .await;
    assert_eq!(h["count"], 3);
    let other = app.key("330103", Role::Viewer).await;
    let (s, _) = app
        .get(&other, "/api/v1/orgs/330102/history?period=2026-10")
        .await;
    assert_eq!(s, 404);
    for bad in [
        "period=2026-13",
        "",
        "period=2026-10&metric=nope",
        "period=2026-10&limit=0",
    ] {
        let (s, v) = app
            .get(
                &app.admin_key,
                &format!("/api/v1/orgs/330102/history?{bad}"),
            )
            .await;
        assert_eq!(s, 422, "{bad}: {v}");
    }
    app.stop().await;
}

/// (unit, old, new, submission, actor) of each history entry.
type Entry = (String, Option<f64>, Option<f64>, i64, String);

fn entries(h: &Value) -> Vec<Entry> {
    h["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["unit"].as_str().unwrap().to_string(),
                e["old_value"].as_f64(),
                e["new_value"].as_f64(),
                e["submission_id"].as_i64().unwrap(),
                e["actor"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_values_write_no_audit_row_and_history_still_shows_every_value() {
    let app = spawn_app().await;
    let town = app.key("330102001", Role::Submitter).await;
    let town_actor = format!(
        "key \"test 330102001 submitter\" (#{})",
        app.count("SELECT MAX(id) FROM api_keys").await
    );
    let admin = "key \"test admin\" (#1)".to_string();
    let e = |u: &str, o: Option<f64>, n: Option<f64>, s: i64, a: &str| -> Entry {
        (format!("330102001{u}"), o, n, s, a.to_string())
    };
    let figures = "SELECT COUNT(*) FROM audit WHERE metric IS NOT NULL";
    let employees = "/api/v1/orgs/330102001/history?period=2026-10&metric=employees";

    // A first acceptance writes no figure's audit row; the history answers its
    // figures as set by it, with the id of its acceptance's audit row.
    let s1 = app.submit(town_a_sheet(), "330102001", "2026-10").await["id"]
        .as_i64()
        .unwrap();
    assert_eq!(app.count(figures).await, 0);
    let (s, h) = app.get(&app.admin_key, employees).await;
    assert_eq!(s, 200, "{h}");
    let first = vec![
        e("001", None, Some(100_000.0), s1, &admin),
        e("002", None, Some(60_000.0), s1, &admin),
        e("003", None, Some(38_000.0), s1, &admin),
    ];
    assert_eq!(entries(&h), first, "{h}");
    let accepted = app
        .count(&format!(
            "SELECT id FROM audit WHERE action = 'submission_accepted' AND submission_id = {s1}"
        ))
        .await;
    assert!(h["entries"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["id"] == accepted && e["action"] == "fact_set"));
    let (_, all) = app
        .get(
            &app.admin_key,
            "/api/v1/orgs/330102001/history?period=2026-10",
        )
        .await;
    assert_eq!(all["count"], 12, "{all}");

    // The town corrects 001's employees, keeps 002 as it was and leaves 003
    // out: s1's figures enter the audit as s1's, then the change and the
    // removals as the town's.
    // 001 corrected, 002 with `emp2` employees, 003 left out.
    let corrected = |emp2: f64| {
        let mut rows = town_a_rows();
        rows.truncate(2);
        rows[0][4] = C::N(100_250.0);
        rows[1][4] = C::N(emp2);
        workbook(None, BASIC, &rows)
    };
    let q = "reporter=330102001&period=2026-10";
    let (_, v) = app.upload_as(Some(&town), corrected(60_000.0), q).await;
    let s2 = v["id"].as_i64().unwrap();
    assert_eq!(app.wait(s2).await["status"], "accepted");
    // 12 first values of s1, 1 change, 4 removals (003's four figures).
    assert_eq!(app.count(figures).await, 17);
    let mut second = first.clone();
    second.push(e("001", Some(100_000.0), Some(100_250.0), s2, &town_actor));
    second.push(e("003", Some(38_000.0), None, s2, &town_actor));
    let (_, h) = app.get(&app.admin_key, employees).await;
    assert_eq!(entries(&h), second, "{h}");
    assert_eq!(actions(&h).last().map(String::as_str), Some("fact_removed"));

    // A third upload changes only 002's employees: s2's rows were already
    // audited, so only the change is written and 60,000 stays s1's.
    let (_, v) = app.upload_as(Some(&town), corrected(61_000.0), q).await;
    let s3 = v["id"].as_i64().unwrap();
    assert_eq!(app.wait(s3).await["status"], "accepted");
    assert_eq!(app.count(figures).await, 18);
    second.push(e("002", Some(60_000.0), Some(61_000.0), s3, &town_actor));
    let (_, h) = app.get(&app.admin_key, employees).await;
    assert_eq!(entries(&h), second, "{h}");
    app.stop().await;
}

/// The service's one clock is `reporting.time_zone`: the lock of a month, the
/// deadline of a report and validation's "not in the future" all take the
/// date there, not the UTC date. The test takes a zone whose date differs from
/// UTC's right now (UTC+14 from 10:00 UTC, else UTC-12) and puts a month's
/// last open day on the earlier of the two dates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locks_deadlines_and_validation_follow_the_configured_time_zone() {
    use chrono::Utc;
    use unionstat::config::TimeZone;
    use unionstat::core::Period;

    let now = Utc::now();
    let utc_today = now.date_naive();
    let zone = ["Etc/GMT-14", "Etc/GMT+12"]
        .into_iter()
        .map(|z| TimeZone::parse(z).unwrap())
        .find(|z| now.with_timezone(&z.0).date_naive() != utc_today)
        .expect("UTC+14 or UTC-12 has another date than UTC");
    let zone_today = now.with_timezone(&zone.0).date_naive();
    // A month whose last open day is the earlier of the two dates.
    let earlier = zone_today.min(utc_today);
    let month = Period::of_date(earlier).previous().previous();
    let lock_after = (earlier - month.deadline(10)).num_days() as u32;
    let app = spawn_app_with(|s| {
        s.reporting.time_zone = zone;
        s.reporting.deadline_day = 10;
        s.reporting.lock_after_days = lock_after;
    })
    .await;
    let r = &app.ctx.settings.reporting;
    assert_eq!(r.today(now), zone_today);
    let locked_by_zone = zone_today > earlier;

    // The lock, as completeness shows it and as an upload meets it.
    let town = app.key("330102001", Role::Submitter).await;
    let (_, v) = app
        .get(
            &app.admin_key,
            &format!("/api/v1/orgs/330102/completeness?period={month}"),
        )
        .await;
    let (status, body) = app
        .upload_as(
            Some(&town),
            one_unit("330102001001", 100.0, 90.0),
            &format!("reporter=330102001&period={month}"),
        )
        .await;
    // Validation: the zone's month has begun, the one after it has not.
    let this_month = Period::of_date(zone_today);
    let current = app
        .submit(town_a_sheet(), "330102002", &this_month.to_string())
        .await;
    let next = app
        .submit(town_a_sheet(), "330102002", &this_month.next().to_string())
        .await;
    // The deadline: a report for last month (by the zone) is late from the end
    // of its deadline day there.
    let last_month = this_month.previous();
    let sub = app
        .submit(
            one_unit("330103001001", 100.0, 90.0),
            "330103001",
            &last_month.to_string(),
        )
        .await;
    assert_eq!(sub["status"], "accepted", "{sub}");
    let late_from = r.late_from(last_month);
    let stamp = |t: chrono::DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let status_at = |at: chrono::DateTime<Utc>| {
        let app = &app;
        let id = sub["id"].as_i64().unwrap();
        async move {
            app.set_received_at(id, &stamp(at)).await;
            let (_, v) = app
                .get(
                    &app.admin_key,
                    &format!("/api/v1/orgs/330103/completeness?period={last_month}"),
                )
                .await;
            v["reporters"]
                .as_array()
                .and_then(|r| r.iter().find(|r| r["code"] == "330103001"))
                .map(|r| r["status"].as_str().unwrap_or_default().to_string())
                .unwrap_or_default()
        }
    };
    let on_time = status_at(late_from - chrono::Duration::seconds(1)).await;
    let late = status_at(late_from).await;
    if Utc::now().with_timezone(&zone.0).date_naive() != zone_today
        || Utc::now().date_naive() != utc_today
    {
        // A date changed while the test ran: its expectations no longer hold.
        app.stop().await;
        return;
    }
    assert_eq!(v["approval"]["closes_on"], earlier.to_string(), "{v}");
    assert_eq!(v["approval"]["locked"], locked_by_zone, "{v}");
    if locked_by_zone {
        assert_eq!(status, 403, "{body}");
    } else {
        assert_eq!(status, 202, "{body}");
    }
    assert!(issue(&current, "period_future").is_none(), "{current}");
    assert!(issue(&next, "period_future").is_some(), "{next}");
    // The deadline day ends at midnight in the zone, 14 or 12 hours away from
    // midnight UTC.
    assert_eq!(
        late_from.with_timezone(&zone.0).time(),
        chrono::NaiveTime::MIN
    );
    assert_eq!((on_time.as_str(), late.as_str()), ("on_time", "late"));
    app.stop().await;
}

postgres_twins!(
    locks_deadlines_and_validation_follow_the_configured_time_zone,
    a_closed_month_refuses_a_submitter_and_lets_an_admin_through_with_an_audit_row,
    approval_waits_for_the_children_then_locks_the_subtree_until_an_admin_revokes,
    history_says_who_changed_which_figure_from_which_submission,
    first_values_write_no_audit_row_and_history_still_shows_every_value,
);
