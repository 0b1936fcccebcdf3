//! The single writer with group commit: ingest jobs hand their
//! accepted submissions to one task, which commits whatever is ready in one
//! transaction, each submission in its own savepoint — all or nothing per
//! submission, one failing submission rolled back alone — and one fsync per
//! batch. A job hears its verdict only after its batch committed, so nothing
//! acknowledged can be lost; the jobs meanwhile read and validate the next
//! files instead of queuing on the database's write lock.
//!
//! PostgreSQL takes the same path, one writer per process. Every acceptance
//! moves the roll-up rows of the province, its city and its county and holds
//! them until it commits: with a transaction per acceptance, the worker
//! processes queued on those rows one commit (one fsync) at a time. A batch
//! pays that wait and that fsync once for all its acceptances. The processes'
//! batches take the shared rows in org id order, so they queue rather than
//! deadlock; a deadlock all the same rolls back only the submission it hit
//! (its savepoint), and its job runs again.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::accept::{Placement, RollupDeltas};
use super::Repo;
use crate::store::accept::{AcceptOutcome, AcceptedSubmission};

/// At most this many submissions in one transaction.
const MAX_BATCH: usize = 64;

type Verdict = sqlx::Result<Option<AcceptOutcome>>;

struct Pending {
    submission: AcceptedSubmission,
    placement: Placement,
    reply: oneshot::Sender<Verdict>,
}

/// The handle of a store's writer task.
#[derive(Debug, Clone)]
pub(crate) struct Writer {
    queue: mpsc::UnboundedSender<Pending>,
}

impl Writer {
    /// Starts the writer task on the current runtime. It ends when every
    /// handle is dropped.
    pub(crate) fn start(repo: &Repo) -> Writer {
        let (queue, rx) = mpsc::unbounded_channel();
        // The task's own Repo has no writer of its own: no cycle keeps it alive.
        let repo = Repo {
            pool: repo.pool.clone(),
            write_pool: repo.write_pool.clone(),
            cols: repo.cols.clone(),
            forms: repo.forms.clone(),
            writer: Arc::default(),
            stats: repo.stats.clone(),
        };
        tokio::spawn(run(repo, rx));
        Writer { queue }
    }

    /// Whether its task has ended (its runtime shut down).
    fn stopped(&self) -> bool {
        self.queue.is_closed()
    }

    /// Accepts `submission` (its units placed as `placement` says, unless
    /// the tree changed since) in the next batch; returns once that batch is
    /// committed (or failed).
    pub(crate) async fn accept(
        &self,
        submission: AcceptedSubmission,
        placement: Placement,
    ) -> Verdict {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Pending {
                submission,
                placement,
                reply,
            })
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

fn stopped() -> sqlx::Error {
    sqlx::Error::Protocol("the warehouse's writer stopped; the acceptance was not written".into())
}

async fn run(repo: Repo, mut rx: mpsc::UnboundedReceiver<Pending>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        let subs: Vec<(&AcceptedSubmission, &Placement)> = batch
            .iter()
            .map(|p| (&p.submission, &p.placement))
            .collect();
        tracing::debug!(
            submissions = subs.len(),
            "committing a batch of acceptances"
        );
        let verdicts = repo.commit_batch(&subs).await;
        if verdicts.iter().any(|v| matches!(v, Ok(Some(_)))) {
            repo.after_write();
        }
        for (p, v) in batch.into_iter().zip(verdicts) {
            let _ = p.reply.send(v);
        }
    }
}

impl Repo {
    /// The store's writer, started on first use (and again if its runtime
    /// ended while the store lives on).
    pub(crate) fn writer(&self) -> Writer {
        let mut slot = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        match &*slot {
            Some(w) if !w.stopped() => w.clone(),
            _ => slot.insert(Writer::start(self)).clone(),
        }
    }

    /// Commits `subs` in one transaction, one verdict each in order. Waiting
    /// for the write lock past the busy timeout runs the batch again; a batch
    /// that cannot commit fails every submission in it (their jobs retry).
    async fn commit_batch(&self, subs: &[(&AcceptedSubmission, &Placement)]) -> Vec<Verdict> {
        let mut attempt = 0u32;
        loop {
            match self.try_batch(subs).await {
                Ok(verdicts) => return verdicts,
                Err(e) if super::super::is_transient(&e) && attempt < 8 => {
                    attempt += 1;
                    tracing::info!(submissions = subs.len(), attempt, error = %e, "accept batch retried");
                    tokio::time::sleep(Duration::from_millis(20 << attempt.min(6))).await;
                }
                Err(e) => {
                    tracing::warn!(submissions = subs.len(), error = %e, "accept batch failed");
                    return subs
                        .iter()
                        .map(|_| {
                            Err(sqlx::Error::Protocol(format!(
                                "the batch of acceptances did not commit: {e}"
                            )))
                        })
                        .collect();
                }
            }
        }
    }

    async fn try_batch(
        &self,
        subs: &[(&AcceptedSubmission, &Placement)],
    ) -> sqlx::Result<Vec<Verdict>> {
        let mut tx = self.begin_write().await?;
        let mut verdicts = Vec::with_capacity(subs.len());
        let mut rollups = RollupDeltas::default();
        for (s, placement) in subs {
            sqlx::query("SAVEPOINT accept_submission")
                .execute(&mut *tx)
                .await?;
            let mut own = RollupDeltas::default();
            let verdict = self
                .accept_in(&mut tx, &s.view(), placement, &mut own)
                .await;
            if matches!(verdict, Ok(Some(_))) {
                rollups.merge(own);
            } else {
                sqlx::query("ROLLBACK TO SAVEPOINT accept_submission")
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query("RELEASE SAVEPOINT accept_submission")
                .execute(&mut *tx)
                .await?;
            if let Err(e) = &verdict {
                tracing::warn!(submission_id = s.submission_id, error = %e, "acceptance rolled back alone");
            }
            verdicts.push(verdict);
        }
        // The roll-ups of every acceptance kept, written once, last.
        rollups.apply(&mut tx, &self.cols).await?;
        tx.commit().await?;
        Ok(verdicts)
    }
}
