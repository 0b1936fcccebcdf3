//! Accepting a submission: in ONE transaction the figure rows of the reporter's
//! units are replaced, the previous accepted submission for the same reporter and month is
//! marked superseded (kept), every ancestor's roll-up moves by exactly the delta,
//! and audit rows record each changed figure.

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

impl Acceptance<'_> {
    /// The warehouse key of the submission's month.
    pub(crate) fn period_key(&self) -> sqlx::Result<i64> {
        self.period
            .parse::<unionstat_core::Period>()
            .map(|p| p.key())
            .map_err(|e| sqlx::Error::Protocol(format!("submission {}: {e}", self.submission_id)))
    }
}

delegate! {
    /// Accepts a submission still in `processing`; returns None when it is not
    /// (another delivery of the same job finished it first).
    pub async fn accept(&self, a: &Acceptance<'_>) -> sqlx::Result<Option<AcceptOutcome>>;
}
