//! Background jobs on apalis. Each job has a declarative spec in `jobs/NAME.toml`
//! (queue, attempts, backoff, timeout, concurrency, schedule) and one handler
//! module here; [`HANDLERS`] lists the handlers and start-up refuses specs and
//! handlers that do not match one-to-one.

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use anyhow::{bail, Context};
use apalis_sqlite::{SqliteConnectOptions, SqlitePool, SqliteStorage};
use serde::Deserialize;
use sqlx::Row;

use crate::config::Settings;
use crate::store::submissions::{NewSubmission, SubmissionRow};
use crate::store::{JobTarget, Store};

pub mod ingest;
mod runner;

pub use runner::run_workers;

/// Handler names implemented in code.
pub const HANDLERS: &[&str] = &[ingest::NAME];

/// The specs built into the binary (copies of jobs/*.toml).
const BUILTIN_SPECS: &[(&str, &str)] = &[("ingest.toml", include_str!("../../jobs/ingest.toml"))];

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct JobSpec {
    pub name: String,
    pub queue: String,
    pub max_attempts: u32,
    pub backoff_seconds: u64,
    pub timeout_seconds: u64,
    pub concurrency: usize,
    #[serde(default)]
    pub schedule: String,
}

pub type JobSpecs = BTreeMap<String, JobSpec>;

/// Reads the specs (from `dir`, or the built-in copies when empty) and checks them
/// against the handlers.
pub fn load_specs(dir: &str) -> anyhow::Result<JobSpecs> {
    let mut texts: Vec<(String, String)> = Vec::new();
    if dir.is_empty() {
        texts.extend(
            BUILTIN_SPECS
                .iter()
                .map(|(n, t)| (n.to_string(), t.to_string())),
        );
    } else {
        let entries =
            std::fs::read_dir(dir).with_context(|| format!("cannot read jobs directory {dir}"))?;
        for e in entries {
            let path = e?.path();
            if path.extension().and_then(|x| x.to_str()) == Some("toml") {
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading {}", path.display()))?;
                texts.push((path.display().to_string(), text));
            }
        }
    }
    let mut specs = JobSpecs::new();
    for (file, text) in texts {
        let spec: JobSpec = toml::from_str(&text).with_context(|| format!("job spec {file}"))?;
        if spec.max_attempts == 0 || spec.concurrency == 0 || spec.timeout_seconds == 0 {
            bail!("job spec {file}: max_attempts, concurrency and timeout_seconds must be above 0");
        }
        if spec.queue.is_empty() {
            bail!("job spec {file}: queue must be named");
        }
        let stem = Path::new(&file)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("");
        if stem != spec.name {
            bail!(
                "job spec {file}: name {:?} must match the file name",
                spec.name
            );
        }
        if specs.insert(spec.name.clone(), spec).is_some() {
            bail!("job spec {file} is defined twice");
        }
    }
    for h in HANDLERS {
        if !specs.contains_key(*h) {
            bail!("job handler {h} has no spec jobs/{h}.toml");
        }
    }
    for name in specs.keys() {
        if !HANDLERS.contains(&name.as_str()) {
            bail!("job spec {name} has no handler in src/jobs/");
        }
    }
    Ok(specs)
}

/// Where the jobs are kept.
#[derive(Debug, Clone)]
pub enum QueueDb {
    /// apalis's SQLite storage in its own file and pool, apart from the warehouse
    /// (apalis sets `synchronous=OFF` on its connections).
    Sqlite(SqlitePool),
    /// apalis's PostgreSQL storage in the warehouse's own database (schema
    /// `apalis`), so an upload and its job commit together.
    Postgres(sqlx::PgPool),
}

/// The job queue.
#[derive(Debug, Clone)]
pub struct Queue {
    pub db: QueueDb,
    pub specs: JobSpecs,
}

