//! Forms beyond the monthly sheet (issue 18): the warehouse's form slots, the
//! blank workbooks of the annual survey and the half-yearly service form, and a
//! form added in a test catalogue.

use unionstat::core::ingest::{read_workbook, ReadLimits};
use unionstat::core::workbook_out::{form_workbook, FormLine};
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

/// September's monthly return of town 330102001: three units, 已建会 3,
/// 职工 1,000, 会员 800. September 2026 is long closed by time, so the app
/// runs with `reporting.lock_after_days = 0` (months never close by time).
pub(crate) async fn september(app: &TestApp) {
    let bytes = workbook(
        Some(("330102001", "2026-09")),
        &[
            "单位代码",
            "单位名称",
            "已建会单位数",
            "职工人数",
            "会员人数",
        ],
        &[
            vec![
                C::S("330102001001"),
                C::S("甲公司工会"),
                C::N(1.0),
                C::N(500.0),
                C::N(400.0),
            ],
            vec![
                C::S("330102001002"),
                C::S("乙公司工会"),
                C::N(1.0),
                C::N(300.0),
                C::N(250.0),
            ],
            vec![
                C::S("330102001003"),
                C::S("丙公司工会"),
                C::N(1.0),
                C::N(200.0),
                C::N(150.0),
            ],
        ],
    );
    let (status, body) = app.upload_as(Some(&app.admin_key), bytes, "").await;
    assert_eq!(status, 202, "{body}");
    let done = app.wait(body["id"].as_i64().unwrap()).await;
    assert_eq!(done["status"], "accepted", "{done}");
}

/// The town's annual survey for 2026SY: (members, female members, employees,
/// 904 组织类型) per unit.
fn annual(rows: &[(&str, &str, i64, i64, i64, &str)]) -> Vec<u8> {
    annual_of(("330102001", "湖滨街道总工会"), rows)
}

/// A town's annual survey for 2026SY (rows as [`annual`]'s).
pub(crate) fn annual_of(town: (&str, &str), rows: &[(&str, &str, i64, i64, i64, &str)]) -> Vec<u8> {
    let catalog = Catalog::builtin().unwrap();
    let view = catalog.form("annual_survey").unwrap();
    let lines: Vec<FormLine> = rows
        .iter()
        .map(|(code, name, members, female, employees, kind)| {
            let mut values = vec![None; view.metrics.len()];
            values[0] = Some(*members);
            values[1] = Some(*female);
            values[3] = Some(*employees);
            FormLine {
                code: code.to_string(),
                name: name.to_string(),
                items: vec![format!("{}000", town.0), kind.to_string()],
                values,
            }
        })
        .collect();
    form_workbook(view, town, &"2026SY".parse().unwrap(), &lines).unwrap()
}

pub(crate) fn issues_of<'a>(body: &'a serde_json::Value, rule: &str) -> Vec<&'a serde_json::Value> {
    body["issues"]
        .as_array()
        .map(|a| a.iter().filter(|i| i["rule"] == rule).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn an_annual_survey_is_checked_and_reconciled_with_septembers_monthly_return() {
    let app = spawn_app_with(|s| s.reporting.lock_after_days = 0).await;
    september(&app).await;
    // 会员 850 against September's 800: 6.3 % apart, more than 5 %; 职工 1,020
    // against 1,000 (2 %) and 3 rows against 3 unions established pass.
    let good = annual(&[
        ("330102001001", "甲公司工会", 430, 200, 520, "单独"),
        ("330102001002", "乙公司工会", 260, 100, 300, "单独"),
        ("330102001003", "丙公司工会", 160, 60, 200, "联合"),
    ]);
    let (status, body) = app
        .upload_as(Some(&app.admin_key), good.clone(), "dry_run=true")
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["form"], "annual_survey");
    assert_eq!(body["status"], "accepted", "{body}");
    assert_eq!(body["reporter"], "330102001");
    assert_eq!(body["period"], "2026SY");
    assert_eq!(body["error_count"], 0);
    assert_eq!(body["warning_count"], 1, "{body}");
    let warning = issues_of(&body, "reconcile_mismatch");
    assert_eq!(warning.len(), 1);
    assert_eq!(warning[0]["severity"], "warning");
    assert_eq!(
        warning[0]["message"]["zh"],
        "会员人数：本表合计 850，2026-09 月报为 800，相差 6.3%，超过 5%。请核对。"
    );
    assert_eq!(
        warning[0]["message"]["en"],
        "Members: this form totals 850, the monthly return of 2026-09 says 800, 6.3% apart, more than 5%. Please check."
    );
    // Named by the uploader, the same: the form and its period.
    let (status, body) = app
        .upload_as(
            Some(&app.admin_key),
            good.clone(),
            "dry_run=true&form=annual_survey&reporter=330102001&period=2026SY",
        )
        .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("accepted")),
        "{body}"
    );
    // Named as the monthly form: refused, both forms named.
    let (status, body) = app
        .upload_as(
            Some(&app.admin_key),
            good.clone(),
            "dry_run=true&form=monthly",
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "rejected");
    let refusal = issues_of(&body, "form_mismatch");
    assert_eq!(
        refusal[0]["message"]["zh"],
        "上传时指定的报表为基层工会情况月报（monthly），但该工作簿是工会统计年报·基层工会调查表（annual_survey）。请选择正确的报表，或上传正确的文件。"
    );
    assert!(refusal[0]["message"]["en"]
        .as_str()
        .unwrap()
        .contains("names the form Monthly return of grassroots unions (monthly) but the workbook is Annual union statistics: grassroots union survey (annual_survey)"));
    app.stop().await;
}

