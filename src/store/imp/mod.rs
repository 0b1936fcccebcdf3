//! The warehouse's SQL, written once and compiled for each backend: this
//! directory is included by `store/sqlite.rs` and by `store/postgres.rs`, and
//! `super::Db` is that backend's `sqlx::Database`. Queries use portable SQL
//! (numbered `$n` parameters, `CAST(SUM(..) AS BIGINT)`, boolean columns tested
//! as booleans); the few dialect-specific steps are the backend module's
//! functions (`begin_write`, `lock_key`, `enqueue_in_tx`).

use anyhow::Context;
use sqlx::{Pool, Row};

use super::Db;
use crate::config::Settings;

mod accept;
mod approvals;
mod completeness;
mod history;
mod keys;
mod orgs;
mod outliers;
mod people;
mod periods;
mod queries;
mod reports;
mod rollups;
mod submissions;

/// One backend's warehouse.
#[derive(Debug, Clone)]
pub struct Repo {
    pub pool: Pool<Db>,
}

impl Repo {
    /// Connects and applies the migrations.
    pub async fn open(settings: &Settings) -> anyhow::Result<Repo> {
        let pool = super::connect(settings).await?;
        super::MIGRATOR
            .run(&pool)
            .await
            .context("cannot apply the warehouse migrations")?;
        Ok(Repo { pool })
    }

    pub(crate) async fn begin_write(&self) -> sqlx::Result<sqlx::Transaction<'static, Db>> {
        super::begin_write(&self.pool).await
    }

    /// `select` (a `SELECT … FROM table`) filtered to `col IN (codes)` and a
    /// period range, in batches of codes: the planner then always walks the
    /// (code, period, …) primary key, never a whole month of facts.
    pub(crate) async fn rows_by_codes(
        &self,
        select: &str,
        col: &str,
        codes: &[&str],
        first: &str,
        last: &str,
    ) -> sqlx::Result<Vec<<Db as sqlx::Database>::Row>> {
        let mut out = Vec::new();
        for chunk in codes.chunks(crate::store::BATCH) {
            let mut qb: sqlx::QueryBuilder<Db> =
                sqlx::QueryBuilder::new(format!("{select} WHERE {col} IN ("));
            let mut sep = qb.separated(", ");
            for c in chunk {
                sep.push_bind(*c);
            }
            qb.push(") AND period >= ")
                .push_bind(first)
                .push(" AND period <= ")
                .push_bind(last);
            out.extend(qb.build().fetch_all(&self.pool).await?);
        }
        Ok(out)
    }

    pub async fn ping(&self) -> sqlx::Result<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
    }

    pub async fn first_row_i64(&self, sql: &str) -> sqlx::Result<Vec<Option<i64>>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_one(&self.pool)
            .await?;
        (0..row.len()).map(|i| row.try_get(i)).collect()
    }
}
