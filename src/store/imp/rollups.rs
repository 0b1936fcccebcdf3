//! Full recomputation of roll-ups from facts, to verify (incremental == full) and
//! to rebuild. Facts are first summed per (parent, month, metric) in SQL, then
//! spread over the ancestors in memory: linear in facts, no recursion in SQL.

use std::collections::{BTreeMap, HashMap};

use sqlx::Row;

use super::accept::apply_deltas;
use super::{Db, Repo};
use crate::store::now;
use crate::store::orgs::lineage;
use crate::store::rollups::{compare, CoverageTable, RollupTable, VerifyReport};

type Conn = <Db as sqlx::Database>::Connection;

impl Repo {
    pub async fn compute_rollups(
        &self,
        period: Option<&str>,
    ) -> sqlx::Result<(RollupTable, CoverageTable)> {
        let mut conn = self.pool.acquire().await?;
        compute(&mut conn, period).await
    }

    pub async fn stored_rollups(
        &self,
        period: Option<&str>,
    ) -> sqlx::Result<(RollupTable, CoverageTable)> {
        let mut conn = self.pool.acquire().await?;
        stored(&mut conn, period).await
    }

    pub async fn verify_rollups(&self, period: Option<&str>) -> sqlx::Result<VerifyReport> {
        let mut tx = super::super::begin_snapshot(&self.pool).await?;
        let (full_r, full_c) = compute(&mut tx, period).await?;
        let (inc_r, inc_c) = stored(&mut tx, period).await?;
        tx.rollback().await?;
        Ok(compare(&full_r, &full_c, &inc_r, &inc_c))
    }

    pub async fn rebuild_rollups(&self, period: Option<&str>) -> sqlx::Result<usize> {
        let mut tx = self.begin_write().await?;
        // No acceptance may move a roll-up between the recomputation and the write.
        super::super::lock_rollups(&mut tx).await?;
        let (rollups, coverage) = compute(&mut tx, period).await?;
        let filter = if period.is_some() {
            " WHERE period = $1"
        } else {
            ""
        };
        for table in ["rollups", "rollup_coverage"] {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table}{filter}")));
            if let Some(p) = period {
                q = q.bind(p);
            }
            q.execute(&mut *tx).await?;
        }
        // Group by period and reuse the delta writer (deltas onto empty tables).
        let mut by_period: BTreeMap<
            String,
            (
                HashMap<(String, String), (i64, i64)>,
                HashMap<String, (i64, i64)>,
            ),
        > = BTreeMap::new();
        for ((org, per, metric), v) in &rollups {
            by_period
                .entry(per.clone())
                .or_default()
                .0
                .insert((org.clone(), metric.clone()), *v);
        }
        for ((org, per), v) in &coverage {
            by_period
                .entry(per.clone())
                .or_default()
                .1
                .insert(org.clone(), *v);
        }
        for (per, (r, c)) in &by_period {
            apply_deltas(&mut tx, per, r, c).await?;
        }
        sqlx::query("INSERT INTO audit (at, actor, action, period, detail) VALUES ($1, $4, 'rollup_rebuild', $2, $3)")
            .bind(now())
            .bind(period)
            .bind(format!("{} roll-up rows, {} coverage rows", rollups.len(), coverage.len()))
            // Rebuilds run from the command line only.
            .bind(crate::store::actor::Actor::cli().to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(rollups.len() + coverage.len())
    }
}

async fn compute(
    conn: &mut Conn,
    period: Option<&str>,
) -> sqlx::Result<(RollupTable, CoverageTable)> {
    let paths: HashMap<String, String> =
        sqlx::query("SELECT code, path FROM org_units WHERE kind = 'federation'")
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
    let filter = if period.is_some() {
        " WHERE f.period = $1"
    } else {
        ""
    };
    let sql = format!(
            "SELECT u.parent_code, f.period, f.metric, CAST(SUM(f.value) AS BIGINT), COUNT(*) FROM facts f JOIN org_units u ON u.code = f.unit_code{filter} GROUP BY u.parent_code, f.period, f.metric"
        );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    if let Some(p) = period {
        q = q.bind(p);
    }
    let mut rollups = RollupTable::new();
    for r in q.fetch_all(&mut *conn).await? {
        let parent: Option<String> = r.get(0);
        let Some(path) = parent.as_ref().and_then(|p| paths.get(p)) else {
            continue;
        };
        let (per, metric, sum, count): (String, String, i64, i64) =
            (r.get(1), r.get(2), r.get(3), r.get(4));
        for anc in lineage(path) {
            let e = rollups
                .entry((anc.to_string(), per.clone(), metric.clone()))
                .or_default();
            e.0 += sum;
            e.1 += count;
        }
    }
    rollups.retain(|_, v| *v != (0, 0));

    let mut coverage = CoverageTable::new();
    let sql = format!(
            "SELECT u.parent_code, f.period, COUNT(DISTINCT f.unit_code) FROM facts f JOIN org_units u ON u.code = f.unit_code{filter} GROUP BY u.parent_code, f.period"
        );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    if let Some(p) = period {
        q = q.bind(p);
    }
    for r in q.fetch_all(&mut *conn).await? {
        let parent: Option<String> = r.get(0);
        let Some(path) = parent.as_ref().and_then(|p| paths.get(p)) else {
            continue;
        };
        let (per, n): (String, i64) = (r.get(1), r.get(2));
        for anc in lineage(path) {
            coverage
                .entry((anc.to_string(), per.clone()))
                .or_default()
                .0 += n;
        }
    }
    let filter = if period.is_some() {
        " AND period = $1"
    } else {
        ""
    };
    let sql = format!(
        "SELECT DISTINCT reporter, period FROM submissions WHERE status = 'accepted'{filter}"
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    if let Some(p) = period {
        q = q.bind(p);
    }
    let reporter_paths: HashMap<String, String> = sqlx::query(
        "SELECT code, path FROM org_units WHERE expected_to_report OR kind = 'federation'",
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect();
    for r in q.fetch_all(&mut *conn).await? {
        let (reporter, per): (String, String) = (r.get(0), r.get(1));
        let Some(path) = reporter_paths.get(&reporter) else {
            continue;
        };
        for anc in lineage(path) {
            coverage
                .entry((anc.to_string(), per.clone()))
                .or_default()
                .1 += 1;
        }
    }
    coverage.retain(|_, v| *v != (0, 0));
    Ok((rollups, coverage))
}

async fn stored(
    conn: &mut Conn,
    period: Option<&str>,
) -> sqlx::Result<(RollupTable, CoverageTable)> {
    let filter = if period.is_some() {
        " WHERE period = $1"
    } else {
        ""
    };
    let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT org_code, period, metric, value, units FROM rollups{filter}"
    )));
    if let Some(p) = period {
        q = q.bind(p);
    }
    let rollups = q
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|r| ((r.get(0), r.get(1), r.get(2)), (r.get(3), r.get(4))))
        .collect();
    let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT org_code, period, reported_units, reported_reporters FROM rollup_coverage{filter}"
    )));
    if let Some(p) = period {
        q = q.bind(p);
    }
    let coverage = q
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|r| ((r.get(0), r.get(1)), (r.get(2), r.get(3))))
        .collect();
    Ok((rollups, coverage))
}
