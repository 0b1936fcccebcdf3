//! 同比 and 环比: every indicator and metric of an answer, its children and a
//! series against the previous period and the same period a year earlier,
//! checked against figures worked out by hand.

use serde_json::Value;

use crate::helpers::*;

type Row = FigureRow;

/// Town 330102001 and town 330102002 for three months. In 2025-10 only the
/// first town reported, and only two of its three units.
const MONTHS: &[(&str, &str, &[Row])] = &[
    (
        "2025-10",
        "330102001",
        &[
            ("330102001001", 20.0, 17.0, 900.0, 800.0),
            ("330102001002", 10.0, 7.0, 500.0, 350.0),
        ],
    ),
    (
        "2026-09",
        "330102001",
        &[
            ("330102001001", 20.0, 18.0, 1000.0, 880.0),
            ("330102001002", 10.0, 8.0, 500.0, 380.0),
            ("330102001003", 5.0, 5.0, 200.0, 180.0),
        ],
    ),
    (
        "2026-09",
        "330102002",
        &[
            ("330102002001", 10.0, 8.0, 400.0, 340.0),
            ("330102002002", 5.0, 4.0, 300.0, 260.0),
        ],
    ),
    (
        "2026-10",
        "330102001",
        &[
            ("330102001001", 20.0, 19.0, 1000.0, 900.0),
            ("330102001002", 10.0, 8.0, 500.0, 400.0),
            ("330102001003", 5.0, 5.0, 200.0, 180.0),
        ],
    ),
    (
        "2026-10",
        "330102002",
        &[
            ("330102002001", 10.0, 9.0, 400.0, 360.0),
            ("330102002002", 5.0, 4.0, 300.0, 270.0),
        ],
    ),
];

/// 2026-10 of [`MONTHS`] after 丙 (330102001003) moved from town A to town B:
/// town A's first two units, town B's two and 丙.
fn after_the_move() -> Vec<(&'static str, Vec<Row>)> {
    let oct = |reporter: &str| {
        MONTHS
            .iter()
            .find(|m| m.0 == "2026-10" && m.1 == reporter)
            .expect("2026-10")
            .2
    };
    let (a, b) = (oct("330102001"), oct("330102002"));
    vec![
        ("330102001", a[..2].to_vec()),
        ("330102002", [b, &a[2..]].concat()),
    ]
}

async fn seeded() -> TestApp {
    let app = spawn_app().await;
    for (month, reporter, rows) in MONTHS {
        submit_rows(&app, month, reporter, rows).await;
    }
    app
}

/// A comparison's indicator `code`: its earlier value and its change in points.
fn rate_moved(c: &Value, code: &str, earlier: f64, points: f64) {
    let moved = &c["indicators"][code];
    close(&moved["earlier"], earlier, &format!("{code} earlier"));
    close(&moved["change"], points, &format!("{code} points"));
}

