//! The audit trail of a subtree for a month: who changed which figure, when,
//! from which submission; approvals, revocations and locked-month changes.
//! Portable SQL.

use super::{Db, Repo};
use crate::store::history::AuditRow;
use crate::store::orgs::{subtree_end, OrgRow};
use sqlx::{QueryBuilder, Row};

impl Repo {
    /// Audit rows of the units of `root`'s subtree (itself included) for a
    /// month, optionally of one metric, oldest first, at most `limit`.
    pub async fn history(
        &self,
        root: &OrgRow,
        period: &str,
        metric: Option<&str>,
        limit: i64,
    ) -> sqlx::Result<Vec<AuditRow>> {
        // The month's own tree: the units that were in the subtree then.
        let mut qb: QueryBuilder<Db> = QueryBuilder::new(format!(
            "SELECT a.id, a.at, a.actor, a.action, a.submission_id, a.unit_code, a.period, a.metric, a.old_value, a.new_value, a.detail FROM audit a JOIN {} o ON o.code = a.unit_code WHERE a.period = ",
            super::month_tree(period)
        ));
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
            .iter()
            .map(audit_row)
            .collect())
    }
}

/// An audit row from `id, at, actor, action, submission_id, unit_code, period,
/// metric, old_value, new_value, detail`.
pub(crate) fn audit_row(r: &<Db as sqlx::Database>::Row) -> AuditRow {
    AuditRow {
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
    }
}
