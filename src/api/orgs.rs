use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use unionstat_core::period::ReportPeriod;
use unionstat_core::Period;

use super::auth::Principal;
use super::error::{ApiError, ErrorBody};
use super::openapi::XlsxFile;
use crate::context::AppContext;
use crate::flows::form_period::FormPeriod;
use crate::flows::views::form_figures::FormFiguresView;
use crate::flows::views::series::{series_view, SeriesError, SeriesView};
use crate::flows::views::{Children, CompletenessView, IndicatorsView};
use crate::store::orgs::TreeView;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodParams {
    /// A month `2026-10`, a quarter `2026Q4`, a year `2026` or a statistical
    /// year `2026SY`.
    #[param(example = "2026-10")]
    period: Option<String>,
    /// `true` to add the children's figures (indicators).
    #[serde(default)]
    #[param(example = "true")]
    children: Option<String>,
    /// `as_reported` (default: each month under the tree in force in that
    /// month) or `current` (history restated under today's tree).
    #[param(example = "as_reported")]
    tree: Option<String>,
    /// `true` to add to each child's comparisons (环比, 同比) the changes of
    /// its metrics, not only of its rates (indicators with children).
    #[param(example = "false")]
    child_metric_changes: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CompletenessParams {
    /// The month `2026-10`; another form's period of its kind (`2026SY`,
    /// `2026H1`).
    #[param(example = "2026-10")]
    period: Option<String>,
    /// The form whose reports are counted (default `monthly`;
    /// `annual_survey` with `period=2026SY`, `service_half` with `2026H1`).
    #[param(example = "annual_survey")]
    form: Option<String>,
    /// `as_reported` (default) or `current`, as for indicators.
    #[param(example = "as_reported")]
    tree: Option<String>,
}

/// A `true`/`false` parameter (absent: false).
fn flag(name: &str, raw: Option<&str>) -> Result<bool, ApiError> {
    match raw {
        None | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(other) => Err(ApiError::BadRequest(format!(
            "{name}={other}: use true or false"
        ))),
    }
}

/// The `tree` parameter.
pub(super) fn tree_of(raw: Option<&str>) -> Result<TreeView, ApiError> {
    raw.unwrap_or("")
        .parse()
        .map_err(|e: String| ApiError::BadRequest(format!("tree: {e}")))
}

/// The `period` parameter as one month: required, `YYYY-MM`.
pub(super) fn required_month(raw: Option<&str>) -> Result<Period, ApiError> {
    let raw =
        raw.ok_or_else(|| ApiError::BadRequest("period is required, e.g. ?period=2026-10".into()))?;
    raw.parse()
        .map_err(|e| ApiError::BadRequest(format!("period: {e}")))
}

/// `form` (absent: monthly) and `period` as one form's period: the monthly
/// return's month (`2026-10`, as [`required_month`] reads it) or another
/// form's period of its kind (`form=annual_survey&period=2026SY`).
pub(super) fn form_period_of(
    ctx: &AppContext,
    form: Option<&str>,
    period: Option<&str>,
) -> Result<FormPeriod, ApiError> {
    match form.map(str::trim).filter(|f| !f.is_empty()) {
        None | Some(unionstat_core::form::MONTHLY) => {
            Ok(FormPeriod::monthly(ctx, required_month(period)?))
        }
        Some(f) => FormPeriod::parse(ctx, Some(f), period).map_err(ApiError::BadRequest),
    }
}

/// Any period: a month, a quarter, a year or a statistical year.
fn report_period_of(p: &PeriodParams) -> Result<ReportPeriod, ApiError> {
    any_period(p.period.as_deref())
}

/// The `period` parameter as any period.
fn any_period(raw: Option<&str>) -> Result<ReportPeriod, ApiError> {
    let raw = raw.ok_or_else(|| {
        ApiError::BadRequest(
            "period is required, e.g. ?period=2026-10 (or 2026Q4, 2026, 2026SY)".into(),
        )
    })?;
    raw.parse()
        .map_err(|e| ApiError::BadRequest(format!("period: {e}")))
}

/// `GET /api/v1/orgs/{code}/indicators?period=P[&children=true]`; P is a month
/// `2026-10`, a quarter `2026Q4`, a year `2026` or a statistical year `2026SY`.
#[utoipa::path(
    get,
    path = "/orgs/{code}/indicators",
    tag = "figures",
    params(("code" = String, Path, description = "Org unit code", example = "330102"), PeriodParams),
    responses(
        (status = 200, description = "Figures, rates and coverage of the node (and its children)", body = IndicatorsView),
        (status = 401, description = "No or unknown API key", body = ErrorBody),
        (status = 404, description = "No such org unit in the key's subtree: an unknown code and one outside the subtree answer alike", body = ErrorBody),
        (status = 422, description = "A bad period or parameter, named", body = ErrorBody),
    )
)]
pub async fn indicators(
    State(ctx): State<AppContext>,
    principal: Principal,
    Path(code): Path<String>,
    Query(params): Query<PeriodParams>,
) -> Result<Response, ApiError> {
    let period = report_period_of(&params)?;
    let with_children = flag("children", params.children.as_deref())?;
    let children_asked = match (
        with_children,
        flag(
            "child_metric_changes",
            params.child_metric_changes.as_deref(),
        )?,
    ) {
        (false, _) => Children::None,
        (true, false) => Children::Figures,
        (true, true) => Children::WithMetricChanges,
    };
    let tree = tree_of(params.tree.as_deref())?;
    let org = principal
        .readable_org_in(&ctx, &code, period.last(), tree)
        .await?;
    // When the node is the caller's now and the children are of the current
    // tree (the current view, or a month from the newest change on), they are
    // all the caller's: the answer is everyone's who may see the node, and
    // may be kept.
    let all_visible = principal.can_read(&org)
        && (tree == TreeView::Current
            || period.last().key() >= ctx.store.newest_tree_from().await?);
    if all_visible || children_asked == Children::None {
        let json = crate::flows::answers::indicators_json(&ctx, &org, period, children_asked, tree)
            .await?;
        return Ok(([(header::CONTENT_TYPE, "application/json")], json).into_response());
    }
    let mut view =
        crate::flows::views::indicators_view(&ctx, &org, period, children_asked, tree).await?;
    ctx.metrics.answer_cache("bypass");
    // Children the caller may not see (units that moved in or out of its
    // subtree) are left out.
    if let Some(children) = view.children.as_mut() {
        let codes: Vec<String> = children.iter().map(|c| c.org.clone()).collect();
        let visible = principal
            .readable_codes_in(&ctx, &codes, period.last())
            .await?;
        children.retain(|c| visible.contains(&c.org));
    }
    Ok(Json(view).into_response())
}

