//! Processing one stored submission: claim it, evaluate it, and record the
//! verdict — the figures, roll-ups and audit in one transaction, or the
//! rejection with its report.

use anyhow::Context as _;

use super::evaluate::{evaluate, reader_gave_up, Evaluation};
use super::Request;
use crate::context::AppContext;
use crate::sandbox::ReaderCrash;
use crate::store::accept::{AcceptedSubmission, SheetFigures};
use crate::store::submissions::RejectedAs;

/// How processing a submission ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Accepted {
        superseded: Option<i64>,
    },
    Rejected {
        errors: usize,
    },
    /// Already final: a repeated delivery of the job.
    AlreadyDone,
}

/// Processes submission `id` once. Bad input ends as a rejection (Ok); an Err is
/// a transient failure (database) and the job is retried.
pub async fn process(ctx: &AppContext, id: i64, max_attempts: i64) -> anyhow::Result<Verdict> {
    let store = &ctx.store;
    let Some(claim) = store.claim(id).await.context("claiming the submission")? else {
        return Ok(Verdict::AlreadyDone);
    };
    if claim.attempts > max_attempts {
        let reason = reader_gave_up(Some(claim.attempts - 1));
        return reject(ctx, id, &Evaluation::unreadable(ctx, &reason)).await;
    }
    // Held until the verdict is recorded: the file, its rows and its figures.
    let _room = ctx.workbooks.admit(claim.size_bytes).await;
    let bytes = store
        .submission_bytes(id)
        .await
        .context("loading the file")?;
    let req = Request {
        reporter: claim.req_reporter.clone(),
        period: claim.req_period.as_deref().and_then(|p| p.parse().ok()),
        scope_org: claim.scope_org.clone(),
        lock_override: store
            .has_lock_override(id)
            .await
            .context("loading the lock override")?,
        reader_wait: None,
        nil_report: claim.nil_requested,
        explanations: claim.explanations.clone(),
        form: claim.req_form.clone(),
        form_period: claim.req_period.as_deref().and_then(|p| p.parse().ok()),
        check_only: false,
    };
    let mut eval = match evaluate(ctx, bytes, &req).await {
        Ok(eval) => eval,
        // The reader died. Retry (it may have been the machine), but on the last
        // attempt reject: a file that kills its reader must not loop for ever.
        Err(e) if e.downcast_ref::<ReaderCrash>().is_some() && claim.attempts >= max_attempts => {
            tracing::warn!(submission_id = id, error = %format!("{e:#}"), "reader failed on the last attempt");
            let reason = reader_gave_up(Some(claim.attempts));
            return reject(ctx, id, &Evaluation::unreadable(ctx, &reason)).await;
        }
        Err(e) => return Err(e),
    };
    // A workbook of another form is placed by the tree of its period's last
    // month and stored under the form's key.
    let (reporter, month, form) = match (&eval.header, &eval.form_header) {
        _ if eval.has_errors() => return reject(ctx, id, &eval).await,
        (Some(h), _) => (h.reporter.clone(), h.period, None),
        (None, Some(h)) => (
            h.reporter.clone(),
            h.period.last(),
            Some((eval.workbook.form.clone(), h.period)),
        ),
        (None, None) => return reject(ctx, id, &eval).await,
    };

    let lock_override = eval.locked.is_some() && req.lock_override;
    if let (Some(detail), true) = (&eval.locked, req.lock_override) {
        store
            .use_lock_override(id, detail)
            .await
            .context("recording the lock override")?;
    }
    let rows_read = eval.workbook.rows.len();
    let cover = eval.cover_json();
    // The rows move from the workbook as read to the store: no copy per figure.
    let figures = SheetFigures {
        metrics: eval
            .workbook
            .columns
            .iter()
            .map(|c| c.metric.clone())
            .collect(),
        rows: std::mem::take(&mut eval.workbook.rows)
            .into_iter()
            .map(|r| (r.code, r.values))
            .collect(),
    };
    let period = match &form {
        Some((_, p)) => p.to_string(),
        None => month.to_string(),
    };
    let outcome = store
        .accept(AcceptedSubmission {
            submission_id: id,
            reporter: reporter.clone(),
            period: month,
            form,
            figures,
            issues: eval.issues.clone(),
            rows_read,
            cover,
            actor: claim.uploaded_by.clone(),
            nil_report: eval.nil_report,
            lock_override,
        })
        .await
        .context("writing the accepted figures")?;
    let Some(o) = outcome else {
        return Ok(Verdict::AlreadyDone);
    };
    let form_code = form_of(&eval);
    ctx.metrics.submission_outcome("accepted", form_code);
    if let Ok(Some(s)) = store.submission(id).await {
        ctx.metrics
            .submission_latency(form_code, &s.received_at, s.finished_at.as_deref());
    }
    for i in &eval.issues {
        ctx.metrics.issue(&i.rule);
    }
    tracing::info!(
        submission_id = id,
        reporter = %reporter,
        period = %period,
        facts = o.facts_written,
        changed = o.facts_changed,
        superseded = ?o.superseded,
        "submission accepted"
    );
    Ok(Verdict::Accepted {
        superseded: o.superseded,
    })
}

/// Records a rejection with its report; no fact is written.
async fn reject(ctx: &AppContext, id: i64, eval: &Evaluation) -> anyhow::Result<Verdict> {
    let errors = eval.issues.iter().filter(|i| i.is_error()).count();
    // Another form's workbook is its form's rejected report of its period.
    let (reporter, period, form) = match (&eval.header, &eval.form_header) {
        (Some(h), _) => (Some(h.reporter.as_str()), Some(h.period.to_string()), None),
        (None, Some(h)) => (
            Some(h.reporter.as_str()),
            Some(h.period.to_string()),
            Some(eval.workbook.form.as_str()).filter(|f| !f.is_empty()),
        ),
        (None, None) => (None, None, None),
    };
    let cover = eval.cover_json();
    ctx.store
        .reject(
            id,
            RejectedAs {
                reporter,
                period: period.as_deref(),
                form: form.unwrap_or(unionstat_core::form::MONTHLY),
            },
            &eval.issues,
            eval.workbook.rows.len(),
            cover.as_deref(),
        )
        .await
        .context("recording the rejection")?;
    ctx.metrics.submission_outcome("rejected", form_of(eval));
    for i in &eval.issues {
        ctx.metrics.issue(&i.rule);
    }
    tracing::info!(submission_id = id, errors, "submission rejected");
    Ok(Verdict::Rejected { errors })
}

/// The form a submission's workbook is read as (Template v1: `monthly`), the
/// `form` label of its metrics.
pub(super) fn form_of(eval: &Evaluation) -> &str {
    match eval.workbook.form.as_str() {
        "" => unionstat_core::form::MONTHLY,
        f => f,
    }
}
