//! Honest period figures: a quarter's stock figures come from its last month
//! that meets `reporting.full_coverage_share` of the units, and every answer,
//! series point and export row that rests on fewer is marked partial, with
//! the reason in both languages.

use serde_json::Value;

use crate::helpers::*;

const TOWN_A: &str = "330102001";
const TOWN_B: &str = "330102002";

/// Town A's three units (35 required, 31 unionised, 1700 employees, 1300
/// members); `k` moves each unit's members from month to month.
pub(crate) fn town_a(k: f64) -> Vec<FigureRow> {
    vec![
        ("330102001001", 20.0, 18.0, 1000.0, 800.0 + k),
        ("330102001002", 10.0, 8.0, 500.0, 400.0 + k),
        ("330102001003", 5.0, 5.0, 200.0, 100.0 + k),
    ]
}

/// Town B's two units (700 employees, 500 members), moved by `k` likewise.
pub(crate) fn town_b(k: f64) -> Vec<FigureRow> {
    vec![
        ("330102002001", 10.0, 8.0, 400.0, 300.0 + k),
        ("330102002002", 5.0, 4.0, 300.0, 200.0 + k),
    ]
}

/// The county 330102 (5 units) in the fourth quarter of 2025: both towns in
/// October (members 1800 of 2400 employees) and November (1810), town A alone
/// in December (3 of 5 units: 1336 members of 1700).
async fn seeded(tune: impl FnOnce(&mut unionstat::config::Settings)) -> TestApp {
    let app = spawn_app_with(tune).await;
    submit_rows(&app, "2025-10", TOWN_A, &town_a(0.0)).await;
    submit_rows(&app, "2025-10", TOWN_B, &town_b(0.0)).await;
    submit_rows(&app, "2025-11", TOWN_A, &town_a(2.0)).await;
    submit_rows(&app, "2025-11", TOWN_B, &town_b(2.0)).await;
    submit_rows(&app, "2025-12", TOWN_A, &town_a(12.0)).await;
    app
}

