//! What completeness and timeliness need besides each reporter's state: when a
//! reporter was first accepted for a month, and the federations of a subtree
//! that have reporters below them (contacts are `store::contacts`).
//! Portable SQL: numbered placeholders, times compared as RFC 3339 text.

use super::Repo;
use crate::store::completeness::{LevelOrg, Reporters};
use crate::store::orgs::{subtree_end, tree_sql, OrgRow, TreeAt};
use sqlx::Row;
use std::collections::HashMap;

impl Repo {
    /// For each reporter of the subtree: when its first submission for `period`
    /// that was ever accepted (accepted now, or superseded by a correction) was
    /// received. A correction after the deadline does not make a report late.
    pub async fn first_accepted_at(
        &self,
        root: &OrgRow,
        who: Reporters<'_>,
        period: &str,
        at: TreeAt,
    ) -> sqlx::Result<HashMap<String, String>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT s.reporter, MIN(s.received_at) FROM submissions s JOIN {} o ON o.code = s.reporter WHERE s.period = $1 AND s.form = $4 AND s.status IN ('accepted', 'superseded') AND o.path >= $2 AND o.path < $3 GROUP BY s.reporter",
            tree_sql(at)
        )))
        .bind(period)
        .bind(&root.path)
        .bind(subtree_end(&root.path))
        .bind(who.form)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| Some((r.get::<String, _>(0), r.get::<Option<String>, _>(1)?)))
            .collect())
    }

    /// Paths of the expected reporters of the subtree (of `who`'s form).
    pub async fn reporter_paths(
        &self,
        root: &OrgRow,
        who: Reporters<'_>,
        at: TreeAt,
    ) -> sqlx::Result<HashMap<String, String>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT code, path FROM {} o WHERE path >= $1 AND path < $2 AND {}",
            tree_sql(at),
            who.expected_sql("o")
        )))
        .bind(&root.path)
        .bind(subtree_end(&root.path))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// The node and every federation below it with expected reporters other
    /// than itself in its subtree, by path (the levels 报送率 and 及时率 are
    /// given for).
    pub async fn level_orgs(&self, root: &OrgRow, at: TreeAt) -> sqlx::Result<Vec<LevelOrg>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT code, name, path, depth FROM {} o WHERE path >= $1 AND path < $2 AND kind = 'federation' AND (code = $3 OR subtree_reporters > CASE WHEN expected_to_report THEN 1 ELSE 0 END) ORDER BY path",
            tree_sql(at)
        )))
        .bind(&root.path)
        .bind(subtree_end(&root.path))
        .bind(&root.code)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| LevelOrg {
                code: r.get(0),
                name: r.get(1),
                path: r.get(2),
                depth: r.get(3),
            })
            .collect())
    }
}
