//! The org tree over time: each unit's parent, name, kind and whether it is
//! expected to report hold for a range of months (`org_versions`), so a month
//! is always read with the tree in force in that month ("as reported"), and a
//! change to the tree is an event effective from a month on that never alters
//! an earlier one. The current tree (the newest versions) restates history
//! when a caller asks for it (`tree=current`).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use unionstat_core::orgs::{OrgKind, OrgRecord};
use unionstat_core::Period;

/// The month key that marks a version still in force (`valid_to`).
pub const OPEN: i64 = 999_999;

/// Which tree a read uses: the one in force in a month, or the current one
/// (the newest versions, including changes already scheduled).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TreeAt {
    Month(Period),
    Current,
}

impl TreeAt {
    /// The month key a version must hold to be part of this tree.
    pub fn key(&self) -> i64 {
        match self {
            TreeAt::Month(p) => p.key(),
            TreeAt::Current => OPEN - 1,
        }
    }

    /// The tree a view reads a month with.
    pub fn of(view: TreeView, month: Period) -> TreeAt {
        match view {
            TreeView::AsReported => TreeAt::Month(month),
            TreeView::Current => TreeAt::Current,
        }
    }
}

/// The switch of every read that aggregates: each month under the tree in
/// force in that month (the default), or history restated under the current
/// tree so that months compare like with like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TreeView {
    #[default]
    AsReported,
    Current,
}

impl TreeView {
    pub fn as_str(&self) -> &'static str {
        match self {
            TreeView::AsReported => "as_reported",
            TreeView::Current => "current",
        }
    }
}

impl std::str::FromStr for TreeView {
    type Err = String;
    fn from_str(s: &str) -> Result<TreeView, String> {
        match s {
            "as_reported" | "" => Ok(TreeView::AsReported),
            "current" => Ok(TreeView::Current),
            other => Err(format!(
                "tree {other:?}: use as_reported or current / tree 只能是 as_reported 或 current"
            )),
        }
    }
}

/// The org units of a tree as a table for `FROM`: the versions in force at
/// `at`, with the columns of [`OrgRow`]. The key is an integer formatted here,
/// never text from a caller.
pub fn tree_sql(at: TreeAt) -> String {
    let k = at.key();
    format!(
        "(SELECT code, name, parent_code, kind, expected_to_report, path, depth, subtree_units, subtree_reporters FROM org_versions WHERE valid_from <= {k} AND valid_to > {k})"
    )
}

/// The columns of [`OrgRow`], for queries on a tree source.
pub const ORG_COLUMNS: &str =
    "code, name, parent_code, kind, expected_to_report, path, depth, subtree_units, subtree_reporters";

/// An org unit as one tree has it (its path and subtree counts are that
/// tree's).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize)]
pub struct OrgRow {
    pub code: String,
    pub name: String,
    pub parent_code: Option<String>,
    pub kind: String,
    pub expected_to_report: bool,
    #[serde(skip)]
    pub path: String,
    #[serde(skip)]
    pub depth: i64,
    #[serde(skip)]
    pub subtree_units: i64,
    #[serde(skip)]
    pub subtree_reporters: i64,
    /// The month key from which the unit is closed (read from the current
    /// tree's identity table only; None elsewhere).
    #[sqlx(default)]
    #[serde(skip)]
    pub closed_from: Option<i64>,
}

impl OrgRow {
    pub fn is_grassroots(&self) -> bool {
        self.kind == "grassroots"
    }

    /// Codes from the root down to this unit, itself included.
    pub fn lineage(&self) -> Vec<&str> {
        lineage(&self.path)
    }

    /// This unit with nothing under it and a path no unit has: how a unit
    /// answers for a tree it is not part of (before it opened, after it closed).
    pub fn outside_tree(&self) -> OrgRow {
        OrgRow {
            path: "//".into(),
            subtree_units: 0,
            subtree_reporters: 0,
            ..self.clone()
        }
    }

    /// Whether `other` lies in this unit's subtree (itself included).
    pub fn contains(&self, other: &OrgRow) -> bool {
        other.path.starts_with(&self.path)
    }
}

/// Codes of a stored path, root first.
pub fn lineage(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.is_empty()).collect()
}

/// The upper bound of a subtree's path range: every descendant path p of `path`
/// has `path <= p < subtree_end(path)` ('0' follows '/').
pub fn subtree_end(path: &str) -> String {
    let mut end = path[..path.len().saturating_sub(1)].to_string();
    end.push('0');
    end
}

/// One version of a unit: what held from `valid_from` until before `valid_to`
/// (month keys; 0 = since always, [`OPEN`] = still in force).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrgVersion {
    pub valid_from: i64,
    pub valid_to: i64,
    #[sqlx(flatten)]
    pub org: OrgRow,
}

/// One unit's change in a tree change, from the change's month on. Fields left
/// `None` keep what held before (for a unit new to the tree, name and kind are
/// required).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrgEdit {
    pub code: String,
    pub name: Option<String>,
    /// `Some(None)`: the unit becomes a root.
    pub parent: Option<Option<String>>,
    pub kind: Option<OrgKind>,
    pub expected_to_report: Option<bool>,
    /// The unit closes: it is in no tree from the month on.
    pub close: bool,
    /// In the current-tree view, the figures of this (closed) unit count as
    /// the successor's (a merge).
    pub successor: Option<String>,
}

impl OrgEdit {
    /// Every attribute of a master-data record.
    pub fn set(r: &OrgRecord) -> OrgEdit {
        OrgEdit {
            code: r.code.clone(),
            name: Some(r.name.clone()),
            parent: Some(r.parent_code.clone()),
            kind: Some(r.kind),
            expected_to_report: Some(r.expected_to_report),
            ..OrgEdit::default()
        }
    }
}

