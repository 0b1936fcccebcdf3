//! The federation tree over HTTP: a unit with its history, its children in a
//! month's tree or the current one, and (admins) the changes — import, move,
//! close, merge, split — each effective from a month on and audited with the
//! person or key that made it.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use unionstat_core::Period;

use super::auth::Principal;
use super::error::{ApiError, ErrorBody};
use super::orgs::tree_of;
use crate::context::AppContext;
use crate::flows::tree_changes::{self, ChangeError, Changer};
use crate::flows::views::{OrgHistoryView, TreeUsed};
use crate::store::orgs::{ImportError, ImportReport, OrgRow, TreeAt, TreeView, UnitChange};

/// `GET /api/v1/orgs/{code}`: the unit as the current tree has it, every
/// version of it over time and its audited changes.
#[utoipa::path(
    get,
    path = "/orgs/{code}",
    tag = "tree",
    params(("code" = String, Path, description = "Org unit code", example = "330102001")),
    responses(
        (status = 200, description = "The unit, its versions and changes", body = OrgHistoryView),
        (status = 401, description = "No or unknown API key", body = ErrorBody),
        (status = 404, description = "No such org unit in the key's subtree", body = ErrorBody),
    )
)]
pub async fn show(
    State(ctx): State<AppContext>,
    principal: Principal,
    Path(code): Path<String>,
) -> Result<Json<OrgHistoryView>, ApiError> {
    let org = principal.readable_org(&ctx, &code).await?;
    let versions = ctx.store.org_versions(&code).await?;
    let changes = ctx.store.org_changes(&code).await?;
    Ok(Json(OrgHistoryView::build(&org, &versions, &changes)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChildrenParams {
    /// The month whose tree is read (`tree=as_reported`, the default when a
    /// period is given); without one, the current tree.
    #[param(example = "2026-10")]
    period: Option<String>,
    /// `as_reported` or `current`.
    #[param(example = "current")]
    tree: Option<String>,
}

/// One unit in a listing.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrgSummary {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub expected_to_report: bool,
    /// Grassroots units under it (itself, for a grassroots unit).
    pub units: i64,
}

impl OrgSummary {
    fn of(o: &OrgRow) -> OrgSummary {
        OrgSummary {
            code: o.code.clone(),
            name: o.name.clone(),
            kind: o.kind.clone(),
            expected_to_report: o.expected_to_report,
            units: o.subtree_units,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChildrenView {
    pub org: String,
    /// The month whose tree was read (null: the current tree).
    pub period: Option<String>,
    pub tree: TreeUsed,
    pub children: Vec<OrgSummary>,
}

/// `GET /api/v1/orgs/{code}/children[?period=YYYY-MM][&tree=as_reported|current]`
#[utoipa::path(
    get,
    path = "/orgs/{code}/children",
    tag = "tree",
    params(("code" = String, Path, description = "Org unit code", example = "330102"), ChildrenParams),
    responses(
        (status = 200, description = "The units directly under it in that tree", body = ChildrenView),
        (status = 401, description = "No or unknown API key", body = ErrorBody),
        (status = 404, description = "No such org unit in the key's subtree", body = ErrorBody),
        (status = 422, description = "A bad month or tree", body = ErrorBody),
    )
)]
pub async fn children(
    State(ctx): State<AppContext>,
    principal: Principal,
    Path(code): Path<String>,
    Query(params): Query<ChildrenParams>,
) -> Result<Json<ChildrenView>, ApiError> {
    let period = params
        .period
        .as_deref()
        .map(|p| {
            p.parse::<Period>()
                .map_err(|e| ApiError::BadRequest(format!("period: {e}")))
        })
        .transpose()?;
    let view = match (period, params.tree.as_deref()) {
        (None, None) => TreeView::Current,
        (_, t) => tree_of(t)?,
    };
    let month = period.unwrap_or_else(|| tree_changes::default_from(&ctx.settings.reporting));
    let org = principal.readable_org_in(&ctx, &code, month, view).await?;
    let at = match (view, period) {
        (TreeView::AsReported, Some(p)) => TreeAt::Month(p),
        (TreeView::AsReported, None) => TreeAt::Month(month),
        (TreeView::Current, _) => TreeAt::Current,
    };
    let kids = ctx.store.children(&org.code, at).await?;
    let codes: Vec<String> = kids.iter().map(|k| k.code.clone()).collect();
    let visible = principal.readable_codes_in(&ctx, &codes, month).await?;
    Ok(Json(ChildrenView {
        org: org.code.clone(),
        period: period.map(|p| p.to_string()),
        tree: TreeUsed::of(
            &ctx,
            view,
            &org.code,
            month,
            ctx.store.newest_tree_from().await?,
        )
        .await?,
        children: kids
            .iter()
            .filter(|k| visible.contains(&k.code))
            .map(OrgSummary::of)
            .collect(),
    }))
}

/// What a change did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChangeAnswer {
    pub opened: usize,
    pub updated: usize,
    pub moved: usize,
    pub closed: usize,
    pub unchanged: usize,
    /// Unit versions written (the tree of later months included).
    pub versions_written: usize,
    pub changes: Vec<ChangedUnit>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChangedUnit {
    pub code: String,
    /// `opened`, `moved`, `changed` or `closed`.
    pub what: String,
    /// The parent before and after (null: none, or not in the tree).
    pub parent_before: Option<String>,
    pub parent_after: Option<String>,
}

fn answer(
    done: Result<(ImportReport, Vec<UnitChange>), ChangeError>,
) -> Result<Json<ChangeAnswer>, ApiError> {
    match done {
        Ok((r, changes)) => Ok(Json(ChangeAnswer {
            opened: r.inserted,
            updated: r.updated,
            moved: r.moved,
            closed: r.closed,
            unchanged: r.unchanged,
            versions_written: r.versions_written,
            changes: changes
                .iter()
                .map(|c| ChangedUnit {
                    code: c.code.clone(),
                    what: c.what.to_string(),
                    parent_before: c.from.as_ref().and_then(|o| o.parent_code.clone()),
                    parent_after: c.to.as_ref().and_then(|o| o.parent_code.clone()),
                })
                .collect(),
        })),
        Err(e @ ChangeError::Tree(ImportError::Approved { .. })) => {
            Err(ApiError::Conflict(e.bilingual()))
        }
        Err(e) if e.is_callers() => Err(ApiError::BadRequest(e.bilingual())),
        Err(e) => Err(ApiError::Internal(e.into())),
    }
}

fn admin_changer(principal: &Principal, reason: Option<String>) -> Result<Changer, ApiError> {
    if !principal.is_admin() {
        return Err(ApiError::Forbidden(
            "仅管理员可以修改组织树 / only admins change the tree".into(),
        ));
    }
    let reason = reason
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    Ok(Changer {
        actor: principal.actor().to_string(),
        reason,
    })
}

fn from_month(ctx: &AppContext, raw: Option<&str>) -> Result<Period, ApiError> {
    match raw {
        Some(r) => r
            .parse()
            .map_err(|e| ApiError::BadRequest(format!("from: {e}"))),
        None => Ok(tree_changes::default_from(&ctx.settings.reporting)),
    }
}

fn json_body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    body.map(|Json(b)| b)
        .map_err(|e| ApiError::BadRequest(e.body_text()))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveBody {
    /// The new parent.
    pub to: String,
    /// YYYY-MM (default: the current month).
    pub from: Option<String>,
    /// Required to change from a locked or approved month.
    pub reason: Option<String>,
}

/// `POST /api/v1/orgs/{code}/move` (admins): the unit and everything under it
/// go under another parent from a month on.
#[utoipa::path(
    post,
    path = "/orgs/{code}/move",
    tag = "tree",
    params(("code" = String, Path, description = "Org unit code", example = "330102001017")),
    request_body = MoveBody,
    responses(
        (status = 200, description = "What changed", body = ChangeAnswer),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "An approved month would change; give a reason", body = ErrorBody),
        (status = 422, description = "A bad month, a locked month without a reason, or a tree that does not hold", body = ErrorBody),
    )
)]
pub async fn move_unit(
    State(ctx): State<AppContext>,
    principal: Principal,
    Path(code): Path<String>,
    body: Result<Json<MoveBody>, JsonRejection>,
) -> Result<Json<ChangeAnswer>, ApiError> {
    let body = json_body(body)?;
    let who = admin_changer(&principal, body.reason)?;
    let from = from_month(&ctx, body.from.as_deref())?;
    answer(tree_changes::move_unit(&ctx, &code, &body.to, from, &who).await)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseBody {
    /// YYYY-MM (default: the current month).
    pub from: Option<String>,
    pub reason: Option<String>,
}

/// `POST /api/v1/orgs/{code}/close` (admins): the unit is in no tree from the
/// month on.
#[utoipa::path(
    post,
    path = "/orgs/{code}/close",
    tag = "tree",
    params(("code" = String, Path, description = "Org unit code", example = "330102001017")),
    request_body = CloseBody,
    responses(
        (status = 200, description = "What changed", body = ChangeAnswer),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "An approved month would change; give a reason", body = ErrorBody),
        (status = 422, description = "A bad month, or units still under it", body = ErrorBody),
    )
)]
pub async fn close(
    State(ctx): State<AppContext>,
    principal: Principal,
    Path(code): Path<String>,
    body: Result<Json<CloseBody>, JsonRejection>,
) -> Result<Json<ChangeAnswer>, ApiError> {
    let body = json_body(body)?;
    let who = admin_changer(&principal, body.reason)?;
    let from = from_month(&ctx, body.from.as_deref())?;
    answer(tree_changes::close(&ctx, &code, from, &who).await)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeBody {
    /// The units that merge.
    pub sources: Vec<String>,
    /// The unit they become (created when `name` is given and it does not exist).
    pub into: String,
    pub name: Option<String>,
    pub from: Option<String>,
    pub reason: Option<String>,
}

/// `POST /api/v1/orgs/merge` (admins): units merge into one from a month on.
#[utoipa::path(
    post,
    path = "/orgs/merge",
    tag = "tree",
    request_body = MergeBody,
    responses(
        (status = 200, description = "What changed", body = ChangeAnswer),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "An approved month would change; give a reason", body = ErrorBody),
        (status = 422, description = "A bad request, named", body = ErrorBody),
    )
)]
pub async fn merge(
    State(ctx): State<AppContext>,
    principal: Principal,
    body: Result<Json<MergeBody>, JsonRejection>,
) -> Result<Json<ChangeAnswer>, ApiError> {
    let body = json_body(body)?;
    let who = admin_changer(&principal, body.reason)?;
    let from = from_month(&ctx, body.from.as_deref())?;
    answer(
        tree_changes::merge(
            &ctx,
            &body.sources,
            &body.into,
            body.name.as_deref(),
            from,
            &who,
        )
        .await,
    )
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SplitBody {
    /// Where each unit directly under the federation goes: unit → target.
    pub units: BTreeMap<String, String>,
    /// New federations created beside it: code → name.
    #[serde(default)]
    pub new: BTreeMap<String, String>,
    pub from: Option<String>,
    pub reason: Option<String>,
}

/// `POST /api/v1/orgs/{code}/split` (admins): a federation's units go to the
/// named federations from a month on, and it closes.
#[utoipa::path(
    post,
    path = "/orgs/{code}/split",
    tag = "tree",
    params(("code" = String, Path, description = "Federation code", example = "330102001")),
    request_body = SplitBody,
    responses(
        (status = 200, description = "What changed", body = ChangeAnswer),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "An approved month would change; give a reason", body = ErrorBody),
        (status = 422, description = "A bad request, named (e.g. a unit without a target)", body = ErrorBody),
    )
)]
pub async fn split(
    State(ctx): State<AppContext>,
    principal: Principal,
    Path(code): Path<String>,
    body: Result<Json<SplitBody>, JsonRejection>,
) -> Result<Json<ChangeAnswer>, ApiError> {
    let body = json_body(body)?;
    let who = admin_changer(&principal, body.reason)?;
    let from = from_month(&ctx, body.from.as_deref())?;
    answer(tree_changes::split(&ctx, &code, &body.units, &body.new, from, &who).await)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// The month the file's changes take effect from (rows may give their own).
    #[param(example = "2026-12")]
    from: Option<String>,
    /// Required to change from a locked or approved month.
    reason: Option<String>,
}