#[tokio::test]
async fn an_annual_survey_with_mistakes_is_rejected_naming_its_cells() {
    let app = spawn_app().await;
    let bad = annual(&[
        ("330102001001", "甲公司工会", 120, 130, 150, "单独"),
        ("330102001002", "乙公司工会", 40, 10, 50, "独立"),
        ("330102001003", "丙公司工会", 30, 10, 40, "联合"),
    ]);
    let (status, body) = app
        .upload_as(Some(&app.admin_key), bad.clone(), "dry_run=true")
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "rejected");
    assert_eq!(body["error_count"], 2, "{body}");
    let le = issues_of(&body, "sy_female_members_le_members");
    assert_eq!(
        (le[0]["sheet"].as_str(), le[0]["cell"].as_str()),
        (Some("基层工会调查表"), Some("F4"))
    );
    assert!(le[0]["message"]["zh"]
        .as_str()
        .unwrap()
        .contains("女会员人数（130）不能大于会员人数（120）"));
    let item = issues_of(&body, "item_invalid");
    assert_eq!(item[0]["cell"], "D5");
    assert_eq!(
        item[0]["message"]["zh"],
        "基层工会调查表!D5（330102001002 乙公司工会）：904 组织类型填写为“独立”，应为单独、联合之一。请按报表说明填写。"
    );
    // Stored, it is rejected by the job with the same cells, nothing kept.
    let (status, body) = app
        .upload_as(Some(&app.admin_key), bad, "form=annual_survey")
        .await;
    assert_eq!(status, 202, "{body}");
    let done = app.wait(body["id"].as_i64().unwrap()).await;
    assert_eq!(done["status"], "rejected", "{done}");
    assert_eq!(issues_of(&done, "item_invalid")[0]["cell"], "D5", "{done}");
    assert!(issues_of(&done, "form_not_stored").is_empty(), "{done}");
    let (status, county) = app
        .get(
            &app.admin_key,
            "/api/v1/orgs/330102/forms/annual_survey?period=2026SY",
        )
        .await;
    assert_eq!(status, 200, "{county}");
    assert_eq!(county["reported_units"], 0, "{county}");
    assert_eq!(county["totals"], serde_json::json!({}));
    app.stop().await;
}

