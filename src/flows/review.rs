//! Review and return (审核与退回): a federation above a reporter approves the
//! reporter's accepted report for a month, or returns it with a comment; and
//! the reviewer's queue — the reports of the expected reporters directly under
//! a federation, with their state, issue counts and the headline figures
//! against the month before. Shared by the HTTP API and the CLI.

use std::collections::HashMap;

use serde::Serialize;
use unionstat_core::rollup::{aggregate_months, PeriodFigures};

use crate::flows::views::compare::{Change, Earlier};
use unionstat_core::Period;

use crate::context::AppContext;
use crate::flows::form_period::FormPeriod;
use crate::flows::locking::form_lock_state;
use crate::flows::views::IndicatorsView;
use crate::store::actor::Actor;
use crate::store::orgs::{lineage, OrgRow, TreeAt, TreeView};
use crate::store::periods::{Months, Spans};
use crate::store::reviews::{Decision, NewReview, ReviewError, ReviewRow};
use crate::store::submissions::SubmissionRow;

/// The longest comment kept, in characters.
pub const MAX_COMMENT: usize = 500;

/// Counts shown with their change in percent, rates with theirs in points.
const HEADLINE_METRICS: [&str; 2] = ["employees", "members"];
const HEADLINE_RATES: [&str; 2] = ["membership_rate", "unionisation_rate"];

/// One review as answers show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReviewView {
    pub id: i64,
    pub submission_id: i64,
    /// `approved` or `returned` (退回).
    pub decision: Decision,
    /// Why it was returned (required then), or the reviewer's note.
    pub comment: Option<String>,
    /// The federation above the reporter that reviewed; null where the
    /// reader may not see it (a federation above the reader's subtree other
    /// than the reporter's parent).
    pub reviewer_org: Option<String>,
    /// The person or key that reviewed.
    pub reviewed_by: String,
    pub reviewed_at: String,
}

impl ReviewView {
    /// `show_org`: whether the reader may see the reviewing federation.
    pub fn of(r: &ReviewRow, show_org: bool) -> ReviewView {
        ReviewView {
            id: r.id,
            submission_id: r.submission_id,
            decision: r.decision,
            comment: r.comment.clone(),
            reviewer_org: show_org.then(|| r.reviewer_org.clone()),
            reviewed_by: r.reviewed_by.clone(),
            reviewed_at: r.reviewed_at.clone(),
        }
    }
}

/// Whether a reader whose answer is rooted at `root` may see `reviewer`, the
/// federation that reviewed the reporter at `reporter_path`: when it lies in
/// the root's subtree, or is the reporter's parent (which answers name).
pub fn reviewer_visible(reviewer: &str, reporter_path: &str, root: &str) -> bool {
    let line = lineage(reporter_path);
    let parent = line.len().checked_sub(2).map(|i| line[i]);
    let at = |c: &str| line.iter().position(|x| *x == c);
    parent == Some(reviewer) || matches!((at(root), at(reviewer)), (Some(r), Some(v)) if v >= r)
}

/// Why a review was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// Bad input (a missing or too long comment): 422.
    #[error("{0}")]
    Invalid(String),
    /// The reviewer may not review this report: 403.
    #[error("{0}")]
    Forbidden(String),
    /// Not now (not accepted, already returned, month locked): 409.
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The comment as kept: trimmed, without control characters; required to
/// return a report, at most [`MAX_COMMENT`] characters.
pub fn clean_comment(raw: Option<&str>, decision: Decision) -> Result<Option<String>, Refusal> {
    let text = raw.map(str::trim).filter(|c| !c.is_empty());
    let Some(text) = text else {
        return match decision {
            Decision::Returned => Err(Refusal::Invalid(
                "退回须填写意见 / a comment is required to return a report: say what to correct"
                    .into(),
            )),
            Decision::Approved => Ok(None),
        };
    };
    if text.chars().count() > MAX_COMMENT {
        return Err(Refusal::Invalid(format!(
            "意见最多 {MAX_COMMENT} 个字 / comment: at most {MAX_COMMENT} characters"
        )));
    }
    Ok(Some(text.chars().filter(|c| !c.is_control()).collect()))
}

