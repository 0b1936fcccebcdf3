//! The staff's roll-up page in a real browser: quarters, years and
//! statistical years; the figures behind the rates with a totals row; a
//! chart whose axis starts at 0; and a children table and chart that read at
//! phone width. Screenshots 40-49.

use serde_json::Value;
use unionstat::store::keys::Role;

use crate::helpers::*;
use crate::web::{click, close_clean, js, last_month, open_signed_in, shot, WAIT};
use crate::web_figures::months_before;
use crate::webdriver::{Browser, BrowserTools};

/// Town A's three units: (unit, should unionise, unionised, employees, members).
const TOWN_A: &[FigureRow] = &[
    ("330102001001", 10.0, 8.0, 1000.0, 900.0),
    ("330102001002", 5.0, 5.0, 300.0, 280.0),
    ("330102001003", 4.0, 2.0, 200.0, 150.0),
];
/// Town B's two units: more members than town A, so sorting moves it first.
const TOWN_B: &[FigureRow] = &[
    ("330102002001", 3.0, 2.0, 2500.0, 2250.0),
    ("330102002002", 1.0, 1.0, 700.0, 600.0),
];

/// The figures table's columns: (class, indicator, numerator or denominator).
const COLUMNS: &[(&str, &str, &str)] = &[
    ("enterprises_required", "unionisation_rate", "denominator"),
    ("unions_established", "unionisation_rate", "numerator"),
    ("employees", "membership_rate", "denominator"),
    ("members", "membership_rate", "numerator"),
    ("expected_reporters", "reporting_rate", "denominator"),
    ("reported_reporters", "reporting_rate", "numerator"),
];

/// The `data-value` of every figure of the row `css` (empty: unreported).
async fn row_values(b: &Browser, css: &str) -> Vec<Option<f64>> {
    let got = js(
        b,
        &format!(
            "[...document.querySelectorAll({:?})].map((td) => td.dataset.value)",
            format!("{css} td")
        ),
    )
    .await;
    got.as_array()
        .expect("cells")
        .iter()
        .map(|v| v.as_str().and_then(|s| s.parse().ok()))
        .collect()
}

/// The API's figures of a node or child, in the table's column order.
fn api_values(view: &Value) -> Vec<Option<f64>> {
    COLUMNS
        .iter()
        .map(|(_, rate, part)| view["indicators"][rate][part].as_f64())
        .collect()
}

/// The children's codes in the figures table's order.
async fn order(b: &Browser) -> Value {
    js(
        b,
        "[...document.querySelectorAll('#figures tbody tr')].map((tr) => tr.dataset.code)",
    )
    .await
}

