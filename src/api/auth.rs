//! Who is calling, and which subtree they may see or write: a script with a
//! bearer key (`Authorization: Bearer KEY`), or a person signed in on the web
//! page with the session cookie. A cookie write (any method but GET/HEAD/
//! OPTIONS) must carry the session's CSRF token in `X-CSRF-Token`; a key needs
//! none (a browser never adds a bearer header by itself).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use chrono::{DateTime, Duration, Utc};

use super::error::ApiError;
use crate::config::AuthSettings;
use crate::context::AppContext;
use crate::store::actor::Actor;
use crate::store::keys::{hash_key, Role};
use crate::store::orgs::{OrgRow, TreeAt, TreeView};
use crate::store::people::SessionRow;
use unionstat_core::Period;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "unionstat_session";
/// The header that carries the CSRF token on cookie writes.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// An authenticated caller: a key or a signed-in person, with the org unit
/// and role that bound what they may do.
#[derive(Debug, Clone)]
pub struct Caller {
    pub org_code: String,
    pub org_path: String,
    pub role: Role,
    pub actor: Actor,
    /// Set when the caller came with the session cookie.
    pub session: Option<SessionAuth>,
}

/// The session a cookie caller came with.
#[derive(Debug, Clone)]
pub struct SessionAuth {
    /// SHA-256 of the cookie value, as stored.
    pub id_hash: String,
    pub csrf_token: String,
}

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal(pub Caller);

impl Principal {
    /// Whether the caller may read this unit's figures.
    pub fn can_read(&self, org: &OrgRow) -> bool {
        self.0.role == Role::Admin || org.path.starts_with(&self.0.org_path)
    }

    /// Whether the caller may upload for this reporter.
    pub fn can_submit_for(&self, org: &OrgRow) -> bool {
        match self.0.role {
            Role::Admin => true,
            Role::Submitter => org.path.starts_with(&self.0.org_path),
            Role::Viewer => false,
        }
    }

    /// The org unit `code`, when this key may read it. A code outside the key's
    /// subtree is answered as one that does not exist (404, the same body).
    pub async fn readable_org(&self, ctx: &AppContext, code: &str) -> Result<OrgRow, ApiError> {
        match ctx.store.org(code).await? {
            Some(org) if self.can_read(&org) => Ok(org),
            _ => Err(ApiError::no_such_org()),
        }
    }

    /// The org unit `code` for an answer about `month` read under `tree`:
    /// readable when it lies in the caller's subtree now, or (as reported
    /// only) lay in it in that month's tree — the months a unit was the
    /// caller's stay readable after it moves away, but not its restatement
    /// under today's tree, which may hold units that were never the caller's.
    /// Anything else is answered as a code that does not exist.
    pub async fn readable_org_in(
        &self,
        ctx: &AppContext,
        code: &str,
        month: Period,
        tree: TreeView,
    ) -> Result<OrgRow, ApiError> {
        if tree == TreeView::Current {
            return self.readable_org(ctx, code).await;
        }
        match ctx.store.org(code).await? {
            Some(org) if self.can_read(&org) => Ok(org),
            Some(org) if self.may_read_in(ctx, code, month).await? => Ok(org),
            _ => Err(ApiError::no_such_org()),
        }
    }

    /// Whether `code` lies in the caller's subtree now or in `month`'s tree.
    pub async fn may_read_in(
        &self,
        ctx: &AppContext,
        code: &str,
        month: Period,
    ) -> Result<bool, ApiError> {
        if self.0.role == Role::Admin {
            return Ok(true);
        }
        if let Some(now) = ctx.store.org(code).await? {
            if self.can_read(&now) {
                return Ok(true);
            }
        }
        let at = TreeAt::Month(month);
        Ok(
            match (
                ctx.store.org_at(&self.0.org_code, at).await?,
                ctx.store.org_at(code, at).await?,
            ) {
                (Some(mine), Some(it)) => mine.contains(&it),
                _ => false,
            },
        )
    }

    /// Of `codes`, those the caller may read for `month` (see
    /// [`Principal::may_read_in`]), in three queries whatever their number.
    pub async fn readable_codes_in(
        &self,
        ctx: &AppContext,
        codes: &[String],
        month: Period,
    ) -> Result<std::collections::HashSet<String>, ApiError> {
        if self.0.role == Role::Admin {
            return Ok(codes.iter().cloned().collect());
        }
        let at = TreeAt::Month(month);
        let now = ctx.store.orgs_by_code(codes, TreeAt::Current).await?;
        let then = ctx.store.orgs_by_code(codes, at).await?;
        let mine_then = ctx.store.org_at(&self.0.org_code, at).await?;
        Ok(codes
            .iter()
            .filter(|c| {
                now.get(*c).is_some_and(|o| self.can_read(o))
                    || match (&mine_then, then.get(*c)) {
                        (Some(m), Some(o)) => m.contains(o),
                        _ => false,
                    }
            })
            .cloned()
            .collect())
    }

