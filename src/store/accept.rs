//! Accepting a submission: in ONE transaction the figure rows of the reporter's
//! units are replaced, the previous accepted submission for the same reporter and month is
//! marked superseded (kept), every ancestor's roll-up moves by exactly the delta,
//! and audit rows record each figure that replaces or removes an earlier one (a
//! first value is attributed by its submission until it is replaced).
//!
//! On SQLite one writer task commits acceptances in batches, each in its own
//! savepoint (all or nothing per submission), one fsync per batch; the verdict
//! is answered only once its batch is durable.

use unionstat_core::period::ReportPeriod;
use unionstat_core::{Issue, Period};

/// The figures of an accepted sheet as read: one row per unit listed, its
/// values aligned with `metrics` (the sheet's metric columns). A unit whose
/// cells are all empty is still listed: the submission covers it, though it
/// reports no figure. Rows move here from the workbook as read, without a copy
/// per figure.
#[derive(Debug, Clone, Default)]
pub struct SheetFigures {
    /// Metric codes of the sheet's columns.
    pub metrics: Vec<String>,
    /// Each unit's code and its values (`None`: not reported).
    pub rows: Vec<(String, Vec<Option<i64>>)>,
}

/// An accepted submission's content, owned: what the pipeline hands to the
/// store (on SQLite it travels to the single writer).
#[derive(Debug, Clone)]
pub struct AcceptedSubmission {
    pub submission_id: i64,
    pub reporter: String,
    /// The month whose tree places the units (for a form other than
    /// `monthly`, the last month of its period).
    pub period: Period,
    /// A form other than `monthly` and its period (`annual_survey`, 2026SY):
    /// its rows are stored under the form's storage key. None: monthly.
    pub form: Option<(String, ReportPeriod)>,
    pub figures: SheetFigures,
    pub issues: Vec<Issue>,
    pub rows_read: usize,
    pub cover: Option<String>,
    pub actor: String,
    /// A nil report (零报告): declared, and without a figure.
    pub nil_report: bool,
    /// An admin's override of a locked month was used: its reason goes to
    /// the audit with the acceptance.
    pub lock_override: bool,
}

impl AcceptedSubmission {
    /// The borrowed view the accept transaction reads.
    pub fn view(&self) -> Acceptance<'_> {
        Acceptance {
            submission_id: self.submission_id,
            reporter: &self.reporter,
            period: self.period,
            form: self.form.as_ref().map(|(f, p)| (f.as_str(), *p)),
            figures: &self.figures,
            issues: &self.issues,
            rows_read: self.rows_read,
            cover: self.cover.as_deref(),
            actor: &self.actor,
            nil_report: self.nil_report,
            lock_override: self.lock_override,
        }
    }
}

/// An accepted submission's content, borrowed.
#[derive(Debug)]
pub struct Acceptance<'a> {
    pub submission_id: i64,
    pub reporter: &'a str,
    pub period: Period,
    pub form: Option<(&'a str, ReportPeriod)>,
    pub figures: &'a SheetFigures,
    /// Warnings (an accepted submission has no errors).
    pub issues: &'a [Issue],
    pub rows_read: usize,
    pub cover: Option<&'a str>,
    pub actor: &'a str,
    pub nil_report: bool,
    pub lock_override: bool,
}

/// What the acceptance changed, for logs and metrics.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct AcceptOutcome {
    pub superseded: Option<i64>,
    pub facts_written: usize,
    pub facts_changed: usize,
    pub rollup_rows: usize,
}

delegate! {
    /// Accepts a submission still in `processing`; returns None when it is not
    /// (another delivery of the same job finished it first). Returns once the
    /// acceptance is committed durably.
    pub async fn accept(&self, a: AcceptedSubmission) -> sqlx::Result<Option<AcceptOutcome>>;
}
