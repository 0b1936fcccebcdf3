//! `GET /api/v1/catalog`: the metrics, indicators and validation rules in force,
//! with what each one means (e.g. the two definitions of 入会率) and each rule's
//! short title.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use unionstat_core::catalog::MetricKind;
use unionstat_core::form::{Periodicity, ReporterKind};
use unionstat_core::Severity;

use super::auth::Principal;
use super::error::ErrorBody;
use crate::context::AppContext;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MetricEntry {
    code: String,
    zh: String,
    en: String,
    /// `stock` (期末数: over time the period-end month) or `flow` (累计数: summed).
    kind: MetricKind,
    decimals: u32,
    help_zh: String,
    help_en: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IndicatorEntry {
    code: String,
    zh: String,
    en: String,
    /// Metric codes: the rate is Σnumerator / Σdenominator over the subtree.
    numerator: String,
    denominator: String,
    note_zh: String,
    note_en: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RuleEntry {
    /// The `rule` of an issue.
    code: String,
    /// `error` (blocks acceptance) or `warning`.
    severity: Severity,
    /// A short heading for the rule's issues, in Chinese and English.
    title_zh: String,
    title_en: String,
}

/// A form (报表): what it is, how often and by whom it is reported, its
/// metrics (their meaning: `GET /api/v1/catalog` lists the monthly ones;
/// every form's metric codes are here).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FormEntry {
    code: String,
    zh: String,
    en: String,
    periodicity: Periodicity,
    reporter: ReporterKind,
    /// Names of its data sheet (empty: Template v1's).
    sheets: Vec<String>,
    metrics: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CatalogView {
    /// The forms, `monthly` (Template v1) first; `metrics`, `indicators`
    /// and `rules` below are the monthly form's.
    forms: Vec<FormEntry>,
    metrics: Vec<MetricEntry>,
    indicators: Vec<IndicatorEntry>,
    rules: Vec<RuleEntry>,
}

/// `GET /api/v1/catalog`
#[utoipa::path(
    get,
    path = "/catalog",
    tag = "figures",
    responses(
        (status = 200, description = "Metrics and indicators in force, with their meaning", body = CatalogView),
        (status = 401, description = "No or unknown API key", body = ErrorBody),
    )
)]
pub async fn catalog(State(ctx): State<AppContext>, _principal: Principal) -> Json<CatalogView> {
    let c = &ctx.catalog;
    let mut indicators: Vec<IndicatorEntry> = c
        .indicators
        .iter()
        .map(|i| IndicatorEntry {
            code: i.code.clone(),
            zh: i.zh.clone(),
            en: i.en.clone(),
            numerator: i.numerator.clone(),
            denominator: i.denominator.clone(),
            note_zh: i.note_zh.clone(),
            note_en: i.note_en.clone(),
        })
        .collect();
    indicators.push(IndicatorEntry {
        code: "reporting_rate".into(),
        zh: "报送率".into(),
        en: "Reporting rate".into(),
        numerator: "reported_reporters".into(),
        denominator: "expected_reporters".into(),
        note_zh: "已报送（审核通过）的应报单位数 ÷ 应报单位数；多月期间按单位·月计。".into(),
        note_en: "Expected reporters with an accepted report ÷ expected reporters; over several months, reporter-months.".into(),
    });
    let forms = c
        .forms()
        .into_iter()
        .filter_map(|f| c.form(&f.code))
        .map(|v| FormEntry {
            code: v.form.code.clone(),
            zh: v.form.zh.clone(),
            en: v.form.en.clone(),
            periodicity: v.form.periodicity,
            reporter: v.form.reporter,
            sheets: v.form.recognise.sheets.clone(),
            metrics: v.metrics.iter().map(|m| m.code.clone()).collect(),
        })
        .collect();
    Json(CatalogView {
        forms,
        metrics: c
            .metrics
            .iter()
            .map(|m| MetricEntry {
                code: m.code.clone(),
                zh: m.zh.clone(),
                en: m.en.clone(),
                kind: m.kind,
                decimals: m.decimals,
                help_zh: m.help_zh.clone(),
                help_en: m.help_en.clone(),
            })
            .collect(),
        indicators,
        rules: c
            .rules
            .iter()
            .map(|r| RuleEntry {
                code: r.code.clone(),
                severity: r.severity,
                title_zh: r.title_zh.clone(),
                title_en: r.title_en.clone(),
            })
            .collect(),
    })
}
