//! `GET /api/v1/submissions`: the caller's submissions, newest first, a page
//! at a time — within its subtree only — and, for one reporter and month, where
//! that month stands (deadline, accepted, reviewed, locked): what the clerk's
//! upload tab shows.

use std::collections::{HashMap, HashSet};

use axum::extract::{Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use unionstat_core::Period;

use super::auth::Principal;
use super::error::{ApiError, ErrorBody};
use crate::context::AppContext;
use crate::flows::locking::{approval_views, lock_state};
use crate::flows::views::completeness_view;
use crate::store::keys::Role;
use crate::store::orgs::{OrgRow, TreeAt, TreeView};
use crate::store::submissions::{SubmissionFilter, SubmissionListRow};

/// Rows per page unless `limit` says otherwise, and at most.
const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 200;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only this reporter's submissions (a code in the caller's subtree).
    #[param(example = "330102001")]
    reporter: Option<String>,
    /// Only this month's, `YYYY-MM`.
    #[param(example = "2026-10")]
    period: Option<String>,
    /// The next page: only submissions with an id below this one (the
    /// answer's `next_before`).
    before: Option<i64>,
    /// Rows per page, 1 to 200 (default 50).
    limit: Option<i64>,
}

/// One submission of the list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ListedSubmission {
    id: i64,
    reporter: Option<String>,
    period: Option<String>,
    /// `received`, `processing`, `accepted`, `rejected` or `superseded`.
    status: String,
    filename: String,
    /// Who uploaded it (a person or a labelled key).
    uploaded_by: String,
    /// When it was received (RFC 3339, UTC), and when its verdict was recorded.
    received_at: String,
    finished_at: Option<String>,
    error_count: i64,
    warning_count: i64,
    /// Declared or accepted as a nil report (零报告).
    nil_report: bool,
    /// The latest review (审核) of it: `approved` or `returned`; null while unreviewed.
    review: Option<String>,
    /// Its month is locked for its reporter now (by time or by an approval):
    /// a new upload needs an admin and a reason.
    locked: bool,
}

/// Where one reporter's month stands.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MonthStanding {
    reporter: String,
    reporter_name: String,
    period: String,
    /// The day reports are due (end of day in `reporting.time_zone`).
    deadline: String,
    /// As completeness says: `on_time`, `late`, `pending`, `rejected`,
    /// `returned` (in review) or `missing`.
    status: String,
    /// An accepted report stands for the month (on time or late).
    accepted: bool,
    nil_report: bool,
    /// The accepted report's latest review: `approved` or `returned`.
    review: Option<String>,
    /// The reporter has approved its own subtree for the month (逐级审核).
    approved: bool,
    /// The month is locked for the reporter: uploads are refused (a check-only
    /// upload is still answered).
    locked: bool,
    /// `time`, `approval`, or both; null when open.
    locked_by: Option<String>,
    /// The last day the month is open by time (null: never closes by time).
    closes_on: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SubmissionList {
    submissions: Vec<ListedSubmission>,
    /// Pass as `before` for the next page; null on the last page.
    next_before: Option<i64>,
    /// With `reporter` and `period`, where that month stands for the
    /// reporter (null when it is not expected to report).
    month: Option<MonthStanding>,
}