/// Records `reviewer`'s review of the submission: `reviewer` must be a
/// federation above the reporter in the month's tree; a return needs a
/// comment and an open month.
pub async fn review(
    ctx: &AppContext,
    sub: &SubmissionRow,
    reviewer: &OrgRow,
    decision: Decision,
    comment: Option<&str>,
    actor: &Actor,
) -> Result<ReviewRow, Refusal> {
    let not_accepted = || {
        Refusal::Conflict(
            ReviewError::NotAccepted {
                id: sub.id,
                status: sub.status.clone(),
            }
            .to_string(),
        )
    };
    let (Some(code), Some(period)) = (sub.reporter.as_deref(), sub.period.as_deref()) else {
        return Err(not_accepted());
    };
    // The report's own form and period: its lock, and the tree of its last
    // month that places the reporter.
    let Some(fp) = FormPeriod::of_report(ctx, &sub.form, period) else {
        return Err(not_accepted());
    };
    let month = fp.month();
    if reviewer.code == code {
        return Err(Refusal::Forbidden(format!(
            "报送单位不能审核自己的报表，审核由上级工会进行 / {code} cannot review its own report: a federation above it reviews"
        )));
    }
    let reporter = ctx
        .store
        .org_at(code, TreeAt::Month(month))
        .await?
        .ok_or_else(not_accepted)?;
    if !reviewer.contains(&reporter) {
        return Err(Refusal::Forbidden(format!(
            "{} 不是 {code} 的上级工会 / {} is not a federation above {code}",
            reviewer.code, reviewer.code
        )));
    }
    let comment = clean_comment(comment, decision)?;
    if decision == Decision::Returned {
        let lock = form_lock_state(ctx, &reporter, &fp).await?;
        if lock.locked() {
            let why = lock.describe(&fp);
            return Err(Refusal::Conflict(format!(
                "{code} {period} 已锁定（{}），不能退回 / {code} {period} is locked ({}): a report of a locked month cannot be returned",
                why.zh, why.en
            )));
        }
    }
    ctx.store
        .review(&NewReview {
            submission_id: sub.id,
            decision,
            comment: comment.as_deref(),
            reviewer,
            actor,
        })
        .await
        .map_err(|e| match e {
            ReviewError::Database(e) => Refusal::Database(e),
            other => Refusal::Conflict(other.to_string()),
        })
}

/// A headline figure of a report this month and the month before.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FigureChange {
    /// A metric (`members`) or an indicator (`membership_rate`) code.
    pub code: String,
    /// `count` or `rate`.
    pub kind: &'static str,
    pub value: Option<f64>,
    /// The month before (null: nothing reported then).
    pub previous: Option<f64>,
    /// Counts: the change in percent of the previous value; rates: in
    /// percentage points. Null when either side is missing (or a count was 0).
    pub change: Option<f64>,
}

/// A finding of an explain-severity rule with the submitter's explanation
/// (说明), as the reviewer reads it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ExplainedIssue {
    pub rule: String,
    /// The rule's short title (`与上月相比变动过大`), for headings.
    pub title_zh: String,
    pub title_en: String,
    pub sheet: Option<String>,
    pub cell: Option<String>,
    /// The unit code of the finding's row and the metric of its cell.
    pub unit: Option<String>,
    pub metric: Option<String>,
    pub value: Option<String>,
    /// What the rule says about the figure.
    pub message: unionstat_core::Message,
    /// The submitter's explanation.
    pub explanation: String,
    /// `column` (the 说明 column of the row) or `upload` (given with it).
    pub source: unionstat_core::issue::ExplanationSource,
}

impl ExplainedIssue {
    /// The explained findings of a report (those without one are left out).
    pub fn of(catalog: &unionstat_core::Catalog, issues: &[unionstat_core::Issue]) -> Vec<Self> {
        issues
            .iter()
            .filter_map(|i| {
                let e = i.explanation.as_ref()?;
                let rule = catalog.rule(&i.rule);
                Some(ExplainedIssue {
                    rule: i.rule.clone(),
                    title_zh: rule.map(|r| r.title_zh.clone()).unwrap_or_default(),
                    title_en: rule.map(|r| r.title_en.clone()).unwrap_or_default(),
                    sheet: i.sheet.clone(),
                    cell: i.cell.clone(),
                    unit: e.unit.clone(),
                    metric: e.metric.clone(),
                    value: i.value.clone(),
                    message: i.message.clone(),
                    explanation: e.text.clone(),
                    source: e.source,
                })
            })
            .collect()
    }
}

