use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Deserialize;
use unionstat_core::Period;

use super::auth::Principal;
use super::error::ApiError;
use crate::app::AppContext;
use crate::store::orgs::OrgRow;
use crate::views::{CompletenessView, IndicatorsView};

#[derive(Debug, Deserialize)]
pub struct PeriodParams {
    period: Option<String>,
    #[serde(default)]
    children: Option<String>,
}

fn period_of(p: &PeriodParams) -> Result<Period, ApiError> {
    let raw = p
        .period
        .as_deref()
        .ok_or_else(|| ApiError::BadRequest("period is required, e.g. ?period=2026-10".into()))?;
    raw.parse()
        .map_err(|e| ApiError::BadRequest(format!("period: {e}")))
}

async fn readable_org(
    ctx: &AppContext,
    principal: &Principal,
    code: &str,
) -> Result<OrgRow, ApiError> {
    let org = ctx
        .store
        .org(code)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no org unit {code}")))?;
    principal.require_read(&org)?;
    Ok(org)
}

/// `GET /api/v1/orgs/{code}/indicators?period=P[&children=true]`
pub async fn indicators(
    State(ctx): State<AppContext>,
    principal: Principal,
    Path(code): Path<String>,
    Query(params): Query<PeriodParams>,
) -> Result<Json<IndicatorsView>, ApiError> {
    let period = period_of(&params)?;
    let with_children = match params.children.as_deref() {
        None | Some("false") | Some("0") => false,
        Some("true") | Some("1") => true,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "children={other}: use true or false"
            )))
        }
    };
    let org = readable_org(&ctx, &principal, &code).await?;
    Ok(Json(
        crate::views::indicators_view(&ctx, &org, period, with_children).await?,
    ))
}

/// `GET /api/v1/orgs/{code}/completeness?period=P`
pub async fn completeness(
    State(ctx): State<AppContext>,
    principal: Principal,
    Path(code): Path<String>,
    Query(params): Query<PeriodParams>,
) -> Result<Json<CompletenessView>, ApiError> {
    let period = period_of(&params)?;
    let org = readable_org(&ctx, &principal, &code).await?;
    let states = ctx.store.reporter_states(&org, &period.to_string()).await?;
    Ok(Json(CompletenessView::build(
        &org.code,
        &org.name,
        period,
        ctx.settings.reporting.deadline_day,
        states,
    )))
}
