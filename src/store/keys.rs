//! API keys for scripts and other systems: random, shown once, stored as
//! SHA-256, labelled with the system that uses them, optionally expiring, and
//! revocable. A revoked or expired key stops working at its next request.

use sha2::{Digest, Sha256};

use super::actor::Actor;

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
    pub label: String,
}

impl KeyRow {
    pub fn actor(&self) -> Actor {
        Actor::Key {
            id: self.id,
            label: self.label.clone(),
        }
    }
}

/// What a new key is for.
#[derive(Debug, Clone)]
pub struct NewKey<'a> {
    pub org_code: &'a str,
    pub role: Role,
    /// The system or script that uses it, e.g. `nightly import` (required).
    pub label: &'a str,
    /// RFC 3339 instant from which the key no longer works.
    pub expires_at: Option<&'a str>,
    pub created_by: &'a Actor,
}

/// A key in a listing: everything but the secret.
#[derive(Debug, Clone)]
pub struct KeySummary {
    pub id: i64,
    /// The first characters of the key (`us_1a2b3c`), to tell keys apart.
    pub prefix: String,
    pub org: String,
    pub role: String,
    pub label: String,
    pub created_at: String,
    pub created_by: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// Longest label accepted.
pub const MAX_LABEL_CHARS: usize = 100;

/// The label as stored, or why it is refused.
pub fn check_label(label: &str) -> Result<String, String> {
    let label = label.trim();
    if label.is_empty() {
        return Err("密钥需要标签，说明哪个系统使用它 / a key needs a label naming the system that uses it (label)".into());
    }
    if label.chars().count() > MAX_LABEL_CHARS || label.chars().any(char::is_control) {
        return Err(format!(
            "标签最多 {MAX_LABEL_CHARS} 个字符且不含控制字符 / the label may have at most {MAX_LABEL_CHARS} characters and no control characters"
        ));
    }
    Ok(label.to_string())
}

pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

delegate! {
    /// Creates a key; returns (id, key). Only its hash is stored; an audit row
    /// names who made it.
    pub async fn create_key(&self, new: &NewKey<'_>) -> anyhow::Result<(i64, String)>;
    /// The live key with this secret, if any: not revoked and not expired now.
    pub async fn key_by_secret(&self, key: &str) -> sqlx::Result<Option<KeyRow>>;
    /// Every key, newest first (revoked and expired ones too).
    pub async fn keys(&self) -> sqlx::Result<Vec<KeySummary>>;
    /// Revokes a key at once. None: no such key; Some(false): already revoked.
    pub async fn revoke_key(&self, id: i64, actor: &Actor) -> sqlx::Result<Option<bool>>;
}

/// An expiry as stored (RFC 3339, UTC, milliseconds), or why it is refused:
/// `YYYY-MM-DD` (the key works through that day, UTC) or an RFC 3339 instant,
/// which must lie in the future.
pub fn parse_expiry(raw: &str, now: chrono::DateTime<chrono::Utc>) -> Result<String, String> {
    use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
    let raw = raw.trim();
    let at: DateTime<Utc> = if let Ok(day) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        day.succ_opt()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc())
            .ok_or_else(|| format!("expires {raw:?} is out of range"))?
    } else {
        DateTime::parse_from_rfc3339(raw)
            .map_err(|_| {
                format!("过期时间应为 YYYY-MM-DD 或 RFC 3339 时间 / expires {raw:?}: use YYYY-MM-DD or an RFC 3339 time")
            })?
            .with_timezone(&Utc)
    };
    if at <= now {
        return Err(format!(
            "过期时间已过 / expires {raw:?} is not in the future"
        ));
    }
    Ok(at.to_rfc3339_opts(SecondsFormat::Millis, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiries_are_a_day_through_or_an_instant_in_the_future() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            parse_expiry("2026-12-31", now).unwrap(),
            "2027-01-01T00:00:00.000Z"
        );
        assert_eq!(
            parse_expiry("2026-12-01T18:30:00+08:00", now).unwrap(),
            "2026-12-01T10:30:00.000Z"
        );
        assert!(parse_expiry("2026-11-30", now)
            .unwrap_err()
            .contains("not in the future"));
        assert!(parse_expiry("next week", now)
            .unwrap_err()
            .contains("YYYY-MM-DD"));
        assert!(check_label("  ").is_err());
        assert_eq!(check_label(" nightly import ").unwrap(), "nightly import");
    }
}
