//! People, sessions and failed sign-ins. Portable SQL; booleans bound as
//! booleans.

use sqlx::Row;

use super::{Db, Repo};
use crate::store::actor::Actor;
use crate::store::keys::Role;
use crate::store::now;
use crate::store::people::{FailureCounts, NewUser, SessionRow, UserRow};

const USER_COLUMNS: &str = "u.id, u.login, u.name, u.org_code, o.path, u.role, u.password_hash, u.disabled, u.created_at, u.created_by";

fn user_from(r: &<Db as sqlx::Database>::Row) -> UserRow {
    let role: String = r.get(5);
    UserRow {
        id: r.get(0),
        login: r.get(1),
        name: r.get(2),
        org_code: r.get(3),
        org_path: r.get(4),
        // The column's CHECK admits only the three roles; the least power otherwise.
        role: Role::parse(&role).unwrap_or(Role::Viewer),
        password_hash: r.get(6),
        disabled: r.get(7),
        created_at: r.get(8),
        created_by: r.get(9),
    }
}

impl Repo {
    /// Creates a person; returns the id. Fails if the login is taken or the
    /// org is not in the master data. Audited.
    pub async fn create_user(&self, new: &NewUser<'_>) -> anyhow::Result<i64> {
        if self.org(new.org_code).await?.is_none() {
            anyhow::bail!(
                "org {} is not in the master data (import it first: unionstat orgs import FILE)",
                new.org_code
            );
        }
        if self.user_by_login(new.login).await?.is_some() {
            anyhow::bail!("login {} is taken", new.login);
        }
        let at = now();
        let created_by = new.created_by.to_string();
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (login, name, org_code, role, password_hash, disabled, created_at, created_by, password_changed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $7) RETURNING id",
        )
        .bind(new.login)
        .bind(new.name)
        .bind(new.org_code)
        .bind(new.role.as_str())
        .bind(new.password_hash)
        .bind(false)
        .bind(&at)
        .bind(&created_by)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO audit (at, actor, action, detail) VALUES ($1, $2, 'user_created', $3)",
        )
        .bind(&at)
        .bind(&created_by)
        .bind(format!(
            "{} ({}) for {} as {}",
            new.name,
            new.login,
            new.org_code,
            new.role.as_str()
        ))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Everyone, by login.
    pub async fn users(&self) -> sqlx::Result<Vec<UserRow>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users u JOIN org_units o ON o.code = u.org_code ORDER BY u.login"
        )))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(user_from).collect())
    }

    /// How many people exist (enabled or not).
    pub async fn user_count(&self) -> sqlx::Result<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await
    }

    /// The root of the tree (the first, by code, if there are several), where
    /// a first admin belongs.
    pub async fn root_org_code(&self) -> sqlx::Result<Option<String>> {
        sqlx::query_scalar(
            "SELECT code FROM org_units WHERE parent_code IS NULL ORDER BY code LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await
    }

    /// The person with this login (stored lower case), enabled or not.
    pub async fn user_by_login(&self, login: &str) -> sqlx::Result<Option<UserRow>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users u JOIN org_units o ON o.code = u.org_code WHERE u.login = $1"
        )))
        .bind(login)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(user_from))
    }

    /// Disables a person and ends their sessions at once. False: no such login.
    pub async fn disable_user(&self, login: &str, actor: &Actor) -> sqlx::Result<bool> {
        self.change_user(
            login,
            actor,
            "user_disabled",
            "UPDATE users SET disabled = $1 WHERE id = $2",
            None,
        )
        .await
    }

    /// Sets a new password hash and ends the person's sessions. False: no such login.
    pub async fn set_password(
        &self,
        login: &str,
        password_hash: &str,
        actor: &Actor,
    ) -> sqlx::Result<bool> {
        self.change_user(
            login,
            actor,
            "password_reset",
            "UPDATE users SET password_hash = $1, password_changed_at = $3 WHERE id = $2",
            Some(password_hash),
        )
        .await
    }

    /// One change of a person, their sessions ended, and its audit row, in one
    /// transaction. `update` binds $1 (`value`, or TRUE), $2 the user id and,
    /// when it names it, $3 the time.
    async fn change_user(
        &self,
        login: &str,
        actor: &Actor,
        action: &str,
        update: &'static str,
        value: Option<&str>,
    ) -> sqlx::Result<bool> {
        let mut tx = self.begin_write().await?;
        let user: Option<(i64, String)> =
            sqlx::query_as("SELECT id, name FROM users WHERE login = $1")
                .bind(login)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((id, name)) = user else {
            return Ok(false);
        };
        let at = now();
        let q = match value {
            Some(v) => sqlx::query(update)
                .bind(v.to_string())
                .bind(id)
                .bind(at.clone()),
            None => sqlx::query(update).bind(true).bind(id),
        };
        q.execute(&mut *tx).await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO audit (at, actor, action, detail) VALUES ($1, $2, $3, $4)")
            .bind(&at)
            .bind(actor.to_string())
            .bind(action)
            .bind(format!("{name} ({login})"))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Starts a session for a user, and forgets sessions that ended by time
    /// unnoticed (unused since `seen_before`, or begun before `begun_before`).
    pub async fn create_session(
        &self,
        id_hash: &str,
        user_id: i64,
        csrf_token: &str,
        seen_before: &str,
        begun_before: &str,
    ) -> sqlx::Result<()> {
        let at = now();
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM sessions WHERE last_seen_at < $1 OR created_at < $2")
            .bind(seen_before)
            .bind(begun_before)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $4)")
            .bind(id_hash)
            .bind(user_id)
            .bind(csrf_token)
            .bind(&at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    /// The session with this id hash, if its user exists and is enabled.
    pub async fn session_by_hash(&self, id_hash: &str) -> sqlx::Result<Option<SessionRow>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS}, s.csrf_token, s.created_at, s.last_seen_at FROM sessions s JOIN users u ON u.id = s.user_id JOIN org_units o ON o.code = u.org_code WHERE s.id_hash = $1 AND u.disabled = $2"
        )))
        .bind(id_hash)
        .bind(false)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| SessionRow {
            user: user_from(&r),
            csrf_token: r.get(10),
            created_at: r.get(11),
            last_seen_at: r.get(12),
        }))
    }

    /// Records activity on a session (for the idle expiry).
    pub async fn touch_session(&self, id_hash: &str, at: &str) -> sqlx::Result<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
            .bind(at)
            .bind(id_hash)
            .execute(&self.pool)
            .await
            .map(|_| ())
    }

    /// Ends a session (logout or expiry).
    pub async fn end_session(&self, id_hash: &str) -> sqlx::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.pool)
            .await
            .map(|_| ())
    }

    /// Records a failed sign-in and forgets failures older than `forget_before`.
    pub async fn record_login_failure(
        &self,
        login: &str,
        address: &str,
        forget_before: &str,
    ) -> sqlx::Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM login_failures WHERE at < $1")
            .bind(forget_before)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO login_failures (login, address, at) VALUES ($1, $2, $3)")
            .bind(login)
            .bind(address)
            .bind(now())
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    /// Failed sign-ins at or after `since` for the login and for the address.
    pub async fn login_failures(
        &self,
        login: &str,
        address: &str,
        since: &str,
    ) -> sqlx::Result<FailureCounts> {
        let count = |col: &'static str, value: &str| {
            sqlx::query_as::<_, (i64, Option<String>)>(sqlx::AssertSqlSafe(format!(
                "SELECT COUNT(*), MIN(at) FROM login_failures WHERE {col} = $1 AND at >= $2"
            )))
            .bind(value.to_string())
            .bind(since.to_string())
            .fetch_one(&self.pool)
        };
        let (login, login_oldest) = count("login", login).await?;
        let (address, address_oldest) = count("address", address).await?;
        Ok(FailureCounts {
            login,
            login_oldest,
            address,
            address_oldest,
        })
    }

    /// Forgets a login's failures (after a successful sign-in).
    pub async fn clear_login_failures(&self, login: &str) -> sqlx::Result<()> {
        sqlx::query("DELETE FROM login_failures WHERE login = $1")
            .bind(login)
            .execute(&self.pool)
            .await
            .map(|_| ())
    }
}
