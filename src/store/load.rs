//! Bulk loading of reports that never passed through a workbook: history carried
//! over from an earlier system, or the months a benchmark fills before it
//! measures. Each report becomes an accepted submission (no file) with its unit
//! rows (their first values, `audited` false: the submission says who set them);
//! no roll-up is written, so a load is followed by
//! [`Store::rebuild_rollups`](crate::store::Store::rebuild_rollups).

use unionstat_core::Period;

/// One reporter's figures for one month.
#[derive(Debug, Clone)]
pub struct LoadedReport {
    pub reporter: String,
    pub period: Period,
    /// Each unit's code with its figures (metric code, value); metrics the
    /// warehouse has no column for are an error.
    pub units: Vec<(String, Vec<(String, i64)>)>,
}

/// What a load wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadStats {
    pub submissions: usize,
    pub unit_rows: usize,
    pub figures: usize,
}

delegate! {
    /// Writes `reports` in one transaction, each as an accepted submission
    /// uploaded by `loaded_by` with one row per unit. A unit unknown to the
    /// warehouse, a metric without a column, or a unit that already has a row
    /// for the month fails the whole load (nothing is written).
    pub async fn load_reports(&self, reports: &[LoadedReport], loaded_by: &str) -> anyhow::Result<LoadStats>;
}
