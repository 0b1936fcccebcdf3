//! The warehouse: org tree, submissions and their files, figures (one row per
//! unit and period), roll-ups (one row per federation and period), audit, people, sessions and keys — in SQLite (the embedded default: a file in WAL mode with full
//! synchronous durability) or in PostgreSQL (many API and worker processes on
//! many machines).
//!
//! The SQL lives once, in `imp/`, and is compiled for each backend (the
//! `sqlite` and `postgres` modules each instantiate it with their own
//! `sqlx::Database`, connection set-up and the few dialect-specific steps).
//! [`Store`] holds one of the two and forwards each operation to it; the row
//! types the callers see are defined here, once.

use crate::config::Settings;

/// Forwards `Store` methods to the backend's implementation of the same name.
macro_rules! delegate {
    ($( $(#[$meta:meta])* pub async fn $name:ident(&self $(, $arg:ident : $ty:ty)* $(,)?) -> $ret:ty; )*) => {
        impl $crate::store::Store {
            $(
                $(#[$meta])*
                pub async fn $name(&self $(, $arg: $ty)*) -> $ret {
                    match &self.backend {
                        $crate::store::Backend::Sqlite(r) => r.$name($($arg),*).await,
                        $crate::store::Backend::Postgres(r) => r.$name($($arg),*).await,
                    }
                }
            )*
        }
    };
}

pub mod accept;
pub mod actor;
pub mod approvals;
pub mod columns;
pub mod completeness;
pub mod contacts;
pub mod history;
pub mod keys;
pub mod load;
mod nodelay;
pub mod orgs;
pub mod outliers;
pub mod people;
pub mod periods;
pub mod postgres;
pub mod queries;
pub mod reminders;
pub mod reports;
pub mod reviews;
pub mod rollups;
pub mod sqlite;
mod statistics;
pub mod submissions;

/// Rows per multi-row INSERT: well under either backend's bound-parameter limit.
pub(crate) const BATCH: usize = 400;

pub use crate::config::Dialect;

#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite(sqlite::Repo),
    Postgres(postgres::Repo),
}

#[derive(Debug, Clone)]
pub struct Store {
    pub backend: Backend,
}

/// Where a new submission's ingest job goes when the warehouse can hold it in
/// the same transaction as the upload (PostgreSQL: the queue lives in the same
/// database, schema `apalis`).
#[derive(Debug, Clone)]
pub struct JobTarget<'a> {
    pub queue: &'a str,
    pub max_attempts: usize,
    /// The job payload for a submission id.
    pub payload: fn(i64) -> Vec<u8>,
}

/// Pool options shared by every pool the service opens: at most `max`
/// connections, waiting `acquire` for one, and no background maintenance task.
///
/// sqlx 0.9.0 starts a maintenance task when a pool has an idle timeout or a
/// maximum lifetime (both on by default). Its sweep loops `0..num_idle()`
/// without yielding, and a race between returning and taking a connection can
/// wrap `num_idle` below zero to `usize::MAX`: the task then spins a core for
/// ever, and a process at exit waits for it in the runtime's shutdown. Without
/// both settings (and with no minimum of idle connections) the task is never
/// started. Idle connections are then kept until the pool closes, which is at
/// most `max` per process.
pub(crate) fn pool_options<DB: sqlx::Database>(
    max: u32,
    acquire: std::time::Duration,
) -> sqlx::pool::PoolOptions<DB> {
    sqlx::pool::PoolOptions::new()
        .max_connections(max)
        .min_connections(0)
        .acquire_timeout(acquire)
        .idle_timeout(None)
        .max_lifetime(None)
}

/// The current time as stored (RFC 3339, UTC, milliseconds).
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Makes sure the directory of a sqlite:// file URL exists.
pub(crate) fn ensure_sqlite_dir(url: &str) -> anyhow::Result<()> {
    use anyhow::Context;
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or("");
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    if let Some(dir) = std::path::Path::new(path).parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create directory {}", dir.display()))?;
        }
    }
    Ok(())
}

impl Store {
    /// Opens (creating if missing) the warehouse named by `database.url` and
    /// applies its migrations.
    pub async fn open(settings: &Settings) -> anyhow::Result<Store> {
        let url = &settings.database.url;
        let backend = match Dialect::of_url(url) {
            Some(Dialect::Sqlite) => Backend::Sqlite(sqlite::Repo::open(settings).await?),
            Some(Dialect::Postgres) => Backend::Postgres(postgres::Repo::open(settings).await?),
            None => anyhow::bail!("database.url {url:?}: use sqlite://PATH or postgres://…"),
        };
        Ok(Store { backend })
    }

    pub fn dialect(&self) -> Dialect {
        match &self.backend {
            Backend::Sqlite(_) => Dialect::Sqlite,
            Backend::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Closes the pool: waits for connections in use, closes the idle ones.
    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite(r) => {
                r.write_pool.close().await;
                r.pool.close().await;
            }
            Backend::Postgres(r) => r.pool.close().await,
        }
    }

    /// The PostgreSQL pool, when the warehouse is on PostgreSQL (the job queue
    /// shares it).
    pub fn pg_pool(&self) -> Option<&sqlx::PgPool> {
        match &self.backend {
            Backend::Postgres(r) => Some(&r.pool),
            Backend::Sqlite(_) => None,
        }
    }
}

delegate! {
    pub async fn ping(&self) -> sqlx::Result<()>;
    /// The integers of the first row a statement returns (diagnostics and tests).
    pub async fn first_row_i64(&self, sql: &str) -> sqlx::Result<Vec<Option<i64>>>;
}