/// `GET /api/v1/orgs/{code}/forms/{form}?period=P`: the node's figures of a
/// form other than `monthly` for one of its periods (`2026SY`), as reported.
#[utoipa::path(
    get,
    path = "/orgs/{code}/forms/{form}",
    tag = "figures",
    params(
        ("code" = String, Path, description = "Org unit code", example = "330102"),
        ("form" = String, Path, description = "Form code", example = "annual_survey"),
        PeriodParams
    ),
    responses(
        (status = 200, description = "The node's sums of the form's metrics and its coverage", body = FormFiguresView),
        (status = 401, description = "No or unknown API key", body = ErrorBody),
        (status = 404, description = "No such org unit in the key's subtree", body = ErrorBody),
        (status = 422, description = "An unknown form or a bad period, named", body = ErrorBody),
    )
)]
pub async fn form_figures(
    State(ctx): State<AppContext>,
    principal: Principal,
    Path((code, form)): Path<(String, String)>,
    Query(params): Query<PeriodParams>,
) -> Result<Json<FormFiguresView>, ApiError> {
    let period = report_period_of(&params)?;
    let org = principal
        .readable_org_in(&ctx, &code, period.last(), TreeView::AsReported)
        .await?;
    crate::flows::views::form_figures::form_figures(&ctx, &org, &form, period)
        .await?
        .map(Json)
        .map_err(|e| ApiError::BadRequest(e.to_string()))
}

