//! The web page: `GET /api/v1/me`, the page and its assets, and a real browser
//! signing people in and out, driving uploads and the roll-up browser.

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
    // A key is named by its label (a person by login and name: see the browser tests).
    assert_eq!(
        body["actor"],
        serde_json::json!({"kind": "key", "label": "test 330102001 submitter"})
    );

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
            "/api/v1/session",
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
    // People sign in with a login and password; the page asks for no key.
    assert!(html.contains(r#"autocomplete="current-password""#));
    assert!(!html.contains("API 密钥"));
    // Without the script the form still posts: the password never goes into a URL.
    assert!(html.contains(r#"<form id="signin-form" method="post""#));
    let (_, _, js) = fetch(&app, "/assets/app.js").await;
    assert!(!js.contains("Authorization") && !js.contains("Bearer"));
    assert!(js.contains("X-CSRF-Token"));

    // Unknown assets are 404 JSON like any unknown route; the API is unchanged.
    let (s, _, _) = fetch(&app, "/assets/nope.js").await;
    assert_eq!(s, 404);
    let (s, _, _) = fetch(&app, "/api/v1/orgs/330000/indicators?period=2026-10").await;
    assert_eq!(s, 401);
    app.stop().await;
}

/// The month before this one, the page's default period.
pub(crate) fn last_month() -> String {
    let d = chrono::Local::now()
        .date_naive()
        .with_day(1)
        .and_then(|d| d.checked_sub_months(Months::new(1)))
        .expect("a month before this one");
    format!("{:04}-{:02}", d.year(), d.month())
}

/// Screenshots are kept as test artefacts under `target/web-screenshots/`.
pub(crate) fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join("web-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

pub(crate) const WAIT: Duration = Duration::from_secs(30);

/// The text of the element `css` names; found again when the page re-rendered
/// it between the look-up and the read (a stale element reference).
pub(crate) async fn text_of(b: &Browser, css: &str) -> String {
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

/// The month the page's period field shows.
pub(crate) async fn page_period(b: &Browser) -> String {
    let v = b
        .execute("return document.getElementById('period').value")
        .await
        .expect("period");
    v.as_str().unwrap_or_default().to_string()
}

/// Waits until the element's text is `want` (the page re-renders after a click).
pub(crate) async fn wait_text(b: &Browser, css: &str, want: &str) {
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

pub(crate) async fn click(b: &Browser, css: &str) {
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

/// Types a login and password into the sign-in form (once it shows) and sends it.
pub(crate) async fn sign_in(b: &Browser, login: &str, password: &str) {
    let field = b
        .wait("#signin-view:not([hidden]) #login", WAIT)
        .await
        .expect("sign-in form");
    b.clear(&field).await.expect("clear login");
    b.send_keys(&field, login).await.expect("type login");
    let field = b.wait("#password", WAIT).await.expect("password field");
    b.clear(&field).await.expect("clear password");
    b.send_keys(&field, password).await.expect("type password");
    click(b, "#signin").await;
}

/// The page's own script value of `expr`.
pub(crate) async fn js(b: &Browser, expr: &str) -> serde_json::Value {
    b.execute(&format!("return {expr}")).await.expect(expr)
}

pub(crate) async fn upload(b: &Browser, reporter: &str, file: &Path) {
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
        .wait(r#"#uploads li[data-file="bad.xlsx"][data-id]"#, WAIT)
        .await
        .expect("card");
    b.attribute(&e, "data-id")
        .await
        .expect("data-id")
        .expect("the card names its submission")
}

/// Waits until the page's status line (read by screen readers) says `needle`.
pub(crate) async fn wait_status(b: &Browser, needle: &str) {
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
    app.create_user(
        "wangfang",
        "王芳",
        "330000",
        Role::Submitter,
        "province-clerk-2026",
    )
    .await;
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

    // Sign in as a person: the header names them, their unit and their role.
    sign_in(&b, "wangfang", "province-clerk-2026").await;
    let who = text_of(&b, "#who:not([hidden])").await;
    assert!(
        who.contains("王芳") && who.contains("示例省总工会") && who.contains("330000"),
        "{who}"
    );
    assert_eq!(text_of(&b, "#who .who-role").await, "上报");
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
    // Issues come under their rule's short title, not the rule's code.
    assert!(bad_card.contains("会员人数不超过职工人数"), "{bad_card}");
    assert!(!bad_card.contains("members_le_employees"), "{bad_card}");
    assert!(bad_card.contains("基层工会情况!F4"), "{bad_card}");
    assert!(bad_card.contains("75"), "{bad_card}");
    let bad_cell = text_of(
        &b,
        r#"#uploads li[data-file="bad.xlsx"] details[data-rule="members_le_employees"] tr.issue[data-cell="F4"] .msg"#,
    )
    .await;
    assert!(bad_cell.contains("不能大于"), "{bad_cell}");
    // The row's unit, in its own column.
    let bad_unit = text_of(
        &b,
        r#"#uploads li[data-file="bad.xlsx"] details[data-rule="members_le_employees"] tr.issue[data-cell="F4"] .unit"#,
    )
    .await;
    assert_eq!(bad_unit, "330102002002 戊公司工会");
    // A dry run (a write like the uploads: it carries the CSRF token) checks
    // without storing.
    click(&b, "#dry-run").await;
    let before = app.count("SELECT COUNT(*) FROM submissions").await;
    upload(&b, "330102002", &bad).await;
    let dry_card = text_of(
        &b,
        r#"#uploads li[data-file="bad.xlsx"]:not([data-id])[data-status="rejected"]"#,
    )
    .await;
    assert!(dry_card.contains("检查未通过"), "{dry_card}");
    assert!(dry_card.contains("基层工会情况!F4"), "{dry_card}");
    assert_eq!(app.count("SELECT COUNT(*) FROM submissions").await, before);
    click(&b, "#dry-run").await;
    // The annotated workbook and the blank template download with the session.
    click(
        &b,
        r#"#uploads li[data-file="bad.xlsx"][data-status="rejected"] button.annotated"#,
    )
    .await;
    let id = bad_card_id(&b).await;
    wait_status(&b, &format!("submission_{id}_annotated.xlsx")).await;
    click(&b, "#template").await;
    wait_status(&b, &format!("330102002_{period}.xlsx")).await;
    b.execute(
        r#"document.querySelector('#uploads li[data-file="bad.xlsx"][data-id]').scrollIntoView()"#,
    )
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

    // 丙 (38,000 employees, 37,500 members) moves to the other county from
    // this month on: the month as reported keeps it; the current tree, chosen
    // on the page, restates the county without it and says what moved.
    let this_month: unionstat::core::Period =
        period.parse::<unionstat::core::Period>().unwrap().next();
    unionstat::flows::tree_changes::move_unit(
        &app.ctx,
        "330102001003",
        "330103001",
        this_month,
        &unionstat::flows::tree_changes::Changer {
            actor: "test".into(),
            reason: None,
        },
    )
    .await
    .expect("move");
    // Read again (the switch's change event reloads the roll-ups).
    b.execute("document.getElementById('tree').dispatchEvent(new Event('change'));")
        .await
        .expect("reload");
    wait_text(
        &b,
        "#tree-note",
        &format!("{period} 以来组织树有调整：本级调入 0 个基层工会，调出 1 个。"),
    )
    .await;
    assert_eq!(text_of(&b, tile_css).await, shown);
    b.execute("const s = document.getElementById('tree'); s.value = 'current'; s.dispatchEvent(new Event('change'));")
        .await
        .expect("switch the tree");
    let restated = format!("{:.2}%", 158_500.0 / 160_000.0 * 100.0);
    wait_text(&b, tile_css, &restated).await;
    b.execute("window.scrollTo(0, 0)").await.expect("scroll");
    b.screenshot(&shots.join("02-county-current-tree.png"))
        .await
        .expect("screenshot");
    b.execute("const s = document.getElementById('tree'); s.value = 'as_reported'; s.dispatchEvent(new Event('change'));")
        .await
        .expect("switch the tree back");
    wait_text(&b, tile_css, &shown).await;

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
    let bad = console_errors(&b).await;
    assert!(bad.is_empty(), "{bad:?}");
    b.quit().await;
    app.stop().await;
}

/// A request to the API with a session cookie (and, for writes, a CSRF token);
/// returns (status, body).
async fn with_cookie(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    cookie: &str,
    csrf: Option<&str>,
) -> (u16, serde_json::Value) {
    let mut req = app
        .client
        .request(method, format!("{}{path}", app.addr))
        .header("Cookie", format!("unionstat_session={cookie}"));
    if let Some(token) = csrf {
        req = req.header("X-CSRF-Token", token);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(serde_json::Value::Null))
}

/// What the page's script can read of the session: the cookie jar it sees and
/// every key and value in its storage.
async fn what_the_script_sees(b: &Browser) -> String {
    js(
        b,
        "JSON.stringify({cookie: document.cookie, \
         session: Object.entries(sessionStorage), local: Object.entries(localStorage)})",
    )
    .await
    .as_str()
    .unwrap_or_default()
    .to_string()
}

/// Waits until the page shows the sign-in form again and returns its notice.
async fn back_at_sign_in(b: &Browser) -> String {
    b.wait("#signin-view:not([hidden])", WAIT)
        .await
        .expect("the sign-in form again");
    assert_eq!(
        js(b, "document.getElementById('app-view').hidden").await,
        true
    );
    assert_eq!(js(b, "document.getElementById('who').hidden").await, true);
    text_of(b, "#signin-notice:not([hidden])").await
}

/// Ends a page test: no script error or CSP report in the console, then the
/// browser closed.
pub(crate) async fn quit_clean(b: Browser) {
    let bad = console_errors(&b).await;
    assert!(bad.is_empty(), "{bad:?}");
    b.quit().await;
}

/// The JavaScript errors and Content-Security-Policy reports in the console.
pub(crate) async fn console_errors(b: &Browser) -> Vec<serde_json::Value> {
    let console = b.console().await.expect("browser console");
    console
        .into_iter()
        .filter(|e| {
            e["source"] == "javascript"
                || e["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("Content Security Policy"))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_a_person_signs_in_uploads_signs_out_and_the_old_cookie_is_refused() {
    let Some(tools) = BrowserTools::find("web::in_a_browser_a_person_signs_in") else {
        return;
    };
    // spawn_app leaves months open (reporting.lock_after_days = 0): last month
    // takes uploads.
    let app = spawn_app().await;
    let period = last_month();
    let password = "hubin-clerk-2026";
    app.create_user("zhangsan", "张三", "330102001", Role::Submitter, password)
        .await;
    let files = tempfile::tempdir().expect("temp dir");
    let good = files.path().join("good.xlsx");
    std::fs::write(&good, town_a_sheet()).expect("write good.xlsx");
    let shots = screenshot_dir();

    let b = Browser::start(&tools, 1280, 800)
        .await
        .expect("headless Chromium");
    b.goto(&format!("{}/", app.addr)).await.expect("open page");

    // A wrong password is refused in words, and the field is emptied.
    sign_in(&b, "zhangsan", "not-the-password").await;
    wait_text(&b, "#signin-error", "登录名或密码不正确。").await;
    assert_eq!(
        js(&b, "document.getElementById('password').value").await,
        ""
    );
    assert_eq!(
        js(&b, "document.getElementById('app-view').hidden").await,
        true
    );
    b.screenshot(&shots.join("06-signin-wrong-password.png"))
        .await
        .expect("screenshot");

    // The right one signs in: name, unit, code and role in the header.
    sign_in(&b, "zhangsan", password).await;
    b.wait("#app-view:not([hidden])", WAIT)
        .await
        .expect("signed in");
    assert_eq!(text_of(&b, "#who .who-person").await, "张三");
    assert_eq!(text_of(&b, "#who .who-org").await, "湖滨街道总工会");
    assert_eq!(text_of(&b, "#who .who-code").await, "330102001");
    assert_eq!(text_of(&b, "#who .who-role").await, "上报");
    assert_eq!(text_of(&b, "#signin-error").await, "");
    // The town reports itself: the reporter field starts with its code.
    assert_eq!(
        js(&b, "document.getElementById('reporter').value").await,
        "330102001"
    );

    // The session is an HttpOnly, SameSite=Strict cookie the script cannot read,
    // and nothing secret is kept in the page's storage.
    let cookie = b
        .cookie("unionstat_session")
        .await
        .expect("cookies")
        .expect("a session cookie");
    assert_eq!(cookie["httpOnly"], true, "{cookie}");
    assert_eq!(cookie["sameSite"], "Strict", "{cookie}");
    let session = cookie["value"].as_str().expect("cookie value").to_string();
    assert!(session.len() >= 20, "{session}");
    let seen = what_the_script_sees(&b).await;
    assert!(!seen.contains(&session), "{seen}");
    assert!(!seen.contains(password), "{seen}");
    assert!(!seen.contains("csrf"), "{seen}");

    // The API knows the cookie as this person; a write without the CSRF token
    // is refused, so the page's accepted upload below shows it sends the token.
    let (s, me) = with_cookie(&app, reqwest::Method::GET, "/api/v1/me", &session, None).await;
    assert_eq!(s, 200, "{me}");
    assert_eq!(me["actor"]["kind"], "user");
    assert_eq!(me["actor"]["login"], "zhangsan");
    assert_eq!(me["actor"]["name"], "张三");
    assert_eq!(me["org"], "330102001");
    let before = app.count("SELECT COUNT(*) FROM submissions").await;
    let (s, body) = with_cookie(
        &app,
        reqwest::Method::POST,
        &format!("/api/v1/submissions?reporter=330102001&period={period}&dry_run=true"),
        &session,
        None,
    )
    .await;
    assert_eq!(s, 403, "{body}");

    // An upload from the page is accepted, and the API has it under the town.
    upload(&b, "330102001", &good).await;
    let card = text_of(
        &b,
        r#"#uploads li[data-file="good.xlsx"][data-status="accepted"]"#,
    )
    .await;
    assert!(card.contains("已接受"), "{card}");
    assert!(card.contains("0 个错误"), "{card}");
    let e = b
        .wait(r#"#uploads li[data-file="good.xlsx"][data-id]"#, WAIT)
        .await
        .expect("card");
    let id = b
        .attribute(&e, "data-id")
        .await
        .expect("data-id")
        .expect("the card names its submission");
    let (s, sub) = app
        .get(&app.admin_key, &format!("/api/v1/submissions/{id}"))
        .await;
    assert_eq!(s, 200, "{sub}");
    assert_eq!(
        (&sub["status"], &sub["reporter"], &sub["period"]),
        (
            &"accepted".into(),
            &"330102001".into(),
            &period.as_str().into()
        )
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM submissions").await,
        before + 1
    );
    b.screenshot(&shots.join("07-signed-in-upload.png"))
        .await
        .expect("screenshot");

    // Signing out ends the session on the server: the old cookie is refused.
    click(&b, "#signout").await;
    assert_eq!(back_at_sign_in(&b).await, "已退出。");
    assert_eq!(
        js(&b, "document.querySelectorAll('#uploads li').length").await,
        0
    );
    for path in ["/api/v1/me", "/api/v1/session"] {
        let (s, body) = with_cookie(&app, reqwest::Method::GET, path, &session, None).await;
        assert_eq!(s, 401, "{path}: {body}");
    }
    let left = b.cookie("unionstat_session").await.expect("cookies");
    assert!(
        left.as_ref().is_none_or(|c| c["value"] != session.as_str()),
        "{left:?}"
    );
    // A reload finds no session and asks to sign in, without a notice.
    b.goto(&format!("{}/", app.addr)).await.expect("reload");
    b.wait("#signin-view:not([hidden])", WAIT)
        .await
        .expect("sign-in form");
    assert_eq!(
        js(&b, "document.getElementById('signin-notice').hidden").await,
        true
    );

    let bad = console_errors(&b).await;
    assert!(bad.is_empty(), "{bad:?}");
    b.quit().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_an_expired_session_returns_to_sign_in_saying_so_and_repeated_failures_say_to_wait(
) {
    let Some(tools) = BrowserTools::find("web::in_a_browser_an_expired_session") else {
        return;
    };
    // Sessions end after 6 s without a request; the third failed sign-in of a
    // login within 15 minutes is throttled.
    let idle = Duration::from_secs(6);
    let app = spawn_app_with(|s| {
        s.auth.session_idle_minutes = idle.as_secs_f64() / 60.0;
        s.auth.max_failures_per_login = 2;
        s.auth.login_window_minutes = 15.0;
    })
    .await;
    let password = "county-staff-2026";
    app.create_user("lisi", "李四", "330102", Role::Viewer, password)
        .await;
    let shots = screenshot_dir();
    let b = Browser::start(&tools, 1280, 800)
        .await
        .expect("headless Chromium");
    b.goto(&format!("{}/", app.addr)).await.expect("open page");

    sign_in(&b, "lisi", password).await;
    b.wait("#app-view:not([hidden])", WAIT)
        .await
        .expect("signed in");
    assert_eq!(text_of(&b, "#who .who-person").await, "李四");
    assert_eq!(text_of(&b, "#who .who-role").await, "查看");
    // A viewer starts on the roll-ups and may not upload.
    b.wait(r#"#node-cards[data-org="330102"]"#, WAIT)
        .await
        .expect("the county's roll-ups");
    assert_eq!(
        js(&b, "document.getElementById('file').disabled").await,
        true
    );
    let session = b
        .cookie("unionstat_session")
        .await
        .expect("cookies")
        .expect("a session cookie")["value"]
        .as_str()
        .expect("cookie value")
        .to_string();

    // Left alone past the idle limit, the next step brings back the sign-in
    // form saying why, in both languages, and the cookie is worth nothing.
    tokio::time::sleep(idle + Duration::from_secs(2)).await;
    click(&b, "#tab-rollups").await;
    assert_eq!(back_at_sign_in(&b).await, "会话已过期，请重新登录。");
    let (s, body) = with_cookie(&app, reqwest::Method::GET, "/api/v1/me", &session, None).await;
    assert_eq!(s, 401, "{body}");
    b.screenshot(&shots.join("08-session-expired.png"))
        .await
        .expect("screenshot");
    click(&b, "#lang").await;
    wait_text(
        &b,
        "#signin-notice",
        "Your session has expired; sign in again.",
    )
    .await;
    wait_text(&b, "#signin-title", "Sign in").await;
    click(&b, "#lang").await;
    wait_text(&b, "#signin-notice", "会话已过期，请重新登录。").await;

    // Two wrong passwords are refused as such; the third attempt, even with the
    // right password, is told to wait (the window is 15 minutes).
    for _ in 0..2 {
        sign_in(&b, "lisi", "guessing").await;
        wait_text(&b, "#signin-error", "登录名或密码不正确。").await;
    }
    sign_in(&b, "lisi", password).await;
    let started = std::time::Instant::now();
    let throttled = loop {
        let text = text_of(&b, "#signin-error").await;
        if !text.is_empty() || started.elapsed() > WAIT {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        throttled.starts_with("登录失败次数过多，请等 ") && throttled.ends_with(" 分钟后再试。"),
        "{throttled}"
    );
    assert_eq!(
        js(&b, "document.getElementById('app-view').hidden").await,
        true
    );
    b.screenshot(&shots.join("09-signin-throttled.png"))
        .await
        .expect("screenshot");

    let bad = console_errors(&b).await;
    assert!(bad.is_empty(), "{bad:?}");
    b.quit().await;
    app.stop().await;
}

postgres_twins!(
    me_names_the_keys_org_unit_and_role,
    the_page_and_its_assets_are_served_with_their_types_and_a_same_origin_policy,
    in_a_browser_a_clerk_sees_both_verdicts_and_staff_read_the_county_membership_rate,
    in_a_browser_a_person_signs_in_uploads_signs_out_and_the_old_cookie_is_refused,
    in_a_browser_an_expired_session_returns_to_sign_in_saying_so_and_repeated_failures_say_to_wait,
);

/// A fresh headless Chromium of `width` × `height` on the page, signed in as
/// `login`; returns once the app shows.
pub(crate) async fn open_signed_in(
    tools: &BrowserTools,
    app: &TestApp,
    login: &str,
    password: &str,
    (width, height): (u32, u32),
) -> Browser {
    let b = Browser::start(tools, width, height)
        .await
        .expect("headless Chromium");
    b.goto(&format!("{}/", app.addr)).await.expect("open page");
    sign_in(&b, login, password).await;
    b.wait("#app-view:not([hidden])", WAIT)
        .await
        .expect("signed in");
    b
}

/// Scrolls the element `css` into view and keeps a screenshot `name` (see
/// [`screenshot_dir`]).
pub(crate) async fn shot(b: &Browser, css: &str, name: &str) {
    b.execute(&format!("document.querySelector({css:?}).scrollIntoView()"))
        .await
        .expect("scroll");
    b.screenshot(&screenshot_dir().join(name))
        .await
        .expect("screenshot");
}

/// Asserts that nothing the page did threw or broke its
/// Content-Security-Policy, and closes the browser.
pub(crate) async fn close_clean(b: Browser) {
    let bad = console_errors(&b).await;
    assert!(bad.is_empty(), "{bad:?}");
    b.quit().await;
}
