//! `GET /api/v1/me`: the org unit and role of the caller (a key or a signed-in
//! person) and who they are, so a client (the web page) knows where its
//! subtree starts and whose name to show.

use axum::extract::State;
use axum::Json;
use serde::Serialize;

use super::auth::Principal;
use super::error::{ApiError, ErrorBody};
use crate::context::AppContext;
use crate::store::actor::Actor;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MeView {
    /// The caller's org unit: the root of what it may read.
    org: String,
    name: String,
    /// `federation` or `grassroots`.
    kind: String,
    /// Whether the caller's own unit uploads a workbook every month.
    expected_to_report: bool,
    /// `submitter`, `viewer` or `admin`.
    role: &'static str,
    actor: ActorView,
}

/// Who is calling: `{"kind":"user","login","name"}` or `{"kind":"key","label"}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ActorView {
    User { login: String, name: String },
    Key { label: String },
}

impl From<&Actor> for ActorView {
    fn from(a: &Actor) -> Self {
        match a {
            Actor::User { login, name } => ActorView::User {
                login: login.clone(),
                name: name.clone(),
            },
            Actor::Key { label, .. } => ActorView::Key {
                label: label.clone(),
            },
            Actor::Cli { .. } => ActorView::Key {
                label: a.to_string(),
            },
        }
    }
}

/// The caller as `GET /me` shows it.
pub async fn me_view(ctx: &AppContext, principal: &Principal) -> Result<MeView, ApiError> {
    let code = &principal.0.org_code;
    let org = ctx
        .store
        .org(code)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no org unit {code}")))?;
    Ok(MeView {
        org: org.code,
        name: org.name,
        kind: org.kind,
        expected_to_report: org.expected_to_report,
        role: principal.0.role.as_str(),
        actor: ActorView::from(&principal.0.actor),
    })
}

#[utoipa::path(
    get,
    path = "/me",
    tag = "figures",
    responses(
        (status = 200, description = "The caller's org unit (the root of what it may read), role and identity", body = MeView),
        (status = 401, description = "No or unknown API key or session", body = ErrorBody),
    )
)]
pub async fn show(
    State(ctx): State<AppContext>,
    principal: Principal,
) -> Result<Json<MeView>, ApiError> {
    Ok(Json(me_view(&ctx, &principal).await?))
}
