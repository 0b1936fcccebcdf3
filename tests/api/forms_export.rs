//! The export of a form other than `monthly` (`export.xlsx?form=…`, `unionstat
//! export --form`): the node's figures of the form, its own row, each unit
//! below it, who has and has not reported — read back with calamine.

use calamine::{Data, Range};
use unionstat::core::workbook_out::export::{
    FIRST_DATA_ROW, FORM_FIGURES_SHEET, FORM_FIRST_METRIC_COL, FORM_REPORTERS_SHEET,
};
use unionstat::core::workbook_out::inspect::cell_number_formats;

use crate::export::{download, sheet};
use crate::forms::{annual_of, store_service, store_survey};
use crate::helpers::*;

/// The text of a cell ("" when empty).
fn text(r: &Range<Data>, row: u32, col: u32) -> String {
    match r.get_value((row, col)) {
        Some(Data::String(s)) => s.clone(),
        Some(Data::Empty) | None => String::new(),
        other => panic!("({row},{col}) holds {other:?}"),
    }
}

/// The number of a cell (None when empty).
fn number(r: &Range<Data>, row: u32, col: u32) -> Option<f64> {
    match r.get_value((row, col)) {
        Some(Data::Float(f)) => Some(*f),
        Some(Data::Int(i)) => Some(*i as f64),
        Some(Data::Empty) | None => None,
        other => panic!("({row},{col}) holds {other:?}"),
    }
}

/// Column of the annual survey's metric `k` (0 sy_members, 1 sy_female_members,
/// 3 sy_employees).
fn col(k: u32) -> u32 {
    u32::from(FORM_FIRST_METRIC_COL) + k
}

/// The two towns' surveys of 2026SY: 湖滨 850 members over three units, 清波
/// 160 over two.
async fn two_towns(app: &TestApp) {
    store_survey(
        app,
        annual_of(
            ("330102001", "湖滨街道总工会"),
            &[
                ("330102001001", "甲公司工会", 430, 200, 520, "单独"),
                ("330102001002", "乙公司工会", 260, 100, 300, "单独"),
                ("330102001003", "丙公司工会", 160, 60, 200, "联合"),
            ],
        ),
    )
    .await;
    store_survey(
        app,
        annual_of(
            ("330102002", "清波街道总工会"),
            &[
                ("330102002001", "丁公司工会", 90, 40, 100, "单独"),
                ("330102002002", "戊公司工会", 70, 30, 80, "联合"),
            ],
        ),
    )
    .await;
}