/// A change to the tree: edits effective from a month on (`None`: since
/// always, for master data that describes the tree as it has always been).
#[derive(Debug, Clone)]
pub struct TreeChange {
    pub edits: Vec<(Option<Period>, OrgEdit)>,
    /// What was done, for the audit (`orgs_import`, `org_move`, `org_merge`…).
    pub action: String,
    pub actor: String,
    /// Required to change a month that an approval has locked.
    pub reason: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("code {code} appears more than once in the file")]
    DuplicateCode { code: String },
    #[error("unit {code}: parent {parent} is neither in the file nor in the master data")]
    MissingParent { code: String, parent: String },
    #[error("unit {code}: parent {parent} is a grassroots union; only federations have children")]
    GrassrootsParent { code: String, parent: String },
    #[error("the parent links form a cycle: {}", codes.join(" → "))]
    Cycle { codes: Vec<String> },
    #[error("unit {code} is not in the tree in {period}")]
    NotInTree { code: String, period: String },
    #[error("unit {code} cannot close from {period}: {child} is still under it")]
    ClosesWithChildren {
        code: String,
        child: String,
        period: String,
    },
    #[error("{period} is approved by {org}: a change effective from {from} would alter it (an admin may give a reason)")]
    Approved {
        org: String,
        period: String,
        from: String,
    },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Units whose parent changed: roll-ups were rebuilt when this is not zero.
    pub moved: usize,
    /// Units closed.
    pub closed: usize,
    /// Unit versions written (the tree of later months included).
    pub versions_written: usize,
}

/// What a tree change did to one unit, for the audit and the caller.
#[derive(Debug, Clone, Serialize)]
pub struct UnitChange {
    pub code: String,
    /// `opened`, `closed`, `moved` or `changed`.
    pub what: &'static str,
    pub from: Option<OrgRow>,
    pub to: Option<OrgRow>,
}

delegate! {
    /// Master data that describes the tree as it has always been: every record
    /// holds since always (a tree change with no effective month, made with a
    /// reason, so approvals do not hold it back). For loading a warehouse (the
    /// demo, the benchmark, tests); people change the tree through
    /// `tree_changes`, which checks locks and approvals.
    pub async fn import_orgs(&self, records: &[OrgRecord]) -> Result<ImportReport, ImportError>;
    /// Applies a tree change in one transaction: each edit from its month on
    /// (the months in order), the whole tree of every later month checked
    /// (missing parents, cycles, children under a grassroots unit or a closed
    /// one); a change that would alter a month some approval has locked is
    /// refused unless the change carries a reason. Every changed unit gets an
    /// audit row (who, from, to, effective month, reason); the roll-ups of the
    /// months from the first effective month on, and the restated roll-ups of
    /// the months before the newest change, are recomputed.
    pub async fn change_tree(&self, change: &TreeChange) -> Result<(ImportReport, Vec<UnitChange>), ImportError>;
    /// A unit as the current tree has it (a closed unit: as it was last).
    pub async fn org(&self, code: &str) -> sqlx::Result<Option<OrgRow>>;
    /// A unit in the tree `at` (None: not in that tree).
    pub async fn org_at(&self, code: &str, at: TreeAt) -> sqlx::Result<Option<OrgRow>>;
    /// Every version of a unit, oldest first.
    pub async fn org_versions(&self, code: &str) -> sqlx::Result<Vec<OrgVersion>>;
    /// The children of a unit in the tree `at`, by code.
    pub async fn children(&self, code: &str, at: TreeAt) -> sqlx::Result<Vec<OrgRow>>;
    /// Units with the given codes in the tree `at` (any number; in batches).
    pub async fn orgs_by_code(&self, codes: &[String], at: TreeAt) -> sqlx::Result<HashMap<String, OrgRow>>;
    /// Expected reporters in a subtree of the tree `at` (the node itself
    /// included; `root` as that tree has it), by path.
    pub async fn expected_reporters(&self, root: &OrgRow, at: TreeAt) -> sqlx::Result<Vec<OrgRow>>;
    /// The first month of the current tree (0: the tree never changed): months
    /// before it read differently in the two views.
    pub async fn newest_tree_from(&self) -> sqlx::Result<i64>;
    /// How the subtree of `code` differs between the tree of `month` and the
    /// current tree: grassroots units only in the current one (moved in) and
    /// only in the month's (moved out), by code.
    pub async fn tree_difference(&self, code: &str, month: Period) -> sqlx::Result<(Vec<String>, Vec<String>)>;
    pub async fn org_count(&self) -> sqlx::Result<i64>;
    /// Of `codes`, those the master data has ever held (open or closed).
    pub async fn existing_codes(&self, codes: &[String]) -> sqlx::Result<std::collections::HashSet<String>>;
    /// The audit rows of a unit's changes in the tree, oldest first.
    pub async fn org_changes(&self, code: &str) -> sqlx::Result<Vec<crate::store::history::AuditRow>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subtree_range_covers_descendants_only() {
        let p = "/33/3301/";
        let end = subtree_end(p);
        for inside in ["/33/3301/", "/33/3301/330102/", "/33/3301/330102/x/"] {
            assert!(inside >= p && inside < end.as_str(), "{inside}");
        }
        for outside in ["/33/33010/", "/33/3302/", "/33/330/"] {
            assert!(!(outside >= p && outside < end.as_str()), "{outside}");
        }
        assert_eq!(lineage("/a/b/c/"), vec!["a", "b", "c"]);
    }
}