/// One report in a reviewer's queue.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QueueEntry {
    pub org: String,
    pub name: String,
    /// `accepted` (awaiting review), `reviewed` (approved by a reviewer),
    /// `returned` (退回, awaiting a new upload), `pending` (being
    /// processed), `rejected` (only rejected uploads) or `missing`.
    pub status: String,
    /// The submission the status rests on.
    pub submission_id: Option<i64>,
    pub received_at: Option<String>,
    pub error_count: Option<i64>,
    pub warning_count: Option<i64>,
    /// The latest review of the accepted submission.
    pub review: Option<ReviewView>,
    /// Whether the caller may approve or return this report now.
    pub can_review: bool,
    /// Headline figures of the reporter's subtree against the month before.
    pub figures: Vec<FigureChange>,
    /// Every explained exception (说明) of the report the status rests on:
    /// rule, cell, unit, value and the submitter's words.
    pub explanations: Vec<ExplainedIssue>,
}

/// A federation's review queue for a month.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QueueView {
    pub org: String,
    pub name: String,
    /// The form whose reports are queued (`monthly` unless asked).
    pub form: String,
    pub period: String,
    /// The month the figures are compared with (another form: its period
    /// before, its figures are not compared).
    pub previous_period: String,
    /// The node's own report, when it is an expected reporter (reviewed by
    /// the level above it).
    pub own: Option<QueueEntry>,
    /// The reports of the expected reporters directly under the node.
    pub children: Vec<QueueEntry>,
    /// Of the children's accepted reports: awaiting review, approved, returned.
    pub unreviewed: usize,
    pub reviewed: usize,
    pub returned: usize,
}

fn changes(this: &IndicatorsView, before: &Earlier<'_>) -> Vec<FigureChange> {
    let counts = HEADLINE_METRICS.iter().map(|code| {
        let value = this.metrics.get(*code).copied().flatten();
        let previous = before.metrics.get(code).copied().flatten();
        FigureChange {
            code: code.to_string(),
            kind: "count",
            value,
            previous,
            change: Change::percent(value, previous).change,
        }
    });
    let rates = HEADLINE_RATES.iter().map(|code| {
        let value = this.rate(code);
        let previous = before.indicators.get(code).copied().flatten();
        FigureChange {
            code: code.to_string(),
            kind: "rate",
            value,
            previous,
            change: Change::points(value, previous).change,
        }
    });
    counts.chain(rates).collect()
}

/// Who is asking for the queue: their org unit, whether they are an admin (who
/// may review any report but their own org's) and whether their role may
/// review at all.
pub struct Reader<'a> {
    pub org_code: &'a str,
    pub org_path: &'a str,
    pub admin: bool,
    pub may_review: bool,
}

impl Reader<'_> {
    /// Whether the reader reviews `reporter` as a federation above it.
    pub fn is_above(&self, reporter: &OrgRow) -> bool {
        if self.admin {
            reporter.code != self.org_code
        } else {
            reporter.path.starts_with(self.org_path) && reporter.code != self.org_code
        }
    }
}

/// The review queue of `org` (as the tree of the period's last month has
/// it) for a period of a form: the reports of that form by its expected
/// reporters (a form a federation reports about itself: the node and the
/// federations directly under it that take part).
pub async fn queue(
    ctx: &AppContext,
    org: &OrgRow,
    fp: &FormPeriod,
    reader: &Reader<'_>,
) -> sqlx::Result<QueueView> {
    let p = fp.text();
    let who = fp.reporters();
    let at = TreeAt::Month(fp.month());
    let nodes = if fp.is_monthly() {
        monthly_nodes(ctx, org, fp.month()).await?
    } else {
        // Another form's figures are not compared with the month before.
        let mut nodes = Vec::new();
        if who.expects(org) {
            nodes.push((org.clone(), Vec::new()));
        }
        for child in ctx.store.children(&org.code, at).await? {
            if !child.is_grassroots() && who.expects(&child) {
                nodes.push((child, Vec::new()));
            }
        }
        nodes
    };
    let states: HashMap<String, _> = ctx
        .store
        .reporter_states(org, who, &p, at)
        .await?
        .into_iter()
        .filter(|s| nodes.iter().any(|(n, _)| n.code == s.code))
        .map(|s| (s.code.clone(), s))
        .collect();
    queue_of(ctx, org, fp, reader, nodes, states).await
}

