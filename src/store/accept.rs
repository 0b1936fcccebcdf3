//! Accepting a submission: in ONE transaction the figure rows of the reporter's
//! units are replaced, the previous accepted submission for the same reporter and month is
//! marked superseded (kept), every ancestor's roll-up moves by exactly the delta,
//! and audit rows record each figure that replaces or removes an earlier one (a
//! first value is attributed by its submission until it is replaced).
//!
//! On SQLite one writer task commits acceptances in batches, each in its own
//! savepoint (all or nothing per submission), one fsync per batch; the verdict
//! is answered only once its batch is durable.

use unionstat_core::validate::Fact;
use unionstat_core::Issue;

/// An accepted submission's content, owned: what the pipeline hands to the
/// store (on SQLite it travels to the single writer).
#[derive(Debug, Clone)]
pub struct AcceptedSubmission {
    pub submission_id: i64,
    pub reporter: String,
    pub period: String,
    pub facts: Vec<Fact>,
    pub units: Vec<String>,
    pub issues: Vec<Issue>,
    pub rows_read: usize,
    pub cover: Option<String>,
    pub actor: String,
}

impl AcceptedSubmission {
    /// The borrowed view the accept transaction reads.
    pub fn view(&self) -> Acceptance<'_> {
        Acceptance {
            submission_id: self.submission_id,
            reporter: &self.reporter,
            period: &self.period,
            facts: &self.facts,
            units: &self.units,
            issues: &self.issues,
            rows_read: self.rows_read,
            cover: self.cover.as_deref(),
            actor: &self.actor,
        }
    }
}

/// An accepted submission's content, borrowed.
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
    /// (another delivery of the same job finished it first). Returns once the
    /// acceptance is committed durably.
    pub async fn accept(&self, a: AcceptedSubmission) -> sqlx::Result<Option<AcceptOutcome>>;
}
