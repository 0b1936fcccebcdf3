//! API keys: random, shown once, stored as SHA-256.

use sha2::{Digest, Sha256};

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

delegate! {
    /// Creates a key for an org and role; returns (id, key). The key is not stored.
    pub async fn create_key(&self, org_code: &str, role: Role) -> anyhow::Result<(i64, String)>;
    /// The live key with this secret, if any.
    pub async fn key_by_secret(&self, key: &str) -> sqlx::Result<Option<KeyRow>>;
}
