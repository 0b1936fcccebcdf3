//! Figures of a node (and its children) month by month over a range of months,
//! for quarters, years, statistical years and series. Portable SQL: numbered
//! placeholders, months compared as `YYYY-MM` text.

use std::collections::BTreeMap;

use unionstat_core::rollup::MonthFigures;
use unionstat_core::Period;

use super::orgs::{OrgRow, TreeView};

/// Month → figures, for the months that have any row.
pub type Months = BTreeMap<Period, MonthFigures>;

delegate! {
    /// One node's figures for every month in `first ..= last`: a federation's
    /// roll-ups and coverage, or a grassroots unit's own facts.
    /// `view`: each month under its own tree, or restated under the current one.
    pub async fn node_months(&self, org: &OrgRow, first: Period, last: Period, view: TreeView) -> sqlx::Result<Months>;
    /// Every child of a node (code order) with its figures for every month in
    /// `first ..= last`, in three queries whatever the number of children.
    /// The children are those of the tree of `last` (as reported) or of the
    /// current tree.
    pub async fn children_months(&self, org: &OrgRow, first: Period, last: Period, view: TreeView) -> sqlx::Result<Vec<(OrgRow, Months)>>;
}
