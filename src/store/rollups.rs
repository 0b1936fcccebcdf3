//! Full recomputation of roll-ups from facts, to verify (incremental == full) and
//! to rebuild. Facts are first summed per (parent, month, metric) in SQL, then
//! spread over the ancestors in memory: linear in facts, no recursion in SQL.

use std::collections::BTreeMap;

/// (org, period, metric) → (value, units)
pub type RollupTable = BTreeMap<(String, String, String), (i64, i64)>;
/// (org, period) → (reported units, reported reporters)
pub type CoverageTable = BTreeMap<(String, String), (i64, i64)>;

/// Differences found by a verification.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct VerifyReport {
    pub rollup_rows: usize,
    pub coverage_rows: usize,
    /// Human-readable mismatches (at most 50 listed).
    pub mismatches: Vec<String>,
    pub mismatch_count: usize,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.mismatch_count == 0
    }
}

delegate! {
    /// Roll-ups recomputed from facts and accepted submissions.
    pub async fn compute_rollups(&self, period: Option<&str>) -> sqlx::Result<(RollupTable, CoverageTable)>;
    /// The incremental tables as stored.
    pub async fn stored_rollups(&self, period: Option<&str>) -> sqlx::Result<(RollupTable, CoverageTable)>;
    /// Compares the incremental roll-ups with a full recomputation (one snapshot).
    pub async fn verify_rollups(&self, period: Option<&str>) -> sqlx::Result<VerifyReport>;
    /// Replaces the incremental tables with a full recomputation (one transaction).
    pub async fn rebuild_rollups(&self, period: Option<&str>) -> sqlx::Result<usize>;
}

/// The differences between a full recomputation and the incremental tables.
pub fn compare(
    full_r: &RollupTable,
    full_c: &CoverageTable,
    inc_r: &RollupTable,
    inc_c: &CoverageTable,
) -> VerifyReport {
    let mut report = VerifyReport {
        rollup_rows: full_r.len(),
        coverage_rows: full_c.len(),
        ..VerifyReport::default()
    };
    let mut note = |m: String| {
        report.mismatch_count += 1;
        if report.mismatches.len() < 50 {
            report.mismatches.push(m);
        }
    };
    for key in full_r
        .keys()
        .chain(inc_r.keys())
        .collect::<std::collections::BTreeSet<_>>()
    {
        let (f, i) = (full_r.get(key), inc_r.get(key));
        if f != i {
            note(format!(
                "rollup {} {} {}: full {:?} incremental {:?} (value, units)",
                key.0, key.1, key.2, f, i
            ));
        }
    }
    for key in full_c
        .keys()
        .chain(inc_c.keys())
        .collect::<std::collections::BTreeSet<_>>()
    {
        let (f, i) = (full_c.get(key), inc_c.get(key));
        if f != i {
            note(format!(
                "coverage {} {}: full {:?} incremental {:?} (units, reporters)",
                key.0, key.1, f, i
            ));
        }
    }
    report
}
