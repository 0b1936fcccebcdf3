//! The roll-up page's form selector in a real browser: a county's staff
//! picks the annual survey and reads its 2026SY figures, at desktop and
//! phone width. Screenshots 45-46.

use crate::forms::{hubin_survey, store_survey};
use crate::helpers::*;
use crate::web::{click, close_clean, js, open_signed_in, shot, wait_text, WAIT};
use crate::web_staff::county_viewer;
use crate::webdriver::{Browser, BrowserTools};

/// Moves the page to `month` and picks `form`, as a person would with the
/// period field and the form selector.
async fn pick(b: &Browser, month: &str, form: &str) {
    b.execute(&format!(
        "const p = document.getElementById('period'); p.value = {month:?}; p.dispatchEvent(new Event('change'));"
    ))
    .await
    .expect("choose month");
    b.execute(&format!(
        "const s = document.getElementById('form-pick'); s.value = {form:?}; s.dispatchEvent(new Event('change'));"
    ))
    .await
    .expect("choose form");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_staff_pick_the_annual_survey_and_read_its_statistical_year() {
    let Some(tools) = BrowserTools::find("web_forms::in_a_browser") else {
        return;
    };
    // The survey is stored with an admin's reason, so the test does not
    // depend on the clock (the survey's own lock closes 2026SY on 2026-12-15).
    let app = spawn_app().await;
    store_survey(&app, hubin_survey()).await;
    county_viewer(&app).await;
    for (size, name) in [
        ((1280, 900), "45-staff-form-survey-desktop.png"),
        ((390, 844), "46-staff-form-survey-phone.png"),
    ] {
        let b = open_signed_in(&tools, &app, "wangfang", "county-staff-2026", size).await;
        click(&b, "#tab-rollups").await;
        // The monthly return is the default: its figures are the tables above.
        assert_eq!(
            js(&b, "document.getElementById('form-pick').value").await,
            "monthly"
        );
        // September 2026 lies in the statistical year 2026SY: 会员 430 + 260
        // + 160 of the three units of the one town (of two) that sent it.
        pick(&b, "2026-09", "annual_survey").await;
        wait_text(
            &b,
            r#"#form-figures tr[data-metric="sy_members"] td"#,
            "850",
        )
        .await;
        wait_text(
            &b,
            r#"#form-figures tr[data-metric="sy_employees"] td"#,
            "1,020",
        )
        .await;
        // The metrics by name, in the catalogue's order.
        let names = js(
            &b,
            "[...document.querySelectorAll('#form-figures tbody th')].map((th) => th.textContent)",
        )
        .await;
        assert_eq!(
            names,
            serde_json::json!(["会员人数", "女会员人数", "职工人数"]),
        );
        let units = js(
            &b,
            "document.querySelector('#form-figures tr[data-metric=\"sy_members\"] td:last-child').textContent",
        )
        .await;
        assert_eq!(units, "3");
        assert_eq!(
            js(&b, "document.getElementById('form-period').textContent").await,
            "报告期 2026SY：1/2 个应报单位已报送"
        );
        if size.0 < 500 {
            // At phone width the total is in sight without scrolling sideways.
            let fits = js(
                &b,
                "document.querySelector('#form-figures tr[data-metric=\"sy_members\"] td').getBoundingClientRect().right <= document.documentElement.clientWidth",
            )
            .await;
            assert_eq!(fits, serde_json::json!(true));
        }
        b.wait("#form-figures:not([hidden])", WAIT)
            .await
            .expect("form figures shown");
        shot(&b, "#form-card", name).await;
        close_clean(b).await;
    }
    app.stop().await;
}

postgres_twins!(in_a_browser_staff_pick_the_annual_survey_and_read_its_statistical_year,);
