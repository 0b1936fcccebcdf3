//! Approval (逐级审核) and locked-month overrides. A federation approves its
//! subtree for a month once its own report (when it reports) is accepted and
//! every child federation with reporters has approved; a live approval locks
//! the month for its subtree. Revoking (admin, with a reason) also revokes the
//! approvals above, which rested on it. Portable SQL throughout.

use super::{Db, Repo};
use crate::store::actor::Actor;
use crate::store::approvals::{ApprovalRow, ApproveError};
use crate::store::completeness::Reporters;
use crate::store::orgs::{lineage, subtree_end, OrgRow};
use crate::store::{now, BATCH};
use sqlx::{QueryBuilder, Row, Transaction};
use std::collections::HashMap;

fn approval_from(r: &<Db as sqlx::Database>::Row) -> ApprovalRow {
    ApprovalRow {
        id: r.get(0),
        org_code: r.get(1),
        period: r.get(2),
        approved_by: r.get(3),
        approved_at: r.get(4),
    }
}

const APPROVAL_COLUMNS: &str = "a.id, a.org_code, a.period, a.approved_by, a.approved_at";
impl Repo {
    /// Live approvals of the given org units for a month.
    pub async fn live_approvals(
        &self,
        form: &str,
        period: &str,
        codes: &[&str],
    ) -> sqlx::Result<HashMap<String, ApprovalRow>> {
        let mut out = HashMap::new();
        for chunk in codes.chunks(BATCH) {
            let mut qb: QueryBuilder<Db> = QueryBuilder::new(format!(
                "SELECT {APPROVAL_COLUMNS} FROM approvals a WHERE a.revoked_at IS NULL AND a.form = "
            ));
            qb.push_bind(form.to_string())
                .push(" AND a.period = ")
                .push_bind(period.to_string())
                .push(" AND a.org_code IN ");
            super::push_list(&mut qb, chunk.iter().map(|c| c.to_string()));
            for r in qb.build().fetch_all(&self.pool).await? {
                let a = approval_from(&r);
                out.insert(a.org_code.clone(), a);
            }
        }
        Ok(out)
    }

