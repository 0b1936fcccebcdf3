//! `GET /api/v1/me`: the org unit and role of the calling key, so a client (the
//! web page) knows where its subtree starts.

use axum::extract::State;
use axum::Json;
use serde::Serialize;

use super::auth::Principal;
use super::error::{ApiError, ErrorBody};
use crate::app::AppContext;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MeView {
    /// The key's org unit: the root of what it may read.
    org: String,
    name: String,
    /// `federation` or `grassroots`.
    kind: String,
    /// Whether the key's own unit uploads a workbook every month.
    expected_to_report: bool,
    /// `submitter`, `viewer` or `admin`.
    role: &'static str,
}

#[utoipa::path(
    get,
    path = "/me",
    tag = "figures",
    responses(
        (status = 200, description = "The calling key's org unit (the root of what it may read) and role", body = MeView),
        (status = 401, description = "No or unknown API key", body = ErrorBody),
    )
)]
pub async fn show(
    State(ctx): State<AppContext>,
    principal: Principal,
) -> Result<Json<MeView>, ApiError> {
    let code = &principal.0.org_code;
    let org = ctx
        .store
        .org(code)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no org unit {code}")))?;
    Ok(Json(MeView {
        org: org.code,
        name: org.name,
        kind: org.kind,
        expected_to_report: org.expected_to_report,
        role: principal.0.role.as_str(),
    }))
}
