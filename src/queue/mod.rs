//! The queue plumbing: apalis's storage on the warehouse's backend (its own
//! SQLite file, or the warehouse's PostgreSQL database), typed payloads in, the
//! queries operators and the reconciler need out, and the worker set-up every
//! job shares ([`worker`]). Which jobs exist is the business of `src/jobs/`.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use apalis_sqlite::{SqliteConnectOptions, SqlitePool, SqliteStorage};
use serde::Serialize;
use sqlx::Row;

use crate::config::{JobSettings, Settings};
use crate::store::Store;

pub mod worker;

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
    /// Each job's settings, by job name.
    pub jobs: BTreeMap<String, JobSettings>,
}

impl Queue {
    pub async fn open(settings: &Settings, store: &Store) -> anyhow::Result<Queue> {
        let jobs = settings.jobs.clone();
        if let Some(pool) = store.pg_pool() {
            apalis_postgres::PostgresStorage::<()>::setup(pool)
                .await
                .map_err(|e| anyhow::anyhow!("cannot set up the job queue (schema apalis): {e}"))?;
            return Ok(Queue {
                db: QueueDb::Postgres(pool.clone()),
                jobs,
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
            jobs,
        })
    }

    /// The settings of job `name`.
    ///
    /// # Panics
    /// When no such job is configured: the names are constants of `src/jobs/`
    /// and the configuration refuses unknown ones and has every known one.
    pub fn spec(&self, name: &str) -> &JobSettings {
        &self.jobs[name]
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

    /// Queues `payload` on job `job`'s queue, to run now or after `delay`.
    pub async fn push<P: Serialize>(
        &self,
        job: &str,
        payload: &P,
        delay: Option<Duration>,
    ) -> anyhow::Result<()> {
        let spec = self.spec(job);
        let mut task = apalis::prelude::TaskBuilder::new(serde_json::to_vec(payload)?)
            .max_attempts(spec.max_attempts as usize);
        if let Some(delay) = delay {
            task = task.run_after(delay);
        }
        let task = task.build();
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
        let sql = format!(
            "SELECT job FROM {} WHERE job_type = $1 AND (status IN ('Pending', 'Queued', 'Running') OR (status = 'Failed' AND attempts < max_attempts))",
            self.table()
        );
        let queue = &self.spec(job).queue;
        let rows: Vec<Vec<u8>> = match &self.db {
            QueueDb::Sqlite(p) => {
                sqlx::query_scalar(sqlx::AssertSqlSafe(sql.as_str()))
                    .bind(queue)
                    .fetch_all(p)
                    .await?
            }
            QueueDb::Postgres(p) => {
                sqlx::query_scalar(sqlx::AssertSqlSafe(sql.as_str()))
                    .bind(queue)
                    .fetch_all(p)
                    .await?
            }
        };
        Ok(rows)
    }

    /// Jobs of `job` not yet done: (count, age in seconds of the oldest).
    pub async fn depth(&self, job: &str) -> anyhow::Result<(i64, i64)> {
        let age = match &self.db {
            QueueDb::Sqlite(_) => "strftime('%s','now') - MIN(run_at)",
            QueueDb::Postgres(_) => "CAST(EXTRACT(EPOCH FROM now() - MIN(run_at)) AS BIGINT)",
        };
        let sql = format!(
            "SELECT COUNT(*), COALESCE({age}, 0) FROM {} WHERE job_type = $1 AND status IN ('Pending', 'Queued', 'Running')",
            self.table()
        );
        let queue = &self.spec(job).queue;
        let row = match &self.db {
            QueueDb::Sqlite(p) => {
                let r = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                    .bind(queue)
                    .fetch_one(p)
                    .await?;
                (r.get(0), r.get(1))
            }
            QueueDb::Postgres(p) => {
                let r = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                    .bind(queue)
                    .fetch_one(p)
                    .await?;
                (r.get(0), r.get(1))
            }
        };
        Ok(row)
    }

    /// apalis's table of tasks on this backend.
    fn table(&self) -> &'static str {
        match &self.db {
            QueueDb::Sqlite(_) => "Jobs",
            QueueDb::Postgres(_) => "apalis.jobs",
        }
    }
}