#[tokio::test]
async fn a_countys_annual_survey_export_sums_its_towns_and_a_towns_lists_its_units() {
    let app = spawn_app().await;
    two_towns(&app).await;
    // A service form stored besides does not leak into the survey's export.
    store_service(&app, "330102", "上城区总工会", 66).await;

    let (status, bytes) = download(
        &app,
        "/api/v1/orgs/330102/export.xlsx?period=2026SY&form=annual_survey",
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    let r = sheet(&bytes, FORM_FIGURES_SHEET);
    assert_eq!(
        text(&r, 0, 0),
        "330102 上城区总工会 — 2026SY 工会统计年报·基层工会调查表"
    );
    // Headers in Chinese with their unit, the English under them.
    assert_eq!(text(&r, 2, 0), "单位代码 Code");
    assert_eq!(text(&r, 2, col(0)), "会员人数（人）");
    assert_eq!(text(&r, 2, col(3)), "职工人数（人）");
    assert_eq!(text(&r, 3, col(0)), "Members");
    assert_eq!(text(&r, 2, col(14)), "工会经费收入(元)");
    // The county: 850 + 160 members, 1,020 + 180 employees, five units, two
    // towns; then each town with its own sums.
    let row = FIRST_DATA_ROW;
    let rows: Vec<(
        String,
        String,
        Option<f64>,
        Option<f64>,
        Option<f64>,
        Option<f64>,
    )> = (row..row + 3)
        .map(|i| {
            (
                text(&r, i, 0),
                text(&r, i, 1),
                number(&r, i, 2),
                number(&r, i, 3),
                number(&r, i, col(0)),
                number(&r, i, col(3)),
            )
        })
        .collect();
    let want = |c: &str, n: &str, units, reporters, members, employees| {
        (
            c.to_string(),
            n.to_string(),
            Some(units),
            Some(reporters),
            Some(members),
            Some(employees),
        )
    };
    assert_eq!(
        rows,
        vec![
            want("330102", "上城区总工会", 5.0, 2.0, 1010.0, 1200.0),
            want("330102001", "湖滨街道总工会", 3.0, 1.0, 850.0, 1020.0),
            want("330102002", "清波街道总工会", 2.0, 1.0, 160.0, 180.0),
        ]
    );
    assert_eq!(
        number(&r, row, col(0)),
        Some(number(&r, row + 1, col(0)).unwrap() + number(&r, row + 2, col(0)).unwrap())
    );
    // Nothing after the towns; a metric nobody reported is an empty cell.
    assert_eq!(text(&r, row + 3, 0), "");
    assert_eq!(number(&r, row, col(2)), None);
    let formats = cell_number_formats(&bytes, 0).unwrap();
    assert_eq!(formats.get("E5").map(String::as_str), Some("#,##0"));
    // Who reported: both towns.
    let rep = sheet(&bytes, FORM_REPORTERS_SHEET);
    assert_eq!(
        (text(&rep, 1, 0), text(&rep, 1, 1), text(&rep, 1, 2)),
        (
            "330102001".to_string(),
            "湖滨街道总工会".to_string(),
            "已报 reported".to_string()
        )
    );
    assert_eq!(text(&rep, 2, 2), "已报 reported");

    // A town's export lists its grassroots units' own rows.
    let (status, bytes) = download(
        &app,
        "/api/v1/orgs/330102001/export.xlsx?period=2026SY&form=annual_survey",
    )
    .await;
    assert_eq!(status, 200);
    let r = sheet(&bytes, FORM_FIGURES_SHEET);
    let units: Vec<(String, Option<f64>, Option<f64>, Option<f64>)> = (row..row + 4)
        .map(|i| {
            (
                text(&r, i, 0),
                number(&r, i, col(0)),
                number(&r, i, col(1)),
                number(&r, i, 2),
            )
        })
        .collect();
    let u = |c: &str, m, f, n| (c.to_string(), Some(m), Some(f), Some(n));
    assert_eq!(
        units,
        vec![
            u("330102001", 850.0, 360.0, 3.0),
            u("330102001001", 430.0, 200.0, 1.0),
            u("330102001002", 260.0, 100.0, 1.0),
            u("330102001003", 160.0, 60.0, 1.0),
        ]
    );
    assert_eq!(text(&r, row + 2, 1), "乙公司工会");
    app.stop().await;
}

#[tokio::test]
async fn a_service_form_export_shows_the_federations_own_row_and_yuan_with_cents() {
    let app = spawn_app().await;
    store_service(&app, "330102", "上城区总工会", 66).await;
    store_service(&app, "330102001", "湖滨街道总工会", 10).await;
    let (status, bytes) = download(
        &app,
        "/api/v1/orgs/330102/export.xlsx?period=2026H1&form=service_half",
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    let r = sheet(&bytes, FORM_FIGURES_SHEET);
    let row = FIRST_DATA_ROW;
    // The county (own 66 + town 10), its own row, then each town (清波 sent
    // nothing: empty figures).
    let rows: Vec<(String, String, Option<f64>, Option<f64>)> = (row..row + 4)
        .map(|i| {
            (
                text(&r, i, 0),
                text(&r, i, 1),
                number(&r, i, col(0)),
                number(&r, i, col(1)),
            )
        })
        .collect();
    let want = |c: &str, n: &str, visited: Option<f64>, yuan: Option<f64>| {
        (c.to_string(), n.to_string(), visited, yuan)
    };
    assert_eq!(
        rows,
        vec![
            want("330102", "上城区总工会", Some(76.0), Some(340_320.0)),
            want(
                "330102",
                "上城区总工会（本级）",
                Some(66.0),
                Some(170_160.0)
            ),
            want("330102001", "湖滨街道总工会", Some(10.0), Some(170_160.0)),
            want("330102002", "清波街道总工会", None, None),
        ]
    );
    assert_eq!(text(&r, 2, col(1)), "劳模慰问金(元)");
    let formats = cell_number_formats(&bytes, 0).unwrap();
    assert_eq!(formats.get("F5").map(String::as_str), Some("#,##0.00"));
    assert_eq!(formats.get("E5").map(String::as_str), Some("#,##0"));
    app.stop().await;
}

#[tokio::test]
async fn a_form_export_of_an_unknown_form_or_a_wrong_period_is_refused_in_both_languages() {
    let app = spawn_app().await;
    for (path, zh, en) in [
        (
            "/api/v1/orgs/330102/export.xlsx?period=2026SY&form=weekly",
            "报表 weekly 不存在",
            "there is no form weekly (known: monthly, annual_survey, service_half)",
        ),
        (
            "/api/v1/orgs/330102/export.xlsx?period=2026-09&form=annual_survey",
            "报告期应写作 2026SY，不是 2026-09",
            "write its period like 2026SY, not 2026-09",
        ),
        (
            "/api/v1/orgs/330102/export.xlsx?period=2026SY&form=service_half",
            "报告期应写作 2026H1，不是 2026SY",
            "write its period like 2026H1, not 2026SY",
        ),
        (
            "/api/v1/orgs/330102/export.xlsx?period=2026SY&form=annual_survey&tree=current",
            "报表数据只按当时的组织树导出",
            "as reported only",
        ),
    ] {
        let (status, body) = download(&app, path).await;
        let body = String::from_utf8_lossy(&body);
        assert_eq!(status, 422, "{path}: {body}");
        assert!(body.contains(zh) && body.contains(en), "{path}: {body}");
    }
    // The form's figures read refuses a period of the wrong kind alike.
    let (status, body) = app
        .get(
            &app.admin_key,
            "/api/v1/orgs/330102/forms/annual_survey?period=2026H1",
        )
        .await;
    assert_eq!(status, 422, "{body}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_exports_a_form_as_the_api_does() {
    let app = spawn_app().await;
    two_towns(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (code, out) = crate::review::cli(
        &app,
        d,
        &[
            "export",
            "--org",
            "330102",
            "--period",
            "2026SY",
            "--form",
            "annual_survey",
            "-o",
            "survey.xlsx",
        ],
    );
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("survey.xlsx: form annual_survey of 330102 上城区总工会 for 2026SY"),
        "{out}"
    );
    let r = sheet(
        &std::fs::read(d.join("survey.xlsx")).unwrap(),
        FORM_FIGURES_SHEET,
    );
    assert_eq!(number(&r, FIRST_DATA_ROW, col(0)), Some(1010.0));
    assert_eq!(number(&r, FIRST_DATA_ROW + 2, col(3)), Some(180.0));
    let (code, out) = crate::review::cli(
        &app,
        d,
        &[
            "export",
            "--org",
            "330102",
            "--period",
            "2026H1",
            "--form",
            "annual_survey",
            "-o",
            "bad.xlsx",
        ],
    );
    assert_ne!(code, Some(0), "{out}");
    assert!(
        out.contains("报告期应写作 2026SY，不是 2026H1") && out.contains("not 2026H1"),
        "{out}"
    );
    app.stop().await;
}

postgres_twins!(
    a_countys_annual_survey_export_sums_its_towns_and_a_towns_lists_its_units,
    a_service_form_export_shows_the_federations_own_row_and_yuan_with_cents,
    a_form_export_of_an_unknown_form_or_a_wrong_period_is_refused_in_both_languages,
    the_command_line_exports_a_form_as_the_api_does,
);
