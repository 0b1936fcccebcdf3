//! The PostgreSQL warehouse, for many API and worker processes on many
//! machines. Writers of the same reporter and month are serialised by a
//! transaction-scoped advisory lock; roll-up rows are always written in one
//! order (by org id), so concurrent acceptances that share ancestors wait for
//! each other instead of deadlocking, and every delta lands because each is an
//! atomic `s = s + delta` upsert.

use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::PgConnectOptions;
use sqlx::{PgPool, Transaction};

use super::{Dialect, JobTarget};
use crate::config::redact;
use crate::config::Settings;

pub type Db = sqlx::Postgres;
pub const DIALECT: Dialect = Dialect::Postgres;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

#[path = "imp/mod.rs"]
mod imp;
pub use imp::Repo;

pub(crate) async fn connect(settings: &Settings) -> anyhow::Result<PgPool> {
    let url = &settings.database.url;
    let options: PgConnectOptions = url
        .parse()
        .with_context(|| format!("database.url {url:?} is not a PostgreSQL URL"))?;
    let wait = Duration::from_millis(settings.database.busy_timeout_ms);
    // Over TCP, each new connection gets TCP_NODELAY (see `nodelay`).
    let tcp_port = options.get_socket().is_none().then(|| options.get_port());
    super::pool_options::<Db>(settings.database.max_connections, wait)
        .after_connect(move |_, _| {
            Box::pin(async move {
                if let Some(port) = tcp_port {
                    super::nodelay::on_sockets_to(port);
                }
                Ok(())
            })
        })
        .connect_with(options)
        .await
        .with_context(|| format!("cannot connect to the warehouse at {}", redact(url)))
}

/// Write transactions share the pool: PostgreSQL takes many writers at once.
pub(crate) async fn connect_writer(_settings: &Settings, reads: &PgPool) -> anyhow::Result<PgPool> {
    Ok(reads.clone())
}

pub(crate) async fn begin_write(pool: &PgPool) -> sqlx::Result<Transaction<'static, Db>> {
    pool.begin().await
}

/// A read transaction on one consistent snapshot.
pub(crate) async fn begin_snapshot(pool: &PgPool) -> sqlx::Result<Transaction<'static, Db>> {
    pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await
}

/// Gathers the planner's statistics again of every warehouse table (the
/// schemas on the search path) of which at least half the rows it holds, and
/// at least [`STALE_ROWS`](super::statistics::STALE_ROWS), changed since they
/// were last gathered, by the database's own counts; returns those tables.
/// A table being analysed by another process is skipped (it is being done),
/// and so is one the connection's role may not analyse (not its owner's
/// member): autovacuum keeps those, and no warning repeats at every look.
pub(crate) async fn refresh_statistics(pool: &PgPool) -> sqlx::Result<Vec<String>> {
    let stale: Vec<String> = sqlx::query_scalar(
        "SELECT format('%I.%I', s.schemaname, s.relname) FROM pg_stat_user_tables s \
         JOIN pg_class c ON c.oid = s.relid \
         WHERE s.schemaname = ANY (current_schemas(false)) \
           AND pg_has_role(c.relowner, 'USAGE') \
           AND s.n_mod_since_analyze >= GREATEST($1, s.n_live_tup / 2) \
         ORDER BY s.relname",
    )
    .bind(super::statistics::STALE_ROWS)
    .fetch_all(pool)
    .await?;
    if !stale.is_empty() {
        // Names quoted by format('%I') above; the list differs each time, so
        // the statement is not kept prepared.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "ANALYZE (SKIP_LOCKED) {}",
            stale.join(", ")
        )))
        .persistent(false)
        .execute(pool)
        .await?;
    }
    Ok(stale)
}

/// Keeps acceptances off the roll-up tables until the transaction ends (they
/// wait; reads go on).
pub(crate) async fn lock_rollups(tx: &mut Transaction<'static, Db>) -> sqlx::Result<()> {
    sqlx::query("LOCK TABLE rollup_figures IN EXCLUSIVE MODE")
        .execute(&mut **tx)
        .await
        .map(|_| ())
}

/// Keeps the tree as it is until the transaction ends: an acceptance reads
/// the tree of its month and moves roll-ups by it, so no tree change may commit
/// in between (acceptances do not wait for each other here).
pub(crate) async fn lock_tree_shared(tx: &mut Transaction<'static, Db>) -> sqlx::Result<()> {
    sqlx::query("LOCK TABLE org_versions IN SHARE MODE")
        .execute(&mut **tx)
        .await
        .map(|_| ())
}

/// A tree change: waits for acceptances in flight and keeps new ones out
/// until it commits (taken before the roll-up lock, in the same order as
/// acceptances take theirs).
pub(crate) async fn lock_tree_exclusive(tx: &mut Transaction<'static, Db>) -> sqlx::Result<()> {
    sqlx::query("LOCK TABLE org_versions IN EXCLUSIVE MODE")
        .execute(&mut **tx)
        .await
        .map(|_| ())
}

/// Serialises the writers of one key (e.g. a reporter's month) until the
/// transaction ends.
pub(crate) async fn lock_key(tx: &mut Transaction<'static, Db>, key: &str) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(key)
        .execute(&mut **tx)
        .await
        .map(|_| ())
}

/// Queues the submission's job in the upload's own transaction: no upload
/// without its job, no job without its upload.
pub(crate) async fn enqueue_in_tx(
    tx: &mut Transaction<'static, Db>,
    target: &JobTarget<'_>,
    id: i64,
) -> sqlx::Result<bool> {
    let task = apalis::prelude::TaskBuilder::new((target.payload)(id))
        .max_attempts(target.max_attempts)
        .build();
    apalis_postgres::queries::push_tasks(&mut **tx, target.queue, vec![task])
        .await
        .map_err(|e| sqlx::Error::Protocol(format!("cannot queue the ingest job: {e}")))?;
    Ok(true)
}

/// Deadlock or serialisation failure: the transaction may simply be run again.
pub(crate) fn is_transient(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if matches!(d.code().as_deref(), Some("40P01") | Some("40001")))
}
