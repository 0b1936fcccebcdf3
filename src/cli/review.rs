//! `unionstat review …`: review and return (审核与退回) from the command line —
//! a federation's queue, approving or returning a reporter's accepted report,
//! and a reporter's reviews for a month (returns with their comments).

use std::process::ExitCode;

use super::table::Col::{L, R};
use super::table::{cut, row};
use super::{form_period, CliResult, ReviewTarget};
use crate::context::AppContext;
use crate::flows::form_period::FormPeriod;
use crate::flows::review::{self, FigureChange, QueueEntry, Reader, ReviewView};
use crate::store::actor::Actor;
use crate::store::orgs::{OrgRow, TreeAt};
use crate::store::reviews::Decision;

async fn org_in(ctx: &AppContext, flag: &str, code: &str, at: TreeAt) -> anyhow::Result<OrgRow> {
    match ctx.store.org_at(code, at).await? {
        Some(o) => Ok(o),
        None => anyhow::bail!("{flag} {code}: not in the master data for that month"),
    }
}

/// `review list --org CODE --period P`: the node's own report and those of
/// the reporters directly under it.
pub async fn list(ctx: &AppContext, org: &str, fp: &FormPeriod, json: bool) -> CliResult {
    let node = org_in(ctx, "--org", org, TreeAt::Month(fp.month())).await?;
    // The command line acts as an operator: it reviews any report but the
    // node's own.
    let reader = Reader {
        org_code: &node.code,
        org_path: &node.path,
        admin: false,
        may_review: true,
    };
    let queue = review::queue(ctx, &node, fp, &reader).await?;
    if json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&queue).unwrap_or_default()
        );
        return Ok(ExitCode::SUCCESS);
    }
    outln!(
        "{} {} — {}: {} awaiting review, {} approved, {} returned (figures against {})",
        queue.org,
        queue.name,
        queue.period,
        queue.unreviewed,
        queue.reviewed,
        queue.returned,
        queue.previous_period
    );
    let cols = [L(12), L(16), L(9), R(7), R(7), R(9), R(9), L(0)];
    outln!(
        "{}",
        row(
            &cols,
            &[
                "reporter",
                "name",
                "status",
                "errors",
                "warn",
                "会员 %",
                "入会率 pt",
                "review"
            ]
        )
    );
    for e in queue.own.iter().chain(&queue.children) {
        let cells = entry_cells(e);
        let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
        outln!("{}", row(&cols, &cells));
    }
    for e in queue.own.iter().chain(&queue.children) {
        print_explanations(e);
    }
    Ok(ExitCode::SUCCESS)
}

/// The explained exceptions (说明) of a report, one per line:
/// `330102001 说明 monthly_change 基层工会情况!F3 330102001001 = 2000: 两厂合并`.
fn print_explanations(e: &QueueEntry) {
    for x in &e.explanations {
        let place = match (&x.sheet, &x.cell) {
            (Some(s), Some(c)) => format!("{s}!{c}"),
            (_, Some(c)) => c.clone(),
            _ => "-".into(),
        };
        outln!(
            "{} 说明 {} {place} {} = {}: {}",
            e.org,
            x.rule,
            x.unit.as_deref().unwrap_or("-"),
            x.value.as_deref().unwrap_or("-"),
            x.explanation
        );
    }
}

fn change(figures: &[FigureChange], code: &str) -> String {
    figures
        .iter()
        .find(|f| f.code == code)
        .and_then(|f| f.change)
        .map_or_else(|| "—".to_string(), |c| format!("{c:+.2}"))
}

fn review_text(r: &ReviewView) -> String {
    let by = match &r.reviewer_org {
        Some(org) => format!("{org}, {}", r.reviewed_by),
        None => r.reviewed_by.clone(),
    };
    let note = r
        .comment
        .as_deref()
        .map(|c| format!(": {c}"))
        .unwrap_or_default();
    format!("{} by {by} at {}{note}", r.decision.as_str(), r.reviewed_at)
}

