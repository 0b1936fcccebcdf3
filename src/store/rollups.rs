//! Full recomputation of roll-ups from the unit rows, to verify (incremental ==
//! full) and to rebuild: one streaming pass over each month's rows into the
//! same ledger the accept path uses (`unionstat_core::rollup::ledger`).

use std::collections::BTreeMap;

use crate::store::orgs::TreeAt;
use unionstat_core::rollup::ledger::{NodeId, RollupRow};
use unionstat_core::Period;

/// The two roll-up tables: each month under the tree in force in that month
/// (`rollup_figures`), and the months before the newest tree change restated
/// under the current tree (`rollup_restated`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RollupTable {
    AsReported,
    Restated,
}

impl RollupTable {
    pub fn name(&self) -> &'static str {
        match self {
            RollupTable::AsReported => "rollup_figures",
            RollupTable::Restated => "rollup_restated",
        }
    }

    /// The tree a month of this table is computed under.
    pub fn tree_at(&self, month: Period) -> TreeAt {
        match self {
            RollupTable::AsReported => TreeAt::Month(month),
            RollupTable::Restated => TreeAt::Current,
        }
    }

    /// How messages name the view.
    pub fn label(&self) -> &'static str {
        match self {
            RollupTable::AsReported => "as reported",
            RollupTable::Restated => "current tree",
        }
    }
}

/// Differences found by a verification.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct VerifyReport {
    /// Roll-up figures compared: (federation, month, metric) with a value.
    pub rollup_rows: usize,
    /// Coverage rows compared: (federation, month).
    pub coverage_rows: usize,
    /// Human-readable mismatches (at most 50 listed).
    pub mismatches: Vec<String>,
    pub mismatch_count: usize,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.mismatch_count == 0
    }

    /// Adds the comparison of one period (a month `2026-10`, another form's
    /// `annual_survey 2026SY`): a full recomputation against the stored
    /// rows. `code` names a node, `metrics` the slots.
    pub fn compare_month(
        &mut self,
        table: RollupTable,
        period: &str,
        full: &BTreeMap<NodeId, RollupRow>,
        stored: &BTreeMap<NodeId, RollupRow>,
        metrics: &[String],
        code: impl Fn(NodeId) -> String,
    ) {
        self.coverage_rows += full.len();
        self.rollup_rows += full
            .values()
            .map(|r| (0..metrics.len()).filter(|&s| r.total(s).is_some()).count())
            .sum::<usize>();
        let zero = RollupRow::zero(metrics.len());
        let mut nodes: Vec<&NodeId> = full.keys().chain(stored.keys()).collect();
        nodes.sort_unstable();
        nodes.dedup();
        for node in nodes {
            let (f, s) = (
                full.get(node).unwrap_or(&zero),
                stored.get(node).unwrap_or(&zero),
            );
            for (slot, metric) in metrics.iter().enumerate() {
                let (ft, st) = (f.total(slot), s.total(slot));
                if ft != st {
                    self.note(format!(
                        "rollup {} {period} {metric} ({}): full {:?} incremental {:?} (value, units)",
                        code(*node),
                        table.label(),
                        ft.map(|t| (t.value, t.units)),
                        st.map(|t| (t.value, t.units)),
                    ));
                }
            }
            let cov = |r: &RollupRow| (r.reported_units, r.reported_reporters);
            if cov(f) != cov(s) {
                self.note(format!(
                    "coverage {} {period} ({}): full {:?} incremental {:?} (units, reporters)",
                    code(*node),
                    table.label(),
                    cov(f),
                    cov(s)
                ));
            }
        }
    }

    fn note(&mut self, m: String) {
        self.mismatch_count += 1;
        if self.mismatches.len() < 50 {
            self.mismatches.push(m);
        }
    }
}

delegate! {
    /// Compares the incremental roll-ups with a full recomputation, month by
    /// month (each month on one snapshot); all months when `period` is None.
    /// Both views: each month under its own tree, and the months before the
    /// newest tree change under the current tree.
    pub async fn verify_rollups(&self, period: Option<Period>) -> sqlx::Result<VerifyReport>;
    /// Replaces the incremental roll-ups with a full recomputation (one
    /// transaction); all months when `period` is None. Returns the rows written.
    pub async fn rebuild_rollups(&self, period: Option<Period>) -> sqlx::Result<usize>;
    /// The figures held for a month (or for every month): reported
    /// (unit, month, metric) cells.
    pub async fn count_figures(&self, period: Option<Period>) -> sqlx::Result<i64>;
}
