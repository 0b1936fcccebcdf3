//! Kept indicators answers (`server.answer_cache_mb`): a repeated request is
//! served the kept bytes, and every change an answer is made of — a
//! correction, an approval, a tree change — is seen by the next request.

use serde_json::Value;
use unionstat::store::keys::Role;

use crate::helpers::*;

/// `unionstat_answer_cache_total{outcome}` of the app's process.
fn cache_count(app: &TestApp, outcome: &str) -> u64 {
    app.ctx
        .metrics
        .registry
        .gather()
        .iter()
        .filter(|f| f.name() == "unionstat_answer_cache_total")
        .flat_map(|f| f.get_metric().iter())
        .filter(|m| {
            m.get_label()
                .iter()
                .any(|l| l.name() == "outcome" && l.value() == outcome)
        })
        .map(|m| m.get_counter().value() as u64)
        .sum()
}

/// (hit, miss, bypass) so far.
fn counts(app: &TestApp) -> (u64, u64, u64) {
    (
        cache_count(app, "hit"),
        cache_count(app, "miss"),
        cache_count(app, "bypass"),
    )
}

async fn county(app: &TestApp, key: &str, tree: &str) -> Value {
    let (status, body) = app
        .get(
            key,
            &format!("/api/v1/orgs/330102/indicators?period=2026-10&children=true&tree={tree}"),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

fn child<'a>(v: &'a Value, code: &str) -> &'a Value {
    v["children"]
        .as_array()
        .expect("children")
        .iter()
        .find(|c| c["org"] == code)
        .unwrap_or_else(|| panic!("no child {code} in {v}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_answer_is_served_until_a_correction_an_approval_or_a_tree_change() {
    let app = spawn_app().await;
    let viewer = app.key("330102", Role::Viewer).await;
    let town_a = app.key("330102001", Role::Submitter).await;
    let first = app.submit(town_a_sheet(), "330102001", "2026-10").await;
    assert_eq!(first["status"], "accepted", "{first}");

    // Made once, then served from the cache: the same numbers.
    let made = county(&app, &viewer, "as_reported").await;
    assert_eq!(metric(&made, "employees"), Some(198_000.0));
    assert_eq!(
        metric(child(&made, "330102001"), "employees"),
        Some(198_000.0)
    );
    assert_eq!(counts(&app), (0, 1, 0));
    let kept = county(&app, &viewer, "as_reported").await;
    assert_eq!(kept, made);
    assert_eq!(counts(&app), (1, 1, 0));
    // Another caller who may see the node gets the same kept answer.
    let again = county(&app, &app.admin_key, "as_reported").await;
    assert_eq!(again, made);
    assert_eq!(counts(&app), (2, 1, 0));

    // A correction (unit 甲 100,000 → 100,500 employees) is seen at once.
    let corrected = app
        .submit(town_a_sheet_with(0, 100_500.0), "330102001", "2026-10")
        .await;
    assert_eq!(corrected["status"], "accepted", "{corrected}");
    let v = county(&app, &viewer, "as_reported").await;
    assert_eq!(metric(&v, "employees"), Some(198_500.0));
    assert_eq!(metric(child(&v, "330102001"), "employees"), Some(198_500.0));
    assert_eq!(counts(&app), (2, 2, 0));

    // The town's approval of its month shows on its child row at once.
    assert_eq!(child(&v, "330102001")["approval"]["approved"], false, "{v}");
    let resp = app
        .client
        .post(format!(
            "{}/api/v1/orgs/330102001/approval?period=2026-10",
            app.addr
        ))
        .bearer_auth(&town_a)
        .send()
        .await
        .expect("approval");
    assert_eq!(resp.status().as_u16(), 200);
    let v = county(&app, &viewer, "as_reported").await;
    assert_eq!(child(&v, "330102001")["approval"]["approved"], true, "{v}");
    assert_eq!(counts(&app), (2, 3, 0));

    // Restated under the current tree, before and after 丙 (38,000 employees)
    // moves to county 330103 from 2026-11.
    let before = county(&app, &viewer, "current").await;
    assert_eq!(metric(&before, "employees"), Some(198_500.0));
    assert_eq!(county(&app, &viewer, "current").await, before);
    assert_eq!(counts(&app), (3, 4, 0));
    move_unit(&app, "330102001003", "330103001", "2026-11").await;
    let after = county(&app, &viewer, "current").await;
    assert_eq!(metric(&after, "employees"), Some(160_500.0));
    assert_eq!(
        metric(child(&after, "330102001"), "employees"),
        Some(160_500.0)
    );
    // As reported, October keeps 丙 in the county. A month before the
    // newest tree change has children the caller may no longer see, so that
    // answer is made for the caller and not kept.
    let reported = county(&app, &viewer, "as_reported").await;
    assert_eq!(metric(&reported, "employees"), Some(198_500.0));
    assert_eq!(counts(&app), (3, 5, 1));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_cache_off_every_answer_is_made_anew() {
    let app = spawn_app_with(|s| s.server.answer_cache_mb = 0).await;
    let viewer = app.key("330102", Role::Viewer).await;
    let sub = app.submit(town_a_sheet(), "330102001", "2026-10").await;
    assert_eq!(sub["status"], "accepted", "{sub}");
    let one = county(&app, &viewer, "as_reported").await;
    let two = county(&app, &viewer, "as_reported").await;
    assert_eq!(one, two);
    assert_eq!(metric(&two, "members"), Some(196_000.0));
    assert_eq!(counts(&app), (0, 0, 2));
    app.stop().await;
}

postgres_twins!(a_kept_answer_is_served_until_a_correction_an_approval_or_a_tree_change);
