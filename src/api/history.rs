//! `GET /api/v1/orgs/{code}/history?period=YYYY-MM[&metric=M][&limit=N]`: who
//! changed what in the node's subtree for a month, when, from which submission.

use axum::extract::{Path, Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use unionstat_core::Period;

use super::auth::Principal;
use super::error::{ApiError, ErrorBody};
use crate::context::AppContext;

const DEFAULT_LIMIT: i64 = 1000;
const MAX_LIMIT: i64 = 10_000;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryParams {
    /// The month, `YYYY-MM`.
    #[param(example = "2026-10")]
    period: Option<String>,
    /// Only changes of this metric code.
    #[param(example = "members")]
    metric: Option<String>,
    /// At most this many entries (1..=10000, default 1000).
    #[param(example = "100")]
    limit: Option<String>,
}

/// One change, oldest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HistoryEntry {
    /// The audit row. A unit's first figures of the month, while no later
    /// upload has replaced them, have no audit row of their own: they carry
    /// the id of their submission's `submission_accepted` row.
    id: i64,
    /// When (RFC 3339, UTC).
    at: String,
    /// Who: `key:ID` (an API key), `cli`, `demo`.
    actor: String,
    /// `fact_set`, `fact_removed`, `submission_accepted`, `approved`,
    /// `approval_revoked`, `locked_period_changed`, `report_approved`,
    /// `report_returned` (review and return, 审核与退回).
    action: String,
    /// The submission the change came from.
    submission_id: Option<i64>,
    /// The grassroots unit (figures) or federation (approvals, reports).
    unit: Option<String>,
    metric: Option<String>,
    /// The figure before and after, in natural units (yuan as decimals); null
    /// where there was none.
    old_value: Option<f64>,
    new_value: Option<f64>,
    detail: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HistoryView {
    org: String,
    period: String,
    metric: Option<String>,
    /// Entries answered (at most `limit`).
    count: usize,
    entries: Vec<HistoryEntry>,
}

/// `GET /api/v1/orgs/{code}/history`
#[utoipa::path(
    get,
    path = "/orgs/{code}/history",
    tag = "approval",
    params(("code" = String, Path, description = "Org unit code", example = "330102"), HistoryParams),
    responses(
        (status = 200, description = "The audit of the subtree for the month, oldest first", body = HistoryView),
        (status = 401, description = "No or unknown API key", body = ErrorBody),
        (status = 404, description = "No such org unit in the key's subtree: an unknown code and one outside the subtree answer alike", body = ErrorBody),
        (status = 422, description = "A bad month, metric or limit", body = ErrorBody),
    )
)]
pub async fn history(
    State(ctx): State<AppContext>,
    principal: Principal,
    Path(code): Path<String>,
    Query(params): Query<HistoryParams>,
) -> Result<Json<HistoryView>, ApiError> {
    let raw = params
        .period
        .as_deref()
        .ok_or_else(|| ApiError::BadRequest("period is required, e.g. ?period=2026-10".into()))?;
    let period: Period = raw
        .parse()
        .map_err(|e| ApiError::BadRequest(format!("period: {e}")))?;
    let metric = match params
        .metric
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty())
    {
        Some(m) if ctx.catalog.metric(m).is_none() => {
            return Err(ApiError::BadRequest(format!(
                "metric {m:?} is not in the catalogue (see GET /api/v1/catalog)"
            )))
        }
        other => other.map(str::to_string),
    };
    let limit = match params.limit.as_deref() {
        None => DEFAULT_LIMIT,
        Some(l) => l
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| ApiError::BadRequest(format!("limit: a number 1..={MAX_LIMIT}")))?,
    };
    let org = principal.readable_org(&ctx, &code).await?;
    let rows = ctx
        .store
        .history(&org, &period.to_string(), metric.as_deref(), limit)
        .await?;
    let natural = |m: Option<&str>, v: Option<i64>| {
        let v = v?;
        Some(match m.and_then(|m| ctx.catalog.metric(m)) {
            Some(metric) => metric.to_f64(v),
            None => v as f64,
        })
    };
    let entries: Vec<HistoryEntry> = rows
        .into_iter()
        .map(|r| HistoryEntry {
            old_value: natural(r.metric.as_deref(), r.old_value),
            new_value: natural(r.metric.as_deref(), r.new_value),
            id: r.id,
            at: r.at,
            actor: r.actor,
            action: r.action,
            submission_id: r.submission_id,
            unit: r.unit_code,
            metric: r.metric,
            detail: r.detail,
        })
        .collect();
    Ok(Json(HistoryView {
        org: org.code,
        period: period.to_string(),
        metric,
        count: entries.len(),
        entries,
    }))
}
