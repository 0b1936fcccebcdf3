//! Registers every job handler with apalis and runs the workers until shutdown.

use std::collections::HashSet;
use std::future::Future;
use std::time::Duration;

use apalis::prelude::*;
use apalis_postgres::PostgresStorage;
use apalis_sqlite::SqliteStorage;

use super::ingest::{self, IngestJob};
use super::QueueDb;

/// How often a running worker looks for submissions without a live job.
const RECONCILE_EVERY: Duration = Duration::from_secs(60);
use crate::app::AppContext;

async fn ingest_task(job: IngestJob, ctx: Data<AppContext>) -> Result<(), BoxDynError> {
    ingest::handle(job, &ctx).await.map_err(Into::into)
}

/// Re-queues submissions that are not final and have no live job (an upload
/// stored just before a crash, or a queue file lost): nothing uploaded is left
/// behind. Handlers are idempotent, so a spare delivery is harmless.
pub async fn reconcile(ctx: &AppContext) -> anyhow::Result<usize> {
    let pending = ctx.store.unfinished_submissions().await?;
    if pending.is_empty() {
        return Ok(0);
    }
    let live: HashSet<i64> = ctx
        .queue
        .live_payloads(ingest::NAME)
        .await?
        .iter()
        .filter_map(|p| serde_json::from_slice::<IngestJob>(p).ok())
        .map(|j| j.submission_id)
        .collect();
    let mut queued = 0;
    for id in pending.into_iter().filter(|id| !live.contains(id)) {
        ctx.queue.push(ingest::NAME, &ingest::payload(id)).await?;
        queued += 1;
    }
    if queued > 0 {
        tracing::info!(queued, "re-queued submissions that had no live job");
    }
    Ok(queued)
}

/// Runs the workers until `shutdown` completes; then stops taking work and lets
/// in-flight jobs finish within the grace period (an unfinished one is delivered
/// again later: its submission is still `processing` and is reclaimed).
pub async fn run_workers<S>(ctx: AppContext, shutdown: S) -> anyhow::Result<()>
where
    S: Future<Output = ()> + Send + 'static,
{
    reconcile(&ctx).await?;
    let spec = ctx.queue.spec(ingest::NAME).clone();
    let poll = Duration::from_millis(ctx.settings.worker.poll_interval_ms.max(10));
    let heartbeat = Duration::from_secs(ctx.settings.worker.heartbeat_seconds.max(1));
    let missed = ctx.settings.worker.missed_heartbeats.max(1);
    let name = format!(
        "{}-{}-{}",
        ingest::NAME,
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    );
    let grace = Duration::from_secs(ctx.settings.server.shutdown_grace_seconds);
    let worker_ctx = ctx.clone();
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let reconciler_ctx = ctx.clone();
    let reconciler = tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(RECONCILE_EVERY) => {
                    if let Err(e) = reconcile(&reconciler_ctx).await {
                        tracing::warn!(error = %format!("{e:#}"), "reconciler failed; will try again");
                    }
                }
                _ = stop_rx.changed() => break,
            }
        }
    });
    // A job whose worker has missed `missed` heartbeats is handed to another
    // worker (a worker killed mid-ingest); its submission is then claimed again.
    let monitor = match ctx.queue.db.clone() {
        QueueDb::Sqlite(pool) => {
            let config = apalis_sqlite::Config::default()
                .queue(&spec.queue)
                .heartbeat_interval(heartbeat)
                .missed_heartbeats(missed)
                .batch_size(spec.concurrency.max(1));
            Monitor::new().register(move |_| {
                let storage = SqliteStorage::<IngestJob>::new(&pool)
                    .with_config(config.clone())
                    .poll_with_interval(poll);
                WorkerBuilder::new(name.clone())
                    .backend(storage)
                    .data(worker_ctx.clone())
                    .concurrency(spec.concurrency)
                    .build(ingest_task)
            })
        }
        QueueDb::Postgres(pool) => {
            let config = apalis_postgres::Config::default()
                .queue(&spec.queue)
                .heartbeat_interval(heartbeat)
                .missed_heartbeats(missed)
                .batch_size(spec.concurrency.max(1));
            Monitor::new().register(move |_| {
                let storage = PostgresStorage::<IngestJob>::new(&pool)
                    .with_config(config.clone())
                    .poll_with_interval(poll);
                WorkerBuilder::new(name.clone())
                    .backend(storage)
                    .data(worker_ctx.clone())
                    .concurrency(spec.concurrency)
                    .build(ingest_task)
            })
        }
    }
    .shutdown_timeout(grace);
    let result = monitor
        .run_with_signal(async move {
            shutdown.await;
            let _ = stop_tx.send(true);
            Ok(())
        })
        .await
        .map_err(|e| anyhow::anyhow!("workers stopped: {e}"));
    reconciler.abort();
    result
}
