//! The worker set-up every job shares: one apalis worker per job and process on
//! the queue's backend, polling at the configured interval (each poll counted),
//! with heartbeats so that a killed worker's jobs go to another, and each job's
//! body on a task of its own.

use std::future::Future;
use std::time::Duration;

use anyhow::Context as _;
use apalis::prelude::*;
use apalis_postgres::PostgresStorage;
use apalis_sqlite::SqliteStorage;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::QueueDb;
use crate::config::{JobSettings, WorkerSettings};

/// What a job's worker needs to know besides the job.
pub struct WorkerPlan<'a> {
    pub db: &'a QueueDb,
    pub job: &'a JobSettings,
    pub worker: &'a WorkerSettings,
    /// Counts every poll of the queue (`unionstat_queue_polls_total`).
    pub polls: prometheus::IntCounter,
    /// The worker's name in the queue: the job, the process and a random part.
    pub name: String,
}

/// Adds to `monitor` a worker of the job with payload `J` that runs
/// `handler(payload, data)` for each delivery; an `Err` counts as a failed
/// delivery (apalis delivers it again until the job's max_attempts).
pub fn register<J, C, H, Fut>(
    monitor: Monitor,
    plan: WorkerPlan<'_>,
    data: C,
    handler: H,
) -> Monitor
where
    J: Serialize + DeserializeOwned + Send + Sync + Unpin + 'static,
    C: Clone + Send + Sync + 'static,
    H: Fn(J, C) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let heartbeat = Duration::from_secs(plan.worker.heartbeat_seconds.max(1));
    let missed = plan.worker.missed_heartbeats.max(1);
    let polls = CountedPolls {
        interval: IntervalStrategy::new(Duration::from_millis(
            plan.worker.poll_interval_ms.max(10),
        )),
        polls: plan.polls,
    };
    let (queue, concurrency, name) = (plan.job.queue.clone(), plan.job.concurrency, plan.name);
    let task = move |job: J, data: Data<C>| {
        let (handler, data) = (handler.clone(), C::clone(&data));
        async move {
            OwnTask(tokio::spawn(async move { handler(job, data).await }))
                .await
                .and_then(|r| r)
                .map_err(BoxDynError::from)
        }
    };
    // The two arms differ only in the storage's types.
    macro_rules! worker_on {
        ($storage:ident, $config:path, $pool:expr) => {{
            let pool = $pool.clone();
            let config = <$config>::default()
                .queue(&queue)
                .heartbeat_interval(heartbeat)
                .missed_heartbeats(missed)
                .batch_size(concurrency.max(1));
            monitor.register(move |_| {
                let storage = PollWith::new(
                    $storage::<J>::new(&pool).with_config(config.clone()),
                    polls.clone(),
                );
                WorkerBuilder::new(name.clone())
                    .backend(storage)
                    .data(data.clone())
                    .concurrency(concurrency)
                    .build(task.clone())
            })
        }};
    }
    match plan.db {
        QueueDb::Sqlite(pool) => worker_on!(SqliteStorage, apalis_sqlite::Config, pool),
        QueueDb::Postgres(pool) => worker_on!(PostgresStorage, apalis_postgres::Config, pool),
    }
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
/// counts every poll.
///
/// apalis's `IntervalStrategy`, when its delay has run out, starts the next
/// one without polling it, so that delay holds no waker. The storage then
/// fetches; a fetch that comes back empty at once parks the worker until
/// something else wakes it — the heartbeat, seconds later: an upload queued
/// then waited ~10 s (`heartbeat_seconds`) about once in twenty on a busy
/// machine. So the next delay is polled here as soon as it is started.
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
        let due = self.interval.poll_drive(cx, snapshot);
        if due.is_ready() {
            // Registers this task's waker with the delay just started (a
            // fresh delay of ≥ 10 ms is pending).
            let _ = self.interval.poll_drive(cx, snapshot);
        }
        due
    }

    fn on_poll(&mut self, snapshot: &PollSnapshot) {
        self.polls.inc();
        self.interval.on_poll(snapshot);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;

    struct Wakes(AtomicUsize);

    impl futures::task::ArcWake for Wakes {
        fn wake_by_ref(me: &Arc<Self>) {
            me.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Whether `n` wakes came within a second.
    async fn woken(wakes: &Wakes, n: usize) -> bool {
        for _ in 0..200 {
            if wakes.0.load(Ordering::SeqCst) >= n {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        false
    }

    /// The worker is woken every interval by the strategy alone, also after
    /// an interval that ran out (the storage may answer at once and wait).
    #[tokio::test]
    async fn each_interval_wakes_the_worker_again_without_another_poll() {
        let wakes = Arc::new(Wakes(AtomicUsize::new(0)));
        let waker = futures::task::waker(wakes.clone());
        let mut cx = std::task::Context::from_waker(&waker);
        let mut polls = CountedPolls {
            interval: IntervalStrategy::new(Duration::from_millis(10)),
            polls: prometheus::IntCounter::new("polls", "polls").unwrap(),
        };
        let snapshot = PollSnapshot::default();
        assert!(polls.poll_drive(&mut cx, &snapshot).is_pending());
        assert!(woken(&wakes, 1).await, "the first interval woke nobody");
        assert!(polls.poll_drive(&mut cx, &snapshot).is_ready());
        // No poll in between: the next interval must wake the worker itself.
        assert!(
            woken(&wakes, 2).await,
            "the interval after a due poll woke nobody"
        );
    }
}
