//! Review and return (审核与退回) over HTTP: `POST /api/v1/submissions/{id}/review`
//! (a federation above the reporter approves its accepted report, or returns
//! it with a comment) and `GET /api/v1/orgs/{code}/reviews?period=` (the
//! reviewer's queue: the reports of the reporters directly under the node).

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use unionstat_core::Period;

use super::auth::Principal;
use super::error::{ApiError, ErrorBody};
use crate::context::AppContext;
use crate::flows::review::{self, QueueView, Reader, Refusal, ReviewView};
use crate::store::keys::Role;
use crate::store::orgs::{OrgRow, TreeAt, TreeView};
use crate::store::reviews::{Decision, ReviewRow};
use crate::store::submissions::SubmissionRow;

/// A review: approve the report, or return it (退回) with a comment.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    /// `approve` or `return`.
    #[schema(example = "return")]
    decision: String,
    /// Required to return (at most 500 characters): what to correct.
    #[schema(example = "会员人数比上月少了三成，请核实 / members fell by 30 %: please check")]
    comment: Option<String>,
}

/// The review recorded (or, approving an approved report, the one there was).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReviewAnswer {
    submission_id: i64,
    reporter: String,
    period: String,
    review: ReviewView,
}

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::Invalid(m) => ApiError::BadRequest(m),
            Refusal::Forbidden(m) => ApiError::Forbidden(m),
            Refusal::Conflict(m) => ApiError::Conflict(m),
            Refusal::Database(e) => e.into(),
        }
    }
}

/// The federation the caller reviews as: their own org unit when it lies
/// above the reporter in the month's tree; for an admin key over another
/// part of the tree, the reporter's parent.
async fn reviewer_for(
    ctx: &AppContext,
    principal: &Principal,
    reporter: &str,
    month: Period,
) -> Result<OrgRow, ApiError> {
    let at = TreeAt::Month(month);
    let me = &principal.0;
    if me.org_code == reporter {
        return Err(Refusal::Forbidden(format!(
            "报送单位不能审核自己的报表，审核由上级工会进行 / {reporter} cannot review its own report: a federation above it reviews"
        ))
        .into());
    }
    let mine = match ctx.store.org_at(&me.org_code, at).await? {
        Some(o) => Some(o),
        None => ctx.store.org(&me.org_code).await?,
    };
    let it = ctx
        .store
        .org_at(reporter, at)
        .await?
        .ok_or_else(ApiError::no_such_submission)?;
    match mine {
        Some(m) if m.contains(&it) => Ok(m),
        _ if principal.is_admin() => {
            let parent = it.parent_code.as_deref().unwrap_or_default();
            ctx.store
                .org_at(parent, at)
                .await?
                .ok_or_else(ApiError::no_such_submission)
        }
        // Readable now but not below the caller in the month's tree.
        _ => Err(Refusal::Forbidden(format!(
            "只有 {reporter} 当月的上级工会可以审核 / only a federation above {reporter} in that month's tree reviews its report"
        ))
        .into()),
    }
}

/// Whether the caller may see the federation that reviewed `reporter`.
pub(super) async fn reviewer_readable(
    ctx: &AppContext,
    principal: &Principal,
    review: &ReviewRow,
    reporter: Option<&OrgRow>,
) -> Result<bool, ApiError> {
    if reporter.and_then(|r| r.parent_code.as_deref()) == Some(review.reviewer_org.as_str()) {
        return Ok(true);
    }
    Ok(match ctx.store.org(&review.reviewer_org).await? {
        Some(org) => principal.can_read(&org),
        None => false,
    })
}

/// The reviews of a submission as the caller may see them, oldest first.
pub(super) async fn reviews_for(
    ctx: &AppContext,
    principal: &Principal,
    sub: &SubmissionRow,
) -> Result<Vec<ReviewView>, ApiError> {
    let rows = ctx.store.reviews_of(sub.id).await?;
    let reporter = match sub.reporter.as_deref() {
        Some(code) if !rows.is_empty() => ctx.store.org(code).await?,
        _ => None,
    };
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let show = reviewer_readable(ctx, principal, r, reporter.as_ref()).await?;
        out.push(ReviewView::of(r, show));
    }
    Ok(out)
}