    /// Live approvals for a month of the node, its ancestors and its whole
    /// subtree.
    pub async fn live_approvals_around(
        &self,
        root: &OrgRow,
        form: &str,
        period: &str,
    ) -> sqlx::Result<HashMap<String, ApprovalRow>> {
        let mut out = self
            .live_approvals(form, period, &lineage(&root.path))
            .await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {APPROVAL_COLUMNS} FROM approvals a JOIN {} o ON o.code = a.org_code WHERE a.revoked_at IS NULL AND a.period = $1 AND a.form = $4 AND o.path >= $2 AND o.path < $3",
            super::month_tree(period)
        )))
        .bind(period)
        .bind(&root.path)
        .bind(subtree_end(&root.path))
        .bind(form)
        .fetch_all(&self.pool)
        .await?;
        for r in rows {
            let a = approval_from(&r);
            out.insert(a.org_code.clone(), a);
        }
        Ok(out)
    }

    /// The approval of the node or of the nearest ancestor that has one: the
    /// one that locks the node's month.
    pub async fn locking_approval(
        &self,
        org: &OrgRow,
        form: &str,
        period: &str,
    ) -> sqlx::Result<Option<ApprovalRow>> {
        let line = lineage(&org.path);
        let live = self.live_approvals(form, period, &line).await?;
        Ok(line.iter().rev().find_map(|c| live.get(*c).cloned()))
    }

    /// Approves `org`'s subtree for `period`; the live approval when there is
    /// one already. Checked and written in one transaction.
    pub async fn approve(
        &self,
        org: &OrgRow,
        who: Reporters<'_>,
        period: &str,
        actor: &Actor,
    ) -> Result<ApprovalRow, ApproveError> {
        let form = who.form;
        let actor_text = actor.to_string();
        let actor = actor_text.as_str();
        let mut tx = self.begin_write().await?;
        let existing = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {APPROVAL_COLUMNS} FROM approvals a WHERE a.revoked_at IS NULL AND a.org_code = $1 AND a.period = $2 AND a.form = $3"
        )))
        .bind(&org.code)
        .bind(period)
        .bind(form)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(r) = existing {
            tx.rollback().await?;
            return Ok(approval_from(&r));
        }
        if who.expects(org) {
            let accepted: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM submissions WHERE reporter = $1 AND period = $2 AND status = 'accepted' AND form = $3",
            )
            .bind(&org.code)
            .bind(period)
            .bind(form)
            .fetch_one(&mut *tx)
            .await?;
            if accepted == 0 {
                return Err(ApproveError::OwnReportMissing {
                    org: org.code.clone(),
                    period: period.to_string(),
                });
            }
        }
        let waiting: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT o.code FROM {} o WHERE o.parent_code = $1 AND o.kind = 'federation' AND o.subtree_reporters > 0 AND NOT EXISTS (SELECT 1 FROM approvals a WHERE a.org_code = o.code AND a.period = $2 AND a.form = $3 AND a.revoked_at IS NULL) ORDER BY o.code",
            super::month_tree(period)
        )))
        .bind(&org.code)
        .bind(period)
        .bind(form)
        .fetch_all(&mut *tx)
        .await?;
        if !waiting.is_empty() {
            return Err(ApproveError::ChildrenPending {
                org: org.code.clone(),
                period: period.to_string(),
                waiting,
            });
        }
        let children = super::reviews::child_reviews_in(&mut tx, org, who, period).await?;
        let (unreviewed, returned) = crate::store::reviews::blocking(&children);
        if !unreviewed.is_empty() || !returned.is_empty() {
            return Err(ApproveError::ChildrenUnreviewed {
                org: org.code.clone(),
                period: period.to_string(),
                unreviewed,
                returned,
            });
        }
        let processing: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT DISTINCT o.code FROM submissions s JOIN {} o ON o.code = COALESCE(s.reporter, NULLIF(s.req_reporter, '')) WHERE COALESCE(s.period, NULLIF(s.req_period, '')) = $1 AND s.status IN ('received', 'processing') AND o.path >= $2 AND o.path < $3 ORDER BY o.code",
            super::month_tree(period)
        )))
        .bind(period)
        .bind(&org.path)
        .bind(subtree_end(&org.path))
        .fetch_all(&mut *tx)
        .await?;
        if !processing.is_empty() {
            return Err(ApproveError::Processing {
                org: org.code.clone(),
                period: period.to_string(),
                reporters: processing,
            });
        }
        let stamp = now();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO approvals (org_code, period, approved_by, approved_at, form) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(&org.code)
        .bind(period)
        .bind(actor)
        .bind(&stamp)
        .bind(form)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO audit (at, actor, action, unit_code, period, detail) VALUES ($1, $2, 'approved', $3, $4, $5)",
        )
        .bind(&stamp)
        .bind(actor)
        .bind(&org.code)
        .bind(period)
        .bind(format!(
            "{0} 审核通过 {period} 本级及下级报表 / {0} approved its subtree for {period}",
            org.code
        ))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(ApprovalRow {
            id,
            org_code: org.code.clone(),
            period: period.to_string(),
            approved_by: actor.to_string(),
            approved_at: stamp,
        })
    }

    /// Revokes the live approval of `org` for `period` and those of its
    /// ancestors (they rested on it), each with an audit row carrying the
    /// reason. Returns the codes revoked, nearest first (empty: none was live).
    pub async fn revoke_approval(
        &self,
        org: &OrgRow,
        form: &str,
        period: &str,
        actor: &Actor,
        reason: &str,
    ) -> sqlx::Result<Vec<String>> {
        let actor_text = actor.to_string();
        let actor = actor_text.as_str();
        let mut tx = self.begin_write().await?;
        let stamp = now();
        let mut revoked = Vec::new();
        let line = lineage(&org.path);
        let own_live: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM approvals WHERE org_code = $1 AND period = $2 AND form = $3 AND revoked_at IS NULL",
        )
        .bind(&org.code)
        .bind(period)
        .bind(form)
        .fetch_optional(&mut *tx)
        .await?;
        if own_live.is_none() {
            tx.rollback().await?;
            return Ok(revoked);
        }
        for code in line.iter().rev() {
            let n = sqlx::query(
                "UPDATE approvals SET revoked_at = $1, revoked_by = $2, revoke_reason = $3 WHERE org_code = $4 AND period = $5 AND form = $6 AND revoked_at IS NULL",
            )
            .bind(&stamp)
            .bind(actor)
            .bind(reason)
            .bind(*code)
            .bind(period)
            .bind(form)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 0 {
                continue;
            }
            let detail = if *code == org.code {
                format!("审核已撤销 / approval revoked：{reason}")
            } else {
                format!(
                    "因下级 {0} 的审核撤销而撤销 / approval revoked with that of {0} below it：{reason}",
                    org.code
                )
            };
            sqlx::query(
                "INSERT INTO audit (at, actor, action, unit_code, period, detail) VALUES ($1, $2, 'approval_revoked', $3, $4, $5)",
            )
            .bind(&stamp)
            .bind(actor)
            .bind(*code)
            .bind(period)
            .bind(detail)
            .execute(&mut *tx)
            .await?;
            revoked.push(code.to_string());
        }
        tx.commit().await?;
        Ok(revoked)
    }

    /// Whether an admin gave a reason to change a locked month with this upload.
    pub async fn has_lock_override(&self, submission_id: i64) -> sqlx::Result<bool> {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM lock_overrides WHERE submission_id = $1")
                .bind(submission_id)
                .fetch_one(&self.pool)
                .await?;
        Ok(n > 0)
    }

    /// Marks the override as taking effect (the month was locked when the
    /// submission was checked), with what locked it.
    pub async fn use_lock_override(&self, submission_id: i64, detail: &str) -> sqlx::Result<()> {
        sqlx::query("UPDATE lock_overrides SET used = 1, lock_detail = $1 WHERE submission_id = $2")
            .bind(detail)
            .bind(submission_id)
            .execute(&self.pool)
            .await
            .map(|_| ())
    }
}

/// Inside the accept transaction: the audit row of a locked month changed by an
/// admin, with the reason (nothing when the upload needed no override).
pub(crate) async fn audit_lock_override(
    tx: &mut Transaction<'static, Db>,
    submission_id: i64,
    reporter: &str,
    period: &str,
    stamp: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO audit (at, actor, action, submission_id, unit_code, period, detail) SELECT $1, actor, 'locked_period_changed', submission_id, $2, $3, '理由 reason: ' || reason || '; ' || COALESCE(lock_detail, '已锁定 / locked') FROM lock_overrides WHERE submission_id = $4 AND used = 1",
    )
    .bind(stamp)
    .bind(reporter)
    .bind(period)
    .bind(submission_id)
    .execute(&mut **tx)
    .await
    .map(|_| ())
}