/// `GET /api/v1/submissions`
#[utoipa::path(
    get,
    path = "/submissions",
    tag = "submissions",
    params(ListParams),
    responses(
        (status = 200, description = "The caller's submissions, newest first: those whose reporter lies in its subtree (or, with no reporter known, uploaded from it)", body = SubmissionList),
        (status = 401, description = "No or unknown API key", body = ErrorBody),
        (status = 404, description = "`reporter` names no org unit in the key's subtree: an unknown code and one outside it answer alike", body = ErrorBody),
        (status = 422, description = "A bad month or limit", body = ErrorBody),
    )
)]
pub async fn list(
    State(ctx): State<AppContext>,
    principal: Principal,
    Query(params): Query<ListParams>,
) -> Result<Json<SubmissionList>, ApiError> {
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit = {limit}：应为 1 到 {MAX_LIMIT} / limit is 1 to {MAX_LIMIT}"
        )));
    }
    let trimmed = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let period = match trimmed(&params.period) {
        Some(p) => Some(
            p.parse::<Period>()
                .map_err(|e| ApiError::BadRequest(format!("period: {e}")))?,
        ),
        None => None,
    };
    let reporter = match trimmed(&params.reporter) {
        Some(code) => Some(principal.readable_org(&ctx, &code).await?),
        None => None,
    };
    let month = period.map(|p| p.to_string());
    let under_path = (principal.0.role != Role::Admin).then_some(principal.0.org_path.as_str());
    let rows = ctx
        .store
        .list_submissions(&SubmissionFilter {
            under_path,
            reporter: reporter.as_ref().map(|r| r.code.as_str()),
            period: month.as_deref(),
            before_id: params.before,
            limit,
        })
        .await?;
    let next_before = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| r.id))
        .flatten();
    let submissions = listed(&ctx, rows).await?;
    let month = match (reporter, period) {
        (Some(r), Some(p)) => standing(&ctx, &r, p).await?,
        _ => None,
    };
    Ok(Json(SubmissionList {
        submissions,
        next_before,
        month,
    }))
}

/// The rows with their latest review and whether their month is locked for
/// their reporter (the locks of a page in a few queries per month it holds).
async fn listed(
    ctx: &AppContext,
    rows: Vec<SubmissionListRow>,
) -> Result<Vec<ListedSubmission>, ApiError> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let reviews = ctx.store.latest_reviews(&ids).await?;
    let mut by_month: HashMap<&str, Vec<String>> = HashMap::new();
    for r in &rows {
        if let (Some(reporter), Some(period)) = (&r.reporter, &r.period) {
            by_month
                .entry(period.as_str())
                .or_default()
                .push(reporter.clone());
        }
    }
    let mut locked: HashSet<(String, String)> = HashSet::new();
    for (period, mut codes) in by_month {
        let Ok(month) = period.parse::<Period>() else {
            continue;
        };
        codes.sort_unstable();
        codes.dedup();
        let orgs = ctx.store.orgs_by_code(&codes, TreeAt::Month(month)).await?;
        let orgs: Vec<&OrgRow> = orgs.values().collect();
        for (code, view) in approval_views(ctx, month, &orgs).await? {
            if view.locked {
                locked.insert((code, period.to_string()));
            }
        }
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let locked = match (&r.reporter, &r.period) {
                (Some(a), Some(b)) => locked.contains(&(a.clone(), b.clone())),
                _ => false,
            };
            ListedSubmission {
                review: reviews.get(&r.id).map(|v| v.decision.as_str().to_string()),
                locked,
                id: r.id,
                reporter: r.reporter,
                period: r.period,
                status: r.status,
                filename: r.filename,
                uploaded_by: r.uploaded_by,
                received_at: r.received_at,
                finished_at: r.finished_at,
                error_count: r.error_count,
                warning_count: r.warning_count,
                nil_report: r.nil_report,
            }
        })
        .collect())
}

/// Where `reporter`'s month stands, as its completeness answer has it.
async fn standing(
    ctx: &AppContext,
    reporter: &OrgRow,
    period: Period,
) -> Result<Option<MonthStanding>, ApiError> {
    let view = completeness_view(ctx, reporter, period, TreeView::AsReported).await?;
    let Some(own) = view.reporters.iter().find(|r| r.code == reporter.code) else {
        return Ok(None);
    };
    let lock = match ctx
        .store
        .org_at(&reporter.code, TreeAt::Month(period))
        .await?
    {
        Some(org) => lock_state(ctx, &org, period).await?,
        None => Default::default(),
    };
    let view_of_lock = crate::flows::locking::ApprovalView::of(&lock, None);
    Ok(Some(MonthStanding {
        reporter: own.code.clone(),
        reporter_name: own.name.clone(),
        period: view.period.clone(),
        deadline: view.deadline.clone(),
        status: own.status.clone(),
        accepted: matches!(own.status.as_str(), "on_time" | "late"),
        nil_report: own.nil_report,
        review: own.review.as_ref().map(|r| r.decision.as_str().to_string()),
        approved: own.approved,
        locked: view_of_lock.locked,
        locked_by: view_of_lock.locked_by,
        closes_on: view_of_lock.closes_on,
    }))
}
