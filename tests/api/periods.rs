//! Periods longer than a month and series: stock metrics by the period-end
//! month (期末数), flow metrics by sum (累计数), on a hand-made dataset.

use std::process::Command;

use serde_json::Value;

use crate::helpers::*;

const COLUMNS: &[&str] = &[
    "单位代码",
    "单位名称",
    "职工人数",
    "会员人数",
    "新发展会员人数",
];

/// Unit 330102001001's figures: (month, employees, members, new members).
const MONTHS: &[(&str, f64, f64, f64)] = &[
    ("2025-12", 1000.0, 900.0, 10.0),
    ("2026-08", 1100.0, 950.0, 20.0),
    ("2026-09", 1200.0, 1000.0, 30.0),
    ("2026-10", 1300.0, 1100.0, 40.0),
    ("2026-11", 1400.0, 1150.0, 50.0),
];

async fn seeded() -> TestApp {
    let app = spawn_app().await;
    for (month, emp, mem, new) in MONTHS {
        let sheet = workbook(
            None,
            COLUMNS,
            &[vec![
                C::S("330102001001"),
                C::S("甲公司工会"),
                C::N(*emp),
                C::N(*mem),
                C::N(*new),
            ]],
        );
        let sub = app.submit(sheet, "330102001", month).await;
        assert_eq!(sub["status"], "accepted", "{month}: {sub}");
    }
    app
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .filter_map(|x| x.as_str().map(str::to_string))
        .collect()
}

