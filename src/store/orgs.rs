//! The org tree: import (upsert by code) and tree look-ups.

use std::collections::HashMap;

use unionstat_core::orgs::OrgRecord;

/// An org unit as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrgRow {
    pub code: String,
    pub name: String,
    pub parent_code: Option<String>,
    pub kind: String,
    pub expected_to_report: bool,
    pub path: String,
    pub depth: i64,
    pub subtree_units: i64,
    pub subtree_reporters: i64,
}

impl OrgRow {
    pub fn is_grassroots(&self) -> bool {
        self.kind == "grassroots"
    }

    /// Codes from the root down to this unit, itself included.
    pub fn lineage(&self) -> Vec<&str> {
        lineage(&self.path)
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
}

delegate! {
    /// Upserts units by code. The whole tree is checked (missing parents, cycles,
    /// children under a grassroots unit) before anything is written; paths and
    /// subtree counts are recomputed and only changed rows are written.
    pub async fn import_orgs(&self, records: &[OrgRecord]) -> Result<ImportReport, ImportError>;
    pub async fn org(&self, code: &str) -> sqlx::Result<Option<OrgRow>>;
    pub async fn children(&self, code: &str) -> sqlx::Result<Vec<OrgRow>>;
    /// Units with the given codes (any number; queried in batches).
    pub async fn orgs_by_code(&self, codes: &[String]) -> sqlx::Result<HashMap<String, OrgRow>>;
    /// Expected reporters in a subtree (the node itself included), by path.
    pub async fn expected_reporters(&self, root: &OrgRow) -> sqlx::Result<Vec<OrgRow>>;
    pub async fn org_count(&self) -> sqlx::Result<i64>;
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
