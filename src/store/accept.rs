//! Accepting a submission: in ONE transaction the facts of the reporter's units are
//! replaced, the previous accepted submission for the same reporter and month is
//! marked superseded (kept), every ancestor's roll-up moves by exactly the delta,
//! and audit rows record each changed figure.

use std::collections::HashMap;

use unionstat_core::validate::Fact;
use unionstat_core::Issue;

/// An accepted submission's content.
#[derive(Debug)]
pub struct Acceptance<'a> {
    pub submission_id: i64,
    pub reporter: &'a str,
    pub period: &'a str,
    pub facts: &'a [Fact],
    /// Every unit listed in the sheet (a unit with all cells empty still counts as
    /// covered by this submission, though it reports no figure).
    pub units: &'a [String],
    /// Warnings (an accepted submission has no errors).
    pub issues: &'a [Issue],
    pub rows_read: usize,
    pub cover: Option<&'a str>,
    pub actor: &'a str,
}

/// What the acceptance changed, for logs and metrics.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct AcceptOutcome {
    pub superseded: Option<i64>,
    pub facts_written: usize,
    pub facts_changed: usize,
    pub rollup_rows: usize,
}

/// (org, metric) → (Δvalue, Δunits)
pub(crate) type Deltas = HashMap<(String, String), (i64, i64)>;

/// The path of a unit's parent: its own path without the last code.
pub(crate) fn parent_path<'a>(paths: &'a HashMap<String, String>, unit: &str) -> &'a str {
    match paths.get(unit) {
        Some(p) => {
            let trimmed = &p[..p.len().saturating_sub(1)];
            match trimmed.rfind('/') {
                Some(i) => &p[..=i],
                None => "",
            }
        }
        None => "",
    }
}

delegate! {
    /// Accepts a submission still in `processing`; returns None when it is not
    /// (another delivery of the same job finished it first).
    pub async fn accept(&self, a: &Acceptance<'_>) -> sqlx::Result<Option<AcceptOutcome>>;
}
