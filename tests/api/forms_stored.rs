//! A stored upload of a form: the form its uploader names reaches the ingest
//! job, which refuses a workbook of another form as a dry run does; the
//! form's roll-ups are verified and rebuilt like the months'.

use crate::forms::issues_of;
use crate::helpers::*;

/// Stores Template v1 of town A named as the annual survey and waits for
/// its verdict: rejected.
pub(crate) async fn monthly_named_as_survey(app: &TestApp) -> serde_json::Value {
    let (status, body) = app
        .upload_as(Some(&app.admin_key), town_a_sheet(), "form=annual_survey")
        .await;
    assert_eq!(status, 202, "{body}");
    let done = app.wait(body["id"].as_i64().unwrap()).await;
    assert_eq!(done["status"], "rejected", "{done}");
    done
}

#[tokio::test]
async fn a_stored_upload_named_as_the_annual_survey_but_monthly_is_rejected_as_form_mismatch() {
    let app = spawn_app().await;
    let done = monthly_named_as_survey(&app).await;
    let refusal = issues_of(&done, "form_mismatch");
    assert_eq!(refusal.len(), 1, "{done}");
    assert_eq!(
        refusal[0]["message"]["zh"],
        "上传时指定的报表为工会统计年报·基层工会调查表（annual_survey），但该工作簿是基层工会情况月报（monthly）。请选择正确的报表，或上传正确的文件。"
    );
    assert!(refusal[0]["message"]["en"]
        .as_str()
        .unwrap()
        .contains("names the form Annual union statistics: grassroots union survey (annual_survey) but the workbook is Monthly return of grassroots unions (monthly)"));
    // Nothing kept.
    assert_eq!(app.count("SELECT COUNT(*) FROM unit_figures").await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM submissions WHERE req_form = 'annual_survey'")
            .await,
        1
    );
    // The same bytes named as nothing (or as monthly) are another upload,
    // accepted: its three units' rows under 2026-10.
    let accepted = app.submit(town_a_sheet(), "330102001", "2026-10").await;
    assert_ne!(accepted["id"], done["id"]);
    assert_eq!(accepted["status"], "accepted", "{accepted}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM unit_figures WHERE period = 202610")
            .await,
        3
    );
    app.stop().await;
}

/// The county's annual survey roll-up of 2026SY: (members, units reporting them).
async fn county_members(app: &TestApp) -> (i64, i64) {
    let (members, _, units, _) = crate::forms::county_survey(app).await;
    (members, units)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollup_verify_and_rebuild_cover_the_forms_roll_ups() {
    let app = spawn_app().await;
    for (town, rows) in [
        (
            ("330102001", "湖滨街道总工会"),
            &[
                ("330102001001", "甲公司工会", 430, 200, 520, "单独"),
                ("330102001002", "乙公司工会", 260, 100, 300, "单独"),
            ][..],
        ),
        (
            ("330102002", "清波街道总工会"),
            &[("330102002001", "丁公司工会", 90, 40, 100, "单独")][..],
        ),
    ] {
        crate::forms::store_survey(&app, crate::forms::annual_of(town, rows)).await;
    }
    // A county's own service row and its town's, both in the county's roll-up.
    crate::forms::store_service(&app, "330102", "上城区总工会", 66).await;
    crate::forms::store_service(&app, "330102001", "湖滨街道总工会", 10).await;
    assert_eq!(county_members(&app).await, (780, 3));
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (code, out) = crate::review::cli(&app, d, &["rollup", "verify"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("roll-ups verified"), "{out}");

    // Break the county's survey roll-up and the province's service roll-up by
    // hand: verify names both under their form and period, and fails.
    let slots = app.ctx.store.form_slots().await;
    let survey = slots
        .key("annual_survey", &"2026SY".parse().unwrap())
        .unwrap();
    let service = slots
        .key("service_half", &"2026H1".parse().unwrap())
        .unwrap();
    let corrupt = |sql: String| {
        let store = app.ctx.store.clone();
        async move { store.first_row_i64(&sql).await.unwrap() }
    };
    assert_eq!(
        corrupt(format!(
            "UPDATE rollup_figures SET s_sy_members = s_sy_members + 1 WHERE period = {survey} AND org_id = (SELECT id FROM org_ids WHERE code = '330102') RETURNING s_sy_members"
        ))
        .await,
        vec![Some(781)]
    );
    assert_eq!(
        corrupt(format!(
            "UPDATE rollup_figures SET reported_units = reported_units + 1 WHERE period = {service} AND org_id = (SELECT id FROM org_ids WHERE code = '330000') RETURNING reported_units"
        ))
        .await,
        vec![Some(3)]
    );
    let (code, out) = crate::review::cli(&app, d, &["rollup", "verify"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("2 mismatch(es)"), "{out}");
    assert!(
        out.contains(
            "rollup 330102 annual_survey 2026SY sy_members (as reported): full Some((780, 3)) incremental Some((781, 3))"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "coverage 330000 service_half 2026H1 (as reported): full (2, 2) incremental (3, 2)"
        ),
        "{out}"
    );
    // Rebuild recomputes them from the unit rows; verify passes again.
    let (code, out) = crate::review::cli(&app, d, &["rollup", "rebuild"]);
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = crate::review::cli(&app, d, &["rollup", "verify"]);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(county_members(&app).await, (780, 3));
    app.stop().await;
}

postgres_twins!(
    a_stored_upload_named_as_the_annual_survey_but_monthly_is_rejected_as_form_mismatch,
    rollup_verify_and_rebuild_cover_the_forms_roll_ups,
);
