//! Sign-in with login and password, the session it starts, and sign-out.
//! `POST /api/v1/session` answers the CSRF token and sets the session cookie
//! (HttpOnly, SameSite=Strict, Secure when `auth.cookie_secure`); failed
//! sign-ins are throttled per login and per client address.

use std::net::SocketAddr;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{SecondsFormat, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use super::auth::{minutes, Principal, SessionAuth, SESSION_COOKIE};
use super::error::{ApiError, ErrorBody};
use super::me::{me_view, MeView};
use crate::context::AppContext;
use crate::store::keys::hash_key;
use crate::store::people::{check_login, FailureCounts};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    login: String,
    password: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionView {
    /// Send it as `X-CSRF-Token` with every write made with the cookie.
    csrf_token: String,
    me: MeView,
}

/// The client's address (the TCP peer), or "unknown".
pub struct ClientAddr(String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip().to_string())
                .unwrap_or_else(|| "unknown".into()),
        ))
    }
}

/// An instant as stored.
fn stamp(at: chrono::DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn cookie_header(ctx: &AppContext, value: &str, clear: bool) -> HeaderValue {
    let secure = if ctx.settings.auth.cookie_secure {
        "; Secure"
    } else {
        ""
    };
    let max_age = if clear { "; Max-Age=0" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; HttpOnly; SameSite=Strict; Path=/{secure}{max_age}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("unionstat_session=; Path=/; Max-Age=0"))
}

/// Seconds until a throttled login or address may try again, if it is throttled.
fn retry_after(ctx: &AppContext, counts: &FailureCounts) -> Option<u64> {
    let auth = &ctx.settings.auth;
    let window = minutes(auth.login_window_minutes);
    let now = Utc::now();
    [
        (
            counts.login,
            auth.max_failures_per_login,
            &counts.login_oldest,
        ),
        (
            counts.address,
            auth.max_failures_per_address,
            &counts.address_oldest,
        ),
    ]
    .into_iter()
    .filter(|(n, max, _)| n >= max)
    .map(|(_, _, oldest)| {
        let free_at = oldest
            .as_deref()
            .and_then(|o| chrono::DateTime::parse_from_rfc3339(o).ok())
            .map(|o| o.to_utc() + window)
            .unwrap_or(now + window);
        ((free_at - now).num_milliseconds().max(0) as u64)
            .div_ceil(1000)
            .max(1)
    })
    .max()
}

#[utoipa::path(
    post,
    path = "/session",
    tag = "people",
    security(()),
    request_body = SignIn,
    responses(
        (status = 200, description = "Signed in: the CSRF token and who you are; the session cookie is set", body = SessionView),
        (status = 401, description = "Wrong login or password (one answer for both)", body = ErrorBody),
        (status = 422, description = "Not a sign-in body", body = ErrorBody),
        (status = 429, description = "Too many failed sign-ins; see Retry-After", body = ErrorBody),
    )
)]
pub async fn sign_in(
    State(ctx): State<AppContext>,
    ClientAddr(address): ClientAddr,
    body: Result<Json<SignIn>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    // A malformed login is just an unknown one; it is still counted.
    let login = check_login(&body.login)
        .unwrap_or_else(|_| body.login.trim().to_lowercase().chars().take(64).collect());
    let auth = &ctx.settings.auth;
    let since = stamp(Utc::now() - minutes(auth.login_window_minutes));
    let counts = ctx.store.login_failures(&login, &address, &since).await?;
    if let Some(secs) = retry_after(&ctx, &counts) {
        return Err(ApiError::TooManyRequests(secs));
    }
    let user = ctx.store.user_by_login(&login).await?;
    let phc = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| crate::passwords::decoy_hash().to_string());
    // An over-long password is never right; it is not hashed (its cost grows
    // with its length), but still counted and answered like any wrong one.
    let password = body.password;
    let too_long = password.len() > crate::passwords::MAX_LEN;
    // Verified even for an unknown or disabled login: the same work, the same answer.
    let matches = tokio::task::spawn_blocking(move || {
        let password = if too_long { "" } else { password.as_str() };
        crate::passwords::verify(password, &phc)
    })
    .await
    .map_err(|e| ApiError::Internal(e.into()))?;
    let user = match user {
        Some(u) if matches && !too_long && !u.disabled => u,
        _ => {
            ctx.store
                .record_login_failure(&login, &address, &since)
                .await?;
            tracing::info!(login = %login, "sign-in failed");
            return Err(ApiError::LoginFailed);
        }
    };
    ctx.store.clear_login_failures(&login).await?;
    let value = random_hex();
    let csrf_token = random_hex();
    ctx.store
        .create_session(
            &hash_key(&value),
            user.id,
            &csrf_token,
            &stamp(Utc::now() - minutes(auth.session_idle_minutes)),
            &stamp(Utc::now() - minutes(auth.session_absolute_hours * 60.0)),
        )
        .await?;
    tracing::info!(login = %user.login, "signed in");
    let principal = Principal(super::auth::Caller {
        actor: user.actor(),
        org_code: user.org_code,
        org_path: user.org_path,
        role: user.role,
        session: None,
    });
    let me = me_view(&ctx, &principal).await?;
    let mut resp = Json(SessionView { csrf_token, me }).into_response();
    resp.headers_mut()
        .insert(header::SET_COOKIE, cookie_header(&ctx, &value, false));
    Ok(resp)
}

fn session_of(principal: &Principal) -> Result<&SessionAuth, ApiError> {
    principal.0.session.as_ref().ok_or(ApiError::Unauthorized)
}

#[utoipa::path(
    get,
    path = "/session",
    tag = "people",
    responses(
        (status = 200, description = "The live cookie session: its CSRF token and who you are", body = SessionView),
        (status = 401, description = "No live session (`code: session_expired` when it ended by time)", body = ErrorBody),
    )
)]
pub async fn show(
    State(ctx): State<AppContext>,
    principal: Principal,
) -> Result<Json<SessionView>, ApiError> {
    let csrf_token = session_of(&principal)?.csrf_token.clone();
    let me = me_view(&ctx, &principal).await?;
    Ok(Json(SessionView { csrf_token, me }))
}

#[utoipa::path(
    delete,
    path = "/session",
    tag = "people",
    responses(
        (status = 204, description = "Signed out; the cookie is cleared"),
        (status = 401, description = "No live session", body = ErrorBody),
        (status = 403, description = "No X-CSRF-Token header, or a wrong one", body = ErrorBody),
    )
)]
pub async fn sign_out(
    State(ctx): State<AppContext>,
    principal: Principal,
) -> Result<Response, ApiError> {
    let session = session_of(&principal)?;
    ctx.store.end_session(&session.id_hash).await?;
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut()
        .insert(header::SET_COOKIE, cookie_header(&ctx, "", true));
    Ok(resp)
}
