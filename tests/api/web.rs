//! The web page: `GET /api/v1/me`, the page and its assets, and a real browser
//! driving uploads and the roll-up browser.

use unionstat::store::keys::Role;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn me_names_the_keys_org_unit_and_role() {
    let app = spawn_app().await;
    let town = app.key("330102001", Role::Submitter).await;
    let viewer = app.key("330102", Role::Viewer).await;

    let (s, body) = app.get(&town, "/api/v1/me").await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["org"], "330102001");
    assert_eq!(body["name"], "湖滨街道总工会");
    assert_eq!(body["kind"], "federation");
    assert_eq!(body["expected_to_report"], true);
    assert_eq!(body["role"], "submitter");

    let (s, body) = app.get(&viewer, "/api/v1/me").await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["org"], "330102");
    assert_eq!(body["expected_to_report"], false);
    assert_eq!(body["role"], "viewer");

    let (s, body) = app.get(&app.admin_key, "/api/v1/me").await;
    assert_eq!(
        (s, &body["org"], &body["role"]),
        (200, &"330000".into(), &"admin".into())
    );

    let (s, _) = app.get("us_not_a_key", "/api/v1/me").await;
    assert_eq!(s, 401);
    let resp = app
        .client
        .get(format!("{}/api/v1/me", app.addr))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status().as_u16(), 401);
    app.stop().await;
}
