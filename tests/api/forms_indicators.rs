//! Indicators of a form other than `monthly` in its figures answer
//! (`GET /orgs/{code}/forms/{form}?period=`): a ratio of the form's own sums
//! (入会率（年报）), and one spanning forms whose denominator is the node's
//! monthly roll-up of the period's last month (女职工委员会建会率 over
//! September's 已建会单位数).

use unionstat::core::workbook_out::{form_workbook, FormLine};
use unionstat::core::Catalog;

use crate::forms::{september, store_survey};
use crate::helpers::*;

/// A town's annual survey for 2026SY: (code, name, members, employees,
/// women workers' committee 0/1) per unit.
fn survey(town: (&str, &str), rows: &[(&str, &str, i64, i64, i64)]) -> Vec<u8> {
    let catalog = Catalog::builtin().unwrap();
    let view = catalog.form("annual_survey").unwrap();
    let at = |code: &str| view.metric_position(code).unwrap();
    let lines: Vec<FormLine> = rows
        .iter()
        .map(|(code, name, members, employees, committee)| {
            let mut values = vec![None; view.metrics.len()];
            values[at("sy_members")] = Some(*members);
            values[at("sy_employees")] = Some(*employees);
            values[at("sy_women_committee")] = Some(*committee);
            FormLine {
                code: code.to_string(),
                name: name.to_string(),
                items: vec![format!("{}000", town.0), "单独".to_string()],
                values,
            }
        })
        .collect();
    form_workbook(view, town, &"2026SY".parse().unwrap(), &lines).unwrap()
}

async fn survey_indicators(app: &TestApp, org: &str) -> serde_json::Value {
    let (status, body) = app
        .get(
            &app.admin_key,
            &format!("/api/v1/orgs/{org}/forms/annual_survey?period=2026SY"),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["indicators"].clone()
}

fn round4(v: &serde_json::Value) -> f64 {
    (v.as_f64().unwrap() * 10_000.0).round() / 10_000.0
}

/// September 2026 is closed by time: the app runs with
/// `reporting.lock_after_days = 0` (months never close by time) so 湖滨's
/// September return is stored; the surveys are stored with an admin's reason.
#[tokio::test]
async fn survey_indicators_divide_the_surveys_sums_and_read_septembers_unions_established() {
    let app = spawn_app_with(|s| s.reporting.lock_after_days = 0).await;
    // 湖滨's September: three units, 已建会 1 each. 清波 sends no September.
    september(&app).await;
    // 湖滨: committees 1 + 0 + 0, 会员 430 + 260 + 160, 职工 520 + 300 + 200;
    // 清波: committees 1 + 0, 会员 90 + 70, 职工 100 + 80.
    let towns: [((&str, &str), &[(&str, &str, i64, i64, i64)]); 2] = [
        (
            ("330102001", "湖滨街道总工会"),
            &[
                ("330102001001", "甲公司工会", 430, 520, 1),
                ("330102001002", "乙公司工会", 260, 300, 0),
                ("330102001003", "丙公司工会", 160, 200, 0),
            ],
        ),
        (
            ("330102002", "清波街道总工会"),
            &[
                ("330102002001", "丁公司工会", 90, 100, 1),
                ("330102002002", "戊公司工会", 70, 80, 0),
            ],
        ),
    ];
    for (town, rows) in towns {
        store_survey(&app, survey(town, rows)).await;
    }

    // The county: 2 committees over September's 3 unions established
    // (only 湖滨 reported September).
    let county = survey_indicators(&app, "330102").await;
    let wcr = &county["sy_women_committee_rate"];
    assert_eq!(wcr["zh"], "女职工委员会建会率", "{county}");
    assert_eq!(wcr["numerator"], 2.0, "{county}");
    assert_eq!(wcr["denominator"], 3.0, "{county}");
    assert_eq!(round4(&wcr["value"]), 0.6667, "{county}");
    assert_eq!(wcr["denominator_period"], "2026-09", "{county}");
    // 入会率（年报）: the survey's own sums, 1,010 ÷ 1,200; no month named.
    let smr = &county["sy_membership_rate"];
    assert_eq!(smr["numerator"], 1010.0, "{county}");
    assert_eq!(smr["denominator"], 1200.0, "{county}");
    assert_eq!(round4(&smr["value"]), 0.8417, "{county}");
    assert!(smr.get("denominator_period").is_none(), "{county}");
    // Only the form's indicators: no monthly ones.
    assert!(county.get("membership_rate").is_none(), "{county}");

    // 湖滨: 1 ÷ 3.
    let town = survey_indicators(&app, "330102001").await;
    assert_eq!(town["sy_women_committee_rate"]["numerator"], 1.0);
    assert_eq!(town["sy_women_committee_rate"]["denominator"], 3.0);
    assert_eq!(
        round4(&town["sy_women_committee_rate"]["value"]),
        0.3333,
        "{town}"
    );
    // A unit reads its own September row: 1 ÷ 1.
    let unit = survey_indicators(&app, "330102001001").await;
    assert_eq!(
        unit["sy_women_committee_rate"]["denominator"], 1.0,
        "{unit}"
    );
    assert_eq!(unit["sy_women_committee_rate"]["value"], 1.0, "{unit}");

    // 清波 has no September: the denominator is null, not 0, and so is the
    // rate; its numerator stands.
    let other = survey_indicators(&app, "330102002").await;
    let wcr = &other["sy_women_committee_rate"];
    assert_eq!(wcr["numerator"], 1.0, "{other}");
    assert!(wcr["denominator"].is_null(), "{other}");
    assert!(wcr["value"].is_null(), "{other}");
    assert_eq!(wcr["denominator_period"], "2026-09", "{other}");
    assert_eq!(round4(&other["sy_membership_rate"]["value"]), 0.8889);
    app.stop().await;
}

/// A node with no survey at all: every figure null, none 0.
#[tokio::test]
async fn survey_indicators_of_a_node_without_a_survey_are_null() {
    let app = spawn_app_with(|s| s.reporting.lock_after_days = 0).await;
    september(&app).await;
    let county = survey_indicators(&app, "330102").await;
    let wcr = &county["sy_women_committee_rate"];
    assert!(wcr["numerator"].is_null(), "{county}");
    assert_eq!(wcr["denominator"], 3.0, "{county}");
    assert!(wcr["value"].is_null(), "{county}");
    let smr = &county["sy_membership_rate"];
    assert!(
        smr["numerator"].is_null() && smr["denominator"].is_null() && smr["value"].is_null(),
        "{county}"
    );
    app.stop().await;
}

postgres_twins!(
    survey_indicators_divide_the_surveys_sums_and_read_septembers_unions_established,
    survey_indicators_of_a_node_without_a_survey_are_null,
);
