//! Entering figures in the page (网页填报): `GET /api/v1/entry/{reporter}/{period}`
//! gives the form, `POST` the same path takes the figures, writes them as a
//! Template v1 workbook and hands that to the upload path — the answer is the
//! answer of `POST /api/v1/submissions` for that workbook.

use std::collections::BTreeMap;

use axum::extract::{Path, Request, State};
use axum::response::Response;
use axum::Json;
use serde::{Deserialize, Serialize};
use unionstat_core::catalog::MetricKind;
use unionstat_core::text::column_name;
use unionstat_core::workbook_out::{FIRST_METRIC_COL, FIRST_UNIT_ROW};
use unionstat_core::{Message, Period};

use super::auth::Principal;
use super::error::{ApiError, ErrorBody};
use super::submissions::{upload_bytes, UploadParams};
use crate::context::AppContext;
use crate::flows::entry::{self, EnteredUnit};
use crate::store::keys::Role;
use crate::store::orgs::OrgRow;

/// Largest body `POST /entry/…` reads: a few thousand units of every metric.
pub const MAX_ENTRY_BODY_BYTES: usize = 4 * 1024 * 1024;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EntryMetric {
    code: String,
    zh: String,
    en: String,
    /// `stock` (期末数) or `flow` (累计数).
    kind: MetricKind,
    /// Decimal places taken: 0 for counts, 2 for yuan.
    decimals: u32,
    /// The metric's column in the workbook written (`C`, `D`, …): issues name
    /// their cells by it.
    column: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EntryUnit {
    code: String,
    name: String,
    /// The unit's row in the workbook written (4, 5, …): issues name their
    /// cells by it.
    row: u32,
    /// The figures accepted for the month (empty when none), metric → number.
    figures: BTreeMap<String, f64>,
    /// The unit's figures of the month before, for reference.
    previous: BTreeMap<String, f64>,
}

/// The form of a reporter for a month.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EntryForm {
    reporter: String,
    reporter_name: String,
    period: String,
    /// The sheet the figures are written to (issues name it).
    sheet: String,
    metrics: Vec<EntryMetric>,
    units: Vec<EntryUnit>,
}

/// One unit's entered figures.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnteredUnitBody {
    code: String,
    /// Metric code → number; null or absent: not reported.
    #[serde(default)]
    figures: BTreeMap<String, Option<f64>>,
}

/// The figures entered for a reporter and month.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryBody {
    /// At most the reporter's units, each once.
    #[serde(default)]
    units: Vec<EnteredUnitBody>,
    /// 填报人 (at most 100 characters kept).
    #[serde(default)]
    preparer: String,
    /// 联系电话.
    #[serde(default)]
    phone: String,
    /// 零报告: no figures this month, on purpose.
    #[serde(default)]
    nil_report: bool,
    /// Check and answer the issues at once; store nothing.
    #[serde(default)]
    dry_run: bool,
    /// Explanations (说明) of findings of explain-severity rules, as for an
    /// upload: `[{"rule","cell","text"}]`, at most 200.
    #[serde(default)]
    explanations: Vec<unionstat_core::validate::GivenExplanation>,
}

/// The path of an entry: `/entry/{reporter}/{period}`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct EntryPath {
    /// A reporting federation's code.
    #[param(example = "330102001")]
    reporter: String,
    /// The month `YYYY-MM`.
    #[param(example = "2026-10")]
    period: String,
}

fn refused(m: Message) -> ApiError {
    ApiError::BadRequest(format!("{} / {}", m.zh, m.en))
}

/// The reporter and month of an entry path, as the key may see them: a code
/// outside the subtree answers as an unknown one.
async fn target(
    ctx: &AppContext,
    principal: &Principal,
    reporter: &str,
    period: &str,
) -> Result<(OrgRow, Period), ApiError> {
    let org = principal.readable_org(ctx, reporter).await?;
    if org.is_grassroots() {
        return Err(refused(Message {
            zh: format!("{reporter} 是基层工会，网页填报由其上级街道或乡镇总工会进行"),
            en: format!("{reporter} is a grassroots union: figures are entered by the federation it reports to"),
        }));
    }
    let period: Period = period.parse().map_err(|_| {
        refused(Message {
            zh: format!(
                "报告期 {:?} 应为 年-月（如 2026-10）",
                period.chars().take(20).collect::<String>()
            ),
            en: "the period must be YYYY-MM".into(),
        })
    })?;
    Ok((org, period))
}

