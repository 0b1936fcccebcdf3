//! Bearer keys: who is calling, and which subtree they may see or write.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::error::ApiError;
use crate::app::AppContext;
use crate::store::keys::{KeyRow, Role};
use crate::store::orgs::OrgRow;

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal(pub KeyRow);

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

    /// The org whose subtree bounds this caller's uploads (None for admins).
    pub fn scope_org(&self) -> Option<&str> {
        (self.0.role != Role::Admin).then_some(self.0.org_code.as_str())
    }

    pub fn actor(&self) -> String {
        format!("key:{}", self.0.id)
    }
}

impl FromRequestParts<AppContext> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        ctx: &AppContext,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(ApiError::Unauthorized)?;
        let key = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|k| !k.is_empty() && k.len() <= 200)
            .ok_or(ApiError::Unauthorized)?;
        let row = ctx
            .store
            .key_by_secret(key)
            .await?
            .ok_or(ApiError::Unauthorized)?;
        Ok(Principal(row))
    }
}