/// `POST /api/v1/orgs/import` (admins): master data as the body (CSV or a
/// workbook), as `unionstat orgs import`.
#[utoipa::path(
    post,
    path = "/orgs/import",
    tag = "tree",
    params(ImportParams),
    request_body(content = crate::api::openapi::XlsxFile, content_type = "application/octet-stream"),
    responses(
        (status = 200, description = "What changed", body = ChangeAnswer),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "An approved month would change; give a reason", body = ErrorBody),
        (status = 422, description = "Problems of the file, each with its line", body = ErrorBody),
    )
)]
pub async fn import(
    State(ctx): State<AppContext>,
    principal: Principal,
    Query(params): Query<ImportParams>,
    body: Bytes,
) -> Result<Json<ChangeAnswer>, ApiError> {
    let who = admin_changer(&principal, params.reason)?;
    let from = params
        .from
        .as_deref()
        .map(|f| from_month(&ctx, Some(f)))
        .transpose()?;
    let lines = unionstat_core::orgs::parse_org_lines(&body).map_err(|errs| {
        let shown: Vec<String> = errs.iter().take(20).map(|e| e.to_string()).collect();
        ApiError::BadRequest(format!(
            "主数据文件有 {} 处问题 / {} problem(s) in the master-data file: {}",
            errs.len(),
            errs.len(),
            shown.join("; ")
        ))
    })?;
    answer(tree_changes::import(&ctx, &lines, from, &who).await)
}
