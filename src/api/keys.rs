//! Key management for admins: `GET /api/v1/keys`, `POST /api/v1/keys` (the key
//! is shown once), `DELETE /api/v1/keys/{id}` (revoked at once).

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::auth::Principal;
use super::error::{ApiError, ErrorBody};
use crate::context::AppContext;
use crate::store::keys::{check_label, parse_expiry, KeySummary, NewKey, Role};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    /// The org unit whose subtree the key may see (and, as submitter, write).
    org: String,
    /// `submitter`, `viewer` or `admin`.
    role: String,
    /// The system or script that uses the key, e.g. `nightly import`.
    label: String,
    /// `YYYY-MM-DD` (works through that day, UTC) or an RFC 3339 instant.
    expires_at: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedKey {
    id: i64,
    /// The key itself: shown only in this answer.
    key: String,
    org: String,
    role: &'static str,
    label: String,
    expires_at: Option<String>,
}

/// A key as listed: everything but the secret.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KeyView {
    id: i64,
    /// The first characters of the key (`us_1a2b3c`), to tell keys apart.
    prefix: String,
    org: String,
    role: String,
    label: String,
    created_at: String,
    /// Who made it: `张三 (zhangsan)`, `key "…" (#N)` or `cli (USER)`.
    created_by: String,
    expires_at: Option<String>,
    revoked_at: Option<String>,
}

impl From<KeySummary> for KeyView {
    fn from(k: KeySummary) -> Self {
        KeyView {
            id: k.id,
            prefix: k.prefix,
            org: k.org,
            role: k.role,
            label: k.label,
            created_at: k.created_at,
            created_by: k.created_by,
            expires_at: k.expires_at,
            revoked_at: k.revoked_at,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KeyList {
    /// Newest first, revoked and expired ones too.
    keys: Vec<KeyView>,
}

#[utoipa::path(
    get,
    path = "/keys",
    tag = "people",
    responses(
        (status = 200, description = "Every key, without its secret", body = KeyList),
        (status = 401, description = "No or unknown API key or session", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
pub async fn list(
    State(ctx): State<AppContext>,
    principal: Principal,
) -> Result<Json<KeyList>, ApiError> {
    principal.require_admin()?;
    Ok(Json(KeyList {
        keys: ctx
            .store
            .keys()
            .await?
            .into_iter()
            .map(KeyView::from)
            .collect(),
    }))
}

#[utoipa::path(
    post,
    path = "/keys",
    tag = "people",
    request_body = CreateKey,
    responses(
        (status = 201, description = "The new key, shown once", body = CreatedKey),
        (status = 401, description = "No or unknown API key or session", body = ErrorBody),
        (status = 403, description = "Not an admin, or a cookie write without X-CSRF-Token", body = ErrorBody),
        (status = 422, description = "Unknown org or role, no label, or an expiry not in the future", body = ErrorBody),
    )
)]
pub async fn create(
    State(ctx): State<AppContext>,
    principal: Principal,
    body: Result<Json<CreateKey>, JsonRejection>,
) -> Result<(StatusCode, Json<CreatedKey>), ApiError> {
    principal.require_admin()?;
    let Json(body) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let role = Role::parse(&body.role).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "role {:?}: use submitter, viewer or admin",
            body.role
        ))
    })?;
    let label = check_label(&body.label).map_err(ApiError::BadRequest)?;
    let expires_at = body
        .expires_at
        .as_deref()
        .map(|e| parse_expiry(e, chrono::Utc::now()))
        .transpose()
        .map_err(ApiError::BadRequest)?;
    if ctx.store.org(&body.org).await?.is_none() {
        return Err(ApiError::BadRequest(format!(
            "org {} is not in the master data",
            body.org
        )));
    }
    let actor = principal.actor();
    let (id, key) = ctx
        .store
        .create_key(&NewKey {
            org_code: &body.org,
            role,
            label: &label,
            expires_at: expires_at.as_deref(),
            created_by: &actor,
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedKey {
            id,
            key,
            org: body.org,
            role: role.as_str(),
            label,
            expires_at,
        }),
    ))
}

#[utoipa::path(
    delete,
    path = "/keys/{id}",
    tag = "people",
    params(("id" = i64, Path, description = "The key's id")),
    responses(
        (status = 204, description = "Revoked (or already revoked): it no longer works"),
        (status = 401, description = "No or unknown API key or session", body = ErrorBody),
        (status = 403, description = "Not an admin, or a cookie write without X-CSRF-Token", body = ErrorBody),
        (status = 404, description = "No such key", body = ErrorBody),
    )
)]
pub async fn revoke(
    State(ctx): State<AppContext>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    principal.require_admin()?;
    match ctx.store.revoke_key(id, &principal.actor()).await? {
        Some(_) => Ok(StatusCode::NO_CONTENT),
        None => Err(ApiError::NotFound(format!("no key {id}"))),
    }
}
