//! What completeness and timeliness need besides each reporter's state: when a
//! reporter was first accepted for a month, and the federations of a subtree
//! that have reporters below them (contacts are `store::contacts`).
//! Portable SQL: numbered placeholders, times compared as RFC 3339 text.

use std::collections::HashMap;

use super::orgs::{OrgRow, TreeAt};

/// A federation of the subtree with expected reporters below it.
#[derive(Debug, Clone)]
pub struct LevelOrg {
    pub code: String,
    pub name: String,
    pub path: String,
    pub depth: i64,
}

delegate! {
    // Each takes the tree `at` and `root` as that tree has it.
    /// For each reporter of the subtree: when its first submission for `period`
    /// that was ever accepted (accepted now, or superseded by a correction) was
    /// received. A correction after the deadline does not make a report late.
    pub async fn first_accepted_at(&self, root: &OrgRow, period: &str, at: TreeAt) -> sqlx::Result<HashMap<String, String>>;
    /// Paths of the expected reporters of the subtree.
    pub async fn reporter_paths(&self, root: &OrgRow, at: TreeAt) -> sqlx::Result<HashMap<String, String>>;
    /// The node and every federation below it with expected reporters other
    /// than itself in its subtree, by path (the levels 报送率 and 及时率 are
    /// given for).
    pub async fn level_orgs(&self, root: &OrgRow, at: TreeAt) -> sqlx::Result<Vec<LevelOrg>>;
}