/// `GET /api/v1/entry/{reporter}/{period}`: the form of a reporter for a month.
#[utoipa::path(
    get,
    path = "/entry/{reporter}/{period}",
    tag = "submissions",
    params(EntryPath),
    responses(
        (status = 200, description = "The reporter's units and the catalogue's metrics, with the figures accepted for the month and last month's", body = EntryForm),
        (status = 401, description = "No or unknown API key", body = ErrorBody),
        (status = 404, description = "No such reporter in the key's subtree (an unknown code and one outside it answer alike)", body = ErrorBody),
        (status = 422, description = "A grassroots union or a bad month", body = ErrorBody),
    )
)]
pub async fn form(
    State(ctx): State<AppContext>,
    principal: Principal,
    Path(EntryPath { reporter, period }): Path<EntryPath>,
) -> Result<Json<EntryForm>, ApiError> {
    let (org, period) = target(&ctx, &principal, &reporter, &period).await?;
    let form = entry::form(&ctx, &org, period).await?;
    let catalog = &ctx.catalog;
    let figures = |unit: &str, from: &std::collections::HashMap<(String, String), i64>| {
        catalog
            .metrics
            .iter()
            .filter_map(|m| {
                from.get(&(unit.to_string(), m.code.clone()))
                    .map(|v| (m.code.clone(), m.to_f64(*v)))
            })
            .collect::<BTreeMap<_, _>>()
    };
    let units = form
        .units
        .iter()
        .enumerate()
        .map(|(i, (code, name))| EntryUnit {
            code: code.clone(),
            name: name.clone(),
            row: FIRST_UNIT_ROW + 1 + i as u32,
            figures: figures(code, &form.current),
            previous: figures(code, &form.previous),
        })
        .collect();
    let metrics = catalog
        .metrics
        .iter()
        .enumerate()
        .map(|(i, m)| EntryMetric {
            code: m.code.clone(),
            zh: m.zh.clone(),
            en: m.en.clone(),
            kind: m.kind,
            decimals: m.decimals,
            column: column_name(FIRST_METRIC_COL as u32 + i as u32),
        })
        .collect();
    Ok(Json(EntryForm {
        reporter: org.code,
        reporter_name: org.name,
        period: period.to_string(),
        sheet: unionstat_core::workbook_out::UNITS_SHEET.to_string(),
        metrics,
        units,
    }))
}

/// `POST /api/v1/entry/{reporter}/{period}`: the figures entered, written as
/// the reporter's Template v1 workbook (kept as an upload's bytes, named
/// `网页填报-{reporter}-{period}.xlsx`) and submitted as `POST /submissions`
/// would submit it: the same rules, submission, job, audit and answers.
#[utoipa::path(
    post,
    path = "/entry/{reporter}/{period}",
    tag = "submissions",
    params(EntryPath),
    request_body(content = EntryBody, description = "The figures entered", content_type = "application/json"),
    responses(
        (status = 202, description = "Stored and queued", body = super::submissions::Accepted),
        (status = 200, description = "The same figures entered the same day for the same month: the existing submission; or a dry run's verdict", body = super::submissions::DryRun),
        (status = 401, description = "No or unknown API key", body = ErrorBody),
        (status = 403, description = "A viewer key, or a locked month (a dry run is answered)", body = ErrorBody),
        (status = 404, description = "No such reporter in the key's subtree", body = ErrorBody),
        (status = 413, description = "A body larger than 4 MiB", body = ErrorBody),
        (status = 422, description = "Not the JSON described, a unit not the reporter's, an unknown metric, a number not finite, too large or finer than its decimals, a grassroots union or a bad month", body = ErrorBody),
    )
)]
pub async fn submit(
    State(ctx): State<AppContext>,
    principal: Principal,
    Path(EntryPath { reporter, period }): Path<EntryPath>,
    req: Request,
) -> Result<Response, ApiError> {
    if principal.0.role == Role::Viewer {
        return Err(ApiError::Forbidden(
            "查看账号不能填报 / a viewer key cannot submit figures".into(),
        ));
    }
    let (org, period) = target(&ctx, &principal, &reporter, &period).await?;
    if !principal.can_submit_for(&org) {
        return Err(ApiError::no_such_org());
    }
    let bytes = axum::body::to_bytes(req.into_body(), MAX_ENTRY_BODY_BYTES)
        .await
        .map_err(|_| ApiError::TooLarge(MAX_ENTRY_BODY_BYTES))?;
    let body: EntryBody = serde_json::from_slice(&bytes).map_err(|e| {
        refused(Message {
            zh: format!(
                "填报内容应为 JSON：{{\"units\":[{{\"code\",\"figures\"}}],\"preparer\",\"phone\",\"nil_report\",\"dry_run\"}}（第 {} 行第 {} 列有误）",
                e.line(),
                e.column()
            ),
            en: format!("the body must be JSON {{\"units\":[{{\"code\",\"figures\"}}],\"preparer\",\"phone\",\"nil_report\",\"dry_run\"}}: {e}"),
        })
    })?;
    let units = crate::flows::workbooks::units_of(&ctx, &org, period).await?;
    let entered: Vec<EnteredUnit> = body
        .units
        .into_iter()
        .map(|u| EnteredUnit {
            code: u.code,
            figures: u.figures,
        })
        .collect();
    let rows = entry::lines(&ctx.catalog, &units, &entered).map_err(refused)?;
    let workbook = entry::workbook(&ctx, &org, period, &body.preparer, &body.phone, rows).await?;
    let params = UploadParams {
        reporter: Some(org.code.clone()),
        period: Some(period.to_string()),
        filename: Some(entry::file_name(&org.code, period)),
        dry_run: body.dry_run,
        reason: None,
        form: None,
        nil_report: body.nil_report,
        // Checked (count, length) by the upload path as a query's would be.
        explanations: (!body.explanations.is_empty())
            .then(|| serde_json::to_string(&body.explanations))
            .transpose()
            .map_err(anyhow::Error::from)?,
        // A check as the clerk types lists every issue: each is shown at its cell.
        issues_per_rule: Some("0".into()),
    };
    upload_bytes(&ctx, principal, params, workbook).await
}
