//! Figures of a node (and its children) month by month over ranges of months,
//! for quarters, years, statistical years, their comparisons and series.

use std::collections::BTreeMap;

use unionstat_core::period::ReportPeriod;
use unionstat_core::rollup::MonthFigures;
use unionstat_core::Period;

use super::orgs::{OrgRow, TreeView};

/// Month → figures, for the months that have any row.
pub type Months = BTreeMap<Period, MonthFigures>;

/// The months one read covers: one or more inclusive ranges, e.g. a period
/// with the periods it is compared with (环比, 同比), read together in one
/// query per table. The first range is the answer's own: its last month
/// chooses the tree a node's children are taken from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spans {
    first: (Period, Period),
    more: Vec<(Period, Period)>,
}

impl Spans {
    /// The months `first ..= last`.
    pub fn range(first: Period, last: Period) -> Spans {
        Spans {
            first: (first, last),
            more: Vec::new(),
        }
    }

    /// The months of `period` and of each of `more`.
    pub fn of_periods(period: ReportPeriod, more: &[ReportPeriod]) -> Spans {
        Spans {
            first: (period.first(), period.last()),
            more: more.iter().map(|p| (p.first(), p.last())).collect(),
        }
    }

    /// The last month of the first range.
    pub fn tree_month(&self) -> Period {
        self.first.1
    }

    /// The ranges as integer keys, each cut to `lo ..= hi` (empty ones left out).
    pub fn keys_within(&self, lo: i64, hi: i64) -> Vec<(i64, i64)> {
        std::iter::once(&self.first)
            .chain(&self.more)
            .map(|(a, b)| (a.key().max(lo), b.key().min(hi)))
            .filter(|(a, b)| a <= b)
            .collect()
    }
}

delegate! {
    /// The answers' generation: a number that moves, in the same transaction,
    /// with every change to figures, roll-ups, the tree over time or
    /// approvals (triggers, migration `20261207000031`). An answer made after
    /// reading it reflects at least that state.
    pub async fn answer_generation(&self) -> sqlx::Result<i64>;
    /// One node's figures for every month of `months`: a federation's
    /// roll-ups and coverage, or a grassroots unit's own figures.
    /// `view`: each month under its own tree, or restated under the current one.
    pub async fn node_months(&self, org: &OrgRow, months: &Spans, view: TreeView) -> sqlx::Result<Months>;
    /// Every child of a node (code order) with its figures for every month of
    /// `months`, in a few queries whatever the number of children and ranges.
    /// The children are those of the tree of the first range's last month (as
    /// reported) or of the current tree.
    pub async fn children_months(&self, org: &OrgRow, months: &Spans, view: TreeView) -> sqlx::Result<Vec<(OrgRow, Months)>>;
    /// One node's figures stored under a form's storage key (`key`, see
    /// [`crate::store::columns::FormSlots::key`]), as reported: a
    /// federation's roll-up and coverage, or a grassroots unit's own row.
    pub async fn node_form_figures(&self, org: &OrgRow, key: i64) -> sqlx::Result<MonthFigures>;
    /// Each node's figures stored under a form's storage key, in the order
    /// given, in a few queries: a federation's roll-up and coverage, or (a
    /// grassroots unit, or any node when `own_rows`) the node's own row (a
    /// federation's own row of a form it reports about itself).
    pub async fn nodes_form_figures(&self, orgs: &[OrgRow], key: i64, own_rows: bool) -> sqlx::Result<Vec<MonthFigures>>;
}