/// Checks the figures table against the API's answer for `period`: every
/// child's row and the totals row (the node's own figures).
async fn assert_figures_match_api(b: &Browser, app: &TestApp, period: &str) {
    b.wait(&format!(r#"#node-cards[data-period="{period}"]"#), WAIT)
        .await
        .unwrap_or_else(|_| panic!("{period} shown"));
    let (s, api) = app
        .get(
            &app.admin_key,
            &format!("/api/v1/orgs/330102/indicators?period={period}&children=true"),
        )
        .await;
    assert_eq!(s, 200, "{api}");
    for child in api["children"].as_array().unwrap() {
        let code = child["org"].as_str().unwrap();
        let css = format!(r#"#figures tbody tr[data-code="{code}"]"#);
        assert_eq!(
            row_values(b, &css).await,
            api_values(child),
            "{period} {code}"
        );
    }
    let total = row_values(b, r#"#figures tfoot tr[data-code="330102"]"#).await;
    assert_eq!(total, api_values(&api), "{period} totals");
}

/// Picks the roll-up span (month, quarter, year, sy); the page reloads the
/// roll-ups, which [`assert_figures_match_api`] waits for.
async fn choose_span(b: &Browser, kind: &str) {
    b.execute(&format!(
        "const s = document.getElementById('period-kind'); s.value = {kind:?}; s.dispatchEvent(new Event('change'));"
    ))
    .await
    .expect("choose span");
}

/// 王芳 (login `wangfang`, password `county-staff-2026`), a viewer of the
/// county 330102.
pub(crate) async fn county_viewer(app: &TestApp) {
    app.create_user(
        "wangfang",
        "王芳",
        "330102",
        Role::Viewer,
        "county-staff-2026",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_staff_choose_quarters_and_years_and_read_sortable_figures_and_an_honest_chart(
) {
    let Some(tools) = BrowserTools::find("web_staff::in_a_browser") else {
        return;
    };
    // spawn_app sets reporting.lock_after_days = 0: last month and the one
    // before stay open whatever today's date.
    let app = spawn_app().await;
    let p = last_month();
    let before = months_before(&p, 1);
    for month in [&before, &p] {
        submit_rows(&app, month, "330102001", TOWN_A).await;
        submit_rows(&app, month, "330102002", TOWN_B).await;
    }
    county_viewer(&app).await;

    let b = open_signed_in(&tools, &app, "wangfang", "county-staff-2026", (1280, 900)).await;
    click(&b, "#tab-rollups").await;
    b.wait(r#"#figures tfoot tr[data-code="330102"]"#, WAIT)
        .await
        .expect("figures shown");
    assert_figures_match_api(&b, &app, &p).await;
    // The county's own figures: 23 should unionise, 18 did; 4,700 employees,
    // 4,180 members; both towns reported.
    let total = row_values(&b, r#"#figures tfoot tr[data-code="330102"]"#).await;
    assert_eq!(
        total,
        [23.0, 18.0, 4700.0, 4180.0, 2.0, 2.0].map(Some).to_vec()
    );
    let shown = js(
        &b,
        "document.querySelector('#figures tfoot td.members').textContent",
    )
    .await;
    assert_eq!(shown, "4,180");

    // Sorting: members largest first puts town B (2,850) above town A (1,330);
    // again reverses.
    assert_eq!(
        order(&b).await,
        serde_json::json!(["330102001", "330102002"])
    );
    click(&b, "#figures thead th.members button").await;
    assert_eq!(
        order(&b).await,
        serde_json::json!(["330102002", "330102001"])
    );
    let sort = js(
        &b,
        "document.querySelector('#figures thead th.members').getAttribute('aria-sort')",
    )
    .await;
    assert_eq!(sort, "descending");
    click(&b, "#figures thead th.members button").await;
    assert_eq!(
        order(&b).await,
        serde_json::json!(["330102001", "330102002"])
    );
    shot(&b, "#figures", "40-staff-figures-desktop.png").await;

    // The chart's axis starts at 0 and ends at 100 % (入会率 near 89 %).
    let chart = b.wait("#chart svg[data-y-min]", WAIT).await.expect("chart");
    assert_eq!(
        b.attribute(&chart, "data-y-min").await.unwrap().as_deref(),
        Some("0")
    );
    assert_eq!(
        b.attribute(&chart, "data-y-max").await.unwrap().as_deref(),
        Some("1")
    );
    let ticks = js(&b, "[...document.querySelectorAll('#chart text.axis')].filter((t) => t.textContent.endsWith('%')).map((t) => t.textContent)").await;
    assert_eq!(
        ticks,
        serde_json::json!(["0.0%", "25.0%", "50.0%", "75.0%", "100.0%"])
    );
    shot(&b, "#chart", "41-staff-chart-desktop.png").await;

    // Quarter, year and statistical year of the chosen month.
    let (y, m): (i32, u32) = (p[..4].parse().unwrap(), p[5..].parse().unwrap());
    let quarter = format!("{y}Q{}", m.div_ceil(3));
    let stat_year = format!("{}SY", if m >= 10 { y + 1 } else { y });
    choose_span(&b, "quarter").await;
    assert_figures_match_api(&b, &app, &quarter).await;
    let note = js(&b, "document.getElementById('node-period').textContent").await;
    assert_eq!(note, format!("汇总期 {quarter}（季度）；报送情况为 {p}"));
    shot(&b, "#node-cards", "42-staff-quarter.png").await;
    choose_span(&b, "year").await;
    assert_figures_match_api(&b, &app, &y.to_string()).await;
    choose_span(&b, "sy").await;
    assert_figures_match_api(&b, &app, &stat_year).await;
    close_clean(b).await;

    // At phone width: the 报送 column is in sight without scrolling sideways,
    // and the chart's labels keep a readable size.
    let b = open_signed_in(&tools, &app, "wangfang", "county-staff-2026", (390, 844)).await;
    click(&b, "#tab-rollups").await;
    b.wait(
        r#"#children tr[data-code="330102002"] td.reporting .pill"#,
        WAIT,
    )
    .await
    .expect("children shown");
    b.wait("#chart svg[data-y-min]", WAIT).await.expect("chart");
    let fits = js(
        &b,
        "(() => { const wrap = document.getElementById('children').parentElement; \
         const cell = document.querySelector('#children tr[data-code=\"330102002\"] td.reporting'); \
         return [wrap.scrollWidth <= wrap.clientWidth, cell.getBoundingClientRect().right <= document.documentElement.clientWidth]; })()",
    )
    .await;
    assert_eq!(fits, serde_json::json!([true, true]));
    let smallest = js(
        &b,
        "Math.min(...[...document.querySelectorAll('#chart text.axis')].map((t) => t.getBoundingClientRect().height))",
    )
    .await;
    assert!(
        smallest.as_f64().unwrap() >= 10.0,
        "labels {smallest} px high"
    );
    shot(&b, "#children", "43-staff-children-phone.png").await;
    shot(&b, "#chart", "44-staff-chart-phone.png").await;
    close_clean(b).await;
    app.stop().await;
}

postgres_twins!(
    in_a_browser_staff_choose_quarters_and_years_and_read_sortable_figures_and_an_honest_chart,
);
