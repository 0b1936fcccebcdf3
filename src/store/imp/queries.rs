//! Who has reported: each expected reporter's state for a month.

use std::collections::HashMap;

use sqlx::Row;

use super::Repo;
use crate::store::completeness::Reporters;
use crate::store::orgs::{subtree_end, tree_sql, OrgRow, TreeAt, ORG_COLUMNS};
use crate::store::queries::ReporterState;

impl Repo {
    /// Every expected reporter (of `who`'s form) in the subtree with its
    /// state for the period, from the form's submissions.
    pub async fn reporter_states(
        &self,
        root: &OrgRow,
        who: Reporters<'_>,
        period: &str,
        at: TreeAt,
    ) -> sqlx::Result<Vec<ReporterState>> {
        let reporters: Vec<OrgRow> = if who.federations {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {ORG_COLUMNS} FROM {} o WHERE path >= $1 AND path < $2 AND {} ORDER BY path",
                tree_sql(at),
                who.expected_sql("o")
            )))
            .bind(&root.path)
            .bind(subtree_end(&root.path))
            .fetch_all(&self.pool)
            .await?
        } else {
            self.expected_reporters(root, at).await?
        };
        // The form's submissions; one still waiting to be read does not know
        // its form yet and counts by its period (a form's period text names
        // its kind: 2026-10, 2026SY, 2026H1).
        let subs = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT COALESCE(s.reporter, NULLIF(s.req_reporter, '')) AS who, s.status, s.id, s.received_at, s.cover, s.nil_report FROM submissions s JOIN {} o ON o.code = COALESCE(s.reporter, NULLIF(s.req_reporter, '')) WHERE COALESCE(s.period, NULLIF(s.req_period, '')) = $1 AND (s.form = $4 OR s.status IN ('received', 'processing')) AND o.path >= $2 AND o.path < $3 ORDER BY s.id",
            tree_sql(at)
        )))
        .bind(period)
        .bind(&root.path)
        .bind(subtree_end(&root.path))
        .bind(who.form)
        .fetch_all(&self.pool)
        .await?;
        // Per reporter: the accepted one wins, then pending, then the last rejection.
        let rank = |s: &str| match s {
            "accepted" => 3,
            "received" | "processing" => 2,
            "rejected" => 1,
            _ => 0,
        };
        type Best = (i32, i64, String, Option<String>, String, bool);
        let mut best: HashMap<String, Best> = HashMap::new();
        for r in subs {
            let who: String = r.get(0);
            let status: String = r.get(1);
            let rk = rank(&status);
            if rk == 0 {
                continue;
            }
            let entry = (
                rk,
                r.get::<i64, _>(2),
                r.get::<String, _>(3),
                r.get::<Option<String>, _>(4),
                status,
                r.get::<bool, _>(5),
            );
            match best.get(&who) {
                Some(cur) if cur.0 > rk => {}
                _ => {
                    best.insert(who, entry);
                }
            }
        }
        Ok(reporters
            .into_iter()
            .map(|o| {
                let b = best.remove(&o.code);
                ReporterState {
                    code: o.code,
                    name: o.name,
                    parent_code: o.parent_code,
                    status: match b.as_ref().map(|b| b.0) {
                        Some(3) => "accepted",
                        Some(2) => "pending",
                        Some(1) => "rejected",
                        _ => "missing",
                    }
                    .to_string(),
                    submission_id: b.as_ref().map(|b| b.1),
                    received_at: b.as_ref().map(|b| b.2.clone()),
                    // Only an accepted report is a nil report.
                    nil_report: b.as_ref().is_some_and(|b| b.0 == 3 && b.5),
                    cover: b.and_then(|b| b.3),
                }
            })
            .collect())
    }
}