/// (period, kind, members, employees, new members, stock month, months present)
type Case<'a> = (&'a str, &'a str, f64, f64, f64, &'a str, &'a [&'a str]);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_takes_the_period_end_and_flow_the_sum_for_every_kind_of_period() {
    let app = seeded().await;
    // (period, kind, members, employees, new members, stock month, months present)
    let cases: &[Case] = &[
        (
            "2026-10",
            "month",
            1100.0,
            1300.0,
            40.0,
            "2026-10",
            &["2026-10"],
        ),
        // Q3: July is missing, so September is the period end and the sum is Aug+Sep.
        (
            "2026Q3",
            "quarter",
            1000.0,
            1200.0,
            50.0,
            "2026-09",
            &["2026-08", "2026-09"],
        ),
        // Q4: December has not come; November is the latest month present.
        (
            "2026Q4",
            "quarter",
            1150.0,
            1400.0,
            90.0,
            "2026-11",
            &["2026-10", "2026-11"],
        ),
        (
            "2026",
            "year",
            1150.0,
            1400.0,
            140.0,
            "2026-11",
            &["2026-08", "2026-09", "2026-10", "2026-11"],
        ),
        // The statistical year 2026SY runs 2025-10 … 2026-09.
        (
            "2026SY",
            "stat_year",
            1000.0,
            1200.0,
            60.0,
            "2026-09",
            &["2025-12", "2026-08", "2026-09"],
        ),
        (
            "2025Q4",
            "quarter",
            900.0,
            1000.0,
            10.0,
            "2025-12",
            &["2025-12"],
        ),
    ];
    for org in ["330102001001", "330102001", "330102", "330000"] {
        for (period, kind, members, employees, new, stock_month, present) in cases {
            let v = app.indicators(org, period).await;
            let what = format!("{org} {period}");
            assert_eq!(v["period"], *period, "{what}");
            assert_eq!(v["period_kind"], *kind, "{what}");
            assert_eq!(metric(&v, "members"), Some(*members), "{what}");
            assert_eq!(metric(&v, "employees"), Some(*employees), "{what}");
            assert_eq!(metric(&v, "new_members"), Some(*new), "{what}");
            assert_eq!(v["months"]["stock_month"], *stock_month, "{what}");
            assert_eq!(strings(&v["months"]["present"]), *present, "{what}");
            let r = &v["indicators"]["membership_rate"];
            assert_eq!(r["numerator"].as_f64(), Some(*members), "{what}");
            assert_eq!(r["denominator"].as_f64(), Some(*employees), "{what}");
        }
    }
    // The statistical year names all twelve months and which are missing.
    let sy = app.indicators("330102001", "2026SY").await;
    let expected = strings(&sy["months"]["expected"]);
    assert_eq!(expected.len(), 12);
    assert_eq!(
        (expected[0].as_str(), expected[11].as_str()),
        ("2025-10", "2026-09")
    );
    assert_eq!(strings(&sy["months"]["missing"]).len(), 9);
    // 报送率 over a period counts reporter-months: the county expects 2 reporters
    // × 3 months of Q4 and got 2 reports (October and November of one town).
    let county = app.indicators("330102", "2026Q4").await;
    assert_eq!(county["coverage"]["expected_reporter_months"], 6);
    assert_eq!(county["coverage"]["reported_reporter_months"], 2);
    let r = rate(&county, "reporting_rate").unwrap();
    assert!((r - 2.0 / 6.0).abs() < 1e-12, "{r}");
    // A period with nothing reported has no figures: missing is not zero.
    let empty = app.indicators("330102", "2027").await;
    assert_eq!(metric(&empty, "members"), None);
    assert_eq!(empty["months"]["stock_month"], Value::Null);
    // Children aggregate the same way.
    let (s, v) = app
        .get(
            &app.admin_key,
            "/api/v1/orgs/330102/indicators?period=2026Q4&children=true",
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let kids = v["children"].as_array().unwrap();
    assert_eq!(kids.len(), 2);
    assert_eq!(metric(&kids[0], "members"), Some(1150.0));
    assert_eq!(metric(&kids[0], "new_members"), Some(90.0));
    assert_eq!(metric(&kids[1], "members"), None);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn series_gives_each_month_with_numerator_and_denominator() {
    let app = seeded().await;
    let v = series_api(&app, "membership_rate", "2026-07", "2026-11", 200).await;
    assert_eq!(v["zh"], "入会率");
    assert_eq!(
        (v["numerator"].as_str(), v["denominator"].as_str()),
        (Some("members"), Some("employees"))
    );
    let points: Vec<(String, bool, Option<f64>, Option<f64>)> = v["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["period"].as_str().unwrap().to_string(),
                p["present"].as_bool().unwrap(),
                p["numerator"].as_f64(),
                p["denominator"].as_f64(),
            )
        })
        .collect();
    assert_eq!(
        points,
        vec![
            ("2026-07".into(), false, None, None),
            ("2026-08".into(), true, Some(950.0), Some(1100.0)),
            ("2026-09".into(), true, Some(1000.0), Some(1200.0)),
            ("2026-10".into(), true, Some(1100.0), Some(1300.0)),
            ("2026-11".into(), true, Some(1150.0), Some(1400.0)),
        ]
    );
    assert_eq!(v["points"][0]["value"], Value::Null);
    let r = v["points"][4]["value"].as_f64().unwrap();
    assert!((r - 1150.0 / 1400.0).abs() < 1e-12);

    // 报送率 month by month: one of the county's two towns reports.
    let v = series_api(&app, "reporting_rate", "2026-07", "2026-08", 200).await;
    assert_eq!(values(&v), vec![Some(0.0), Some(0.5)]);

    // Bad requests say what is wrong and where.
    for (query, needle) in [
        ("indicator=nope&from=2026-07&to=2026-08", "membership_rate"),
        ("indicator=membership_rate&from=2026-09&to=2026-08", "after"),
        (
            "indicator=membership_rate&from=2000-01&to=2026-08",
            "at most",
        ),
        ("indicator=membership_rate&from=2026-7&to=2026-08", "from"),
        ("indicator=membership_rate&from=2026-07", "to is required"),
        ("from=2026-07&to=2026-08", "indicator"),
    ] {
        let (s, v) = app
            .get(
                &app.admin_key,
                &format!("/api/v1/orgs/330102/series?{query}"),
            )
            .await;
        assert_eq!(s, 422, "{query}: {v}");
        assert!(
            v["message"].as_str().unwrap_or("").contains(needle),
            "{query}: {v}"
        );
    }
    for period in ["2026Q5", "2026-13", "26SY", "2026-10-01"] {
        let (s, v) = app
            .get(
                &app.admin_key,
                &format!("/api/v1/orgs/330102/indicators?period={period}"),
            )
            .await;
        assert_eq!(s, 422, "{period}: {v}");
        assert!(v["message"].as_str().unwrap().contains("2026Q4"), "{v}");
    }

    // The CLI twin prints the same numbers as a table.
    let (out, text) = series_cli(&app, "membership_rate", "2026-09");
    assert!(out.status.success(), "{text}");
    let rows = month_rows(&text);
    assert_eq!(
        rows,
        vec![
            // 环比 of September: 1000/1200 − 950/1100 = −3.03 points; July
            // and the months a year before were not reported. One unit of
            // the town's three reported: each month is partial.
            vec!["2026-08", "86.36%", "950", "1100", "1(部分)", "—", "—"],
            vec!["2026-09", "83.33%", "1000", "1200", "1(部分)", "-3.03", "—"],
        ]
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn series_takes_a_metric_code_with_its_monthly_total_and_changes_in_percent() {
    let app = seeded().await;
    // A flow metric: each month's own figure; 环比 in percent of the month before.
    let v = series_api(&app, "new_members", "2026-07", "2026-10", 200).await;
    assert_eq!(
        (
            v["kind"].as_str(),
            v["change_unit"].as_str(),
            v["zh"].as_str()
        ),
        (Some("flow"), Some("percent"), Some("新发展会员人数"))
    );
    assert_eq!(
        (&v["numerator"], &v["denominator"]),
        (&Value::Null, &Value::Null)
    );
    let points: Vec<(
        Option<f64>,
        Option<i64>,
        i64,
        bool,
        Option<f64>,
        Option<f64>,
    )> = v["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["value"].as_f64(),
                p["value_units"].as_i64(),
                p["reported_units"].as_i64().unwrap(),
                p["partial"].as_bool().unwrap(),
                p["mom_change"]
                    .as_f64()
                    .map(|c| (c * 100.0).round() / 100.0),
                p["yoy_change"].as_f64(),
            )
        })
        .collect();
    assert_eq!(
        points,
        vec![
            (None, None, 0, false, None, None),
            (Some(20.0), Some(1), 1, true, None, None),
            (Some(30.0), Some(1), 1, true, Some(50.0), None),
            (Some(40.0), Some(1), 1, true, Some(33.33), None),
        ]
    );

    // A stock metric: the month's figure, the kind as the catalogue says.
    let v = series_api(&app, "members", "2026-09", "2026-10", 200).await;
    assert_eq!(v["kind"], "stock");
    assert_eq!(values(&v), vec![Some(1000.0), Some(1100.0)]);
    assert_eq!(v["points"][1]["mom_change"].as_f64(), Some(10.0));

    // A code that is neither: both languages say so and list both kinds.
    let v = series_api(&app, "new_member", "2026-07", "2026-10", 422).await;
    let message = v["message"].as_str().unwrap();
    for needle in [
        "“new_member”既不是目录中的指标代码，也不是统计项代码",
        "\"new_member\" is neither an indicator nor a metric",
        "membership_rate",
        "new_members",
    ] {
        assert!(message.contains(needle), "{needle}: {message}");
    }

    // The CLI prints the totals, the units that reported them and 环比 in percent.
    let (out, text) = series_cli(&app, "new_members", "2026-10");
    assert!(out.status.success(), "{text}");
    assert!(text.contains("新发展会员人数"), "{text}");
    assert!(text.contains("环比(%)"), "{text}");
    let rows = month_rows(&text);
    assert_eq!(
        rows,
        vec![
            vec!["2026-08", "20", "1", "1(部分)", "—", "—"],
            vec!["2026-09", "30", "1", "1(部分)", "+50.00", "—"],
            vec!["2026-10", "40", "1", "1(部分)", "+33.33", "—"],
        ]
    );
    let (out, err) = series_cli(&app, "new_member", "2026-10");
    assert!(!out.status.success());
    assert!(
        err.contains("既不是目录中的指标代码") && err.contains("is neither"),
        "{err}"
    );
    app.stop().await;
}

