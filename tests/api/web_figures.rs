//! The roll-up page in a real browser: 环比 and 同比 under each rate, and
//! partial coverage marked in words, on the coverage pills and on the chart.

use chrono::{Datelike, Months, NaiveDate};
use unionstat::store::keys::Role;

use crate::helpers::*;
use crate::partial::{town_a, town_b};
use crate::web::{
    click, console_errors, js, last_month, screenshot_dir, sign_in, text_of, wait_text, WAIT,
};
use crate::webdriver::{Browser, BrowserTools};

pub(crate) fn months_before(month: &str, n: u32) -> String {
    let d = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
        .expect("month")
        .checked_sub_months(Months::new(n))
        .expect("earlier month");
    format!("{:04}-{:02}", d.year(), d.month())
}

async fn data_change(b: &Browser, css: &str) -> f64 {
    let e = b.wait(css, WAIT).await.expect(css);
    b.attribute(&e, "data-change")
        .await
        .expect("data-change")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{css} has no change"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_staff_read_mom_and_yoy_and_see_partial_coverage_marked() {
    let Some(tools) = BrowserTools::find("web_figures::in_a_browser") else {
        return;
    };
    // The figures move by design (a year of growth, a month of change);
    // monthly_change, which would ask for an explanation, is set out of reach.
    let app = spawn_app_with(|s| s.validation.max_monthly_change = 1000.0).await;
    // The page opens on last month (P). The county 330102 has five units: all
    // five reported a month and a year before; in P only town A's three.
    let p = last_month();
    let (before, year_before) = (months_before(&p, 1), months_before(&p, 12));
    submit_rows(&app, &year_before, "330102001", &town_a(-100.0)).await;
    submit_rows(&app, &year_before, "330102002", &town_b(-100.0)).await;
    submit_rows(&app, &before, "330102001", &town_a(0.0)).await;
    submit_rows(&app, &before, "330102002", &town_b(0.0)).await;
    submit_rows(&app, &p, "330102001", &town_a(12.0)).await;
    app.create_user(
        "zhaolei",
        "赵磊",
        "330102",
        Role::Submitter,
        "county-staff-2026",
    )
    .await;
    let shots = screenshot_dir();
    let b = Browser::start(&tools, 1280, 900)
        .await
        .expect("headless Chromium");
    b.goto(&format!("{}/", app.addr)).await.expect("open page");
    sign_in(&b, "zhaolei", "county-staff-2026").await;
    let who = text_of(&b, "#who:not([hidden])").await;
    assert!(who.contains("赵磊"), "{who}");
    click(&b, "#tab-rollups").await;
    b.wait(r#"#node-cards[data-org="330102"]"#, WAIT)
        .await
        .expect("county shown");

    // 入会率 now 1336/1700; a month before 1800/2400; a year before 1300/2400.
    let now = 1336.0 / 1700.0;
    let tile = r#"#node-cards[data-org="330102"] #node-membership_rate"#;
    let mom = data_change(&b, &format!("{tile} .change.mom")).await;
    assert!((mom - (now - 0.75) * 100.0).abs() < 1e-9, "{mom}");
    let yoy = data_change(&b, &format!("{tile} .change.yoy")).await;
    assert!(
        (yoy - (now - 1300.0 / 2400.0) * 100.0).abs() < 1e-9,
        "{yoy}"
    );
    // 3 of 5 units now against 5 of 5 then: both flagged as differing.
    assert_eq!(
        text_of(&b, &format!("{tile} .change.mom")).await,
        "环比 +3.59 个百分点 *"
    );
    assert_eq!(
        text_of(&b, &format!("{tile} .change.yoy")).await,
        "同比 +24.42 个百分点 *"
    );
    // Town A against itself: 1300/1700 a month before, same coverage, no mark.
    let row_a = r#"#children tr[data-code="330102001"] td.membership_rate"#;
    let a_mom = data_change(&b, &format!("{row_a} .change.mom")).await;
    assert!((a_mom - (now - 1300.0 / 1700.0) * 100.0).abs() < 1e-9);
    assert_eq!(
        text_of(&b, &format!("{row_a} .change.mom")).await,
        "环比 +2.12 个百分点"
    );

    // Partial: the notes under the tiles, the node's pill, the chart's point.
    let notes = text_of(&b, "#partial-notes:not([hidden])").await;
    assert!(
        notes.contains("部分报送")
            && notes.contains(&format!("{p} 有 3/5 个基层工会报送，未达 90%")),
        "{notes}"
    );
    assert_eq!(
        text_of(&b, "#node-coverage .pill.partial").await,
        "3 / 5 个基层工会 · 部分"
    );
    // Town A is whole; town B reported nothing (missing, not partial).
    assert_eq!(
        text_of(&b, r#"#children tr[data-code="330102001"] td.coverage"#).await,
        "3/3"
    );
    assert_eq!(
        text_of(
            &b,
            r#"#children tr[data-code="330102002"] td.coverage .pill.bad"#
        )
        .await,
        "0/2"
    );
    b.wait(
        &format!(r#"#chart circle.dot.partial[data-period="{p}"]"#),
        WAIT,
    )
    .await
    .expect("P drawn as partial");
    let whole = js(
        &b,
        &format!(
            r#"document.querySelector('#chart circle.dot[data-period="{before}"]').classList.contains('partial')"#
        ),
    )
    .await;
    assert_eq!(whole, false);
    let series_note = text_of(&b, "#series-note").await;
    assert!(series_note.contains("橙色虚线点"), "{series_note}");
    assert!(series_note.contains("不足 90%"), "{series_note}");
    b.screenshot(&shots.join("10-comparisons-and-partial.png"))
        .await
        .expect("screenshot");
    b.execute("document.getElementById('chart').scrollIntoView()")
        .await
        .expect("scroll");
    b.screenshot(&shots.join("10-partial-series.png"))
        .await
        .expect("screenshot");

    // In English, the same marks in English only.
    click(&b, "#lang").await;
    wait_text(&b, &format!("{tile} .change.mom"), "MoM +3.59 pts *").await;
    let notes = text_of(&b, "#partial-notes:not([hidden])").await;
    assert!(
        notes.contains(&format!(
            "Stock figures rest on partial coverage: {p} has 3 of 5 units reported, under 90%."
        )),
        "{notes}"
    );
    assert!(!notes.contains("期末数"), "{notes}");
    b.screenshot(&shots.join("11-partial-english.png"))
        .await
        .expect("screenshot");

    let bad = console_errors(&b).await;
    assert!(bad.is_empty(), "{bad:?}");
    b.quit().await;
    app.stop().await;
}
