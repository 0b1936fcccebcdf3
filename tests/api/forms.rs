//! Forms beyond the monthly sheet (issue 18): the warehouse's form slots, the
//! blank workbooks of the annual survey and the half-yearly service form, and a
//! form added in a test catalogue.

use unionstat::core::ingest::{read_workbook, ReadLimits};
use unionstat::core::Catalog;
use unionstat::store::keys::Role;

use crate::helpers::*;
use crate::templates::download;

#[tokio::test]
async fn every_form_gets_a_storage_slot_and_monthly_keeps_slot_zero() {
    let app = spawn_app().await;
    let row = |sql: &'static str| {
        let store = app.ctx.store.clone();
        async move { store.first_row_i64(sql).await.unwrap() }
    };
    assert_eq!(
        row("SELECT slot FROM form_slots WHERE form = 'monthly'").await,
        vec![Some(0)]
    );
    assert_eq!(
        row("SELECT slot FROM form_slots WHERE form = 'annual_survey'").await,
        vec![Some(1)]
    );
    assert_eq!(
        row("SELECT slot FROM form_slots WHERE form = 'service_half'").await,
        vec![Some(2)]
    );
    let slots = app.ctx.store.form_slots().await;
    let sy = "2026SY".parse().unwrap();
    assert_eq!(slots.key("annual_survey", &sy), Some(14_202_600));
    assert_eq!(
        slots.key("monthly", &"2026-10".parse().unwrap()),
        Some(202_610)
    );
    // Every metric of every form has its column.
    assert_eq!(
        row("SELECT COUNT(*) FROM metric_columns WHERE metric LIKE 'sy_%' OR metric LIKE 'sv_%'")
            .await,
        vec![Some(29)]
    );
    // Rows written before forms are of the monthly form.
    assert_eq!(
        row("SELECT COUNT(*) FROM submissions WHERE form <> 'monthly'").await,
        vec![Some(0)]
    );
    app.stop().await;
}