/// The county 330102's annual survey roll-up: (members, employees, units
/// reporting members, reporters).
pub(crate) async fn county_survey(app: &TestApp) -> (i64, i64, i64, i64) {
    let (status, body) = app
        .get(
            &app.admin_key,
            "/api/v1/orgs/330102/forms/annual_survey?period=2026SY",
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["form"], "annual_survey");
    assert_eq!(body["period"], "2026SY");
    // The form's metrics in catalogue order, with their names and decimals
    // (amounts in yuan are summed in fen).
    assert_eq!(
        body["metrics"][0],
        serde_json::json!({"code": "sy_members", "zh": "会员人数", "en": body["metrics"][0]["en"], "decimals": 0})
    );
    let dues = body["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["code"] == "sy_dues_yuan")
        .unwrap();
    assert_eq!(dues["decimals"], 2, "{dues}");
    (
        body["totals"]["sy_members"]["value"].as_i64().unwrap(),
        body["totals"]["sy_employees"]["value"].as_i64().unwrap(),
        body["totals"]["sy_members"]["units"].as_i64().unwrap(),
        body["reported_reporters"].as_i64().unwrap(),
    )
}

/// Uploads a survey stored (an admin's reason given, so the test does not
/// depend on the clock: the survey's own lock closes 2026SY on 2026-12-15)
/// and waits for its verdict.
pub(crate) async fn store_survey(app: &TestApp, bytes: Vec<u8>) -> serde_json::Value {
    let (status, body) = app
        .upload_as(
            Some(&app.admin_key),
            bytes,
            "form=annual_survey&reason=survey",
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let done = app.wait(body["id"].as_i64().unwrap()).await;
    assert_eq!(done["status"], "accepted", "{done}");
    done
}

/// 湖滨's survey for 2026SY: 会员 430 + 260 + 160, 女会员 200 + 100 + 60,
/// 职工 520 + 300 + 200.
pub(crate) fn hubin_survey() -> Vec<u8> {
    annual_of(
        ("330102001", "湖滨街道总工会"),
        &[
            ("330102001001", "甲公司工会", 430, 200, 520, "单独"),
            ("330102001002", "乙公司工会", 260, 100, 300, "单独"),
            ("330102001003", "丙公司工会", 160, 60, 200, "联合"),
        ],
    )
}

#[tokio::test]
async fn annual_surveys_of_two_towns_roll_up_to_their_county_and_a_new_upload_replaces_one() {
    let app = spawn_app().await;
    let first = store_survey(&app, hubin_survey()).await;
    // Before the second town: 湖滨 has reported 2026SY, 清波 has not.
    let (_, county) = app
        .get(
            &app.admin_key,
            "/api/v1/orgs/330102/forms/annual_survey?period=2026SY",
        )
        .await;
    assert_eq!(county["reported"], serde_json::json!(["330102001"]));
    assert_eq!(county["not_reported"], serde_json::json!(["330102002"]));
    assert_eq!(county["reported_units"], 3, "{county}");
    store_survey(
        &app,
        annual_of(
            ("330102002", "清波街道总工会"),
            &[
                ("330102002001", "丁公司工会", 90, 40, 100, "单独"),
                ("330102002002", "戊公司工会", 70, 30, 80, "联合"),
            ],
        ),
    )
    .await;
    // 会员 850 + 160, 职工 1,020 + 180, five units, two towns.
    assert_eq!(county_survey(&app).await, (1010, 1200, 5, 2));
    let (_, county) = app
        .get(
            &app.admin_key,
            "/api/v1/orgs/330102/forms/annual_survey?period=2026SY",
        )
        .await;
    assert_eq!(
        county["reported"],
        serde_json::json!(["330102001", "330102002"])
    );
    assert_eq!(county["not_reported"], serde_json::json!([]));
    // The town's own roll-up, and a unit's own row.
    let (_, town) = app
        .get(
            &app.admin_key,
            "/api/v1/orgs/330102002/forms/annual_survey?period=2026SY",
        )
        .await;
    assert_eq!(town["totals"]["sy_members"]["value"], 160, "{town}");
    assert_eq!(town["totals"]["sy_female_members"]["value"], 70, "{town}");
    let (_, unit) = app
        .get(
            &app.admin_key,
            "/api/v1/orgs/330102001002/forms/annual_survey?period=2026SY",
        )
        .await;
    assert_eq!(unit["totals"]["sy_members"]["value"], 260, "{unit}");
    // The monthly roll-ups are untouched: every row is under the survey's key.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM rollup_figures WHERE period < 10000000")
            .await,
        0
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM unit_figures WHERE period = 14202600")
            .await,
        5
    );

    // 湖滨 sends its survey again: 乙 has 300 members now, 丙 is left out.
    let second = store_survey(
        &app,
        annual_of(
            ("330102001", "湖滨街道总工会"),
            &[
                ("330102001001", "甲公司工会", 430, 200, 520, "单独"),
                ("330102001002", "乙公司工会", 300, 100, 310, "单独"),
            ],
        ),
    )
    .await;
    // 会员 430 + 300 + 160, 职工 520 + 310 + 180, four units, still two towns.
    assert_eq!(county_survey(&app).await, (890, 1010, 4, 2));
    let (_, earlier) = app
        .get(
            &app.admin_key,
            &format!("/api/v1/submissions/{}", first["id"]),
        )
        .await;
    assert_eq!(earlier["status"], "superseded", "{earlier}");
    // The audit names the change of 乙's members under the survey's period.
    let sql = format!(
        "SELECT old_value, new_value FROM audit WHERE submission_id = {} AND action = 'fact_set' AND unit_code = '330102001002' AND period = '2026SY' AND metric = 'sy_members'",
        second["id"]
    );
    assert_eq!(
        app.ctx.store.first_row_i64(&sql).await.unwrap(),
        vec![Some(260), Some(300)]
    );
    // 丙's members are removed from the survey, named in the audit.
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM audit WHERE submission_id = {} AND action = 'fact_removed' AND unit_code = '330102001003' AND period = '2026SY' AND metric = 'sy_members'",
            second["id"]
        ))
        .await,
        1
    );
    app.stop().await;
}

