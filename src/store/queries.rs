//! Read paths for federation staff: a node's figures, its children's, and who
//! has reported.

use std::collections::HashMap;

use unionstat_core::rollup::Total;

use super::orgs::OrgRow;

/// A node's roll-up for one month.
#[derive(Debug, Clone)]
pub struct NodeFigures {
    pub org: OrgRow,
    pub totals: HashMap<String, Total>,
    pub reported_units: i64,
    pub reported_reporters: i64,
}

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
}

delegate! {
    /// Figures of one node (a federation's roll-up, or a grassroots unit's facts).
    pub async fn node_figures(&self, org: &OrgRow, period: &str) -> sqlx::Result<NodeFigures>;
    /// Figures of every child of a node, in code order, in three queries.
    pub async fn children_figures(&self, org: &OrgRow, period: &str) -> sqlx::Result<Vec<NodeFigures>>;
    /// Every expected reporter in the subtree with its state for the month.
    pub async fn reporter_states(&self, root: &OrgRow, period: &str) -> sqlx::Result<Vec<ReporterState>>;
    /// Accepted figures of the given units for a month: (unit, metric) → value.
    pub async fn facts_of_units(&self, period: &str, units: &[String]) -> sqlx::Result<HashMap<(String, String), i64>>;
}
