//! Registers every job handler with apalis and runs the workers until shutdown.

use std::collections::HashSet;
use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use apalis::prelude::*;
use apalis_postgres::PostgresStorage;
use apalis_sqlite::SqliteStorage;

use super::ingest::{self, IngestJob};
use super::QueueDb;

/// How often a running worker looks for submissions without a live job.
const RECONCILE_EVERY: Duration = Duration::from_secs(60);
use crate::app::AppContext;

async fn ingest_task(job: IngestJob, ctx: Data<AppContext>) -> Result<(), BoxDynError> {
    let ctx = AppContext::clone(&ctx);
    OwnTask(tokio::spawn(async move { ingest::handle(job, &ctx).await }))
        .await
        .and_then(|r| r)
        .map_err(Into::into)
}

/// A job's body on a task of its own, aborted if the worker drops it (a
/// shutdown past its grace period).
///
/// apalis polls a worker's jobs inside the worker's own task, so every wake-up
/// of a job (each query answered, each read from a reader child) wakes the
/// worker, and a worker that may take another job then polls its queue again:
/// with the job inline, the SQLite queue was fetched ~700 times a second while
/// one ran. On its own task a job wakes the worker once, when it ends.
struct OwnTask<T>(tokio::task::JoinHandle<T>);

impl<T> Future for OwnTask<T> {
    type Output = anyhow::Result<T>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        std::pin::Pin::new(&mut self.0)
            .poll(cx)
            .map(|r| r.context("the job's task ended abnormally"))
    }
}

impl<T> Drop for OwnTask<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Polls the queue every `interval` when there is nothing else to do, and
/// counts every poll (`unionstat_queue_polls_total`).
#[derive(Debug, Clone)]
struct CountedPolls {
    interval: IntervalStrategy,
    polls: prometheus::IntCounter,
}

impl PollStrategy for CountedPolls {
    fn poll_drive(
        &mut self,
        cx: &mut std::task::Context<'_>,
        snapshot: &PollSnapshot,
    ) -> std::task::Poll<Option<()>> {
        self.interval.poll_drive(cx, snapshot)
    }

    fn on_poll(&mut self, snapshot: &PollSnapshot) {
        self.polls.inc();
        self.interval.on_poll(snapshot);
    }
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
///
/// A database outage does not end them: when the workers stop on their own (the
/// queue could not be polled) or the start-up reconciliation fails, this logs
/// it, waits (1 s doubling up to 30 s) until the warehouse and the queue answer
/// again, and starts the workers anew. After `database.outage_give_up_seconds`
/// without an answer it returns an error, so the process exits non-zero.
pub async fn run_workers<S>(ctx: AppContext, shutdown: S) -> anyhow::Result<()>
where
    S: Future<Output = ()> + Send + 'static,
{
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let stopped = |rx: &tokio::sync::watch::Receiver<bool>| *rx.borrow();
    let give_up = Duration::from_secs(ctx.settings.database.outage_give_up_seconds);
    loop {
        let result = run_once(&ctx, stop_rx.clone()).await;
        if stopped(&stop_rx) {
            return result;
        }
        let why = match result {
            Err(e) => format!("{e:#}"),
            Ok(()) => "the workers stopped".to_string(),
        };
        tracing::warn!(error = %why, "workers interrupted; waiting for the database");
        let since = Instant::now();
        let mut pause = OUTAGE_FIRST_PAUSE;
        loop {
            let mut rx = stop_rx.clone();
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = rx.wait_for(|s| *s) => return Ok(()),
            }
            match database_answers(&ctx).await {
                Ok(()) => break,
                Err(e) => {
                    let down = since.elapsed();
                    if !give_up.is_zero() && down >= give_up {
                        anyhow::bail!(
                            "the database has not answered for {} s (database.outage_give_up_seconds = {}); giving up: {e:#}",
                            down.as_secs(),
                            give_up.as_secs()
                        );
                    }
                    pause = (pause * 2).min(OUTAGE_MAX_PAUSE);
                    tracing::warn!(error = %format!("{e:#}"), down_seconds = down.as_secs(), retry_in_seconds = pause.as_secs(), "the database does not answer yet");
                }
            }
        }
        tracing::info!("the database answers again; restarting the workers");
    }
}

/// First and longest wait between checks while the database does not answer.
const OUTAGE_FIRST_PAUSE: Duration = Duration::from_secs(1);
const OUTAGE_MAX_PAUSE: Duration = Duration::from_secs(30);

/// The warehouse and the queue both answer, each within a few seconds.
async fn database_answers(ctx: &AppContext) -> anyhow::Result<()> {
    let bound = Duration::from_secs(5);
    let within =
        |what: &'static str| move |_| anyhow::anyhow!("the {what} gave no answer within 5 s");
    tokio::time::timeout(bound, ctx.store.ping())
        .await
        .map_err(within("warehouse"))?
        .context("the warehouse")?;
    tokio::time::timeout(bound, ctx.queue.ping())
        .await
        .map_err(within("queue"))?
        .context("the queue")?;
    Ok(())
}

/// One run of the workers: until `stop` turns true, or until they stop on
/// their own (an error).
async fn run_once(
    ctx: &AppContext,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<()> {
    reconcile(ctx).await?;
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
    let polls = CountedPolls {
        interval: IntervalStrategy::new(poll),
        polls: ctx.metrics.queue_polls.clone(),
    };
    let (done_tx, mut done_rx) = tokio::sync::watch::channel(false);
    let reconciler_ctx = ctx.clone();
    let reconciler = tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(RECONCILE_EVERY) => {
                    if let Err(e) = reconcile(&reconciler_ctx).await {
                        tracing::warn!(error = %format!("{e:#}"), "reconciler failed; will try again");
                    }
                }
                _ = done_rx.changed() => break,
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
                let storage = PollWith::new(
                    SqliteStorage::<IngestJob>::new(&pool).with_config(config.clone()),
                    polls.clone(),
                );
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
                let storage = PollWith::new(
                    PostgresStorage::<IngestJob>::new(&pool).with_config(config.clone()),
                    polls.clone(),
                );
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
            let _ = stop.wait_for(|s| *s).await;
            Ok(())
        })
        .await
        .map_err(|e| anyhow::anyhow!("workers stopped: {e}"));
    let _ = done_tx.send(true);
    reconciler.abort();
    result
}