impl Queue {
    pub async fn open(
        settings: &Settings,
        store: &Store,
        specs: JobSpecs,
    ) -> anyhow::Result<Queue> {
        if let Some(pool) = store.pg_pool() {
            apalis_postgres::PostgresStorage::<()>::setup(pool)
                .await
                .map_err(|e| anyhow::anyhow!("cannot set up the job queue (schema apalis): {e}"))?;
            return Ok(Queue {
                db: QueueDb::Postgres(pool.clone()),
                specs,
            });
        }
        let url = settings.queue_url();
        crate::store::ensure_sqlite_dir(&url)?;
        let options = SqliteConnectOptions::from_str(&url)
            .with_context(|| format!("queue URL {url:?} is not a SQLite URL"))?
            .create_if_missing(true)
            .busy_timeout(Duration::from_millis(settings.database.busy_timeout_ms));
        let wait = Duration::from_millis(settings.database.busy_timeout_ms);
        let pool = crate::store::pool_options::<sqlx::Sqlite>(4, wait)
            .connect_with(options)
            .await
            .with_context(|| format!("cannot open the job queue at {url}"))?;
        // Processes starting together race to set the queue file up; SQLite
        // answers a lock upgrade between them with "database is locked" at
        // once, without waiting on the busy timeout. Try again, bounded.
        let mut attempt = 0u32;
        loop {
            match SqliteStorage::setup(&pool).await {
                Ok(()) => break,
                Err(e) if attempt < 30 && e.to_string().contains("database is locked") => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(50 * u64::from(attempt.min(10))))
                        .await;
                }
                Err(e) => return Err(anyhow::anyhow!("cannot set up the job queue: {e}")),
            }
        }
        Ok(Queue {
            db: QueueDb::Sqlite(pool),
            specs,
        })
    }

    pub fn spec(&self, name: &str) -> &JobSpec {
        &self.specs[name]
    }

    /// Closes the queue's pool (on PostgreSQL it is the warehouse's, closed with it).
    pub async fn close(&self) {
        if let QueueDb::Sqlite(p) = &self.db {
            p.close().await;
        }
    }

    /// Whether the queue can be reached.
    pub async fn ping(&self) -> anyhow::Result<()> {
        match &self.db {
            QueueDb::Sqlite(p) => sqlx::query("SELECT 1").execute(p).await.map(|_| ())?,
            QueueDb::Postgres(p) => sqlx::query("SELECT 1").execute(p).await.map(|_| ())?,
        }
        Ok(())
    }

    /// The ingest job of a new submission, for [`Store::create_submission`].
    pub fn ingest_target(&self) -> JobTarget<'_> {
        let spec = self.spec(ingest::NAME);
        JobTarget {
            queue: &spec.queue,
            max_attempts: spec.max_attempts as usize,
            payload: ingest::payload,
        }
    }

    /// Stores an upload and makes sure its ingest job is queued: in the same
    /// transaction where the queue shares the warehouse's database, else right
    /// after the commit (a crash in between is repaired by the reconciler).
    /// Returns the submission and whether it is new.
    pub async fn submit(
        &self,
        store: &Store,
        new: &NewSubmission<'_>,
    ) -> anyhow::Result<(SubmissionRow, bool)> {
        let (row, created, queued) = store.create_submission(new, &self.ingest_target()).await?;
        if created && !queued {
            if let Err(e) = self.push(ingest::NAME, &ingest::payload(row.id)).await {
                tracing::error!(submission_id = row.id, error = %format!("{e:#}"), "queuing failed; the reconciler will retry");
            }
        }
        Ok((row, created))
    }

    /// Queues a job payload (JSON bytes) on the named job's queue.
    pub async fn push(&self, job: &str, payload: &[u8]) -> anyhow::Result<()> {
        let spec = self.spec(job);
        let task = apalis::prelude::TaskBuilder::new(payload.to_vec())
            .max_attempts(spec.max_attempts as usize)
            .build();
        match &self.db {
            QueueDb::Sqlite(pool) => {
                let mut conn = pool.acquire().await?;
                apalis_sqlite::queries::push_tasks(&mut *conn, &spec.queue, &[task])
                    .await
                    .map_err(|e| anyhow::anyhow!("cannot queue a {job} job: {e}"))?;
            }
            QueueDb::Postgres(pool) => {
                let mut conn = pool.acquire().await?;
                apalis_postgres::queries::push_tasks(&mut *conn, &spec.queue, vec![task])
                    .await
                    .map_err(|e| anyhow::anyhow!("cannot queue a {job} job: {e}"))?;
            }
        }
        Ok(())
    }

    /// Payloads of the jobs of `job` that are waiting, running or due for a retry.
    pub async fn live_payloads(&self, job: &str) -> anyhow::Result<Vec<Vec<u8>>> {
        let queue = &self.spec(job).queue;
        let rows = match &self.db {
            QueueDb::Sqlite(p) => sqlx::query(
                "SELECT job FROM Jobs WHERE job_type = $1 AND (status IN ('Pending', 'Queued', 'Running') OR (status = 'Failed' AND attempts < max_attempts))",
            )
            .bind(queue)
            .fetch_all(p)
            .await?
            .into_iter()
            .map(|r| r.get(0))
            .collect(),
            QueueDb::Postgres(p) => sqlx::query(
                "SELECT job FROM apalis.jobs WHERE job_type = $1 AND (status IN ('Pending', 'Queued', 'Running') OR (status = 'Failed' AND attempts < max_attempts))",
            )
            .bind(queue)
            .fetch_all(p)
            .await?
            .into_iter()
            .map(|r| r.get(0))
            .collect(),
        };
        Ok(rows)
    }

    /// Jobs of `job` not yet done: (count, age in seconds of the oldest).
    pub async fn depth(&self, job: &str) -> anyhow::Result<(i64, i64)> {
        let queue = &self.spec(job).queue;
        let row = match &self.db {
            QueueDb::Sqlite(p) => {
                let r = sqlx::query(
                    "SELECT COUNT(*), COALESCE(strftime('%s','now') - MIN(run_at), 0) FROM Jobs WHERE job_type = $1 AND status IN ('Pending', 'Queued', 'Running')",
                )
                .bind(queue)
                .fetch_one(p)
                .await?;
                (r.get(0), r.get(1))
            }
            QueueDb::Postgres(p) => {
                let r = sqlx::query(
                    "SELECT COUNT(*), CAST(COALESCE(EXTRACT(EPOCH FROM now() - MIN(run_at)), 0) AS BIGINT) FROM apalis.jobs WHERE job_type = $1 AND status IN ('Pending', 'Queued', 'Running')",
                )
                .bind(queue)
                .fetch_one(p)
                .await?;
                (r.get(0), r.get(1))
            }
        };
        Ok(row)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_and_handlers_are_one_to_one() {
        let specs = load_specs("").unwrap();
        assert_eq!(
            specs.keys().map(String::as_str).collect::<Vec<_>>(),
            HANDLERS.to_vec()
        );
        assert_eq!(specs["ingest"].queue, "unionstat.ingest");
        // The directory in the source tree holds the same specs as the binary.
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/jobs");
        assert_eq!(load_specs(dir).unwrap(), specs);
    }

    #[test]
    fn a_spec_without_handler_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ingest.toml"), BUILTIN_SPECS[0].1).unwrap();
        std::fs::write(
            dir.path().join("export.toml"),
            "name = \"export\"\nqueue = \"q\"\nmax_attempts = 1\nbackoff_seconds = 1\ntimeout_seconds = 1\nconcurrency = 1\n",
        )
        .unwrap();
        let err = load_specs(dir.path().to_str().unwrap())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("export") && err.contains("no handler"),
            "{err}"
        );
    }
}
