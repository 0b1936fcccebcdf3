//! Reminders (催报): a federation chases the reporters of its subtree now, and
//! reads what was sent.

use axum::extract::{Path, Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use unionstat_core::Period;

use super::auth::Principal;
use super::error::{ApiError, ErrorBody};
use super::openapi::XlsxFile;
use crate::context::AppContext;
use crate::flows::reminders::{self, Kind, RunReport};
use crate::mail::Mailer;
use crate::store::keys::Role;
use crate::store::orgs::{TreeAt, TreeView};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChaseParams {
    /// The month `YYYY-MM`; default: the month being reported (last month).
    #[param(example = "2026-11")]
    period: Option<String>,
    /// `due_soon` or `overdue`; default: due soon up to the deadline, overdue after it.
    kind: Option<String>,
}

fn month_of(ctx: &AppContext, period: Option<&str>) -> Result<Period, ApiError> {
    match period.map(str::trim).filter(|p| !p.is_empty()) {
        Some(p) => p
            .parse()
            .map_err(|e| ApiError::BadRequest(format!("period: {e}"))),
        None => Ok(ctx.settings.reporting.reporting_period(chrono::Utc::now())),
    }
}

/// `POST /api/v1/orgs/{code}/reminders`
#[utoipa::path(
    post,
    path = "/orgs/{code}/reminders",
    tag = "reporting",
    params(("code" = String, Path, description = "Org unit code", example = "330102"), ChaseParams),
    responses(
        (status = 200, description = "Who was sent the notice now, who failed (tried again later), who has no email, who had it already", body = RunReport),
        (status = 401, description = "No or unknown API key", body = ErrorBody),
        (status = 403, description = "A viewer", body = ErrorBody),
        (status = 404, description = "No such org unit in the key's subtree (now or in that month): an unknown code and one outside the subtree answer alike", body = ErrorBody),
        (status = 422, description = "A bad month or kind", body = ErrorBody),
    )
)]
pub async fn chase(
    State(ctx): State<AppContext>,
    principal: Principal,
    Path(code): Path<String>,
    Query(params): Query<ChaseParams>,
) -> Result<Json<RunReport>, ApiError> {
    let current = principal.readable_org(&ctx, &code).await?;
    if principal.0.role == Role::Viewer {
        return Err(ApiError::Forbidden(
            "只读账号不能催报 / a viewer cannot send reminders".into(),
        ));
    }
    let period = month_of(&ctx, params.period.as_deref())?;
    let kind = match params.kind.as_deref() {
        Some(k) => Kind::parse(k).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "kind = {k:?}：应为 due_soon 或 overdue / use due_soon or overdue"
            ))
        })?,
        None => {
            let reporting = &ctx.settings.reporting;
            Kind::on(
                reporting.today(chrono::Utc::now()),
                period.deadline(reporting.deadline_day),
            )
        }
    };
    // The month's tree decides who is expected; the node must be the caller's
    // in it too.
    let root = match ctx
        .store
        .org_at(&current.code, TreeAt::Month(period))
        .await?
    {
        Some(r) if principal.can_read(&r) => r,
        _ => return Err(ApiError::no_such_org()),
    };
    let mailer = Mailer::new(&ctx.settings.mail);
    Ok(Json(
        reminders::run_for(&ctx, &mailer, &root, period, kind).await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogParams {
    /// The month `YYYY-MM`; default: the month being reported.
    #[param(example = "2026-11")]
    period: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SentNotice {
    org: String,
    /// `due_soon` or `overdue`.
    kind: String,
    address: String,
    /// `sent`, `failed`, `unreachable` (no email) or `sending`.
    status: String,
    attempts: i64,
    error: Option<String>,
    /// When the last attempt began, and when it was sent.
    attempted_at: String,
    sent_at: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SentLog {
    org: String,
    period: String,
    reminders: Vec<SentNotice>,
}

/// `GET /api/v1/orgs/{code}/reminders`
#[utoipa::path(
    get,
    path = "/orgs/{code}/reminders",
    tag = "reporting",
    params(("code" = String, Path, description = "Org unit code", example = "330102"), LogParams),
    responses(
        (status = 200, description = "The sent log of the month for the subtree's reporters", body = SentLog),
        (status = 401, description = "No or unknown API key", body = ErrorBody),
        (status = 404, description = "No such org unit in the key's subtree: an unknown code and one outside the subtree answer alike", body = ErrorBody),
        (status = 422, description = "A bad month", body = ErrorBody),
    )
)]
pub async fn log(
    State(ctx): State<AppContext>,
    principal: Principal,
    Path(code): Path<String>,
    Query(params): Query<LogParams>,
) -> Result<Json<SentLog>, ApiError> {
    let org = principal.readable_org(&ctx, &code).await?;
    let period = month_of(&ctx, params.period.as_deref())?.to_string();
    let rows = ctx.store.reminders_log(&org, &period).await?;
    Ok(Json(SentLog {
        org: org.code,
        period,
        reminders: rows
            .into_iter()
            .map(|r| SentNotice {
                org: r.org_code,
                kind: r.kind,
                address: r.address,
                status: r.status,
                attempts: r.attempts,
                error: r.error,
                attempted_at: r.claimed_at,
                sent_at: r.sent_at,
            })
            .collect(),
    }))
}

/// `GET /api/v1/orgs/{code}/reminders.xlsx`
#[utoipa::path(
    get,
    path = "/orgs/{code}/reminders.xlsx",
    tag = "reporting",
    params(("code" = String, Path, description = "Org unit code", example = "330102"), LogParams),
    responses(
        (status = 200, description = "The 催报 list: the subtree's expected reporters without an accepted report for the month (missing, rejected, returned in review), with parent, contact and the reminders sent", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = XlsxFile),
        (status = 401, description = "No or unknown API key", body = ErrorBody),
        (status = 404, description = "No such org unit in the key's subtree: an unknown code and one outside the subtree answer alike", body = ErrorBody),
        (status = 422, description = "A bad month", body = ErrorBody),
    )
)]
pub async fn chase_list(
    State(ctx): State<AppContext>,
    principal: Principal,
    Path(code): Path<String>,
    Query(params): Query<LogParams>,
) -> Result<axum::response::Response, ApiError> {
    let period = month_of(&ctx, params.period.as_deref())?;
    let org = principal
        .readable_org_in(&ctx, &code, period, TreeView::AsReported)
        .await?;
    let bytes = reminders::chase_list(&ctx, &org, period).await?;
    Ok(super::templates::xlsx(
        bytes,
        &format!("{}_{period}_reminders.xlsx", org.code),
    ))
}
