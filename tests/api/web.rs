//! The web page: `GET /api/v1/me`, the page and its assets, and a real browser
//! driving uploads and the roll-up browser.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{Datelike, Months};
use unionstat::store::keys::Role;

use crate::helpers::*;
use crate::webdriver::{Browser, BrowserTools};

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

/// The month before this one, the page's default period.
fn last_month() -> String {
    let d = chrono::Local::now()
        .date_naive()
        .with_day(1)
        .and_then(|d| d.checked_sub_months(Months::new(1)))
        .expect("a month before this one");
    format!("{:04}-{:02}", d.year(), d.month())
}

/// Screenshots are kept as test artefacts under `target/web-screenshots/`.
fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join("web-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

const WAIT: Duration = Duration::from_secs(30);

/// The text of the first element matching `css`, once it matches.
/// The text of the element `css` names; found again when the page re-rendered
/// it between the look-up and the read (a stale element reference).
async fn text_of(b: &Browser, css: &str) -> String {
    let mut tries = 0;
    loop {
        let e = b.wait(css, WAIT).await.expect("element");
        match b.text(&e).await {
            Ok(t) => return t,
            Err(err) if tries < 20 && format!("{err:#}").contains("stale element") => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(err) => panic!("text of {css}: {err:#}"),
        }
    }
}

/// Waits until the element's text is `want` (the page re-renders after a click).
async fn wait_text(b: &Browser, css: &str, want: &str) {
    let started = std::time::Instant::now();
    loop {
        let got = text_of(b, css).await;
        if got == want || started.elapsed() > WAIT {
            assert_eq!(got, want, "text of {css}");
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn click(b: &Browser, css: &str) {
    let mut tries = 0;
    loop {
        let e = b.wait(css, WAIT).await.expect("element");
        match b.click(&e).await {
            Ok(_) => return,
            Err(err) if tries < 20 && format!("{err:#}").contains("stale element") => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(err) => panic!("click {css}: {err:#}"),
        }
    }
}

async fn upload(b: &Browser, reporter: &str, file: &Path) {
    let input = b.wait("#reporter", WAIT).await.expect("reporter field");
    b.clear(&input).await.expect("clear");
    b.send_keys(&input, reporter).await.expect("type reporter");
    let picker = b.wait("#file", WAIT).await.expect("file input");
    b.send_keys(&picker, &file.display().to_string())
        .await
        .expect("choose file");
}

/// The submission id the page shows on the bad upload's card.
async fn bad_card_id(b: &Browser) -> String {
    let e = b
        .wait(r#"#uploads li[data-file="bad.xlsx"]"#, WAIT)
        .await
        .expect("card");
    b.attribute(&e, "data-id")
        .await
        .expect("data-id")
        .expect("the card names its submission")
}

/// Waits until the page's status line (read by screen readers) says `needle`.
async fn wait_status(b: &Browser, needle: &str) {
    let started = std::time::Instant::now();
    loop {
        let v = b
            .execute("return document.getElementById('status').textContent")
            .await
            .expect("status");
        if v.as_str().is_some_and(|s| s.contains(needle)) {
            return;
        }
        assert!(
            started.elapsed() < WAIT,
            "status never said {needle}; it says {v}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_a_clerk_sees_both_verdicts_and_staff_read_the_county_membership_rate() {
    let Some(tools) = BrowserTools::find("web::in_a_browser") else {
        return;
    };
    let app = spawn_app().await;
    let period = last_month();
    // The other county reports through the API, so the city's rate differs from
    // the county's and the test can tell which node the page shows.
    let other = workbook(
        None,
        BASIC,
        &[basic_row(
            "330103001001",
            "己公司工会",
            5.0,
            4.0,
            1000.0,
            900.0,
        )],
    );
    assert_eq!(
        app.submit(other, "330103001", &period).await["status"],
        "accepted"
    );
    let key = app.key("330000", Role::Submitter).await;
    let files = tempfile::tempdir().expect("temp dir");
    let good = files.path().join("good.xlsx");
    std::fs::write(&good, town_a_sheet()).expect("write good.xlsx");
    // Row 4 (the second unit) has 75 members of 70 employees: F4 is wrong.
    let bad = files.path().join("bad.xlsx");
    let bad_sheet = workbook(
        None,
        BASIC,
        &[
            basic_row("330102002001", "丁公司工会", 3.0, 2.0, 500.0, 450.0),
            basic_row("330102002002", "戊公司工会", 1.0, 1.0, 70.0, 75.0),
        ],
    );
    std::fs::write(&bad, bad_sheet).expect("write bad.xlsx");
    let shots = screenshot_dir();

    let b = Browser::start(&tools, 1280, 800)
        .await
        .expect("headless Chromium");
    b.goto(&format!("{}/", app.addr)).await.expect("open page");

    // Sign in.
    let field = b.wait("#key", WAIT).await.expect("key field");
    b.send_keys(&field, &key).await.expect("type key");
    click(&b, "#signin").await;
    let who = text_of(&b, "#who:not([hidden])").await;
    assert!(
        who.contains("示例省总工会") && who.contains("330000"),
        "{who}"
    );
    let period_shown = b
        .execute("return document.getElementById('period').value")
        .await
        .expect("period");
    assert_eq!(period_shown, period.as_str());

    // A good workbook is accepted; a bad one is rejected with its cell named.
    upload(&b, "330102001", &good).await;
    let good_card = text_of(
        &b,
        r#"#uploads li[data-file="good.xlsx"][data-status="accepted"]"#,
    )
    .await;
    assert!(good_card.contains("已接受"), "{good_card}");
    assert!(good_card.contains("0 个错误"), "{good_card}");
    upload(&b, "330102002", &bad).await;
    let bad_card = text_of(
        &b,
        r#"#uploads li[data-file="bad.xlsx"][data-status="rejected"]"#,
    )
    .await;
    assert!(bad_card.contains("已退回"), "{bad_card}");
    assert!(bad_card.contains("members_le_employees"), "{bad_card}");
    assert!(bad_card.contains("基层工会情况!F4"), "{bad_card}");
    assert!(bad_card.contains("75"), "{bad_card}");
    let bad_cell = text_of(
        &b,
        r#"#uploads li[data-file="bad.xlsx"] details[data-rule="members_le_employees"] tr.issue[data-cell="F4"] .msg"#,
    )
    .await;
    assert!(bad_cell.contains("不能大于"), "{bad_cell}");
    // The annotated workbook and the blank template download with the key.
    click(
        &b,
        r#"#uploads li[data-file="bad.xlsx"][data-status="rejected"] button.annotated"#,
    )
    .await;
    let id = bad_card_id(&b).await;
    wait_status(&b, &format!("submission_{id}_annotated.xlsx")).await;
    click(&b, "#template").await;
    wait_status(&b, &format!("330102002_{period}.xlsx")).await;
    b.execute(r#"document.querySelector('#uploads li[data-file="bad.xlsx"]').scrollIntoView()"#)
        .await
        .expect("scroll");
    b.screenshot(&shots.join("01-uploads.png"))
        .await
        .expect("screenshot");

    // Roll-ups: province → city → county, reading the county's 入会率.
    let county = app.indicators("330102", &period).await;
    let rate = county["indicators"]["membership_rate"]["value"]
        .as_f64()
        .expect("county membership rate");
    assert!((rate - 196_000.0 / 198_000.0).abs() < 1e-4, "{rate}");
    let shown = format!("{:.2}%", rate * 100.0);

    click(&b, "#tab-rollups").await;
    b.wait(r#"#node-cards[data-org="330000"]"#, WAIT)
        .await
        .expect("province shown");
    click(&b, r#"#children tr[data-code="330100"] button.drill"#).await;
    b.wait(r#"#node-cards[data-org="330100"]"#, WAIT)
        .await
        .expect("city shown");
    let in_city_table = text_of(
        &b,
        r#"#children tr[data-code="330102"] td.membership_rate .value"#,
    )
    .await;
    assert_eq!(in_city_table, shown);
    click(&b, r#"#children tr[data-code="330102"] button.drill"#).await;
    let tile_css = r#"#node-cards[data-org="330102"] #node-membership_rate .value"#;
    assert_eq!(text_of(&b, tile_css).await, shown);
    let tile = b.wait(tile_css, WAIT).await.expect("county shown");
    let raw = b.attribute(&tile, "data-value").await.expect("data-value");
    assert_eq!(raw.as_deref().map(str::parse::<f64>), Some(Ok(rate)));
    assert_eq!(text_of(&b, "#node-name").await, "上城区总工会");
    let crumbs = text_of(&b, "#crumbs").await;
    assert!(
        crumbs.contains("示例省总工会")
            && crumbs.contains("示例市总工会")
            && crumbs.contains("上城区总工会"),
        "{crumbs}"
    );
    // Town A reported (on time or late, as the API says for today), town B's only
    // upload was rejected.
    let (_, comp) = app
        .get(
            &key,
            &format!("/api/v1/orgs/330102/completeness?period={period}"),
        )
        .await;
    let town_a_status = comp["reporters"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["code"] == "330102001"))
        .map(|r| r["status"].clone())
        .expect("town A in completeness");
    let town_a = text_of(&b, r#"#children tr[data-code="330102001"] td.reporting"#).await;
    match town_a_status.as_str() {
        Some("on_time") => assert_eq!(town_a, "按时"),
        Some("late") => assert_eq!(town_a, "逾期"),
        other => panic!("town A is {other:?}"),
    }
    let town_b = text_of(&b, r#"#children tr[data-code="330102002"] td.reporting"#).await;
    assert_eq!(town_b, "被退回");
    // The monthly series has this month's point (from the series endpoint, or
    // month by month where the server has none).
    b.wait(
        &format!(r#"#chart svg circle[data-period="{period}"]"#),
        WAIT,
    )
    .await
    .expect("series chart");
    b.screenshot(&shots.join("02-county.png"))
        .await
        .expect("screenshot");
    b.execute("document.getElementById('chart').scrollIntoView()")
        .await
        .expect("scroll");
    b.screenshot(&shots.join("02-county-series.png"))
        .await
        .expect("screenshot");

    // English, and back up the breadcrumb to the province.
    click(&b, "#lang").await;
    wait_text(&b, "#tab-rollups", "Roll-ups").await;
    wait_text(
        &b,
        r#"#node-cards[data-org="330102"] #node-membership_rate .tile-label"#,
        "Membership rate",
    )
    .await;
    click(&b, r#"#crumbs li[data-code="330000"] button"#).await;
    b.wait(r#"#node-cards[data-org="330000"]"#, WAIT)
        .await
        .expect("province shown");
    b.screenshot(&shots.join("03-english-province.png"))
        .await
        .expect("screenshot");

    // At 1280×800 and at phone width nothing is wider than the window (wide
    // tables scroll inside their box).
    let fits = "return document.documentElement.scrollWidth <= window.innerWidth";
    assert_eq!(b.execute(fits).await.expect("layout"), true);
    b.set_window(390, 844).await.expect("resize");
    assert_eq!(b.execute(fits).await.expect("layout"), true);
    click(&b, "#tab-upload").await;
    assert_eq!(b.execute(fits).await.expect("layout"), true);
    b.screenshot(&shots.join("04-phone-upload.png"))
        .await
        .expect("screenshot");
    click(&b, "#tab-rollups").await;
    b.wait(r#"#node-cards[data-org="330000"]"#, WAIT)
        .await
        .expect("province shown");
    b.screenshot(&shots.join("05-phone-rollups.png"))
        .await
        .expect("screenshot");

    // Nothing the page did broke its own Content-Security-Policy or threw.
    let console = b.console().await.expect("browser console");
    let bad: Vec<_> = console
        .iter()
        .filter(|e| {
            e["source"] == "javascript"
                || e["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("Content Security Policy"))
        })
        .collect();
    assert!(bad.is_empty(), "{bad:?}");
    b.quit().await;
    app.stop().await;
}

postgres_twins!(
    me_names_the_keys_org_unit_and_role,
    the_page_and_its_assets_are_served_with_their_types_and_a_same_origin_policy,
    in_a_browser_a_clerk_sees_both_verdicts_and_staff_read_the_county_membership_rate,
);
