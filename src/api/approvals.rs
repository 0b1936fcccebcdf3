//! Locking and approval (逐级审核) over HTTP: the upload guard for locked
//! periods, and `GET/POST/DELETE /api/v1/orgs/{code}/approval?period=&form=`
//! (a form's period is approved, and locked, on its own: `form=annual_survey`
//! with `period=2026SY`).

use axum::extract::{Path, Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::auth::Principal;
use super::error::{ApiError, ErrorBody};
use crate::context::AppContext;
use crate::flows::form_period::FormPeriod;
use crate::flows::locking::{form_lock_state, ApprovalView};
use crate::store::approvals::ApproveError;
use crate::store::keys::Role;
use crate::store::orgs::{OrgRow, TreeAt, TreeView};

/// The longest reason kept, in characters.
const MAX_REASON: usize = 500;

/// A reason as given (trimmed; too long or empty is refused or ignored).
pub(super) fn lock_reason(raw: &Option<String>) -> Result<Option<String>, ApiError> {
    let Some(r) = raw.as_deref().map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    if r.chars().count() > MAX_REASON {
        return Err(ApiError::BadRequest(format!(
            "reason: at most {MAX_REASON} characters"
        )));
    }
    Ok(Some(r.chars().filter(|c| !c.is_control()).collect()))
}

/// An upload for a locked period of a form (`form` absent: monthly): refused
/// for submitters (403), and for an admin without a reason (422); an admin
/// with a reason goes ahead (audited).
pub(super) async fn guard_locked_upload(
    ctx: &AppContext,
    principal: &Principal,
    reporter: &str,
    (form, period): (Option<&str>, &str),
    reason: Option<&str>,
) -> Result<(), ApiError> {
    let Ok(fp) = FormPeriod::parse(ctx, form, Some(period)) else {
        return Ok(());
    };
    // The period is locked as the tree of its (last) month has it.
    let Some(org) = ctx
        .store
        .org_at(reporter, TreeAt::Month(fp.month()))
        .await?
    else {
        return Ok(());
    };
    let lock = form_lock_state(ctx, &org, &fp).await?;
    if !lock.locked() {
        return Ok(());
    }
    let why = lock.describe(&fp);
    match (principal.0.role, reason) {
        (Role::Admin, Some(_)) => Ok(()),
        (Role::Admin, None) => Err(ApiError::BadRequest(format!(
            "{reporter} {period} 已锁定（{}）；如仍要修改，请给出理由 reason=…（记入审计） / {reporter} {period} is locked ({}); to change it anyway give reason=… (audited)",
            why.zh, why.en
        ))),
        _ => Err(ApiError::Forbidden(format!(
            "{reporter} {period} 已锁定（{}）；修改需要管理员密钥并说明理由 / {reporter} {period} is locked ({}); changes need an admin key and a reason",
            why.zh, why.en
        ))),
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApprovalParams {
    /// The month, `YYYY-MM`; another form's period (`2026SY`, `2026H1`).
    #[param(example = "2026-10")]
    period: Option<String>,
    /// The form (default `monthly`).
    #[param(example = "annual_survey")]
    form: Option<String>,
    /// Why (required to revoke).
    #[param(example = "figures corrected")]
    reason: Option<String>,
}

fn month_of(ctx: &AppContext, p: &ApprovalParams) -> Result<FormPeriod, ApiError> {
    super::orgs::form_period_of(ctx, p.form.as_deref(), p.period.as_deref())
}

/// The federation `code` as the tree of the period's (last) month has it
/// (approval is of a period's subtree).
async fn federation(
    ctx: &AppContext,
    principal: &Principal,
    code: &str,
    fp: &FormPeriod,
) -> Result<OrgRow, ApiError> {
    let month = fp.month();
    let current = principal
        .readable_org_in(ctx, code, month, TreeView::AsReported)
        .await?;
    let newest = ctx.store.newest_tree_from().await?;
    let org = crate::flows::views::node_in(ctx, &current, TreeAt::Month(month), newest).await?;
    if org.is_grassroots() {
        return Err(ApiError::BadRequest(format!(
            "{code} is a grassroots union; federations approve their subtrees"
        )));
    }
    Ok(org)
}

/// One child federation's approval.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChildApproval {
    org: String,
    name: String,
    approved: bool,
    approved_at: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApprovalAnswer {
    org: String,
    form: String,
    period: String,
    #[serde(flatten)]
    state: ApprovalView,
    /// Child federations with reporters: all must approve before the node can.
    children: Vec<ChildApproval>,
    /// Revoked by this request (DELETE), nearest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    revoked: Vec<String>,
}

async fn answer(
    ctx: &AppContext,
    org: &OrgRow,
    fp: &FormPeriod,
    revoked: Vec<String>,
) -> Result<ApprovalAnswer, ApiError> {
    let p = fp.text();
    let kids: Vec<OrgRow> = ctx
        .store
        .children(&org.code, TreeAt::Month(fp.month()))
        .await?
        .into_iter()
        .filter(|c| !c.is_grassroots() && c.subtree_reporters > 0)
        .collect();
    let mut codes: Vec<&str> = kids.iter().map(|c| c.code.as_str()).collect();
    codes.push(&org.code);
    let live = ctx.store.live_approvals(fp.code(), &p, &codes).await?;
    let lock = form_lock_state(ctx, org, fp).await?;
    Ok(ApprovalAnswer {
        org: org.code.clone(),
        form: fp.code().to_string(),
        period: p,
        state: ApprovalView::of(&lock, live.get(&org.code)),
        children: kids
            .iter()
            .map(|c| ChildApproval {
                org: c.code.clone(),
                name: c.name.clone(),
                approved: live.contains_key(&c.code),
                approved_at: live.get(&c.code).map(|a| a.approved_at.clone()),
            })
            .collect(),
        revoked,
    })
}

/// `GET /api/v1/orgs/{code}/approval?period=YYYY-MM`: the node's approval,
/// its lock, and its child federations' approvals.
#[utoipa::path(
    get,
    path = "/orgs/{code}/approval",
    tag = "approval",
    params(("code" = String, Path, description = "Org unit code", example = "330102"), ApprovalParams),
    responses(
        (status = 200, description = "The node's approval, lock and children's approvals", body = ApprovalAnswer),
        (status = 401, description = "No or unknown API key", body = ErrorBody),
        (status = 404, description = "No such org unit in the key's subtree: an unknown code and one outside the subtree answer alike", body = ErrorBody),
        (status = 422, description = "A bad month (or form and period), or a grassroots union", body = ErrorBody),
    )
)]
pub async fn show(
    State(ctx): State<AppContext>,
    principal: Principal,
    Path(code): Path<String>,
    Query(params): Query<ApprovalParams>,
) -> Result<Json<ApprovalAnswer>, ApiError> {
    let period = month_of(&ctx, &params)?;
    let org = federation(&ctx, &principal, &code, &period).await?;
    Ok(Json(answer(&ctx, &org, &period, Vec::new()).await?))
}

/// `POST /api/v1/orgs/{code}/approval?period=YYYY-MM`: the federation signs off
/// its subtree for the month (submitter or admin keys over it). 409 until its
/// own report is accepted, every child federation with reporters approved, and
/// every accepted report of a reporter directly under it approved in review
/// (审核; see `reviews.rs`).
#[utoipa::path(
    post,
    path = "/orgs/{code}/approval",
    tag = "approval",
    params(("code" = String, Path, description = "Org unit code", example = "330102"), ApprovalParams),
    responses(
        (status = 200, description = "Approved (or already approved)", body = ApprovalAnswer),
        (status = 401, description = "No or unknown API key", body = ErrorBody),
        (status = 403, description = "A viewer key", body = ErrorBody),
        (status = 404, description = "No such org unit in the key's subtree: an unknown code and one outside the subtree answer alike", body = ErrorBody),
        (status = 409, description = "Not yet: what is missing is named (the own report, child federations' approvals, reports under it unreviewed or returned in review, uploads in process)", body = ErrorBody),
        (status = 422, description = "A bad month (or form and period), a grassroots union, or nothing to approve", body = ErrorBody),
    )
)]
pub async fn approve(
    State(ctx): State<AppContext>,
    principal: Principal,
    Path(code): Path<String>,
    Query(params): Query<ApprovalParams>,
) -> Result<Json<ApprovalAnswer>, ApiError> {
    let period = month_of(&ctx, &params)?;
    let org = federation(&ctx, &principal, &code, &period).await?;
    if principal.0.role == Role::Viewer {
        return Err(ApiError::Forbidden("a viewer key cannot approve".into()));
    }
    if org.subtree_reporters == 0 {
        return Err(ApiError::BadRequest(format!(
            "nothing is reported under {code}: there is nothing to approve"
        )));
    }
    match ctx
        .store
        .approve(&org, period.reporters(), &period.text(), &principal.actor())
        .await
    {
        Ok(_) => {}
        Err(ApproveError::Database(e)) => return Err(e.into()),
        Err(e) => return Err(ApiError::Conflict(e.to_string())),
    }
    Ok(Json(answer(&ctx, &org, &period, Vec::new()).await?))
}

