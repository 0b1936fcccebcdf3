//! Counts behind the `unionstat_reports_*` gauges: for the top levels of the
//! tree, the expected reporters, those with an accepted report for a month, and
//! those accepted after the deadline. Two queries whatever the size of the tree.

/// The reporting counts of one depth of the tree, summed over its org units:
/// each counts the expected reporters at or below that depth.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LevelReports {
    /// 0 = the root.
    pub depth: i64,
    pub expected: i64,
    /// With an accepted report for the month.
    pub received: i64,
    /// Of those, received after the deadline day (in `reporting.time_zone`).
    pub late: i64,
}

delegate! {
    /// For each depth 0..=`max_depth` the tree has: Σ expected reporters of its
    /// units, how many expected reporters at or below it have an accepted report
    /// for `period`, and how many of those arrived at or after `late_from` (an
    /// instant as stored: RFC 3339, UTC).
    pub async fn report_levels(&self, period: &str, late_from: &str, max_depth: i64) -> sqlx::Result<Vec<LevelReports>>;
}
