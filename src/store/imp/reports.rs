//! Counts behind the `unionstat_reports_*` gauges. Two queries whatever the size
//! of the tree.

use std::collections::BTreeMap;

use sqlx::Row;

use super::Repo;
use crate::store::reports::LevelReports;

impl Repo {
    /// For each depth 0..=`max_depth` the tree has: Σ expected reporters of its
    /// units (their stored subtree counts, reached through the parent index), and
    /// how many expected reporters at or below it have an accepted report for
    /// `period`, and how many of those arrived at or after `late_from` (an
    /// instant as stored: RFC 3339, UTC, so the texts compare as the instants).
    pub async fn report_levels(
        &self,
        period: &str,
        late_from: &str,
        max_depth: i64,
    ) -> sqlx::Result<Vec<LevelReports>> {
        let mut levels: BTreeMap<i64, LevelReports> = BTreeMap::new();
        let tree = super::month_tree(period);
        let expected = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT depth, CAST(SUM(subtree_reporters) AS BIGINT) FROM {tree} o WHERE depth <= $1 GROUP BY depth"
        )))
        .bind(max_depth)
        .fetch_all(&self.pool)
        .await?;
        for r in expected {
            let depth: i64 = r.get(0);
            levels.insert(
                depth,
                LevelReports {
                    depth,
                    expected: r.get(1),
                    ..LevelReports::default()
                },
            );
        }
        // One accepted submission per (reporter, month): the others are superseded.
        let accepted = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT o.depth, COUNT(*), CAST(COALESCE(SUM(CASE WHEN s.received_at >= $1 THEN 1 ELSE 0 END), 0) AS BIGINT) FROM submissions s JOIN {tree} o ON o.code = s.reporter WHERE s.period = $2 AND s.status = 'accepted' AND o.expected_to_report GROUP BY o.depth"
        )))
        .bind(late_from)
        .bind(period)
        .fetch_all(&self.pool)
        .await?;
        for r in accepted {
            let (depth, received, late): (i64, i64, i64) = (r.get(0), r.get(1), r.get(2));
            // A reporter counts at every level above it (one ancestor per depth).
            for level in levels.range_mut(..=depth).map(|(_, l)| l) {
                level.received += received;
                level.late += late;
            }
        }
        Ok(levels.into_values().collect())
    }
}