/// `GET /api/v1/orgs/{code}/completeness?period=P`
#[utoipa::path(
    get,
    path = "/orgs/{code}/completeness",
    tag = "reporting",
    params(("code" = String, Path, description = "Org unit code", example = "330102"), CompletenessParams),
    responses(
        (status = 200, description = "Expected reporters by status, 报送率 and 及时率 at every level", body = CompletenessView),
        (status = 401, description = "No or unknown API key", body = ErrorBody),
        (status = 404, description = "No such org unit in the key's subtree: an unknown code and one outside the subtree answer alike", body = ErrorBody),
        (status = 422, description = "A bad month, an unknown form, or a period of the wrong kind for the form", body = ErrorBody),
    )
)]
pub async fn completeness(
    State(ctx): State<AppContext>,
    principal: Principal,
    Path(code): Path<String>,
    Query(params): Query<CompletenessParams>,
) -> Result<Json<CompletenessView>, ApiError> {
    let fp = form_period_of(&ctx, params.form.as_deref(), params.period.as_deref())?;
    let tree = tree_of(params.tree.as_deref())?;
    let org = principal
        .readable_org_in(&ctx, &code, fp.month(), tree)
        .await?;
    Ok(Json(
        crate::flows::views::form_completeness_view(&ctx, &org, &fp, tree).await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SeriesParams {
    /// An indicator code (see GET /catalog), `reporting_rate`, or a metric
    /// code (`new_members`): the metric's total month by month.
    #[param(example = "membership_rate")]
    indicator: Option<String>,
    /// First month, `YYYY-MM`.
    #[param(example = "2026-01")]
    from: Option<String>,
    /// Last month, `YYYY-MM` (at most 240 months after `from`).
    #[param(example = "2026-10")]
    to: Option<String>,
    /// `as_reported` (default) or `current`: history restated under today's
    /// tree, so the months compare like with like.
    #[param(example = "current")]
    tree: Option<String>,
}

/// `GET /api/v1/orgs/{code}/series?indicator=I&from=YYYY-MM&to=YYYY-MM`
#[utoipa::path(
    get,
    path = "/orgs/{code}/series",
    tag = "figures",
    params(("code" = String, Path, description = "Org unit code", example = "330102"), SeriesParams),
    responses(
        (status = 200, description = "The indicator or metric month by month", body = SeriesView),
        (status = 401, description = "No or unknown API key", body = ErrorBody),
        (status = 404, description = "No such org unit in the key's subtree: an unknown code and one outside the subtree answer alike", body = ErrorBody),
        (status = 422, description = "A code that is neither an indicator nor a metric, or a bad month range", body = ErrorBody),
    )
)]
pub async fn series(
    State(ctx): State<AppContext>,
    principal: Principal,
    Path(code): Path<String>,
    Query(params): Query<SeriesParams>,
) -> Result<Json<SeriesView>, ApiError> {
    let month = |name: &str, raw: Option<&str>| -> Result<Period, ApiError> {
        let raw = raw.ok_or_else(|| {
            ApiError::BadRequest(format!("{name} is required, a month like 2026-10"))
        })?;
        raw.parse()
            .map_err(|e| ApiError::BadRequest(format!("{name}: {e}")))
    };
    let indicator = params.indicator.as_deref().ok_or_else(|| {
        ApiError::BadRequest(
            "缺少 indicator 参数，例如 indicator=membership_rate 或 indicator=new_members / indicator is required, e.g. indicator=membership_rate or indicator=new_members".into(),
        )
    })?;
    let from = month("from", params.from.as_deref())?;
    let to = month("to", params.to.as_deref())?;
    let tree = tree_of(params.tree.as_deref())?;
    let org = principal.readable_org_in(&ctx, &code, to, tree).await?;
    match series_view(&ctx, &org, indicator, from, to, tree).await {
        Ok(v) => Ok(Json(v)),
        Err(SeriesError::Database(e)) => Err(e.into()),
        Err(e) => Err(ApiError::BadRequest(e.to_string())),
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// A month `2026-10`, a quarter `2026Q4`, a year `2026` or a statistical
    /// year `2026SY`; for a form other than `monthly`, a period of its kind
    /// (`2026SY`, `2026H1`).
    #[param(example = "2026-10")]
    period: Option<String>,
    /// `as_reported` (default) or `current` (monthly only: a form's figures
    /// are as reported).
    #[param(example = "as_reported")]
    tree: Option<String>,
    /// The form (default `monthly`): another form's export is the node's
    /// figures of that form, its own row and each unit below it.
    #[param(example = "annual_survey")]
    form: Option<String>,
}

/// `GET /api/v1/orgs/{code}/export.xlsx?period=P[&form=F]`: the node's roll-up
/// workbook (indicators of the node and each child, a chart of 入会率 by
/// child, and completeness of the period's last month); with a form other
/// than `monthly`, the node's figures of that form and each unit's below it.
#[utoipa::path(
    get,
    path = "/orgs/{code}/export.xlsx",
    tag = "figures",
    params(("code" = String, Path, description = "Org unit code", example = "330102"), ExportParams),
    responses(
        (status = 200, description = "The roll-up workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = XlsxFile),
        (status = 401, description = "No or unknown API key", body = ErrorBody),
        (status = 404, description = "No such org unit in the key's subtree: an unknown code and one outside the subtree answer alike", body = ErrorBody),
        (status = 422, description = "A bad period, an unknown form or a period not of the form's kind", body = ErrorBody),
    )
)]
pub async fn export(
    State(ctx): State<AppContext>,
    principal: Principal,
    Path(code): Path<String>,
    Query(params): Query<ExportParams>,
) -> Result<axum::response::Response, ApiError> {
    let period = any_period(params.period.as_deref())?;
    let tree = tree_of(params.tree.as_deref())?;
    let form = params
        .form
        .as_deref()
        .map(str::trim)
        .filter(|f| !f.is_empty() && *f != unionstat_core::form::MONTHLY);
    if form.is_some() && tree != TreeView::AsReported {
        return Err(ApiError::BadRequest(
            "报表数据只按当时的组织树导出，请去掉 tree 参数 / a form's figures are exported as reported only: leave out tree".into(),
        ));
    }
    let org = principal
        .readable_org_in(&ctx, &code, period.last(), tree)
        .await?;
    if let Some(form) = form {
        let bytes = crate::flows::export::export_form(&ctx, &org, form, period)
            .await?
            .map_err(|refusal| ApiError::BadRequest(refusal.to_string()))?;
        return Ok(super::templates::xlsx(
            bytes,
            &format!("{}_{form}_{period}.xlsx", org.code),
        ));
    }
    let bytes = crate::flows::export::export(&ctx, &org, period, tree).await?;
    Ok(super::templates::xlsx(
        bytes,
        &format!("{}_{period}.xlsx", org.code),
    ))
}
