//! Units' past figures as the outlier and monthly-change warnings need them:
//! statistics the database computes over each unit's rows of the last months,
//! and the unit's latest report. Portable SQL.

use std::collections::HashMap;

use unionstat_core::validate::History;
use unionstat_core::Period;

/// What the warnings need of some units' past figures.
#[derive(Debug, Clone, Default)]
pub struct UnitHistory {
    /// (unit, metric) → count, mean and standard deviation of its figures.
    pub stats: HashMap<(String, String), History>,
    /// (unit, metric) → the figure of the unit's latest report in the window.
    pub previous: HashMap<(String, String), i64>,
}

delegate! {
    /// For the `metrics` figures of `units` over the `months` months before
    /// `period` (not `period` itself): count, mean and standard deviation per
    /// unit and metric, computed by the database, and each unit's latest
    /// report. Metrics without a warehouse column are left out.
    pub async fn unit_history(&self, units: &[String], period: Period, months: usize, metrics: &[&str]) -> sqlx::Result<UnitHistory>;
}
