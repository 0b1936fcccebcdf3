//! The ingest job: one uploaded workbook → accepted or rejected.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tracing::Instrument;

use crate::app::AppContext;
use crate::pipeline::{self, Verdict};

pub const NAME: &str = "ingest";

/// The payload: which submission to process. The file itself stays in the
/// warehouse; the queue carries only the id.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IngestJob {
    pub submission_id: i64,
}

#[cfg(test)]
mod tests {
    #[test]
    fn payload_is_the_job_in_json() {
        let job: super::IngestJob = serde_json::from_slice(&super::payload(42)).unwrap();
        assert_eq!(job.submission_id, 42);
    }
}

/// The JSON payload of the ingest job of a submission.
pub fn payload(submission_id: i64) -> Vec<u8> {
    format!("{{\"submission_id\":{submission_id}}}").into_bytes()
}

/// Runs one delivery. Bad input ends as a rejection and returns Ok; a transient
/// failure waits out the backoff and returns Err, so apalis delivers it again.
/// Attempts are also counted in the submissions table, so a file that kills its
/// worker ends rejected after `max_attempts` instead of looping.
pub async fn handle(job: IngestJob, ctx: &AppContext) -> Result<(), anyhow::Error> {
    let spec = ctx.queue.spec(NAME).clone();
    let started = std::time::Instant::now();
    let span = tracing::info_span!("job", job = NAME, submission_id = job.submission_id);
    let result = tokio::time::timeout(
        Duration::from_secs(spec.timeout_seconds),
        pipeline::process(ctx, job.submission_id, spec.max_attempts as i64).instrument(span),
    )
    .await;
    let elapsed = started.elapsed().as_secs_f64();
    match result {
        Ok(Ok(verdict)) => {
            let outcome = match verdict {
                Verdict::Accepted { .. } => "accepted",
                Verdict::Rejected { .. } => "rejected",
                Verdict::AlreadyDone => "skipped",
            };
            ctx.metrics.job(NAME, outcome, elapsed);
            Ok(())
        }
        Ok(Err(e)) => {
            ctx.metrics.job(NAME, "retry", elapsed);
            tracing::warn!(submission_id = job.submission_id, error = %format!("{e:#}"), "ingest failed; will retry");
            tokio::time::sleep(Duration::from_secs(spec.backoff_seconds)).await;
            Err(e)
        }
        Err(_) => {
            ctx.metrics.job(NAME, "timeout", elapsed);
            tracing::warn!(
                submission_id = job.submission_id,
                "ingest timed out; will retry"
            );
            anyhow::bail!("ingest of submission {} timed out", job.submission_id)
        }
    }
}