fn texts(notes: &Value, lang: &str) -> Vec<String> {
    notes
        .as_array()
        .unwrap_or_else(|| panic!("notes: {notes}"))
        .iter()
        .map(|n| n[lang].as_str().unwrap_or_default().to_string())
        .collect()
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap_or_else(|| panic!("{v}"))
        .iter()
        .filter_map(Value::as_str)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quarter_takes_stock_from_its_last_fully_covered_month_and_says_what_is_partial() {
    let app = seeded(|_| {}).await;
    let (status, q) = app
        .get(
            &app.admin_key,
            "/api/v1/orgs/330102/indicators?period=2025Q4&children=true",
        )
        .await;
    assert_eq!(status, 200, "{q}");
    // December has 3 of 5 units (60 % < 90 %): the stock figures are November's,
    // 1810 members of 2400 employees, not December's 1336 of 1700.
    assert_eq!(q["months"]["stock_month"], "2025-11");
    assert_eq!(metric(&q, "members"), Some(1810.0));
    assert_eq!(metric(&q, "employees"), Some(2400.0));
    assert_eq!(rate(&q, "membership_rate"), Some(1810.0 / 2400.0));
    assert_eq!(q["coverage"]["reported_units"], 5);
    assert_eq!(strings(&q["months"]["short"]), vec!["2025-12"]);
    // The flows of the quarter miss two units' December: partial.
    assert_eq!(q["partial"], true, "{q}");
    assert_eq!(
        texts(&q["partial_notes"], "zh"),
        vec![
            "期末数取自 2025-11（覆盖率达到 90% 的最后一个月）；2025-12 仅 3/5 个基层工会报送。",
            "以下月份报送未达 90%，流量数（累计数）不完整：2025-12 3/5。",
        ]
    );
    assert_eq!(
        texts(&q["partial_notes"], "en")[0],
        "Stock figures are as of 2025-11, the last month with at least 90% of units reported; 2025-12 has 3 of 5."
    );
    let children = q["children"].as_array().expect("children");
    let a = children.iter().find(|c| c["org"] == TOWN_A).unwrap();
    let b = children.iter().find(|c| c["org"] == TOWN_B).unwrap();
    // Town A reported every unit every month: December's stock, nothing partial.
    assert_eq!(a["months"]["stock_month"], "2025-12");
    assert_eq!(metric(a, "members"), Some(1336.0));
    assert_eq!(a["partial"], false);
    assert_eq!(a["partial_notes"], serde_json::json!([]));
    // Town B had nothing in December: November's stock, December short (0 of 2).
    assert_eq!(b["months"]["stock_month"], "2025-11");
    assert_eq!(metric(b, "members"), Some(504.0));
    assert_eq!(b["partial"], true);
    // November is its latest month present: nothing was passed over.
    assert_eq!(
        texts(&b["partial_notes"], "en"),
        vec!["Months under 90% of units reported, so flow sums are incomplete: 2025-12 0/2."]
    );

    // December itself rests on 3 of 5 units; November on all five.
    let dec = app.indicators("330102", "2025-12").await;
    assert_eq!(dec["partial"], true);
    assert_eq!(
        texts(&dec["partial_notes"], "zh")[0],
        "期末数仅覆盖部分单位：2025-12 有 3/5 个基层工会报送，未达 90%。"
    );
    let nov = app.indicators("330102", "2025-11").await;
    assert_eq!(nov["partial"], false);
    assert_eq!(nov["partial_notes"], serde_json::json!([]));
    // The year 2025: only October to December were reported at all.
    let year = app.indicators("330102", "2025").await;
    assert_eq!(year["months"]["stock_month"], "2025-11");
    assert_eq!(year["partial"], true);
    assert_eq!(year["months"]["short"].as_array().unwrap().len(), 10);

    // The series marks December's point, and only it.
    let (status, s) = app
        .get(
            &app.admin_key,
            "/api/v1/orgs/330102/series?indicator=membership_rate&from=2025-10&to=2025-12",
        )
        .await;
    assert_eq!(status, 200, "{s}");
    let partial: Vec<bool> = s["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["partial"].as_bool().unwrap())
        .collect();
    assert_eq!(partial, vec![false, false, true]);
    assert_eq!(s["full_coverage_share"], 0.9);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lower_share_lets_the_part_reported_month_stand() {
    // 3 of 5 is 60 %: enough when the federation asks for half.
    let app = seeded(|s| s.reporting.full_coverage_share = 0.5).await;
    let q = app.indicators("330102", "2025Q4").await;
    assert_eq!(q["months"]["stock_month"], "2025-12");
    assert_eq!(metric(&q, "members"), Some(1336.0));
    assert_eq!(q["partial"], false);
    assert_eq!(q["partial_notes"], serde_json::json!([]));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_export_marks_partial_rows_in_a_column_and_on_the_chart() {
    use unionstat::core::workbook_out::export::{
        coverage_col, CHART_SHEET, FIRST_DATA_ROW, INDICATORS_SHEET, PARTIAL_MARK,
    };
    let app = seeded(|_| {}).await;
    let (status, bytes) =
        crate::export::download(&app, "/api/v1/orgs/330102/export.xlsx?period=2025Q4").await;
    assert_eq!(status, 200);
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let ws = calamine::Reader::worksheet_range(&mut book, INDICATORS_SHEET).unwrap();
    let q = app.indicators("330102", "2025Q4").await;
    let n = q["indicators"].as_object().unwrap().len();
    let col = coverage_col(n, true) as u32;
    let cell = |r: u32, c: u32| ws.get_value((r, c)).map(|v| v.to_string());
    assert_eq!(cell(2, col).as_deref(), Some("覆盖 Coverage"));
    // The county, town A, town B.
    assert_eq!(cell(FIRST_DATA_ROW, col).as_deref(), Some(PARTIAL_MARK));
    assert_eq!(cell(FIRST_DATA_ROW + 1, 0).as_deref(), Some(TOWN_A));
    assert_eq!(cell(FIRST_DATA_ROW + 1, col).as_deref(), Some("完整 full"));
    assert_eq!(cell(FIRST_DATA_ROW + 2, col).as_deref(), Some(PARTIAL_MARK));
    let note = cell(1, 0).unwrap();
    assert!(
        note.contains("期末数取自 2025-11") && note.contains("Stock figures are as of 2025-11"),
        "{note}"
    );
    let chart = calamine::Reader::worksheet_range(&mut book, CHART_SHEET).unwrap();
    let names: Vec<String> = (2..4)
        .map(|r| chart.get_value((r, 1)).unwrap().to_string())
        .collect();
    assert_eq!(names[0], "湖滨街道总工会");
    assert_eq!(names[1], format!("清波街道总工会（{PARTIAL_MARK}）"));
    app.stop().await;
}

postgres_twins!(
    a_quarter_takes_stock_from_its_last_fully_covered_month_and_says_what_is_partial,
    a_lower_share_lets_the_part_reported_month_stand,
    the_export_marks_partial_rows_in_a_column_and_on_the_chart,
);
