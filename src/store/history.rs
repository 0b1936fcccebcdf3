//! The audit trail of a subtree for a month: who changed which figure, when,
//! from which submission; approvals, revocations and locked-month changes.
//! Portable SQL.

use sqlx::{QueryBuilder, Row, Sqlite};

use super::orgs::{subtree_end, OrgRow};
use super::Store;

/// One audit row.
#[derive(Debug, Clone)]
pub struct AuditRow {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub submission_id: Option<i64>,
    pub unit_code: Option<String>,
    pub period: Option<String>,
    pub metric: Option<String>,
    pub old_value: Option<i64>,
    pub new_value: Option<i64>,
    pub detail: Option<String>,
}

impl Store {
    /// Audit rows of the units of `root`'s subtree (itself included) for a
    /// month, optionally of one metric, oldest first, at most `limit`.
    pub async fn history(
        &self,
        root: &OrgRow,
        period: &str,
        metric: Option<&str>,
        limit: i64,
    ) -> sqlx::Result<Vec<AuditRow>> {
        let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
            "SELECT a.id, a.at, a.actor, a.action, a.submission_id, a.unit_code, a.period, a.metric, a.old_value, a.new_value, a.detail FROM audit a JOIN org_units o ON o.code = a.unit_code WHERE a.period = ",
        );
        qb.push_bind(period.to_string())
            .push(" AND o.path >= ")
            .push_bind(root.path.clone())
            .push(" AND o.path < ")
            .push_bind(subtree_end(&root.path));
        if let Some(m) = metric {
            qb.push(" AND a.metric = ").push_bind(m.to_string());
        }
        qb.push(" ORDER BY a.id LIMIT ").push_bind(limit);
        Ok(qb
            .build()
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(|r| AuditRow {
                id: r.get(0),
                at: r.get(1),
                actor: r.get(2),
                action: r.get(3),
                submission_id: r.get(4),
                unit_code: r.get(5),
                period: r.get(6),
                metric: r.get(7),
                old_value: r.get(8),
                new_value: r.get(9),
                detail: r.get(10),
            })
            .collect())
    }
}
