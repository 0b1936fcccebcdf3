//! Past figures of units, for the outlier warnings: each unit's previous report
//! and its last months of stock figures. Portable SQL.

use std::collections::HashMap;

use unionstat_core::Period;

/// (unit, metric) → the unit's figures of earlier months, oldest first.
pub type PastFigures = HashMap<(String, String), Vec<(Period, i64)>>;

delegate! {
    /// The accepted figures of `units` for the `months` months before `period`
    /// (not `period` itself), oldest first.
    pub async fn past_figures(&self, units: &[String], period: Period, months: usize) -> sqlx::Result<PastFigures>;
}
