//! People who sign in, their browser sessions and the count of failed
//! sign-ins. Passwords arrive here already hashed (see `crate::passwords`);
//! session ids arrive as their SHA-256 (the cookie value is never stored).

use super::actor::Actor;
use super::keys::Role;

/// A person as listed and as the sign-in checks them.
#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: i64,
    pub login: String,
    pub name: String,
    pub org_code: String,
    pub org_path: String,
    pub role: Role,
    pub password_hash: String,
    pub disabled: bool,
    pub created_at: String,
    pub created_by: String,
}

impl UserRow {
    pub fn actor(&self) -> Actor {
        Actor::User {
            login: self.login.clone(),
            name: self.name.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub login: &'a str,
    pub name: &'a str,
    pub org_code: &'a str,
    pub role: Role,
    pub password_hash: &'a str,
    pub created_by: &'a Actor,
}

/// A live session with its (enabled) user.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub user: UserRow,
    pub csrf_token: String,
    pub created_at: String,
    pub last_seen_at: String,
}

/// Failed sign-ins since an instant: for the login and for the client address,
/// each with its oldest failure in the window.
#[derive(Debug, Clone, Default)]
pub struct FailureCounts {
    pub login: i64,
    pub login_oldest: Option<String>,
    pub address: i64,
    pub address_oldest: Option<String>,
}

/// A login as stored (lower case), or why it is refused.
pub fn check_login(login: &str) -> Result<String, String> {
    let login = login.trim().to_lowercase();
    let ok = !login.is_empty()
        && login.len() <= 64
        && login
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c));
    if ok {
        Ok(login)
    } else {
        Err(format!(
            "登录名只能用字母、数字和 . _ - @，最多 64 个 / a login is 1-64 letters, digits and . _ - @ (got {login:?})"
        ))
    }
}

delegate! {
    /// Creates a person; returns the id. Fails if the login is taken or the
    /// org is not in the master data. Audited.
    pub async fn create_user(&self, new: &NewUser<'_>) -> anyhow::Result<i64>;
    /// Everyone, by login.
    pub async fn users(&self) -> sqlx::Result<Vec<UserRow>>;
    /// How many people exist (enabled or not).
    pub async fn user_count(&self) -> sqlx::Result<i64>;
    /// The root of the tree (the first, by code, if there are several), where
    /// a first admin belongs.
    pub async fn root_org_code(&self) -> sqlx::Result<Option<String>>;
    /// The person with this login (stored lower case), enabled or not.
    pub async fn user_by_login(&self, login: &str) -> sqlx::Result<Option<UserRow>>;
    /// Disables a person and ends their sessions at once. False: no such login.
    pub async fn disable_user(&self, login: &str, actor: &Actor) -> sqlx::Result<bool>;
    /// Sets a new password hash (enabling nothing) and ends the person's
    /// sessions. False: no such login.
    pub async fn set_password(&self, login: &str, password_hash: &str, actor: &Actor) -> sqlx::Result<bool>;
    /// Starts a session for a user, and forgets sessions that ended by time
    /// unnoticed (unused since `seen_before`, or begun before `begun_before`).
    pub async fn create_session(&self, id_hash: &str, user_id: i64, csrf_token: &str, seen_before: &str, begun_before: &str) -> sqlx::Result<()>;
    /// The session with this id hash, if its user exists and is enabled.
    pub async fn session_by_hash(&self, id_hash: &str) -> sqlx::Result<Option<SessionRow>>;
    /// Records activity on a session (for the idle expiry).
    pub async fn touch_session(&self, id_hash: &str, at: &str) -> sqlx::Result<()>;
    /// Ends a session (sign-out).
    pub async fn end_session(&self, id_hash: &str) -> sqlx::Result<()>;
    /// Records a failed sign-in and forgets failures older than `forget_before`.
    pub async fn record_login_failure(&self, login: &str, address: &str, forget_before: &str) -> sqlx::Result<()>;
    /// Failed sign-ins at or after `since` for the login and for the address.
    pub async fn login_failures(&self, login: &str, address: &str, since: &str) -> sqlx::Result<FailureCounts>;
    /// Forgets a login's failures (after a successful sign-in).
    pub async fn clear_login_failures(&self, login: &str) -> sqlx::Result<()>;
}
