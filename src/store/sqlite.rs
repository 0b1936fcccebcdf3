//! The SQLite warehouse: one file in WAL mode, `synchronous=FULL`, foreign keys
//! on; writers take the write lock at the start of their transaction.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{SqlitePool, Transaction};

use super::{Dialect, JobTarget};
use crate::config::Settings;

pub type Db = sqlx::Sqlite;
pub const DIALECT: Dialect = Dialect::Sqlite;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

#[path = "imp/mod.rs"]
mod imp;
pub use imp::Repo;

/// Rows buffered between a connection's thread and its reader.
const ROW_BUFFER: usize = 1024;

pub(crate) async fn connect(settings: &Settings) -> anyhow::Result<SqlitePool> {
    super::ensure_sqlite_dir(&settings.database.url)?;
    pool(settings, settings.database.max_connections).await
}

/// The pool write transactions take their connection from: one connection,
/// so this process's writers (the single writer's batches, claims, uploads,
/// rejections, tree changes) queue for it in the pool, each woken as soon as
/// the one before commits. On the read pool they met at SQLite's write lock,
/// whose busy handler sleeps 1, 2, 5 … 100 ms between tries: an ingest of 399
/// workbooks slept there some 2,000 times (BENCHMARKS.md, 2026-12-07). Other
/// processes' writers still wait on the lock, within the busy timeout.
pub(crate) async fn connect_writer(
    settings: &Settings,
    _reads: &SqlitePool,
) -> anyhow::Result<SqlitePool> {
    pool(settings, 1).await
}

/// A pool of at most `max` connections to the warehouse file.
async fn pool(settings: &Settings, max: u32) -> anyhow::Result<SqlitePool> {
    let wait = Duration::from_millis(settings.database.busy_timeout_ms);
    super::pool_options::<Db>(max, wait)
        .connect_with(options(settings)?)
        .await
        .with_context(|| format!("cannot open the warehouse at {}", settings.database.url))
}

fn options(settings: &Settings) -> anyhow::Result<SqliteConnectOptions> {
    let url = &settings.database.url;
    Ok(SqliteConnectOptions::from_str(url)
        .with_context(|| format!("database.url {url:?} is not a SQLite URL"))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_millis(settings.database.busy_timeout_ms))
        // Rows a query's connection thread may hand over before the reader
        // takes them: with sqlx's 50 the thread stops and is woken again
        // every 50 rows, a context switch each (an answer with 100 children
        // reads ~300 rows, an ingest job's history more).
        .row_buffer_size(ROW_BUFFER))
}

/// A write transaction that takes SQLite's write lock at once, so two writers
/// queue on the busy timeout instead of failing on a lock upgrade. Writers are
/// serialised, so no finer lock is needed.
pub(crate) async fn begin_write(pool: &SqlitePool) -> sqlx::Result<Transaction<'static, Db>> {
    pool.begin_with("BEGIN IMMEDIATE").await
}

/// A read transaction: one consistent snapshot (WAL) for several queries.
pub(crate) async fn begin_snapshot(pool: &SqlitePool) -> sqlx::Result<Transaction<'static, Db>> {
    pool.begin().await
}

/// Keeps acceptances off the roll-up tables until the transaction ends: the
/// write lock taken by `begin_write` already does.
pub(crate) async fn lock_rollups(_tx: &mut Transaction<'static, Db>) -> sqlx::Result<()> {
    Ok(())
}

/// Nothing on SQLite: without statistics tables its planner goes by the
/// indexes alone, which is what the warehouse's queries are shaped for.
pub(crate) async fn refresh_statistics(_pool: &SqlitePool) -> sqlx::Result<Vec<String>> {
    Ok(Vec::new())
}

/// The tree stays as it is while the transaction runs: the write lock taken
/// by `begin_write` already keeps every other writer out.
pub(crate) async fn lock_tree_shared(_tx: &mut Transaction<'static, Db>) -> sqlx::Result<()> {
    Ok(())
}

/// A tree change: the write lock is already held.
pub(crate) async fn lock_tree_exclusive(_tx: &mut Transaction<'static, Db>) -> sqlx::Result<()> {
    Ok(())
}

/// Serialises writers of one key within a transaction: nothing to do, the
/// transaction already holds the database's write lock.
pub(crate) async fn lock_key(_tx: &mut Transaction<'static, Db>, _key: &str) -> sqlx::Result<()> {
    Ok(())
}

/// The queue is a separate file: the job is queued after the upload commits
/// (the reconciler covers a crash in between). Returns false: not queued here.
pub(crate) async fn enqueue_in_tx(
    _tx: &mut Transaction<'static, Db>,
    _target: &JobTarget<'_>,
    _id: i64,
) -> sqlx::Result<bool> {
    Ok(false)
}

/// Whether a failed write transaction may simply be run again: the write lock
/// (another process) or the write connection (this one) stayed busy.
pub(crate) fn is_transient(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::PoolTimedOut)
        || matches!(e, sqlx::Error::Database(d) if d.message().contains("database is locked"))
}
