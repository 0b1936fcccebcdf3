//! The audit trail of a subtree for a month: who changed which figure, when,
//! from which submission; approvals, revocations and locked-month changes.
//! Portable SQL.
//!
//! A unit's first figure row of a month has no audit rows while it stands
//! (`unit_figures.audited` false): its figures are answered as set by its
//! submission, at the time and by the actor of that submission's
//! `submission_accepted` audit row (whose id they carry). Once the row is
//! replaced, the accept transaction has written those entries to the audit.

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
        qb.push_bind(period.to_string());
        in_subtree(&mut qb, root);
        if let Some(m) = metric {
            qb.push(" AND a.metric = ").push_bind(m.to_string());
        }
        qb.push(" ORDER BY a.at, a.id LIMIT ").push_bind(limit);
        let stored: Vec<AuditRow> = qb
            .build()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(audit_row)
            .collect();
        let firsts = self
            .standing_first_values(root, period, metric, limit)
            .await?;
        Ok(merge(stored, firsts, limit as usize))
    }

    /// The figures of the subtree's first rows still standing for the month
    /// (none of them in the audit yet), as `fact_set` entries of their
    /// submission, oldest first, at most `limit`.
    async fn standing_first_values(
        &self,
        root: &OrgRow,
        period: &str,
        metric: Option<&str>,
        limit: i64,
    ) -> sqlx::Result<Vec<AuditRow>> {
        let Ok(key) = period.parse::<unionstat_core::Period>().map(|p| p.key()) else {
            return Ok(Vec::new());
        };
        let metrics: Vec<&str> = match metric {
            Some(m) if self.cols.slot(m).is_none() => return Ok(Vec::new()),
            Some(m) => vec![m],
            None => self.cols.metrics().iter().map(String::as_str).collect(),
        };
        let columns: Vec<String> = metrics.iter().map(|m| format!("f.m_{m}")).collect();
        let mut qb: QueryBuilder<Db> = QueryBuilder::new(format!(
            "SELECT s.id, s.at, s.actor, f.submission_id, i.code, {} FROM unit_figures f JOIN org_ids i ON i.id = f.unit_id JOIN {} o ON o.code = i.code JOIN audit s ON s.submission_id = f.submission_id AND s.action = 'submission_accepted' WHERE NOT f.audited AND f.period = ",
            columns.join(", "),
            super::month_tree(period)
        ));
        qb.push_bind(key);
        in_subtree(&mut qb, root);
        if let Some(c) = columns.first().filter(|_| metric.is_some()) {
            qb.push(format!(" AND {c} IS NOT NULL"));
        }
        qb.push(" ORDER BY s.at, s.id, i.code LIMIT ")
            .push_bind(limit);
        let mut out = Vec::new();
        for r in qb.build().fetch_all(&self.pool).await? {
            for (i, m) in metrics.iter().enumerate() {
                let Some(v) = r.get::<Option<i64>, _>(5 + i) else {
                    continue;
                };
                out.push(AuditRow {
                    id: r.get(0),
                    at: r.get(1),
                    actor: r.get(2),
                    action: "fact_set".into(),
                    submission_id: Some(r.get(3)),
                    unit_code: Some(r.get(4)),
                    period: Some(period.to_string()),
                    metric: Some(m.to_string()),
                    old_value: None,
                    new_value: Some(v),
                    detail: None,
                });
            }
        }
        Ok(out)
    }
}

/// ` AND o.path …`: the org unit `o` lies in `root`'s subtree.
fn in_subtree(qb: &mut QueryBuilder<Db>, root: &OrgRow) {
    qb.push(" AND o.path >= ")
        .push_bind(root.path.clone())
        .push(" AND o.path < ")
        .push_bind(subtree_end(&root.path));
}

/// Two lists each ordered by (at, id) merged in that order, at most `limit`
/// (entries of one standing row share their submission's id and keep their
/// unit and slot order).
fn merge(a: Vec<AuditRow>, b: Vec<AuditRow>, limit: usize) -> Vec<AuditRow> {
    let mut out = Vec::with_capacity((a.len() + b.len()).min(limit));
    let (mut a, mut b) = (a.into_iter().peekable(), b.into_iter().peekable());
    while out.len() < limit {
        let take_a = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => (&x.at, x.id) <= (&y.at, y.id),
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        out.extend(if take_a { a.next() } else { b.next() });
    }
    out
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