/// The series answer of 330102, asserting its status.
async fn series_api(app: &TestApp, code: &str, from: &str, to: &str, status: u16) -> Value {
    let (s, v) = app
        .get(
            &app.admin_key,
            &format!("/api/v1/orgs/330102/series?indicator={code}&from={from}&to={to}"),
        )
        .await;
    assert_eq!(s, status, "{code}: {v}");
    v
}

/// The values of a series answer's points.
fn values(v: &Value) -> Vec<Option<f64>> {
    v["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["value"].as_f64())
        .collect()
}

/// `unionstat series` of 330102 from 2026-08 to `to`: the process's output and
/// its stdout followed by its stderr.
fn series_cli(app: &TestApp, code: &str, to: &str) -> (std::process::Output, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_unionstat"))
        .args(["--database", &app.ctx.settings.database.url, "series"])
        .args(["--org", "330102", "--indicator", code])
        .args(["--from", "2026-08", "--to", to])
        .env("UNIONSTAT_LOG__LEVEL", "warn")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out, text)
}

/// The printed rows of months, split into cells.
fn month_rows(text: &str) -> Vec<Vec<&str>> {
    text.lines()
        .filter(|l| l.starts_with("2026-"))
        .map(|l| l.split_whitespace().collect())
        .collect()
}

postgres_twins!(
    stock_takes_the_period_end_and_flow_the_sum_for_every_kind_of_period,
    series_gives_each_month_with_numerator_and_denominator,
    series_takes_a_metric_code_with_its_monthly_total_and_changes_in_percent,
);
