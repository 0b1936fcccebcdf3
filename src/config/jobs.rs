//! The settings of the background jobs, `[jobs.NAME]` in the configuration:
//! the jobs themselves are in `src/jobs/`, one file each; what an operator tunes
//! about them (queue, attempts, backoff, timeout, concurrency) is configuration
//! like any other, so a file or `UNIONSTAT_JOBS__INGEST__CONCURRENCY=2` reaches it.

use std::time::Duration;

use anyhow::bail;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct JobSettings {
    /// The queue's name in the job backend (explicit: never the Rust type name).
    pub queue: String,
    /// Deliveries of one job before its work is given up.
    pub max_attempts: u32,
    /// The wait before the first retry; it doubles with each further attempt.
    pub backoff_seconds: u64,
    /// One delivery may take at most this long before it counts as failed.
    pub timeout_seconds: u64,
    /// Jobs one worker process runs at once.
    pub concurrency: usize,
}

/// Longest wait between two attempts, however many there were.
const MAX_BACKOFF: Duration = Duration::from_secs(3600);

impl JobSettings {
    /// The wait before attempt `next` (2, 3, …): backoff × 2^(next−2), at most an hour.
    pub fn backoff(&self, next: u32) -> Duration {
        let doublings = next.saturating_sub(2).min(20);
        Duration::from_secs(self.backoff_seconds.saturating_mul(1 << doublings)).min(MAX_BACKOFF)
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_seconds)
    }

    pub(super) fn check(&self, name: &str) -> anyhow::Result<()> {
        if self.max_attempts == 0 || self.concurrency == 0 || self.timeout_seconds == 0 {
            bail!("jobs.{name}: max_attempts, concurrency and timeout_seconds must be above 0");
        }
        if self.queue.is_empty() {
            bail!("jobs.{name}.queue must name the job's queue");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_second_attempt_and_is_bounded() {
        let job = JobSettings {
            queue: "q".into(),
            max_attempts: 3,
            backoff_seconds: 2,
            timeout_seconds: 1,
            concurrency: 1,
        };
        let waits: Vec<u64> = (2..=5).map(|n| job.backoff(n).as_secs()).collect();
        assert_eq!(waits, [2, 4, 8, 16]);
        assert_eq!(job.backoff(60), MAX_BACKOFF);
    }
}
