//! API keys: random, shown once, stored as SHA-256.

use rand::RngCore;

use super::Repo;
use crate::store::keys::{hash_key, KeyRow, Role};
use crate::store::now;

impl Repo {
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
            "INSERT INTO api_keys (key_hash, prefix, org_code, role, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(hash_key(&key))
        .bind(&key[..9])
        .bind(org_code)
        .bind(role.as_str())
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO audit (at, actor, action, detail) VALUES ($1, 'cli', 'key_created', $2)",
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
            "SELECT k.id, k.org_code, o.path, k.role FROM api_keys k JOIN org_units o ON o.code = k.org_code WHERE k.key_hash = $1 AND k.revoked_at IS NULL",
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
