//! The warehouse's SQL, written once and compiled for each backend: this
//! directory is included by `store/sqlite.rs` and by `store/postgres.rs`, and
//! `super::Db` is that backend's `sqlx::Database`. Queries use portable SQL
//! (numbered `$n` parameters, `CAST(SUM(..) AS BIGINT)`, boolean columns tested
//! as booleans); the few dialect-specific steps are the backend module's
//! functions (`begin_write`, `lock_key`, `enqueue_in_tx`).

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context;
use sqlx::{Pool, Row};

use super::Db;
use crate::config::Settings;
use crate::store::columns::{Columns, FormSlots};

mod accept;
mod approvals;
pub(crate) mod columns;
mod completeness;
mod contacts;
pub(crate) mod history;
mod keys;
mod load;
mod orgs;
mod outliers;
mod people;
mod periods;
mod queries;
mod reminders;
mod reports;
mod reviews;
mod rollups;
mod submissions;
mod writer;

/// One backend's warehouse.
#[derive(Debug, Clone)]
pub struct Repo {
    pub pool: Pool<Db>,
    /// Where write transactions get their connection (SQLite: one connection
    /// of its own; PostgreSQL: `pool`).
    pub write_pool: Pool<Db>,
    /// The metric columns, fixed when the store opened.
    pub(crate) cols: Arc<Columns>,
    /// Each form's storage slot, fixed when the store opened.
    pub(crate) forms: Arc<FormSlots>,
    /// The single writer of acceptances (group commit); started on first use.
    writer: Arc<std::sync::Mutex<Option<writer::Writer>>>,
    /// The process's looks at the planner's statistics (see `statistics`).
    stats: Arc<crate::store::statistics::Gate>,
}

impl Repo {
    /// Connects, applies the migrations and brings the metric columns in step
    /// with the catalogue (converting a warehouse of the first layout).
    pub async fn open(settings: &Settings) -> anyhow::Result<Repo> {
        let pool = super::connect(settings).await?;
        super::MIGRATOR
            .run(&pool)
            .await
            .context("cannot apply the warehouse migrations")?;
        let catalog = settings.load_catalog()?;
        let form_metrics: Vec<(String, Vec<String>)> = catalog
            .forms()
            .iter()
            .map(|f| {
                let metrics = catalog
                    .form(&f.code)
                    .map(|v| v.metrics.iter().map(|m| m.code.clone()).collect())
                    .unwrap_or_default();
                (f.code.clone(), metrics)
            })
            .collect();
        let cols = columns::prepare(&pool, &catalog.stored_metrics())
            .await?
            .with_forms(&form_metrics);
        let forms: Vec<String> = catalog.forms().iter().map(|f| f.code.clone()).collect();
        let forms = columns::prepare_forms(&pool, &forms).await?;
        let write_pool = super::connect_writer(settings, &pool).await?;
        Ok(Repo {
            pool,
            write_pool,
            cols: Arc::new(cols),
            forms: Arc::new(forms),
            writer: Arc::default(),
            stats: Arc::default(),
        })
    }

    /// Call after a committed write: the tables it may have grown get their
    /// planner statistics gathered again if they need it, in the background
    /// (see `statistics`; what gathering means is the backend's
    /// `refresh_statistics`, which on SQLite does nothing).
    pub(crate) fn after_write(&self) {
        let pool = self.write_pool.clone();
        self.stats.after_write(move || {
            let pool = pool.clone();
            async move { super::refresh_statistics(&pool).await }
        });
    }

