//! The sent log of reminders (催报): one row per reporter, month and notice,
//! claimed before the mail goes so that each is sent once however many runs
//! or workers try.

use super::orgs::OrgRow;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ReminderRow {
    pub id: i64,
    pub org_code: String,
    pub period: String,
    /// `due_soon` or `overdue`.
    pub kind: String,
    /// Where it went (empty when the reporter had no email).
    pub address: String,
    /// `sending`, `sent`, `failed` or `unreachable`.
    pub status: String,
    pub attempts: i64,
    pub error: Option<String>,
    /// When the last attempt began.
    pub claimed_at: String,
    pub sent_at: Option<String>,
}

delegate! {
    /// Claims the notice `kind` of `period` for reporter `org` to send to
    /// `address`: Some(id) when this caller is to send it — never sent, or
    /// failed, unreachable, or claimed before `stale_before` by a run that
    /// never finished — else None (sent, or being sent by another run).
    pub async fn claim_reminder(&self, org: &str, period: &str, kind: &str, address: &str, stale_before: &str) -> sqlx::Result<Option<i64>>;
    /// Records how a claimed notice ended: `sent`, `failed` (with the error)
    /// or `unreachable`.
    pub async fn finish_reminder(&self, id: i64, status: &str, error: Option<&str>) -> sqlx::Result<()>;
    /// The log of `period` for the reporters of `root`'s subtree (today's
    /// tree), by reporter and notice.
    pub async fn reminders_log(&self, root: &OrgRow, period: &str) -> sqlx::Result<Vec<ReminderRow>>;
    /// The roots of today's tree.
    pub async fn root_orgs(&self) -> sqlx::Result<Vec<String>>;
}
