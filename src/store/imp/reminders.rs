//! The sent log of reminders (催报).

use super::Repo;
use crate::store::now;
use crate::store::orgs::{subtree_end, tree_sql, OrgRow, TreeAt};
use crate::store::reminders::ReminderRow;

impl Repo {
    pub async fn claim_reminder(
        &self,
        org: &str,
        period: &str,
        kind: &str,
        address: &str,
        stale_before: &str,
    ) -> sqlx::Result<Option<i64>> {
        // One statement: a second run (or worker) finds the row claimed or
        // sent and gets nothing back.
        sqlx::query_scalar(
            "INSERT INTO reminders_sent (org_code, period, kind, address, status, attempts, claimed_at) VALUES ($1, $2, $3, $4, 'sending', 1, $5) ON CONFLICT (org_code, period, kind) DO UPDATE SET status = 'sending', attempts = reminders_sent.attempts + 1, address = excluded.address, error = NULL, claimed_at = excluded.claimed_at WHERE reminders_sent.status IN ('failed', 'unreachable') OR (reminders_sent.status = 'sending' AND reminders_sent.claimed_at < $6) RETURNING id",
        )
        .bind(org)
        .bind(period)
        .bind(kind)
        .bind(address)
        .bind(now())
        .bind(stale_before)
        .fetch_optional(&self.pool)
        .await
    }

    pub async fn finish_reminder(
        &self,
        id: i64,
        status: &str,
        error: Option<&str>,
    ) -> sqlx::Result<()> {
        let at = now();
        sqlx::query(
            "UPDATE reminders_sent SET status = $1, error = $2, sent_at = CASE WHEN $1 = 'sent' THEN $3 ELSE sent_at END WHERE id = $4",
        )
        .bind(status)
        .bind(error)
        .bind(&at)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn reminders_log(
        &self,
        root: &OrgRow,
        period: &str,
    ) -> sqlx::Result<Vec<ReminderRow>> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT r.id, r.org_code, r.period, r.kind, r.address, r.status, r.attempts, r.error, r.claimed_at, r.sent_at FROM reminders_sent r JOIN {} o ON o.code = r.org_code WHERE r.period = $1 AND o.path >= $2 AND o.path < $3 ORDER BY r.org_code, r.kind",
            tree_sql(TreeAt::Current)
        )))
        .bind(period)
        .bind(&root.path)
        .bind(subtree_end(&root.path))
        .fetch_all(&self.pool)
        .await
    }

    pub async fn root_orgs(&self) -> sqlx::Result<Vec<String>> {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT code FROM {} o WHERE parent_code IS NULL ORDER BY code",
            tree_sql(TreeAt::Current)
        )))
        .fetch_all(&self.pool)
        .await
    }
}
