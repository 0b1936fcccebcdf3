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

/// GET without a key; returns (status, header lookup, body text).
async fn fetch(app: &TestApp, path: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let resp = app
        .client
        .get(format!("{}{path}", app.addr))
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.text().await.expect("body"))
}

fn header<'a>(h: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_and_its_assets_are_served_with_their_types_and_a_same_origin_policy() {
    let app = spawn_app().await;
    let (s, h, html) = fetch(&app, "/").await;
    assert_eq!(s, 200);
    assert_eq!(header(&h, "content-type"), "text/html; charset=utf-8");
    let csp = header(&h, "content-security-policy");
    assert!(csp.starts_with("default-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(header(&h, "x-content-type-options"), "nosniff");
    assert!(html.contains(r#"<html lang="zh-CN">"#));
    assert!(html.contains(r#"<script src="/assets/app.js" defer></script>"#));
    assert!(html.contains(r#"href="/assets/app.css""#));

    for (path, ty, needle) in [
        (
            "/assets/app.js",
            "text/javascript; charset=utf-8",
            "/api/v1/me",
        ),
        (
            "/assets/app.css",
            "text/css; charset=utf-8",
            ":focus-visible",
        ),
        ("/assets/icon.svg", "image/svg+xml", "<svg"),
    ] {
        let (s, h, body) = fetch(&app, path).await;
        assert_eq!(s, 200, "{path}");
        assert_eq!(header(&h, "content-type"), ty, "{path}");
        assert!(
            header(&h, "content-security-policy").starts_with("default-src 'self'"),
            "{path}"
        );
        assert!(body.contains(needle), "{path} lacks {needle}");
    }

    // Nothing outside this origin is named: the only absolute URL is the SVG namespace.
    for path in ["/", "/assets/app.js", "/assets/app.css", "/assets/icon.svg"] {
        let (_, _, body) = fetch(&app, path).await;
        let stripped = body.replace("http://www.w3.org/2000/svg", "");
        for scheme in ["http://", "https://", "//fonts.", "@import"] {
            assert!(!stripped.contains(scheme), "{path} names {scheme}");
        }
    }
    // No inline script or style: the policy would block them.
    assert!(!html.contains("<script>") && !html.contains("style="));

    // Unknown assets are 404 JSON like any unknown route; the API is unchanged.
    let (s, _, _) = fetch(&app, "/assets/nope.js").await;
    assert_eq!(s, 404);
    let (s, _, _) = fetch(&app, "/api/v1/orgs/330000/indicators?period=2026-10").await;
    assert_eq!(s, 401);
    app.stop().await;
}
