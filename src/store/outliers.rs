//! Units' past figures as the outlier and monthly-change warnings need them:
//! each unit's latest report within a window of months. Portable SQL.

use std::collections::HashMap;

use unionstat_core::Period;

/// What the warnings need of some units' past figures.
#[derive(Debug, Clone, Default)]
pub struct UnitHistory {
    /// (unit, metric) → the figure of the unit's latest report in the window.
    pub previous: HashMap<(String, String), i64>,
}

delegate! {
    /// For the `metrics` figures of `units`, each unit's latest report in the
    /// `months` months before `period` (not `period` itself). Metrics without a
    /// warehouse column are left out.
    pub async fn unit_history(&self, units: &[String], period: Period, months: usize, metrics: &[&str]) -> sqlx::Result<UnitHistory>;
}