/// A county's half-yearly service figures about itself: 劳模 visited 66 and
/// 慰问金 170,160.00 元, 金秋助学 39 students.
pub(crate) fn service(code: &str, name: &str, period: &str, visited: i64) -> Vec<u8> {
    let catalog = Catalog::builtin().unwrap();
    let view = catalog.form("service_half").unwrap();
    let mut values = vec![None; view.metrics.len()];
    values[0] = Some(visited);
    values[1] = Some(17_016_000);
    values[5] = Some(39);
    let line = FormLine {
        code: code.into(),
        name: name.into(),
        items: vec![],
        values,
    };
    form_workbook(view, (code, name), &period.parse().unwrap(), &[line]).unwrap()
}

#[tokio::test]
async fn a_federations_service_figures_are_checked_as_its_own_row() {
    let app = spawn_app().await;
    let county = app.key("330102", Role::Submitter).await;
    let (status, body) = app
        .upload_as(
            Some(&county),
            service("330102", "上城区总工会", "2026H1", 66),
            "dry_run=true",
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["form"], "service_half");
    assert_eq!(body["status"], "accepted", "{body}");
    assert_eq!(
        (body["reporter"].as_str(), body["period"].as_str()),
        (Some("330102"), Some("2026H1"))
    );
    assert_eq!(body["error_count"], 0);
    // A negative count names its cell; a month is not a half-year.
    let (_, body) = app
        .upload_as(
            Some(&county),
            service("330102", "上城区总工会", "2026H1", -3),
            "dry_run=true",
        )
        .await;
    assert_eq!(body["status"], "rejected", "{body}");
    let negative = issues_of(&body, "negative_value");
    assert_eq!(negative[0]["cell"], "C4", "{body}");
    assert_eq!(negative[0]["sheet"], "服务职工工作情况");
    let (_, body) = app
        .upload_as(
            Some(&county),
            service("330102", "上城区总工会", "2026H1", 66),
            "dry_run=true&form=service_half&period=2026-06",
        )
        .await;
    assert_eq!(body["status"], "rejected", "{body}");
    let wrong = issues_of(&body, "period_wrong_kind");
    assert!(
        wrong[0]["message"]["zh"]
            .as_str()
            .unwrap()
            .contains("工会服务职工工作半年报为半年报，报告期应写作 2026H1，不是 2026-06"),
        "{body}"
    );
    // Another county's figures are out of this key's scope.
    let (_, body) = app
        .upload_as(
            Some(&county),
            service("330103", "下城区总工会", "2026H1", 5),
            "dry_run=true",
        )
        .await;
    assert_eq!(body["status"], "rejected", "{body}");
    assert_eq!(issues_of(&body, "reporter_out_of_scope").len(), 1, "{body}");
    app.stop().await;
}

