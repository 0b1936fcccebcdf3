//! The ingest leg on PostgreSQL (`--pg-url`): the same workbooks stored and
//! queued through the `submit` path into the database named, processed by
//! separate `unionstat worker` processes — the scale-out deployment — while this
//! process only waits for the verdicts.
//!
//! The database should be empty and disposable: the benchmark imports its
//! province, fills the months before as it does SQLite's (so both ingest into
//! the same year of history), and leaves what it wrote. A workbook the database already holds
//! (a second run against the same database) stops the leg, since nothing would
//! be processed and the rate would mean nothing.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::bail;
use tokio::process::Child;

use unionstat::cli::submit::Verdicts;
use unionstat::config::Settings;
use unionstat::context::AppContext;
use unionstat::store::submissions::SubmissionRow;

/// The URL with its password hidden, for printing.
pub use unionstat::config::redact;

/// The settings of the PostgreSQL leg, loaded as the worker processes load
/// theirs (settings file, environment, then the warehouse URL), so a URL this
/// build cannot use is refused here, before anything is opened.
pub fn settings(config: Option<&Path>, url: &str) -> anyhow::Result<Settings> {
    Settings::load(config, Some(url))
}

/// `unionstat worker` processes started for the leg; stopped (SIGTERM, then
/// killed after a grace period) by [`Workers::stop`] or when dropped.
pub struct Workers {
    children: Vec<Child>,
    logs: Vec<PathBuf>,
}

impl Workers {
    /// Starts `n` workers of the unionstat program `exe` against `url`, with the same settings
    /// file (if any) and environment as this process; the URL goes in the
    /// environment, not on the command line, so its password does not show in `ps`.
    pub fn start(
        exe: &Path,
        n: usize,
        config: Option<&Path>,
        url: &str,
        log_dir: &Path,
    ) -> anyhow::Result<Workers> {
        let mut workers = Workers {
            children: Vec::new(),
            logs: Vec::new(),
        };
        for i in 0..n {
            let log = log_dir.join(format!("pg-worker-{}.log", i + 1));
            let child = super::server::spawn(exe, config, url, &["worker"], &log)?;
            workers.children.push(child);
            workers.logs.push(log);
        }
        Ok(workers)
    }

    /// Err naming the first worker that has stopped, with the end of its log.
    pub fn check_alive(&mut self) -> anyhow::Result<()> {
        for (child, log) in self.children.iter_mut().zip(&self.logs) {
            if let Some(status) = child.try_wait()? {
                let text = std::fs::read_to_string(log).unwrap_or_default();
                let tail: Vec<&str> = text.lines().rev().take(5).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                bail!(
                    "a PostgreSQL worker stopped with {status}: {}",
                    tail.join(" / ")
                );
            }
        }
        Ok(())
    }

    /// Asks every worker to stop (SIGTERM: in-flight jobs finish) and waits; a
    /// worker still running after `grace` is killed.
    pub async fn stop(mut self, grace: Duration) {
        for child in &self.children {
            if let Some(pid) = child.id() {
                // SAFETY: kill(2) on the id of a child we started and have not reaped.
                unsafe {
                    libc::kill(pid as libc::pid_t, libc::SIGTERM);
                }
            }
        }
        for child in &mut self.children {
            if tokio::time::timeout(grace, child.wait()).await.is_err() {
                let _ = child.kill().await;
            }
        }
    }
}

/// Waits until every submission has a verdict, polling the warehouse; the
/// workers run elsewhere.
pub async fn wait_for_verdicts(
    ctx: &AppContext,
    ids: &[i64],
    workers: &mut Workers,
    bar: &indicatif::ProgressBar,
) -> anyhow::Result<Vec<SubmissionRow>> {
    let mut verdicts = Verdicts::new(ids);
    let deadline = Instant::now() + Duration::from_secs(3600);
    loop {
        bar.set_position(verdicts.poll(ctx).await? as u64);
        if verdicts.is_done() {
            return Ok(verdicts.rows());
        }
        workers.check_alive()?;
        if Instant::now() > deadline {
            bail!("no verdict for every submission within an hour");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