/// The node (when it reports) and the expected reporters directly under it,
/// each with its headline figures of `period` against the month before.
async fn monthly_nodes(
    ctx: &AppContext,
    org: &OrgRow,
    period: Period,
) -> sqlx::Result<Vec<(OrgRow, Vec<FigureChange>)>> {
    let previous = period.previous();
    let spans = Spans::range(previous, period);
    let figures = |org: &OrgRow, by_month: &Months| -> (IndicatorsView, Earlier<'_>) {
        let full = crate::flows::views::full_coverage(ctx, org);
        let at =
            |m: Period| -> PeriodFigures { aggregate_months(&ctx.catalog, &[m], by_month, full) };
        (
            IndicatorsView::build(&ctx.catalog, period.into(), org, &at(period)),
            Earlier::of(&ctx.catalog, previous.into(), org, &at(previous)),
        )
    };
    let mut nodes: Vec<(OrgRow, Vec<FigureChange>)> = Vec::new();
    if org.expected_to_report {
        let by_month = ctx
            .store
            .node_months(org, &spans, TreeView::AsReported)
            .await?;
        let (this, before) = figures(org, &by_month);
        nodes.push((org.clone(), changes(&this, &before)));
    }
    for (child, by_month) in ctx
        .store
        .children_months(org, &spans, TreeView::AsReported)
        .await?
    {
        if child.is_grassroots() || !child.expected_to_report {
            continue;
        }
        let (this, before) = figures(&child, &by_month);
        nodes.push((child, changes(&this, &before)));
    }
    Ok(nodes)
}

/// The queue of `nodes` with their states.
async fn queue_of(
    ctx: &AppContext,
    org: &OrgRow,
    fp: &FormPeriod,
    reader: &Reader<'_>,
    nodes: Vec<(OrgRow, Vec<FigureChange>)>,
    states: HashMap<String, crate::store::queries::ReporterState>,
) -> sqlx::Result<QueueView> {
    let ids: Vec<i64> = states.values().filter_map(|s| s.submission_id).collect();
    let counts = ctx.store.issue_counts(&ids).await?;
    let explained = ctx.store.explained_issues(&ids).await?;
    let accepted: Vec<i64> = states
        .values()
        .filter(|s| s.status == "accepted")
        .filter_map(|s| s.submission_id)
        .collect();
    let reviews = ctx.store.latest_reviews(&accepted).await?;
    let mut own = None;
    let mut children = Vec::new();
    let (mut unreviewed, mut reviewed, mut returned) = (0, 0, 0);
    for (node, figures) in nodes {
        let state = states.get(&node.code);
        let sub = state.and_then(|s| s.submission_id);
        let review = match state {
            Some(s) if s.status == "accepted" => sub.and_then(|id| reviews.get(&id)),
            _ => None,
        };
        let status = match (state.map(|s| s.status.as_str()), review.map(|r| r.decision)) {
            (Some("accepted"), Some(Decision::Returned)) => "returned",
            (Some("accepted"), Some(Decision::Approved)) => "reviewed",
            (Some(s), _) => s,
            (None, _) => "missing",
        };
        let above = reader.is_above(&node);
        let is_own = node.code == org.code;
        if !is_own {
            match status {
                "accepted" => unreviewed += 1,
                "reviewed" => reviewed += 1,
                "returned" => returned += 1,
                _ => {}
            }
        }
        let entry = QueueEntry {
            can_review: reader.may_review && above && matches!(status, "accepted" | "reviewed"),
            review: review.map(|r| {
                ReviewView::of(r, reviewer_visible(&r.reviewer_org, &node.path, &org.code))
            }),
            error_count: sub.and_then(|id| counts.get(&id)).map(|c| c.0),
            warning_count: sub.and_then(|id| counts.get(&id)).map(|c| c.1),
            submission_id: sub,
            received_at: state.and_then(|s| s.received_at.clone()),
            status: status.to_string(),
            org: node.code.clone(),
            name: node.name.clone(),
            figures,
            explanations: sub
                .and_then(|id| explained.get(&id))
                .map(|issues| ExplainedIssue::of(&ctx.catalog, issues))
                .unwrap_or_default(),
        };
        if is_own {
            own = Some(entry);
        } else {
            children.push(entry);
        }
    }
    Ok(QueueView {
        org: org.code.clone(),
        name: org.name.clone(),
        form: fp.code().to_string(),
        period: fp.text(),
        previous_period: fp.period.previous().to_string(),
        own,
        children,
        unreviewed,
        reviewed,
        returned,
    })
}