/// A node's figures of the service form for 2026H1: (劳模 visited, units
/// (federations) reporting it, reporters).
async fn service_figures(app: &TestApp, code: &str) -> (i64, i64, i64) {
    let catalog = Catalog::builtin().unwrap();
    let visited = &catalog.form("service_half").unwrap().metrics[0].code;
    let (status, body) = app
        .get(
            &app.admin_key,
            &format!("/api/v1/orgs/{code}/forms/service_half?period=2026H1"),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    (
        body["totals"][visited]["value"].as_i64().unwrap_or(0),
        body["totals"][visited]["units"].as_i64().unwrap_or(0),
        body["reported_reporters"].as_i64().unwrap(),
    )
}

/// Stores a federation's service figures (an admin's reason given: 2026H1
/// closed by time, as the clock has it on 2026-12-06).
pub(crate) async fn store_service(app: &TestApp, code: &str, name: &str, visited: i64) {
    let (status, body) = app
        .upload_as(
            Some(&app.admin_key),
            service(code, name, "2026H1", visited),
            "form=service_half&period=2026H1&reason=late",
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let done = app.wait(body["id"].as_i64().unwrap()).await;
    assert_eq!(done["status"], "accepted", "{done}");
    assert_eq!(done["period"], "2026H1", "{done}");
}

#[tokio::test]
async fn a_federations_service_figures_are_stored_as_its_own_row_in_its_roll_up() {
    let app = spawn_app().await;
    store_service(&app, "330102", "上城区总工会", 66).await;
    store_service(&app, "330102001", "湖滨街道总工会", 10).await;
    // The county: its own 66 and its town's 10; the town: its own 10; the
    // city: both.
    assert_eq!(service_figures(&app, "330102").await, (76, 2, 2));
    assert_eq!(service_figures(&app, "330102001").await, (10, 1, 1));
    assert_eq!(service_figures(&app, "330100").await, (76, 2, 2));
    // The town corrects its figure: 12 replaces 10 everywhere above it.
    store_service(&app, "330102001", "湖滨街道总工会", 12).await;
    assert_eq!(service_figures(&app, "330102001").await, (12, 1, 1));
    assert_eq!(service_figures(&app, "330102").await, (78, 2, 2));
    assert_eq!(service_figures(&app, "330000").await, (78, 2, 2));
    app.stop().await;
}

#[tokio::test]
async fn the_catalogue_lists_the_three_forms_with_their_metrics() {
    let app = spawn_app().await;
    let (status, cat) = app.get(&app.admin_key, "/api/v1/catalog").await;
    assert_eq!(status, 200, "{cat}");
    let forms: Vec<(String, String, String, usize)> = cat["forms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["periodicity"].as_str().unwrap().to_string(),
                f["reporter"].as_str().unwrap().to_string(),
                f["metrics"].as_array().unwrap().len(),
            )
        })
        .collect();
    let want = |c: &str, p: &str, r: &str, n| (c.to_string(), p.to_string(), r.to_string(), n);
    assert_eq!(
        forms,
        vec![
            want("monthly", "month", "federation_for_units", 32),
            want("annual_survey", "stat_year", "federation_for_units", 15),
            want("service_half", "half_year", "federation_self", 14),
        ]
    );
    assert_eq!(cat["forms"][1]["sheets"][0], "基层工会调查表");
    // The monthly metrics clerks see are unchanged.
    assert_eq!(cat["metrics"].as_array().unwrap().len(), 32);
    app.stop().await;
}

postgres_twins!(
    the_catalogue_lists_the_three_forms_with_their_metrics,
    a_federations_service_figures_are_checked_as_its_own_row,
    an_annual_survey_is_checked_and_reconciled_with_septembers_monthly_return,
    an_annual_survey_with_mistakes_is_rejected_naming_its_cells,
    every_form_gets_a_storage_slot_and_monthly_keeps_slot_zero,
    the_annual_survey_template_lists_the_towns_units_under_its_cover_items,
    the_service_form_template_is_the_federations_own_row,
    a_form_template_for_the_wrong_period_or_an_unknown_form_is_refused_in_both_languages,
    a_form_added_to_the_catalogue_needs_no_release,
    annual_surveys_of_two_towns_roll_up_to_their_county_and_a_new_upload_replaces_one,
    a_federations_service_figures_are_stored_as_its_own_row_in_its_roll_up,
);
