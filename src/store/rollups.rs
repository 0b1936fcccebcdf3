//! Full recomputation of roll-ups from facts, to verify (incremental == full) and
//! to rebuild. Facts are first summed per (parent, month, metric) in SQL, then
//! spread over the ancestors in memory: linear in facts, no recursion in SQL.

use std::collections::{BTreeMap, HashMap};

use sqlx::Row;

use super::accept::apply_deltas;
use super::orgs::lineage;
use super::{now, Store};

/// (org, period, metric) → (value, units)
pub type RollupTable = BTreeMap<(String, String, String), (i64, i64)>;
/// (org, period) → (reported units, reported reporters)
pub type CoverageTable = BTreeMap<(String, String), (i64, i64)>;

/// Differences found by a verification.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct VerifyReport {
    pub rollup_rows: usize,
    pub coverage_rows: usize,
    /// Human-readable mismatches (at most 50 listed).
    pub mismatches: Vec<String>,
    pub mismatch_count: usize,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.mismatch_count == 0
    }
}

impl Store {
    /// Roll-ups recomputed from facts and accepted submissions.
    pub async fn compute_rollups(
        &self,
        period: Option<&str>,
    ) -> sqlx::Result<(RollupTable, CoverageTable)> {
        let paths: HashMap<String, String> =
            sqlx::query("SELECT code, path FROM org_units WHERE kind = 'federation'")
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect();
        let filter = if period.is_some() {
            " WHERE f.period = ?"
        } else {
            ""
        };
        let sql = format!(
            "SELECT u.parent_code, f.period, f.metric, SUM(f.value), COUNT(*) FROM facts f JOIN org_units u ON u.code = f.unit_code{filter} GROUP BY u.parent_code, f.period, f.metric"
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        if let Some(p) = period {
            q = q.bind(p);
        }
        let mut rollups = RollupTable::new();
        for r in q.fetch_all(&self.pool).await? {
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
        for r in q.fetch_all(&self.pool).await? {
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
            " AND period = ?"
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
            "SELECT code, path FROM org_units WHERE expected_to_report = 1 OR kind = 'federation'",
        )
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
        for r in q.fetch_all(&self.pool).await? {
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

    /// The incremental tables as stored.
    pub async fn stored_rollups(
        &self,
        period: Option<&str>,
    ) -> sqlx::Result<(RollupTable, CoverageTable)> {
        let filter = if period.is_some() {
            " WHERE period = ?"
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
            .fetch_all(&self.pool)
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
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(|r| ((r.get(0), r.get(1)), (r.get(2), r.get(3))))
            .collect();
        Ok((rollups, coverage))
    }

    /// Compares the incremental roll-ups with a full recomputation.
    pub async fn verify_rollups(&self, period: Option<&str>) -> sqlx::Result<VerifyReport> {
        let (full_r, full_c) = self.compute_rollups(period).await?;
        let (inc_r, inc_c) = self.stored_rollups(period).await?;
        let mut report = VerifyReport {
            rollup_rows: full_r.len(),
            coverage_rows: full_c.len(),
            ..VerifyReport::default()
        };
        let mut note = |m: String| {
            report.mismatch_count += 1;
            if report.mismatches.len() < 50 {
                report.mismatches.push(m);
            }
        };
        for key in full_r
            .keys()
            .chain(inc_r.keys())
            .collect::<std::collections::BTreeSet<_>>()
        {
            let (f, i) = (full_r.get(key), inc_r.get(key));
            if f != i {
                note(format!(
                    "rollup {} {} {}: full {:?} incremental {:?} (value, units)",
                    key.0, key.1, key.2, f, i
                ));
            }
        }
        for key in full_c
            .keys()
            .chain(inc_c.keys())
            .collect::<std::collections::BTreeSet<_>>()
        {
            let (f, i) = (full_c.get(key), inc_c.get(key));
            if f != i {
                note(format!(
                    "coverage {} {}: full {:?} incremental {:?} (units, reporters)",
                    key.0, key.1, f, i
                ));
            }
        }
        Ok(report)
    }

    /// Replaces the incremental tables with a full recomputation (one transaction).
    pub async fn rebuild_rollups(&self, period: Option<&str>) -> sqlx::Result<usize> {
        let (rollups, coverage) = self.compute_rollups(period).await?;
        let mut tx = self.begin_write().await?;
        let filter = if period.is_some() {
            " WHERE period = ?"
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
        sqlx::query("INSERT INTO audit (at, actor, action, period, detail) VALUES (?, 'cli', 'rollup_rebuild', ?, ?)")
            .bind(now())
            .bind(period)
            .bind(format!("{} roll-up rows, {} coverage rows", rollups.len(), coverage.len()))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(rollups.len() + coverage.len())
    }
}
