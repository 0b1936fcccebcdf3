//! Submissions: durable upload records, their files, and their life cycle
//! received → processing → accepted | rejected (→ superseded).

use unionstat_core::validate::GivenExplanation;
use unionstat_core::Issue;

use super::JobTarget;

/// A submission not yet final, for the reconciler.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Unfinished {
    pub id: i64,
    /// When the upload was stored (RFC 3339, as [`SubmissionRow::received_at`]).
    pub received_at: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SubmissionRow {
    pub id: i64,
    pub sha256: String,
    pub req_reporter: String,
    pub req_period: String,
    pub reporter: Option<String>,
    pub period: Option<String>,
    pub filename: String,
    pub size_bytes: i64,
    pub status: String,
    pub attempts: i64,
    pub uploaded_by: String,
    pub scope_org: Option<String>,
    pub received_at: String,
    pub finished_at: Option<String>,
    pub superseded_by: Option<i64>,
    pub error_count: i64,
    pub warning_count: i64,
    pub rows_read: i64,
    pub issues: String,
    /// The uploader declared a nil report (零报告).
    pub nil_requested: bool,
    /// Accepted as a nil report (the flag or the cover's 零报告 line).
    pub nil_report: bool,
    /// The explanations given with the upload (JSON, '' for none).
    pub explanations: String,
    /// The form the report is (`monthly` until a workbook of another form is
    /// read).
    pub form: String,
}

/// Whose report of which form a rejected upload was, as far as it was read.
#[derive(Debug, Clone, Copy)]
pub struct RejectedAs<'a> {
    pub reporter: Option<&'a str>,
    pub period: Option<&'a str>,
    /// The form the workbook is (`monthly` when it could not be told).
    pub form: &'a str,
}

impl SubmissionRow {
    pub fn issues(&self) -> Vec<Issue> {
        serde_json::from_str(&self.issues).unwrap_or_default()
    }

    pub fn is_final(&self) -> bool {
        matches!(self.status.as_str(), "accepted" | "rejected" | "superseded")
    }

    /// The reporter as resolved, else as requested.
    pub fn reporter_code(&self) -> Option<&str> {
        self.reporter
            .as_deref()
            .or((!self.req_reporter.is_empty()).then_some(self.req_reporter.as_str()))
    }
}

/// A submission as the clerk's list shows it (no report, no bytes).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SubmissionListRow {
    pub id: i64,
    /// As resolved, else as requested (None: neither known).
    pub reporter: Option<String>,
    pub period: Option<String>,
    pub status: String,
    pub filename: String,
    pub uploaded_by: String,
    pub received_at: String,
    pub finished_at: Option<String>,
    pub error_count: i64,
    pub warning_count: i64,
    /// Declared or accepted as a nil report.
    pub nil_report: bool,
}

/// Which submissions [`Store::list_submissions`] answers.
#[derive(Debug, Clone, Default)]
pub struct SubmissionFilter<'a> {
    /// Only those whose reporter (else, with none known, the uploader's
    /// scope) lies under this path in today's tree; None: all (admins).
    pub under_path: Option<&'a str>,
    pub reporter: Option<&'a str>,
    pub period: Option<&'a str>,
    /// Only ids below this one (the next page of a newest-first list).
    pub before_id: Option<i64>,
    pub limit: i64,
}

/// What an upload brings.
#[derive(Debug, Clone)]
pub struct NewSubmission<'a> {
    pub sha256: String,
    pub req_reporter: Option<&'a str>,
    pub req_period: Option<&'a str>,
    pub filename: &'a str,
    pub bytes: &'a [u8],
    pub uploaded_by: &'a str,
    pub scope_org: Option<&'a str>,
    /// An admin's reason to change a locked month with this upload.
    pub lock_reason: Option<&'a str>,
    /// The uploader declares a nil report (零报告): a workbook without figures.
    pub nil_report: bool,
    /// Explanations (说明) of findings given with the upload, checked
    /// ([`unionstat_core::validate::check_given`]).
    pub explanations: &'a [GivenExplanation],
    /// The form the uploader names (None: the workbook's own).
    pub req_form: Option<&'a str>,
}

/// What processing needs of a claimed submission.
#[derive(Debug, Clone)]
pub struct Claim {
    pub id: i64,
    pub attempts: i64,
    /// The stored file's size.
    pub size_bytes: i64,
    pub req_reporter: Option<String>,
    pub req_period: Option<String>,
    pub scope_org: Option<String>,
    pub uploaded_by: String,
    /// The uploader declared a nil report.
    pub nil_requested: bool,
    /// The explanations given with the upload.
    pub explanations: Vec<GivenExplanation>,
    /// The form the uploader named (None: the workbook's own).
    pub req_form: Option<String>,
}

delegate! {
    /// Records an upload with its bytes, durably, unless the same bytes for the same
    /// requested reporter and period from the same scope (`scope_org`, None for
    /// admins), declared a nil report alike and with the same explanations, are
    /// already there: then that one is returned.
    /// Where the warehouse holds the queue too (PostgreSQL) the ingest job is
    /// queued in the same transaction. Returns the row, whether it is new, and
    /// whether its job was queued.
    pub async fn create_submission(&self, new: &NewSubmission<'_>, job: &JobTarget<'_>) -> sqlx::Result<(SubmissionRow, bool, bool)>;
    pub async fn submission(&self, id: i64) -> sqlx::Result<Option<SubmissionRow>>;
    /// Marks a submission as being processed and counts the attempt, or returns
    /// None when it is already final (a duplicate delivery of its job).
    pub async fn claim(&self, id: i64) -> sqlx::Result<Option<Claim>>;
    pub async fn submission_bytes(&self, id: i64) -> sqlx::Result<Vec<u8>>;
    /// Records a rejection: the report is kept, no fact is written.
    pub async fn reject(&self, id: i64, found: RejectedAs<'_>, issues: &[Issue], rows_read: usize, cover: Option<&str>) -> sqlx::Result<bool>;
    /// Submissions as `filter` says, newest (highest id) first, at most
    /// `filter.limit`. A submission belongs where `visible_submission` puts
    /// it: under its reporter, else under the uploader's scope.
    pub async fn list_submissions(&self, filter: &SubmissionFilter<'_>) -> sqlx::Result<Vec<SubmissionListRow>>;
    /// Submissions not yet final, oldest first (for the reconciler).
    pub async fn unfinished_submissions(&self) -> sqlx::Result<Vec<Unfinished>>;
}
