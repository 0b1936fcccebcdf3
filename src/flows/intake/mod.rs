//! The ingest flow, shared by the HTTP API, the CLI and the ingest job: an
//! upload is stored durably and queued (`jobs::ingest`), then [`evaluate`]
//! reads it in the reader sandbox (`crate::sandbox`) and checks it, changing
//! nothing (dry runs and annotated workbooks stop there), and [`accept`]
//! claims the stored submission, evaluates it and records the verdict: the
//! figures in the warehouse, or the rejection with its report. The reading and
//! the rules live in unionstat-core; this module only orchestrates.

use std::time::Duration;

use unionstat_core::{Issue, Period};

use crate::context::AppContext;

pub mod accept;
pub mod evaluate;
mod forms;

pub use accept::{process, Verdict};
pub use evaluate::{evaluate, evaluate_once, read_untrusted, Evaluation};

/// What the uploader asked for.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub reporter: Option<String>,
    pub period: Option<Period>,
    /// The uploader's org: the reporter must lie in its subtree (None: any).
    pub scope_org: Option<String>,
    /// An admin gave a reason to change the month even when it is locked.
    pub lock_override: bool,
    /// How long to wait for a free workbook reader; None: as long as it takes
    /// (background jobs). Past it the evaluation fails with [`crate::sandbox::ReadersBusy`].
    pub reader_wait: Option<Duration>,
    /// The uploader declares a nil report (零报告); the cover's 零报告 line
    /// declares one too.
    pub nil_report: bool,
    /// Explanations (说明) given with the upload, one per finding (rule and
    /// cell), already checked; the 说明 column of the sheet gives others.
    pub explanations: Vec<unionstat_core::validate::GivenExplanation>,
    /// The form the uploader names (`None`: the one the workbook is); a
    /// workbook of another form is refused (`form_mismatch`).
    pub form: Option<String>,
    /// The period the uploader names for a form that is not monthly (`2026SY`).
    pub form_period: Option<unionstat_core::period::ReportPeriod>,
    /// Only checked, never stored (a dry run).
    pub check_only: bool,
}

/// What a dry run comes to: the verdict an upload of the same bytes would
/// get, and everything found. The HTTP API and the CLI show it each their way.
#[derive(Debug, Clone)]
pub struct Check {
    /// `accepted` or `rejected`.
    pub status: &'static str,
    /// The reporter and month found in the workbook, else those asked for.
    pub reporter: Option<String>,
    pub period: Option<String>,
    pub error_count: usize,
    pub warning_count: usize,
    pub issues: Vec<Issue>,
    /// The workbook as read (for the annotated copy).
    pub workbook: unionstat_core::ingest::Workbook,
    /// Declared a nil report (零报告), by the upload or the cover.
    pub nil_report: bool,
    /// The form the workbook is.
    pub form: String,
    /// The month is locked for the reporter: what locks it, and that an
    /// upload would be refused. With `lock_override` the findings are those
    /// of an open month (no `period_locked`); without, they include it.
    pub lock_note: Option<unionstat_core::Message>,
}

/// Reads and checks `bytes` as an upload of them would be, storing nothing.
/// `reporter` and `period` are what the uploader asked for (as typed).
pub async fn check(
    ctx: &AppContext,
    bytes: Vec<u8>,
    req: &Request,
    reporter: Option<&str>,
    period: Option<&str>,
) -> anyhow::Result<Check> {
    let eval = evaluate_once(ctx, bytes, req).await?;
    let error_count = unionstat_core::issue::error_count(&eval.issues);
    let accepted = error_count == 0 && (eval.header.is_some() || eval.form_header.is_some());
    Ok(Check {
        status: if accepted { "accepted" } else { "rejected" },
        reporter: eval
            .header
            .as_ref()
            .map(|h| h.reporter.clone())
            .or_else(|| eval.form_header.as_ref().map(|h| h.reporter.clone()))
            .or_else(|| reporter.map(str::to_string)),
        period: eval
            .header
            .as_ref()
            .map(|h| h.period.to_string())
            .or_else(|| eval.form_header.as_ref().map(|h| h.period.to_string()))
            .or_else(|| period.map(str::to_string)),
        form: accept::form_of(&eval).to_string(),
        error_count,
        warning_count: eval.issues.len() - error_count,
        issues: eval.issues,
        workbook: eval.workbook,
        nil_report: eval.nil_report,
        lock_note: eval.lock_note,
    })
}
