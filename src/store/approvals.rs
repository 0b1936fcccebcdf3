//! Approval (逐级审核) and locked-month overrides. A federation approves its
//! subtree for a month once its own report (when it reports) is accepted and
//! every child federation with reporters has approved; a live approval locks
//! the month for its subtree. Revoking (admin, with a reason) also revokes the
//! approvals above, which rested on it. Since review and return (审核与退回),
//! every accepted report of a reporter directly under the federation must be
//! approved by a reviewer first. Portable SQL throughout.

use std::collections::HashMap;

use super::actor::Actor;
use super::completeness::Reporters;
use super::orgs::OrgRow;

/// A live approval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalRow {
    pub id: i64,
    pub org_code: String,
    pub period: String,
    pub approved_by: String,
    pub approved_at: String,
}

/// Why an approval cannot be given now.
#[derive(Debug, thiserror::Error)]
pub enum ApproveError {
    #[error(
        "{org} 本身的 {period} 报表尚未被接受 / {org} has no accepted report for {period} yet"
    )]
    OwnReportMissing { org: String, period: String },
    #[error("{org} 的下级尚未全部审核通过 {period}，等待：{list} / not every expected child of {org} has approved {period}: waiting for {list}", list = waiting.join(", "))]
    ChildrenPending {
        org: String,
        period: String,
        waiting: Vec<String>,
    },
    /// A reporter directly under the federation has an accepted report that
    /// its reviewers have not approved (审核): unreviewed, or returned (退回).
    #[error("{org} 的下级报表尚未全部审核通过：未审核 {unreviewed}，已退回 {returned} / not every report under {org} for {period} is reviewed and approved: unreviewed {unreviewed}; returned {returned}", unreviewed = none_or_list(unreviewed), returned = none_or_list(returned))]
    ChildrenUnreviewed {
        org: String,
        period: String,
        unreviewed: Vec<String>,
        returned: Vec<String>,
    },
    #[error("{org} 之下 {period} 的报表仍在处理中：{list} / submissions for {period} under {org} are still being processed: {list}", list = reporters.join(", "))]
    Processing {
        org: String,
        period: String,
        reporters: Vec<String>,
    },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

fn none_or_list(codes: &[String]) -> String {
    if codes.is_empty() {
        "-".to_string()
    } else {
        codes.join(", ")
    }
}

delegate! {
    /// Live approvals of the given org units for a period of `form`.
    pub async fn live_approvals(&self, form: &str, period: &str, codes: &[&str]) -> sqlx::Result<HashMap<String, ApprovalRow>>;
    /// Live approvals for a period of `form` of the node, its ancestors and
    /// its whole subtree.
    pub async fn live_approvals_around(&self, root: &OrgRow, form: &str, period: &str) -> sqlx::Result<HashMap<String, ApprovalRow>>;
    /// The approval of the node or of the nearest ancestor that has one: the
    /// one that locks the node's period of `form`.
    pub async fn locking_approval(&self, org: &OrgRow, form: &str, period: &str) -> sqlx::Result<Option<ApprovalRow>>;
    /// Approves `org`'s subtree for `period` of `who`'s form (its own report
    /// and those of the reporters directly under it are that form's, of its
    /// expected reporters); the live approval when there is one already.
    /// Checked and written in one transaction.
    pub async fn approve(&self, org: &OrgRow, who: Reporters<'_>, period: &str, actor: &Actor) -> Result<ApprovalRow, ApproveError>;
    /// Revokes the live approval of `org` for `period` of `form` and those of its
    /// ancestors (they rested on it), each with an audit row carrying the
    /// reason. Returns the codes revoked, nearest first (empty: none was live).
    pub async fn revoke_approval(&self, org: &OrgRow, form: &str, period: &str, actor: &Actor, reason: &str) -> sqlx::Result<Vec<String>>;
    /// Whether an admin gave a reason to change a locked month with this upload.
    pub async fn has_lock_override(&self, submission_id: i64) -> sqlx::Result<bool>;
    /// Marks the override as taking effect (the month was locked when the
    /// submission was checked), with what locked it.
    pub async fn use_lock_override(&self, submission_id: i64, detail: &str) -> sqlx::Result<()>;
}