#[tokio::test]
async fn the_annual_survey_template_lists_the_towns_units_under_its_cover_items() {
    let app = spawn_app().await;
    let town = app.key("330102001", Role::Submitter).await;
    let (status, ct, cd, bytes) = download(
        &app,
        &town,
        "/api/v1/templates/330102001/2026SY.xlsx?form=annual_survey",
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    assert!(ct.contains("spreadsheetml"), "{ct}");
    assert!(cd.contains("330102001_annual_survey_2026SY.xlsx"), "{cd}");
    let catalog = Catalog::builtin().unwrap();
    let annual = catalog.form("annual_survey").unwrap();
    let wb = read_workbook(&bytes, annual, &ReadLimits::default());
    assert!(wb.issues.is_empty(), "{:?}", wb.issues);
    assert_eq!(wb.units_sheet, "基层工会调查表");
    let codes: Vec<&str> = wb.rows.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(codes, vec!["330102001001", "330102001002", "330102001003"]);
    assert_eq!(wb.rows[0].name, "甲公司工会");
    assert_eq!(wb.columns.len(), 15);
    assert_eq!(wb.columns[0].metric, "sy_members");
    assert_eq!(wb.columns[0].letter, "E");
    let cover = wb.cover.as_ref().unwrap();
    assert_eq!(cover.period.as_ref().unwrap().value, "2026SY");
    assert_eq!(cover.reporter_code.as_ref().unwrap().value, "330102001");
    app.stop().await;
}

#[tokio::test]
async fn the_service_form_template_is_the_federations_own_row() {
    let app = spawn_app().await;
    let (status, _, _, bytes) = download(
        &app,
        &app.admin_key,
        "/api/v1/templates/330102/2026H1.xlsx?form=service_half",
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    let catalog = Catalog::builtin().unwrap();
    let service = catalog.form("service_half").unwrap();
    let wb = read_workbook(&bytes, service, &ReadLimits::default());
    assert!(wb.issues.is_empty(), "{:?}", wb.issues);
    assert_eq!(wb.units_sheet, "服务职工工作情况");
    let rows: Vec<(&str, &str)> = wb
        .rows
        .iter()
        .map(|r| (r.code.as_str(), r.name.as_str()))
        .collect();
    assert_eq!(rows, vec![("330102", "上城区总工会")]);
    assert_eq!(wb.columns.len(), 14);
    app.stop().await;
}

#[tokio::test]
async fn a_form_template_for_the_wrong_period_or_an_unknown_form_is_refused_in_both_languages() {
    let app = spawn_app().await;
    for (path, zh, en) in [
        (
            "/api/v1/templates/330102001/2026-09.xlsx?form=annual_survey",
            "报告期应写作 2026SY，不是 2026-09",
            "write its period like 2026SY, not 2026-09",
        ),
        (
            "/api/v1/templates/330102001/2026SY.xlsx?form=weekly",
            "报表 weekly 不存在",
            "there is no form weekly (known: monthly, annual_survey, service_half)",
        ),
        (
            "/api/v1/templates/330102001/2026S.xlsx?form=annual_survey",
            "无法识别",
            "is not valid",
        ),
    ] {
        let (status, _, _, body) = download(&app, &app.admin_key, path).await;
        let body = String::from_utf8_lossy(&body);
        assert_eq!(status, 422, "{path}: {body}");
        assert!(body.contains(zh) && body.contains(en), "{path}: {body}");
    }
    // form=monthly is Template v1 itself.
    let (status, _, cd, _) = download(
        &app,
        &app.admin_key,
        "/api/v1/templates/330102001/2026-10.xlsx?form=monthly",
    )
    .await;
    assert_eq!(status, 200);
    assert!(cd.contains("330102001_2026-10.xlsx"), "{cd}");
    app.stop().await;
}

/// The built-in catalogue with one more form: a quarterly safety return a
/// federation reports about itself.
fn catalogue_with_a_safety_form() -> String {
    format!(
        r#"{}

[[forms]]
code = "safety_quarter"
zh = "劳动保护季报"
en = "Quarterly labour protection return"
periodicity = "quarter"
reporter = "federation_self"

[forms.recognise]
sheets = ["劳动保护情况"]

[[metrics]]
code = "lp_inspections"
form = "safety_quarter"
zh = "劳动保护检查次数"
en = "Labour protection inspections"
kind = "flow"
"#,
        unionstat::core::catalog::BUILTIN_CATALOG
    )
}

#[tokio::test]
async fn a_form_added_to_the_catalogue_needs_no_release() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.toml");
    std::fs::write(&path, catalogue_with_a_safety_form()).unwrap();
    let file = path.display().to_string();
    let app = spawn_app_with(move |s| s.catalog.path = file).await;
    let slots = app.ctx.store.form_slots().await;
    assert_eq!(slots.slot("safety_quarter"), Some(3));
    let (status, _, _, bytes) = download(
        &app,
        &app.admin_key,
        "/api/v1/templates/330102/2026Q3.xlsx?form=safety_quarter",
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    let catalog = app.ctx.catalog.clone();
    let view = catalog.form("safety_quarter").unwrap();
    let wb = read_workbook(&bytes, view, &ReadLimits::default());
    assert!(wb.issues.is_empty(), "{:?}", wb.issues);
    assert_eq!(wb.units_sheet, "劳动保护情况");
    assert_eq!(wb.columns.len(), 1);
    assert_eq!(wb.columns[0].metric, "lp_inspections");
    assert_eq!(wb.rows[0].code, "330102");
    app.stop().await;
}

postgres_twins!(
    every_form_gets_a_storage_slot_and_monthly_keeps_slot_zero,
    the_annual_survey_template_lists_the_towns_units_under_its_cover_items,
    the_service_form_template_is_the_federations_own_row,
    a_form_template_for_the_wrong_period_or_an_unknown_form_is_refused_in_both_languages,
    a_form_added_to_the_catalogue_needs_no_release,
);
