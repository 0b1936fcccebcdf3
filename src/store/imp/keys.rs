//! API keys: random, shown once, stored as SHA-256; labelled, expiring,
//! revocable. Every change is audited with who made it.

use rand::RngCore;
use sqlx::Row;

use super::Repo;
use crate::store::actor::Actor;
use crate::store::keys::{hash_key, KeyRow, KeySummary, NewKey, Role};
use crate::store::now;

impl Repo {
    /// Creates a key; returns (id, key). Only its hash is stored; an audit row
    /// names who made it.
    pub async fn create_key(&self, new: &NewKey<'_>) -> anyhow::Result<(i64, String)> {
        let org_code = new.org_code;
        if self.org(org_code).await?.is_none() {
            anyhow::bail!("org {org_code} is not in the master data (import it first: unionstat orgs import FILE)");
        }
        let mut bytes = [0u8; 24];
        rand::rng().fill_bytes(&mut bytes);
        let key = format!("us_{}", hex::encode(bytes));
        let created_by = new.created_by.to_string();
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_keys (key_hash, prefix, org_code, role, created_at, label, expires_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(hash_key(&key))
        .bind(&key[..9])
        .bind(org_code)
        .bind(new.role.as_str())
        .bind(now())
        .bind(new.label)
        .bind(new.expires_at)
        .bind(&created_by)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO audit (at, actor, action, detail) VALUES ($1, $2, 'key_created', $3)",
        )
        .bind(now())
        .bind(&created_by)
        .bind(format!(
            "key \"{}\" (#{id}, {}…) for {org_code} as {}{}",
            new.label,
            &key[..9],
            new.role.as_str(),
            new.expires_at
                .map(|e| format!(", expires {e}"))
                .unwrap_or_default()
        ))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok((id, key))
    }

    /// The live key with this secret, if any: not revoked and not expired now.
    pub async fn key_by_secret(&self, key: &str) -> sqlx::Result<Option<KeyRow>> {
        let row: Option<(i64, String, String, String, String)> = sqlx::query_as(
            "SELECT k.id, k.org_code, o.path, k.role, k.label FROM api_keys k JOIN org_units o ON o.code = k.org_code WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > $2)",
        )
        .bind(hash_key(key))
        .bind(now())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.and_then(|(id, org_code, org_path, role, label)| {
            Some(KeyRow {
                id,
                org_code,
                org_path,
                role: Role::parse(&role)?,
                label,
            })
        }))
    }

    /// Every key, newest first (revoked and expired ones too).
    pub async fn keys(&self) -> sqlx::Result<Vec<KeySummary>> {
        let rows = sqlx::query(
            "SELECT id, prefix, org_code, role, label, created_at, created_by, expires_at, revoked_at FROM api_keys ORDER BY id DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| KeySummary {
                id: r.get(0),
                prefix: r.get(1),
                org: r.get(2),
                role: r.get(3),
                label: r.get(4),
                created_at: r.get(5),
                created_by: r.get(6),
                expires_at: r.get(7),
                revoked_at: r.get(8),
            })
            .collect())
    }

    /// Revokes a key at once. None: no such key; Some(false): already revoked.
    pub async fn revoke_key(&self, id: i64, actor: &Actor) -> sqlx::Result<Option<bool>> {
        let mut tx = self.begin_write().await?;
        let label: Option<(String, Option<String>)> =
            sqlx::query_as("SELECT label, revoked_at FROM api_keys WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((label, revoked_at)) = label else {
            return Ok(None);
        };
        if revoked_at.is_some() {
            return Ok(Some(false));
        }
        sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2")
            .bind(now())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO audit (at, actor, action, detail) VALUES ($1, $2, 'key_revoked', $3)",
        )
        .bind(now())
        .bind(actor.to_string())
        .bind(Actor::Key { id, label }.to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(true))
    }
}
