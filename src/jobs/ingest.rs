//! The ingest job: one uploaded workbook → accepted or rejected. Owns its
//! payload, its enqueue (an upload stored and queued, [`submit`]) and its
//! handler; the work itself is the intake flow (`flows::intake::process`).

use std::collections::HashSet;

use futures::FutureExt;
use serde::{Deserialize, Serialize};
use tracing::Instrument;

use super::Job;
use crate::context::AppContext;
use crate::flows::intake::{self, Verdict};
use crate::queue::worker;
use crate::store::submissions::{NewSubmission, SubmissionRow};
use crate::store::JobTarget;

pub const NAME: &str = "ingest";

pub const JOB: Job = Job {
    name: NAME,
    register: |monitor, plan, ctx| worker::register(monitor, plan, ctx, handle),
    reconcile: |ctx| async move { reconcile(&ctx).await }.boxed(),
};

/// The payload: which submission to process, and which attempt this is. The
/// file itself stays in the warehouse; the queue carries only the id.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct IngestJob {
    pub submission_id: i64,
    /// 1 for the first delivery; a retry after a transient failure is queued
    /// with the next number, to run after the job's backoff.
    #[serde(default = "first_attempt")]
    pub attempt: u32,
}

fn first_attempt() -> u32 {
    1
}

impl IngestJob {
    pub fn new(submission_id: i64) -> IngestJob {
        IngestJob {
            submission_id,
            attempt: 1,
        }
    }
}

/// The first payload of a submission's job, for [`crate::store::Store::create_submission`].
pub fn payload(submission_id: i64) -> Vec<u8> {
    serde_json::to_vec(&IngestJob::new(submission_id)).unwrap_or_default()
}

/// Stores an upload and makes sure its ingest job is queued: in the same
/// transaction where the queue shares the warehouse's database, else right
/// after the commit (a crash in between is repaired by [`reconcile`]).
/// Returns the submission and whether it is new.
pub async fn submit(
    ctx: &AppContext,
    new: &NewSubmission<'_>,
) -> anyhow::Result<(SubmissionRow, bool)> {
    let spec = ctx.queue.spec(NAME);
    let target = JobTarget {
        queue: &spec.queue,
        max_attempts: spec.max_attempts as usize,
        payload,
    };
    let (row, created, queued) = ctx.store.create_submission(new, &target).await?;
    if created && !queued {
        if let Err(e) = ctx.queue.push(NAME, &IngestJob::new(row.id), None).await {
            tracing::error!(submission_id = row.id, error = %format!("{e:#}"), "queuing failed; the reconciler will retry");
        }
    }
    Ok((row, created))
}

/// Re-queues submissions that are not final and have no live job (an upload
/// stored just before a crash, or a queue file lost): nothing uploaded is left
/// behind. The handler is idempotent, so a spare delivery is harmless.
pub async fn reconcile(ctx: &AppContext) -> anyhow::Result<usize> {
    let pending = ctx.store.unfinished_submissions().await?;
    if pending.is_empty() {
        return Ok(0);
    }
    let live: HashSet<i64> = ctx
        .queue
        .live_payloads(NAME)
        .await?
        .iter()
        .filter_map(|p| serde_json::from_slice::<IngestJob>(p).ok())
        .map(|j| j.submission_id)
        .collect();
    let mut queued = 0;
    for id in pending.into_iter().filter(|id| !live.contains(id)) {
        ctx.queue.push(NAME, &IngestJob::new(id), None).await?;
        queued += 1;
    }
    if queued > 0 {
        tracing::info!(queued, "re-queued submissions that had no live job");
    }
    Ok(queued)
}

/// Runs one delivery. Bad input ends as a rejection and returns Ok. A
/// transient failure (the database) or a timeout queues the next attempt to
/// run after the job's backoff and returns Ok: no worker slot waits out the
/// backoff. Attempts are also counted in the submissions table, so a file that
/// kills its worker ends rejected after `max_attempts` instead of looping.
pub async fn handle(job: IngestJob, ctx: AppContext) -> anyhow::Result<()> {
    let spec = ctx.queue.spec(NAME).clone();
    let started = std::time::Instant::now();
    let span = tracing::info_span!("job", job = NAME, submission_id = job.submission_id);
    let result = tokio::time::timeout(
        spec.timeout(),
        intake::process(&ctx, job.submission_id, spec.max_attempts as i64).instrument(span),
    )
    .await;
    let elapsed = started.elapsed().as_secs_f64();
    let failure = match result {
        Ok(Ok(verdict)) => {
            let outcome = match verdict {
                Verdict::Accepted { .. } => "accepted",
                Verdict::Rejected { .. } => "rejected",
                Verdict::AlreadyDone => "skipped",
            };
            ctx.metrics.job(NAME, outcome, elapsed);
            return Ok(());
        }
        Ok(Err(e)) => {
            ctx.metrics.job(NAME, "retry", elapsed);
            format!("{e:#}")
        }
        Err(_) => {
            ctx.metrics.job(NAME, "timeout", elapsed);
            format!("timed out after {} s", spec.timeout_seconds)
        }
    };
    let next = IngestJob {
        submission_id: job.submission_id,
        attempt: job.attempt + 1,
    };
    let wait = spec.backoff(next.attempt);
    tracing::warn!(
        submission_id = job.submission_id,
        attempt = job.attempt,
        retry_in_seconds = wait.as_secs(),
        error = %failure,
        "ingest failed; queued to run again"
    );
    // The claim counts attempts; past max_attempts the next delivery rejects
    // the file. Should queuing fail too, the delivery fails, and the queue
    // delivers it again.
    ctx.queue.push(NAME, &next, Some(wait)).await.map_err(|e| {
        e.context(format!(
            "ingest failed ({failure}) and its retry could not be queued"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_payload_is_the_job_in_json_and_an_old_payload_is_a_first_attempt() {
        let job: IngestJob = serde_json::from_slice(&payload(42)).unwrap();
        assert_eq!(job, IngestJob::new(42));
        let old: IngestJob = serde_json::from_slice(br#"{"submission_id":7}"#).unwrap();
        assert_eq!((old.submission_id, old.attempt), (7, 1));
    }
}
