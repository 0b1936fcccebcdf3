//! What completeness and timeliness need besides each reporter's state: when a
//! reporter was first accepted for a month, and the federations of a subtree
//! that have reporters below them (contacts are `store::contacts`).
//! Portable SQL: numbered placeholders, times compared as RFC 3339 text.

use std::collections::HashMap;

use unionstat_core::form::{Form, ReporterKind, MONTHLY};

use super::orgs::{OrgRow, TreeAt};

/// Whose reports of which form a completeness, review or approval question
/// is about: the submissions of `form`, from the form's expected reporters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reporters<'a> {
    pub form: &'a str,
    /// A form a federation reports about itself (`federation_self`): every
    /// federation that takes part in reporting (expected to report itself,
    /// or with expected reporters below it) is expected, the node included.
    /// Otherwise the expected reporters of the monthly return.
    pub federations: bool,
}

impl Reporters<'static> {
    /// The monthly return's: its expected reporters, its submissions.
    pub const MONTHLY: Reporters<'static> = Reporters {
        form: MONTHLY,
        federations: false,
    };
}

impl<'a> Reporters<'a> {
    pub fn of(form: &'a Form) -> Reporters<'a> {
        Reporters {
            form: &form.code,
            federations: form.reporter == ReporterKind::FederationSelf,
        }
    }

    /// The SQL condition on org unit `o` (an alias) that makes it one of the
    /// expected reporters.
    pub fn expected_sql(&self, o: &str) -> String {
        if self.federations {
            format!(
                "{o}.kind = 'federation' AND ({o}.expected_to_report OR {o}.subtree_reporters > 0)"
            )
        } else {
            format!("{o}.expected_to_report")
        }
    }

    /// Whether `org` is one of the expected reporters.
    pub fn expects(&self, org: &OrgRow) -> bool {
        if self.federations {
            !org.is_grassroots() && (org.expected_to_report || org.subtree_reporters > 0)
        } else {
            org.expected_to_report
        }
    }
}

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
    /// Only submissions of `who.form` count.
    pub async fn first_accepted_at(&self, root: &OrgRow, who: Reporters<'_>, period: &str, at: TreeAt) -> sqlx::Result<HashMap<String, String>>;
    /// Paths of the expected reporters of the subtree (of `who`'s form).
    pub async fn reporter_paths(&self, root: &OrgRow, who: Reporters<'_>, at: TreeAt) -> sqlx::Result<HashMap<String, String>>;
    /// The node and every federation below it with expected reporters other
    /// than itself in its subtree, by path (the levels 报送率 and 及时率 are
    /// given for).
    pub async fn level_orgs(&self, root: &OrgRow, at: TreeAt) -> sqlx::Result<Vec<LevelOrg>>;
}