    pub(crate) async fn begin_write(&self) -> sqlx::Result<sqlx::Transaction<'static, Db>> {
        super::begin_write(&self.write_pool).await
    }

    /// `select` (a `SELECT … FROM table`) filtered to `col IN (ids)` and
    /// period-key ranges, in batches of ids: the planner then always walks an
    /// index led by the id, never a whole month. No ranges, no rows.
    pub(crate) async fn rows_by_ids(
        &self,
        select: &str,
        col: &str,
        ids: &[i64],
        ranges: &[(i64, i64)],
    ) -> sqlx::Result<Vec<<Db as sqlx::Database>::Row>> {
        let mut out = Vec::new();
        if ranges.is_empty() {
            return Ok(out);
        }
        for chunk in ids.chunks(crate::store::BATCH) {
            let mut qb: sqlx::QueryBuilder<Db> =
                sqlx::QueryBuilder::new(format!("{select} WHERE {col} IN "));
            push_list(&mut qb, chunk.iter().copied());
            qb.push(" AND (");
            for (i, (first, last)) in ranges.iter().enumerate() {
                if i > 0 {
                    qb.push(" OR ");
                }
                qb.push("period BETWEEN ")
                    .push_bind(*first)
                    .push(" AND ")
                    .push_bind(*last);
            }
            qb.push(")");
            out.extend(qb.build().fetch_all(&self.pool).await?);
        }
        Ok(out)
    }

    pub async fn form_slots(&self) -> FormSlots {
        (*self.forms).clone()
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

/// The tree of a period given as text (`YYYY-MM`, a form's `2026SY`: its
/// last month) as a table for `FROM`; the current tree when the text is not
/// a period.
pub(crate) fn month_tree(period: &str) -> String {
    // A form's period (2026SY) is placed by the tree of its last month.
    crate::store::orgs::tree_sql(
        match period.parse::<unionstat_core::period::ReportPeriod>() {
            Ok(p) => crate::store::orgs::TreeAt::Month(p.last()),
            Err(_) => crate::store::orgs::TreeAt::Current,
        },
    )
}

/// The integer ids of org units by code (codes without one are left out).
pub(crate) async fn ids_of(
    conn: &mut <Db as sqlx::Database>::Connection,
    codes: &[&str],
) -> sqlx::Result<HashMap<String, i64>> {
    let mut out = HashMap::with_capacity(codes.len());
    for chunk in codes.chunks(crate::store::BATCH) {
        let mut qb: sqlx::QueryBuilder<Db> =
            sqlx::QueryBuilder::new("SELECT code, id FROM org_ids WHERE code IN ");
        push_list(&mut qb, chunk.iter().copied());
        for r in qb.build().fetch_all(&mut *conn).await? {
            out.insert(r.get(0), r.get(1));
        }
    }
    Ok(out)
}

/// `{col} BETWEEN min AND max AND {col} IN (ids…)`, the ids bound. For reads
/// of one period's rows of some units: the range lets the planner seek the
/// `(period, unit_id)` key to the units' span even while its statistics do not
/// know the period yet — a month that began after they were gathered looks
/// empty to them, and PostgreSQL then read the whole month's rows and
/// filtered them by the list (38 ms a statement on the benchmark's 150,000
/// units, 0.7 ms with the range). A sheet's units mostly hold neighbouring
/// ids, so the span is short.
pub(crate) fn push_unit_ids(qb: &mut sqlx::QueryBuilder<Db>, col: &str, ids: &[i64]) {
    let (Some(lo), Some(hi)) = (ids.iter().min(), ids.iter().max()) else {
        qb.push("FALSE");
        return;
    };
    qb.push(format!("{col} BETWEEN "))
        .push_bind(*lo)
        .push(" AND ")
        .push_bind(*hi)
        .push(format!(" AND {col} IN "));
    push_list(qb, ids.iter().copied());
}

/// `(a, b, …)`, each value bound: the ids or codes of an `IN`.
pub(crate) fn push_list<'t, T>(qb: &mut sqlx::QueryBuilder<Db>, values: impl IntoIterator<Item = T>)
where
    T: sqlx::Encode<'t, Db> + sqlx::Type<Db>,
{
    qb.push("(");
    let mut sep = qb.separated(", ");
    for v in values {
        sep.push_bind(v);
    }
    qb.push(")");
}
