//! The warehouse: org tree, submissions and their files, facts, roll-ups, audit
//! and keys, in SQLite (a file in WAL mode with full synchronous durability).

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};

use crate::config::Settings;

pub mod accept;
pub mod approvals;
pub mod completeness;
pub mod history;
pub mod keys;
pub mod orgs;
pub mod outliers;
pub mod periods;
pub mod queries;
pub mod reports;
pub mod rollups;
pub mod submissions;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Rows per multi-row INSERT: well under SQLite's bound-parameter limit.
pub(crate) const BATCH: usize = 400;

#[derive(Debug, Clone)]
pub struct Store {
    pub pool: SqlitePool,
}

/// The current time as stored (RFC 3339, UTC, seconds).
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Makes sure the directory of a sqlite:// file URL exists.
pub(crate) fn ensure_sqlite_dir(url: &str) -> anyhow::Result<()> {
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
    /// Opens (creating if missing) the warehouse and applies migrations.
    pub async fn open(settings: &Settings) -> anyhow::Result<Store> {
        let url = &settings.database.url;
        ensure_sqlite_dir(url)?;
        let options = SqliteConnectOptions::from_str(url)
            .with_context(|| format!("database.url {url:?} is not a SQLite URL"))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_millis(settings.database.busy_timeout_ms));
        let pool = SqlitePoolOptions::new()
            .max_connections(settings.database.max_connections)
            .connect_with(options)
            .await
            .with_context(|| format!("cannot open the warehouse at {url}"))?;
        MIGRATOR
            .run(&pool)
            .await
            .context("cannot apply the warehouse migrations")?;
        Ok(Store { pool })
    }

    /// A write transaction that takes SQLite's write lock at once, so two writers
    /// queue on the busy timeout instead of failing on a lock upgrade.
    pub async fn begin_write(&self) -> sqlx::Result<Transaction<'static, Sqlite>> {
        self.pool.begin_with("BEGIN IMMEDIATE").await
    }

    pub async fn ping(&self) -> sqlx::Result<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
    }
}