    pub fn is_admin(&self) -> bool {
        self.0.role == Role::Admin
    }

    /// Only admins manage keys and people.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.0.role == Role::Admin {
            Ok(())
        } else {
            Err(ApiError::Forbidden(
                "仅管理员可以管理密钥 / only admins manage keys".into(),
            ))
        }
    }

    /// The org whose subtree bounds this caller's uploads (None for admins).
    pub fn scope_org(&self) -> Option<&str> {
        (self.0.role != Role::Admin).then_some(self.0.org_code.as_str())
    }

    /// Who acts: the person or the labelled key.
    pub fn actor(&self) -> Actor {
        self.0.actor.clone()
    }
}

impl FromRequestParts<AppContext> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        ctx: &AppContext,
    ) -> Result<Self, Self::Rejection> {
        if let Some(header) = parts.headers.get(axum::http::header::AUTHORIZATION) {
            let key = header
                .to_str()
                .ok()
                .and_then(|h| {
                    h.strip_prefix("Bearer ")
                        .or_else(|| h.strip_prefix("bearer "))
                })
                .map(str::trim)
                .filter(|k| !k.is_empty() && k.len() <= 200)
                .ok_or(ApiError::Unauthorized)?;
            let row = ctx
                .store
                .key_by_secret(key)
                .await?
                .ok_or(ApiError::Unauthorized)?;
            return Ok(Principal(Caller {
                actor: row.actor(),
                org_code: row.org_code,
                org_path: row.org_path,
                role: row.role,
                session: None,
            }));
        }
        let value = cookie(&parts.headers, SESSION_COOKIE).ok_or(ApiError::Unauthorized)?;
        session_caller(ctx, value, &parts.method, &parts.headers).await
    }
}

/// The value of a cookie of the request, if sent.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty() && v.len() <= 200)
}

/// The person behind a session cookie: the session must exist, its user be
/// enabled, neither expiry have passed, and a write must carry the CSRF token.
async fn session_caller(
    ctx: &AppContext,
    value: &str,
    method: &Method,
    headers: &HeaderMap,
) -> Result<Principal, ApiError> {
    let id_hash = hash_key(value);
    let row = ctx
        .store
        .session_by_hash(&id_hash)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    let now = Utc::now();
    let auth = &ctx.settings.auth;
    // An expired session is left in place, so that every request still in
    // flight with its cookie (a page fires several at once) is told the same
    // thing; the next sign-in forgets it with the other expired ones.
    if expired(&row, auth, now) {
        return Err(ApiError::SessionExpired);
    }
    if !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        let sent = headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !same_secret(sent, &row.csrf_token) {
            return Err(ApiError::CsrfRequired);
        }
    }
    // Activity is recorded at most every tenth of the idle time (and at
    // least every minute), not on every request.
    let step = minutes(auth.session_idle_minutes / 10.0).min(Duration::minutes(1));
    if parse(&row.last_seen_at).is_none_or(|t| now - t >= step) {
        ctx.store
            .touch_session(&id_hash, &crate::store::now())
            .await?;
    }
    Ok(Principal(Caller {
        actor: row.user.actor(),
        org_code: row.user.org_code,
        org_path: row.user.org_path,
        role: row.user.role,
        session: Some(SessionAuth {
            id_hash,
            csrf_token: row.csrf_token,
        }),
    }))
}

/// Whether the session's idle or absolute lifetime has passed.
fn expired(row: &SessionRow, auth: &AuthSettings, now: DateTime<Utc>) -> bool {
    let (Some(created), Some(seen)) = (parse(&row.created_at), parse(&row.last_seen_at)) else {
        return true;
    };
    now - seen > minutes(auth.session_idle_minutes)
        || now - created > minutes(auth.session_absolute_hours * 60.0)
}

pub(crate) fn minutes(m: f64) -> Duration {
    Duration::milliseconds((m * 60_000.0) as i64)
}

fn parse(at: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(at)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Compares two secrets in time independent of where they differ.
pub(crate) fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