/// `POST /api/v1/submissions/{id}/review`: a federation above the reporter
/// approves its accepted report, or returns it (退回) with a comment; audited.
#[utoipa::path(
    post,
    path = "/submissions/{id}/review",
    tag = "approval",
    params(("id" = i64, Path, description = "Submission id")),
    request_body = ReviewRequest,
    responses(
        (status = 200, description = "The review recorded (approving an approved report: the existing review)", body = ReviewAnswer),
        (status = 401, description = "No or unknown API key", body = ErrorBody),
        (status = 403, description = "A viewer key, the reporter itself, or a caller not above the reporter in the month's tree", body = ErrorBody),
        (status = 404, description = "No such submission for this key: an unknown id and another subtree's answer alike", body = ErrorBody),
        (status = 409, description = "The report is not accepted (superseded, rejected, still processing), already returned, or its month is locked (returns)", body = ErrorBody),
        (status = 422, description = "A bad decision, or a return without a comment, or a comment over 500 characters", body = ErrorBody),
    )
)]
pub async fn review(
    State(ctx): State<AppContext>,
    principal: Principal,
    Path(id): Path<i64>,
    body: Result<Json<ReviewRequest>, JsonRejection>,
) -> Result<Json<ReviewAnswer>, ApiError> {
    let sub = super::submissions::visible_submission(&ctx, &principal, id).await?;
    if principal.0.role == Role::Viewer {
        return Err(ApiError::Forbidden(
            "只读账号不能审核 / a viewer key cannot review reports".into(),
        ));
    }
    let Json(body) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let decision = match body.decision.trim() {
        "approve" | "approved" => Decision::Approved,
        "return" | "returned" => Decision::Returned,
        other => {
            return Err(ApiError::BadRequest(format!(
                "decision {other:?}：应为 approve（通过）或 return（退回） / decision {other:?}: use approve or return"
            )))
        }
    };
    let (Some(reporter), Some(period)) = (sub.reporter.clone(), sub.period.clone()) else {
        return Err(ApiError::Conflict(format!(
            "报送 #{id} 当前状态为 {}，只有已接受的报送可以审核 / submission {id} is {}: only an accepted report is reviewed",
            sub.status, sub.status
        )));
    };
    // The report's own form and period: the tree of its last month places it.
    let month = crate::flows::form_period::FormPeriod::of_report(&ctx, &sub.form, &period)
        .ok_or_else(|| ApiError::BadRequest(format!("period: {period}")))?
        .month();
    let reviewer = reviewer_for(&ctx, &principal, &reporter, month).await?;
    let row = review::review(
        &ctx,
        &sub,
        &reviewer,
        decision,
        body.comment.as_deref(),
        &principal.actor(),
    )
    .await?;
    Ok(Json(ReviewAnswer {
        submission_id: id,
        reporter,
        period,
        // The reviewer is the caller's org unit or (an admin's) the reporter's parent.
        review: ReviewView::of(&row, true),
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueParams {
    /// The month, `YYYY-MM`; another form's period (`2026SY`, `2026H1`).
    #[param(example = "2026-10")]
    period: Option<String>,
    /// The form whose reports are queued (default `monthly`).
    #[param(example = "annual_survey")]
    form: Option<String>,
}

/// `GET /api/v1/orgs/{code}/reviews?period=YYYY-MM[&form=FORM]`: the
/// reviewer's queue (of a form's period: `form=annual_survey&period=2026SY`).
#[utoipa::path(
    get,
    path = "/orgs/{code}/reviews",
    tag = "approval",
    params(("code" = String, Path, description = "Org unit code", example = "330102"), QueueParams),
    responses(
        (status = 200, description = "The node's own report and those of the reporters directly under it, with status, review, issue counts and headline figures against the month before", body = QueueView),
        (status = 401, description = "No or unknown API key", body = ErrorBody),
        (status = 404, description = "No such org unit in the key's subtree: an unknown code and one outside the subtree answer alike", body = ErrorBody),
        (status = 422, description = "A bad month (or form and period), or a grassroots union", body = ErrorBody),
    )
)]
pub async fn queue(
    State(ctx): State<AppContext>,
    principal: Principal,
    Path(code): Path<String>,
    Query(params): Query<QueueParams>,
) -> Result<Json<QueueView>, ApiError> {
    let fp = super::orgs::form_period_of(&ctx, params.form.as_deref(), params.period.as_deref())?;
    let period = fp.month();
    let current = principal
        .readable_org_in(&ctx, &code, period, TreeView::AsReported)
        .await?;
    let newest = ctx.store.newest_tree_from().await?;
    let org = crate::flows::views::node_in(&ctx, &current, TreeAt::Month(period), newest).await?;
    if org.is_grassroots() {
        return Err(ApiError::BadRequest(format!(
            "{code} 是基层工会，没有下级报表 / {code} is a grassroots union: it has no reports to review"
        )));
    }
    let me = &principal.0;
    let reader = Reader {
        org_code: &me.org_code,
        org_path: &me.org_path,
        admin: me.role == Role::Admin,
        may_review: me.role != Role::Viewer,
    };
    Ok(Json(review::queue(&ctx, &org, &fp, &reader).await?))
}
