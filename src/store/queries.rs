//! Who has reported: each expected reporter's state for a month.

use super::completeness::Reporters;
use super::orgs::{OrgRow, TreeAt};

/// One expected reporter's state for a month.
#[derive(Debug, Clone)]
pub struct ReporterState {
    pub code: String,
    pub name: String,
    pub parent_code: Option<String>,
    /// accepted, pending (received or processing), rejected, missing
    pub status: String,
    pub submission_id: Option<i64>,
    pub received_at: Option<String>,
    pub cover: Option<String>,
    /// The accepted report is a nil report (零报告).
    pub nil_report: bool,
}

delegate! {
    /// Every expected reporter in the subtree of the tree `at` (`root` as that
    /// tree has it) with its state for the period: the expected reporters of
    /// `who`'s form and its submissions.
    pub async fn reporter_states(&self, root: &OrgRow, who: Reporters<'_>, period: &str, at: TreeAt) -> sqlx::Result<Vec<ReporterState>>;
}