/// `DELETE /api/v1/orgs/{code}/approval?period=YYYY-MM&reason=…`: an admin
/// revokes the approval (and those above it, which rested on it); audited.
#[utoipa::path(
    delete,
    path = "/orgs/{code}/approval",
    tag = "approval",
    params(("code" = String, Path, description = "Org unit code", example = "330102"), ApprovalParams),
    responses(
        (status = 200, description = "Revoked, with the approvals above it", body = ApprovalAnswer),
        (status = 401, description = "No or unknown API key", body = ErrorBody),
        (status = 403, description = "Not an admin key", body = ErrorBody),
        (status = 404, description = "No such org unit in the key's subtree: an unknown code and one outside the subtree answer alike", body = ErrorBody),
        (status = 409, description = "No live approval to revoke", body = ErrorBody),
        (status = 422, description = "A bad month (or form and period) or no reason", body = ErrorBody),
    )
)]
pub async fn revoke(
    State(ctx): State<AppContext>,
    principal: Principal,
    Path(code): Path<String>,
    Query(params): Query<ApprovalParams>,
) -> Result<Json<ApprovalAnswer>, ApiError> {
    let period = month_of(&ctx, &params)?;
    let org = federation(&ctx, &principal, &code, &period).await?;
    if principal.0.role != Role::Admin {
        return Err(ApiError::Forbidden(
            "only an admin key can revoke an approval".into(),
        ));
    }
    let reason = lock_reason(&params.reason)?
        .ok_or_else(|| ApiError::BadRequest("reason is required to revoke an approval".into()))?;
    let revoked = ctx
        .store
        .revoke_approval(
            &org,
            period.code(),
            &period.text(),
            &principal.actor(),
            &reason,
        )
        .await?;
    if revoked.is_empty() {
        return Err(ApiError::Conflict(format!(
            "{code} has not approved {period}: nothing to revoke"
        )));
    }
    Ok(Json(answer(&ctx, &org, &period, revoked).await?))
}