fn close(got: &Value, want: f64, what: &str) {
    let got = got
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: {got} is not a number"));
    assert!((got - want).abs() < 1e-9, "{what}: {got}, expected {want}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn indicators_and_children_give_mom_and_yoy_with_coverage_flags() {
    let app = seeded().await;
    let (status, v) = app
        .get(
            &app.admin_key,
            "/api/v1/orgs/330102/indicators?period=2026-10&children=true&child_metric_changes=true",
        )
        .await;
    assert_eq!(status, 200, "{v}");
    // The county now: 50 required, 45 unionised, 2400 employees, 2110 members.
    let mom = &v["comparisons"]["mom"];
    assert_eq!(mom["period"], "2026-09");
    // 2026-09: 43 of 50 unionised, 2040 members of 2400 employees.
    rate_moved(mom, "unionisation_rate", 0.86, 4.0);
    close(
        &mom["indicators"]["membership_rate"]["change"],
        70.0 / 24.0,
        "mom 入会率 points",
    );
    close(
        &mom["metrics"]["members"]["earlier"],
        2040.0,
        "mom members earlier",
    );
    close(
        &mom["metrics"]["members"]["change"],
        7000.0 / 2040.0,
        "mom members %",
    );
    close(
        &mom["metrics"]["employees"]["change"],
        0.0,
        "mom employees %",
    );
    assert_eq!(mom["coverage_differs"], false, "{mom}");
    assert_eq!(mom["coverage_note"], serde_json::json!([]));
    // A metric nobody reported then or now is left out.
    assert!(mom["metrics"].get("gig_members").is_none(), "{mom}");
    assert!(mom["metrics"].get("employees").is_some(), "{mom}");

    let yoy = &v["comparisons"]["yoy"];
    assert_eq!(yoy["period"], "2025-10");
    // 2025-10: one town, two units: 24 of 30 unionised, 1150 of 1400.
    rate_moved(yoy, "unionisation_rate", 0.8, 10.0);
    close(
        &yoy["indicators"]["membership_rate"]["change"],
        (2110.0 / 2400.0 - 1150.0 / 1400.0) * 100.0,
        "yoy 入会率 points",
    );
    close(
        &yoy["indicators"]["reporting_rate"]["change"],
        50.0,
        "yoy 报送率 points",
    );
    close(
        &yoy["metrics"]["members"]["change"],
        96000.0 / 1150.0,
        "yoy members %",
    );
    assert_eq!(yoy["coverage_differs"], true, "{yoy}");
    assert_eq!(yoy["coverage"]["reported_units"], 2);
    assert_eq!(yoy["coverage"]["reported_reporters"], 1);
    let note = yoy["coverage_note"].to_string();
    assert!(note.contains("2 of 5, now 5 of 5"), "{note}");
    assert!(note.contains("1 of 2, now 2 of 2"), "{note}");

    let children = v["children"].as_array().expect("children");
    assert_eq!(children.len(), 2);
    let (a, b) = (&children[0], &children[1]);
    assert_eq!(a["org"], "330102001");
    // Town A: 32 of 35 now, 31 of 35 in September, 24 of 30 a year ago.
    close(
        &a["comparisons"]["mom"]["indicators"]["unionisation_rate"]["change"],
        100.0 / 35.0,
        "town A mom 建会率 points",
    );
    close(
        &a["comparisons"]["mom"]["metrics"]["members"]["change"],
        4000.0 / 1440.0,
        "town A mom members %",
    );
    close(
        &a["comparisons"]["yoy"]["indicators"]["unionisation_rate"]["change"],
        (32.0 / 35.0 - 0.8) * 100.0,
        "town A yoy 建会率 points",
    );
    assert_eq!(a["comparisons"]["mom"]["coverage_differs"], false);
    assert_eq!(a["comparisons"]["yoy"]["coverage_differs"], true);
    // Town B did not report a year ago: nothing to compare, and said so.
    let b_yoy = &b["comparisons"]["yoy"];
    assert_eq!(
        b_yoy["indicators"]["unionisation_rate"]["earlier"],
        Value::Null
    );
    assert_eq!(
        b_yoy["indicators"]["unionisation_rate"]["change"],
        Value::Null
    );
    assert_eq!(b_yoy["metrics"]["members"]["change"], Value::Null);
    assert_eq!(b_yoy["coverage_differs"], true);
    close(
        &b["comparisons"]["mom"]["indicators"]["unionisation_rate"]["change"],
        (13.0 / 15.0 - 12.0 / 15.0) * 100.0,
        "town B mom 建会率 points",
    );

    // Without child_metric_changes the children's comparisons carry their
    // rates' changes alone; the node's keep its metrics'.
    let (status, lean) = app
        .get(
            &app.admin_key,
            "/api/v1/orgs/330102/indicators?period=2026-10&children=true",
        )
        .await;
    assert_eq!(status, 200, "{lean}");
    close(
        &lean["comparisons"]["mom"]["metrics"]["members"]["change"],
        7000.0 / 2040.0,
        "mom members % (no child metrics asked)",
    );
    let a = &lean["children"][0];
    assert_eq!(a["org"], "330102001");
    for key in ["mom", "yoy"] {
        assert!(a["comparisons"][key].get("metrics").is_none(), "{a}");
    }
    close(
        &a["comparisons"]["mom"]["indicators"]["unionisation_rate"]["change"],
        100.0 / 35.0,
        "town A mom 建会率 points (no child metrics asked)",
    );
    assert_eq!(a["metrics"], v["children"][0]["metrics"]);
    assert_eq!(a["comparisons"]["yoy"]["coverage_differs"], true);
    let (status, bad) = app
        .get(
            &app.admin_key,
            "/api/v1/orgs/330102/indicators?period=2026-10&children=true&child_metric_changes=maybe",
        )
        .await;
    assert_eq!(status, 422, "{bad}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quarter_compares_with_the_previous_quarter_and_a_year_earlier() {
    let app = seeded().await;
    let v = app.indicators("330102", "2026Q4").await;
    let (mom, yoy) = (&v["comparisons"]["mom"], &v["comparisons"]["yoy"]);
    assert_eq!(mom["period"], "2026Q3");
    assert_eq!(yoy["period"], "2025Q4");
    // Q4 stock is October's (45/50); Q3's is September's (43/50), Q4 2025's
    // October 2025's (24/30), with November and December missing.
    close(
        &mom["indicators"]["unionisation_rate"]["change"],
        4.0,
        "Q mom points",
    );
    close(
        &yoy["indicators"]["unionisation_rate"]["change"],
        10.0,
        "Q yoy points",
    );
    assert_eq!(yoy["coverage_differs"], true);
    let note = yoy["coverage_note"].to_string();
    assert!(note.contains("2025-11, 2025-12"), "{note}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn series_points_carry_mom_and_yoy_changes_in_points() {
    let app = seeded().await;
    let (status, v) = app
        .get(
            &app.admin_key,
            "/api/v1/orgs/330102/series?indicator=unionisation_rate&from=2026-09&to=2026-10",
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let points = v["points"].as_array().expect("points");
    assert_eq!(points.len(), 2);
    // September: August 2026 and September 2025 were not reported.
    assert_eq!(points[0]["mom_change"], Value::Null, "{}", points[0]);
    assert_eq!(points[0]["yoy_change"], Value::Null, "{}", points[0]);
    close(&points[1]["mom_change"], 4.0, "series mom points");
    // October 2025 lies before `from` and is still read.
    close(&points[1]["yoy_change"], 10.0, "series yoy points");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_export_has_mom_and_yoy_columns_in_points() {
    use unionstat::core::workbook_out::export::{change_col, FIRST_DATA_ROW, INDICATORS_SHEET};
    let app = seeded().await;
    let (status, bytes) =
        crate::export::download(&app, "/api/v1/orgs/330102/export.xlsx?period=2026-10").await;
    assert_eq!(status, 200);
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let ws = calamine::Reader::worksheet_range(&mut book, INDICATORS_SHEET).unwrap();
    // Find the 建会率 column pair by its heading, after all value columns.
    let v = app.indicators("330102", "2026-10").await;
    let n = v["indicators"].as_object().unwrap().len();
    let k = (0..n)
        .find(|&k| {
            let head = ws.get_value((2, change_col(n, k) as u32));
            head.is_some_and(|h| h.to_string().contains("建会率"))
        })
        .expect("a 建会率 comparison heading");
    let cell = |row: u32, col: u16| match ws.get_value((row, col as u32)) {
        Some(calamine::Data::Float(f)) => Some(*f),
        _ => None,
    };
    let c = change_col(n, k);
    // The county, then town 330102001: +4.00 / +10.00 and +100/35 / (32/35 − 0.8) × 100.
    let county = FIRST_DATA_ROW;
    assert!((cell(county, c).unwrap() - 4.0).abs() < 1e-9);
    assert!((cell(county, c + 1).unwrap() - 10.0).abs() < 1e-9);
    assert!((cell(county + 1, c).unwrap() - 100.0 / 35.0).abs() < 1e-9);
    assert!((cell(county + 1, c + 1).unwrap() - (32.0 / 35.0 - 0.8) * 100.0).abs() < 1e-9);
    // Town 330102002 reported nothing a year earlier: no 同比.
    assert_eq!(cell(county + 2, c + 1), None);
    let note = ws.get_value((1, 0)).unwrap().to_string();
    assert!(note.contains("环比 MoM 2026-09"), "{note}");
    assert!(
        note.contains("同比 YoY 2025-10 — 口径不同 coverage differs: 已报基层工会：2025-10"),
        "{note}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_earlier_period_is_read_under_the_same_tree_as_the_answer() {
    let app = spawn_app().await;
    for (month, reporter, rows) in MONTHS.iter().filter(|m| m.0 == "2026-09") {
        submit_rows(&app, month, reporter, rows).await;
    }
    // 丙 (330102001003) moves from town A to town B from 2026-10.
    let resp = app
        .client
        .post(format!("{}/api/v1/orgs/330102001003/move", app.addr))
        .bearer_auth(&app.admin_key)
        .json(&serde_json::json!({"to": "330102002", "from": "2026-10", "reason": "区划调整"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    for (reporter, rows) in after_the_move() {
        submit_rows(&app, "2026-10", reporter, &rows).await;
    }
    // Town B now: 18 of 20 unionised, 900 employees, three units.
    // As reported, its September had two units: 12 of 15, 700 employees.
    let b = app.indicators("330102002", "2026-10").await;
    let mom = &b["comparisons"]["mom"];
    rate_moved(mom, "unionisation_rate", 0.8, 10.0);
    close(
        &mom["metrics"]["employees"]["change"],
        200.0 / 7.0,
        "as reported employees %",
    );
    assert_eq!(mom["coverage_differs"], true, "{mom}");
    assert_eq!(mom["coverage"]["expected_units"], 2);
    // Under today's tree September is restated with 丙: 17 of 20, 900 employees.
    let (status, b) = app
        .get(
            &app.admin_key,
            "/api/v1/orgs/330102002/indicators?period=2026-10&tree=current",
        )
        .await;
    assert_eq!(status, 200, "{b}");
    let mom = &b["comparisons"]["mom"];
    rate_moved(mom, "unionisation_rate", 0.85, 5.0);
    close(
        &mom["metrics"]["employees"]["change"],
        0.0,
        "restated employees %",
    );
    assert_eq!(mom["coverage_differs"], false, "{mom}");
    app.stop().await;
}

postgres_twins!(
    the_earlier_period_is_read_under_the_same_tree_as_the_answer,
    the_export_has_mom_and_yoy_columns_in_points,
    indicators_and_children_give_mom_and_yoy_with_coverage_flags,
    a_quarter_compares_with_the_previous_quarter_and_a_year_earlier,
    series_points_carry_mom_and_yoy_changes_in_points,
);
