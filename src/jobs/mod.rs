//! The background jobs. Each is one file here that owns its payload, its
//! enqueue and its handler; [`JOBS`] lists them and [`run_workers`] starts a
//! worker for each in one loop. Their settings are `[jobs.NAME]` in the
//! configuration (`config/default.toml`), the queue plumbing is `src/queue/`.

use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use apalis::prelude::Monitor;
use futures::future::BoxFuture;

use crate::context::AppContext;
use crate::queue::worker::WorkerPlan;

pub mod ingest;
pub mod reminders;

/// One background job.
pub struct Job {
    /// The job's name: the key of its settings, `[jobs.NAME]`.
    pub name: &'static str,
    /// Adds the job's worker to the monitor.
    register: fn(Monitor, WorkerPlan<'_>, AppContext) -> Monitor,
    /// Queues again the work left without a live job (an upload stored just
    /// before a crash); run at start and every [`RECONCILE_EVERY`], or sooner
    /// when it asks to look again.
    reconcile: fn(AppContext) -> BoxFuture<'static, anyhow::Result<Reconciled>>,
}

/// What a job's reconciliation asks of the next one.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Reconciled {
    /// Work it left alone for now (too young to call lost) and would look at
    /// again after this long.
    pub look_again_in: Option<Duration>,
}

/// Every background job of the service.
pub const JOBS: &[Job] = &[ingest::JOB];

/// How often a running worker looks for work without a live job.
const RECONCILE_EVERY: Duration = Duration::from_secs(60);

/// Reconciles every job; returns when to do it again.
async fn reconcile_all(ctx: &AppContext) -> anyhow::Result<Duration> {
    let mut next = RECONCILE_EVERY;
    for job in JOBS {
        let done = (job.reconcile)(ctx.clone())
            .await
            .with_context(|| format!("reconciling the {} jobs", job.name))?;
        next = next.min(done.look_again_in.unwrap_or(RECONCILE_EVERY));
    }
    Ok(next)
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
    let mut next = reconcile_all(ctx).await?;
    let (done_tx, mut done_rx) = tokio::sync::watch::channel(false);
    let reconciler_ctx = ctx.clone();
    let reconciler = tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(next) => {
                    next = match reconcile_all(&reconciler_ctx).await {
                        Ok(next) => next,
                        Err(e) => {
                            tracing::warn!(error = %format!("{e:#}"), "reconciler failed; will try again");
                            RECONCILE_EVERY
                        }
                    };
                }
                _ = done_rx.changed() => break,
            }
        }
    });
    let mut monitor = Monitor::new();
    for job in JOBS {
        let plan = WorkerPlan {
            db: &ctx.queue.db,
            job: ctx.queue.spec(job.name),
            worker: &ctx.settings.worker,
            polls: ctx.metrics.queue_polls.clone(),
            name: format!(
                "{}-{}-{}",
                job.name,
                std::process::id(),
                uuid::Uuid::new_v4().simple()
            ),
        };
        monitor = (job.register)(monitor, plan, ctx.clone());
    }
    // The scheduled jobs: no queue, a cron schedule.
    if ctx.settings.reminders.enabled {
        monitor = reminders::register(monitor, ctx.clone());
    }
    let grace = Duration::from_secs(ctx.settings.server.shutdown_grace_seconds);
    let result = monitor
        .shutdown_timeout(grace)
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

#[cfg(test)]
mod tests {
    #[test]
    fn every_job_has_settings_and_every_setting_a_job() {
        let settings = crate::config::Settings::load_from(None, None, &[]).unwrap();
        let configured: Vec<&str> = settings.jobs.keys().map(String::as_str).collect();
        let jobs: Vec<&str> = super::JOBS.iter().map(|j| j.name).collect();
        assert_eq!(configured, jobs);
        assert_eq!(settings.jobs["ingest"].queue, "unionstat.ingest");
    }
}
