//! The ingest job: one uploaded workbook → accepted or rejected. Owns its
//! payload, its enqueue (an upload stored and queued, [`submit`]) and its
//! handler; the work itself is the intake flow (`flows::intake::process`).

use std::collections::HashSet;
use std::time::Duration;

use futures::FutureExt;
use serde::{Deserialize, Serialize};
use tracing::Instrument;

use super::{Job, Reconciled};
use crate::context::AppContext;
use crate::flows::intake::{self, Verdict};
use crate::queue::worker;
use crate::store::submissions::{NewSubmission, SubmissionRow, Unfinished};
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

/// How long after its upload was stored a submission without a live job is
/// left alone. Where the queue is another database than the warehouse
/// (SQLite), the job is queued just after the upload commits; a reconciler
/// that looked in between would queue it a second time. The handler is
/// idempotent, so a spare delivery is harmless, but it is work and a
/// `skipped` job run for nothing.
const QUEUING_GRACE: Duration = Duration::from_secs(5);

/// Re-queues submissions that are not final and have no live job (an upload
/// stored just before a crash, or a queue file lost): nothing uploaded is left
/// behind. A submission counts as lost when it was unfinished before the
/// queue was read, had no live job in it, is still unfinished after (a job
/// that ran to its end in between left its submission final) and was stored
/// more than [`QUEUING_GRACE`] ago; one stored later is looked at again once
/// that has passed (the answer's `look_again_in`).
pub async fn reconcile(ctx: &AppContext) -> anyhow::Result<Reconciled> {
    let before = ctx.store.unfinished_submissions().await?;
    if before.is_empty() {
        return Ok(Reconciled::default());
    }
    let live: HashSet<i64> = ctx
        .queue
        .live_payloads(NAME)
        .await?
        .iter()
        .filter_map(|p| serde_json::from_slice::<IngestJob>(p).ok())
        .map(|j| j.submission_id)
        .collect();
    let jobless: Vec<Unfinished> = before
        .into_iter()
        .filter(|s| !live.contains(&s.id))
        .collect();
    if jobless.is_empty() {
        return Ok(Reconciled::default());
    }
    let after: HashSet<i64> = ctx
        .store
        .unfinished_submissions()
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect();
    let (lost, look_again_in) = lost_jobs(&jobless, &after, chrono::Utc::now());
    for &id in &lost {
        ctx.queue.push(NAME, &IngestJob::new(id), None).await?;
    }
    if !lost.is_empty() {
        tracing::info!(
            queued = lost.len(),
            "re-queued submissions that had no live job"
        );
    }
    Ok(Reconciled { look_again_in })
}

/// Of the submissions that had no live job, those to queue again (still
/// unfinished, stored at least [`QUEUING_GRACE`] before `now`), and when to
/// look at the younger ones again.
fn lost_jobs(
    jobless: &[Unfinished],
    still_unfinished: &HashSet<i64>,
    now: chrono::DateTime<chrono::Utc>,
) -> (Vec<i64>, Option<Duration>) {
    let mut lost = Vec::new();
    let mut look_again_in: Option<Duration> = None;
    for s in jobless.iter().filter(|s| still_unfinished.contains(&s.id)) {
        // A spare delivery is harmless and a lost upload is not: a time that
        // cannot be read, or lies ahead of this clock, counts as old.
        let wait = chrono::DateTime::parse_from_rfc3339(&s.received_at)
            .ok()
            .and_then(|t| now.signed_duration_since(t).to_std().ok())
            .and_then(|age| QUEUING_GRACE.checked_sub(age))
            .filter(|w| !w.is_zero());
        match wait {
            Some(w) => look_again_in = Some(look_again_in.map_or(w, |l| l.min(w))),
            None => lost.push(s.id),
        }
    }
    (lost, look_again_in)
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

    #[test]
    fn only_old_unfinished_submissions_are_lost_and_young_ones_are_looked_at_again() {
        let now: chrono::DateTime<chrono::Utc> = "2026-11-03T08:00:10.000Z".parse().unwrap();
        let at = |id: i64, received_at: &str| Unfinished {
            id,
            received_at: received_at.to_string(),
        };
        let jobless = [
            // Stored 10 s ago: lost.
            at(1, "2026-11-03T08:00:00.000Z"),
            // Stored 1.5 s ago: its job may be on its way; again in 3.5 s.
            at(2, "2026-11-03T08:00:08.500Z"),
            // Stored 4 s ago: again in 1 s.
            at(3, "2026-11-03T08:00:06.000Z"),
            // Finished while the queue was read: left alone.
            at(4, "2026-11-03T07:00:00.000Z"),
            // Unreadable, or ahead of this clock: counted as old.
            at(5, "yesterday"),
            at(6, "2026-11-03T09:00:00.000Z"),
            // Exactly the grace: lost.
            at(7, "2026-11-03T08:00:05.000Z"),
        ];
        let still: HashSet<i64> = [1, 2, 3, 5, 6, 7].into();
        let (lost, again) = lost_jobs(&jobless, &still, now);
        assert_eq!(lost, vec![1, 5, 6, 7]);
        assert_eq!(again, Some(Duration::from_secs(1)));
        // Nothing young: nothing to look at before the next round.
        let (lost, again) = lost_jobs(&jobless[..1], &still, now);
        assert_eq!((lost, again), (vec![1], None));
    }
}
