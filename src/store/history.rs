//! The audit trail of a subtree for a month: who changed which figure, when,
//! from which submission; approvals, revocations and locked-month changes.
//! Portable SQL.

use super::orgs::OrgRow;

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

delegate! {
    /// Audit rows of the units of `root`'s subtree (itself included) for a
    /// month, optionally of one metric, oldest first, at most `limit`.
    pub async fn history(&self, root: &OrgRow, period: &str, metric: Option<&str>, limit: i64) -> sqlx::Result<Vec<AuditRow>>;
}