fn entry_cells(e: &QueueEntry) -> [String; 8] {
    let count = |c: Option<i64>| c.map_or_else(|| "—".to_string(), |n| n.to_string());
    [
        e.org.clone(),
        cut(&e.name, 16),
        e.status.clone(),
        count(e.error_count),
        count(e.warning_count),
        change(&e.figures, "members"),
        change(&e.figures, "membership_rate"),
        e.review.as_ref().map(review_text).unwrap_or_default(),
    ]
}

/// `review approve|return REPORTER --period P [--by CODE] [--comment TEXT]`.
pub async fn decide(
    ctx: &AppContext,
    target: &ReviewTarget,
    decision: Decision,
    comment: Option<&str>,
) -> CliResult {
    let (reporter, by) = (target.reporter.as_str(), target.by.as_deref());
    let fp = form_period(ctx, target.form.as_deref(), &target.period)?;
    let month = fp.text();
    let at = TreeAt::Month(fp.month());
    let it = org_in(ctx, "REPORTER", reporter, at).await?;
    let reviewer_code = match by {
        Some(c) => c.to_string(),
        None => it
            .parent_code
            .clone()
            .ok_or_else(|| anyhow::anyhow!("{reporter} has no federation above it: give --by"))?,
    };
    let reviewer = org_in(ctx, "--by", &reviewer_code, at).await?;
    let state = ctx
        .store
        .reporter_states(&it, fp.reporters(), &month, at)
        .await?
        .into_iter()
        .find(|s| s.code == it.code);
    let sub = match state
        .as_ref()
        .filter(|s| s.status == "accepted")
        .and_then(|s| s.submission_id)
    {
        Some(id) => ctx.store.submission(id).await?,
        None => None,
    };
    let Some(sub) = sub else {
        let status = state.map_or_else(|| "missing".to_string(), |s| s.status);
        return Err(anyhow::anyhow!(
            "{reporter} 在 {month} 没有已接受的报表（{status}） / {reporter} has no accepted report for {month} ({status}): nothing to review"
        )
        .into());
    };
    match review::review(ctx, &sub, &reviewer, decision, comment, &Actor::cli()).await {
        Ok(r) => {
            outln!(
                "submission {} of {reporter} for {month}: {}",
                sub.id,
                review_text(&ReviewView::of(&r, true))
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(review::Refusal::Database(e)) => Err(e.into()),
        Err(refusal) => Err(super::Failure {
            code: 1,
            error: anyhow::anyhow!("{refusal}"),
        }),
    }
}

/// `review show REPORTER --period P`: the reporter's state for the month and
/// every review of its reports, returns included (oldest first).
pub async fn show(ctx: &AppContext, reporter: &str, fp: &FormPeriod, json: bool) -> CliResult {
    let month = fp.text();
    let it = org_in(ctx, "REPORTER", reporter, TreeAt::Month(fp.month())).await?;
    let reader = Reader {
        org_code: &it.code,
        org_path: &it.path,
        admin: false,
        may_review: false,
    };
    let queue = review::queue(ctx, &it, fp, &reader).await?;
    let reviews: Vec<ReviewView> = ctx
        .store
        .reporter_reviews(&it.code, fp.code(), &month)
        .await?
        .iter()
        .map(|r| ReviewView::of(r, true))
        .collect();
    if json {
        let out = serde_json::json!({"reporter": it.code, "form": fp.code(), "period": month, "report": queue.own, "reviews": reviews});
        outln!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
        return Ok(ExitCode::SUCCESS);
    }
    let status = queue
        .own
        .as_ref()
        .map_or("not an expected reporter", |e| e.status.as_str());
    outln!("{} {} — {month}: {status}", it.code, it.name);
    if reviews.is_empty() {
        outln!("no reviews yet");
    }
    for r in &reviews {
        outln!("  submission {}: {}", r.submission_id, review_text(r));
    }
    if let Some(e) = &queue.own {
        print_explanations(e);
    }
    Ok(ExitCode::SUCCESS)
}
