//! API keys: random, shown once, stored as SHA-256.

use rand::RngCore;
use sha2::{Digest, Sha256};

use super::{now, Store};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Uploads for reporters in its subtree and reads its subtree.
    Submitter,
    /// Reads its subtree.
    Viewer,
    /// Everything, everywhere.
    Admin,
}

impl Role {
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Submitter => "submitter",
            Role::Viewer => "viewer",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "submitter" => Some(Role::Submitter),
            "viewer" => Some(Role::Viewer),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// A key as the API sees it after authentication.
#[derive(Debug, Clone)]
pub struct KeyRow {
    pub id: i64,
    pub org_code: String,
    pub org_path: String,
    pub role: Role,
}

pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

impl Store {
    /// Creates a key for an org and role; returns (id, key). The key is not stored.
    pub async fn create_key(&self, org_code: &str, role: Role) -> anyhow::Result<(i64, String)> {
        if self.org(org_code).await?.is_none() {
            anyhow::bail!("org {org_code} is not in the master data (import it first: unionstat orgs import FILE)");
        }
        let mut bytes = [0u8; 24];
        rand::rng().fill_bytes(&mut bytes);
        let key = format!("us_{}", hex::encode(bytes));
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_keys (key_hash, prefix, org_code, role, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(hash_key(&key))
        .bind(&key[..9])
        .bind(org_code)
        .bind(role.as_str())
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO audit (at, actor, action, detail) VALUES (?, 'cli', 'key_created', ?)",
        )
        .bind(now())
        .bind(format!(
            "key {id} ({}…) for {org_code} as {}",
            &key[..9],
            role.as_str()
        ))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok((id, key))
    }

    /// The live key with this secret, if any.
    pub async fn key_by_secret(&self, key: &str) -> sqlx::Result<Option<KeyRow>> {
        let row: Option<(i64, String, String, String)> = sqlx::query_as(
            "SELECT k.id, k.org_code, o.path, k.role FROM api_keys k JOIN org_units o ON o.code = k.org_code WHERE k.key_hash = ? AND k.revoked_at IS NULL",
        )
        .bind(hash_key(key))
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.and_then(|(id, org_code, org_path, role)| {
            Some(KeyRow {
                id,
                org_code,
                org_path,
                role: Role::parse(&role)?,
            })
        }))
    }
}
