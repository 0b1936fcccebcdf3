//! The answers federation staff read — indicators and completeness of a node —
//! in the DESIGN.md JSON shape, shared by the HTTP API and the CLI.

pub mod compare;
pub mod form_figures;
pub mod series;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use unionstat_core::catalog::Metric;
use unionstat_core::period::ReportPeriod;
use unionstat_core::rollup::{aggregate_months, indicator, FullCoverage, PeriodFigures, Rate};
use unionstat_core::{Catalog, CodeMap, Period};

use self::compare::{Comparison, Comparisons, Earlier};
use crate::flows::form_period::FormPeriod;
use crate::flows::locking::{approval_views, lock_from, ApprovalView};
use crate::store::approvals::ApprovalRow;
use crate::store::completeness::LevelOrg;
use crate::store::contacts::ContactRow;
use crate::store::orgs::{OrgRow, TreeAt, TreeView};
use crate::store::periods::{Months, Spans};
use crate::store::queries::ReporterState;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Coverage {
    /// Grassroots units in the subtree.
    pub expected_units: i64,
    /// Of those, units that reported at least one figure in the stock month (the
    /// month itself for a monthly answer).
    pub reported_units: i64,
    /// Expected reporters (federations that upload) in the subtree.
    pub expected_reporters: i64,
    /// Of those, reporters with an accepted submission in the stock month.
    pub reported_reporters: i64,
    /// Expected reporters × months of the period.
    pub expected_reporter_months: i64,
    /// Accepted reports over the months of the period (the 报送率 numerator).
    pub reported_reporter_months: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MetricCoverage {
    /// Units that reported this metric (flow metrics over several months: the
    /// most in any one month).
    pub reported_units: i64,
}

/// Which months a period answer is made of.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MonthsView {
    /// Every month of the period, oldest first.
    pub expected: Vec<String>,
    /// Months with anything reported.
    pub present: Vec<String>,
    /// Months with nothing reported.
    pub missing: Vec<String>,
    /// The month stock metrics (期末数) come from: the period's last month
    /// whose coverage meets `reporting.full_coverage_share`, else the latest
    /// month present (the answer is then partial); null when nothing was
    /// reported.
    pub stock_month: Option<String>,
    /// Months whose units reported fall short of the share (missing months
    /// included): flow sums over the period miss part of them.
    pub short: Vec<String>,
}

/// Which tree an answer used, and how the other one differs for the node asked.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TreeUsed {
    /// `as_reported` (each month under the tree in force in that month) or
    /// `current` (history restated under today's tree).
    pub used: TreeView,
    /// Set when the tree of the period's last month and the current tree
    /// differ for this node: the grassroots units counted in one view and not
    /// in the other.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub differs: Option<TreeDifference>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TreeDifference {
    /// The month whose tree is compared with the current one.
    pub month: String,
    /// Units under the node in the current tree but not in the month's.
    pub units_moved_in: usize,
    /// Units under the node in the month's tree but not in the current one.
    pub units_moved_out: usize,
    /// Their codes (at most 100 each).
    pub moved_in: Vec<String>,
    pub moved_out: Vec<String>,
}

impl TreeUsed {
    /// What `view` means for `node` in `month`.
    /// `newest`: the first month of the current tree (`newest_tree_from`).
    pub async fn of(
        ctx: &crate::context::AppContext,
        view: TreeView,
        code: &str,
        month: Period,
        newest: i64,
    ) -> sqlx::Result<TreeUsed> {
        let differs = if month.key() < newest {
            let (mut moved_in, mut moved_out) = ctx.store.tree_difference(code, month).await?;
            let (n_in, n_out) = (moved_in.len(), moved_out.len());
            moved_in.truncate(100);
            moved_out.truncate(100);
            (n_in + n_out > 0).then(|| TreeDifference {
                month: month.to_string(),
                units_moved_in: n_in,
                units_moved_out: n_out,
                moved_in,
                moved_out,
            })
        } else {
            None
        };
        Ok(TreeUsed {
            used: view,
            differs,
        })
    }
}

/// `code` as the tree `at` has it; a unit not in that tree answers with its
/// current name and nothing under it.
///
/// `newest` is the first month of the current tree: from it on a month's tree
/// is the current one, and an open unit's current row answers without a query.
pub async fn node_in(
    ctx: &crate::context::AppContext,
    current: &OrgRow,
    at: TreeAt,
    newest: i64,
) -> sqlx::Result<OrgRow> {
    if current.closed_from.is_none() && at.key() >= newest {
        return Ok(current.clone());
    }
    Ok(match ctx.store.org_at(&current.code, at).await? {
        Some(o) => o,
        None => current.outside_tree(),
    })
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IndicatorsView {
    pub org: String,
    pub name: String,
    pub kind: String,
    /// The period asked for: `2026-10`, `2026Q4`, `2026` or `2026SY`.
    pub period: String,
    /// `month`, `quarter`, `year` or `stat_year`.
    pub period_kind: String,
    pub months: MonthsView,
    pub coverage: Coverage,
    /// Set when the answer rests on partial coverage (部分报送): its stock
    /// month or a month of its flow sums has fewer than
    /// `reporting.full_coverage_share` of the node's units reported, so the
    /// figures are not the whole subtree's.
    pub partial: bool,
    /// Where the answer rests on partial coverage, or took its stock figures
    /// from an earlier month than the period's last, in both languages; empty
    /// when neither.
    pub partial_notes: Vec<unionstat_core::Message>,
    /// Over the subtree: stock metrics as of the stock month (期末数), flow
    /// metrics summed over the months present (累计数); null when no unit
    /// reported it.
    pub metrics: BTreeMap<String, Option<f64>>,
    /// How many units reported each metric (only metrics with reports).
    pub metric_coverage: BTreeMap<String, MetricCoverage>,
    /// Ratio of sums, with numerator and denominator; null value for a zero or
    /// unreported denominator.
    pub indicators: BTreeMap<String, Rate>,
    /// For a month: the node's approval (逐级审核) and whether the month is
    /// locked for it. Absent for longer periods.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval: Option<ApprovalView>,
    /// The tree the answer used (on the node asked, not on its children).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tree: Option<TreeUsed>,
    /// 环比 and 同比 (absent on the earlier answers themselves).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparisons: Option<Comparisons>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(no_recursion)]
    pub children: Option<Vec<IndicatorsView>>,
}

/// A metric's value over the subtree and the units that reported it; none
/// when no unit did.
fn metric_value(m: &Metric, fig: &PeriodFigures) -> Option<(f64, i64)> {
    let t = fig.totals.get(&m.code).filter(|t| t.units > 0)?;
    Some((m.to_f64(t.value), t.units))
}

/// 报送率 over the period: accepted reports of the expected reporters in each
/// of its months.
fn reporting_rate(coverage: &Coverage) -> Rate {
    Rate::of(
        (coverage.expected_reporters > 0).then_some(coverage.reported_reporter_months as f64),
        Some(coverage.expected_reporter_months as f64),
    )
}

impl Coverage {
    fn of(months: usize, org: &OrgRow, fig: &PeriodFigures) -> Coverage {
        Coverage {
            expected_units: org.subtree_units,
            reported_units: fig.reported_units,
            expected_reporters: org.subtree_reporters,
            reported_reporters: fig.reported_reporters,
            expected_reporter_months: org.subtree_reporters * months as i64,
            reported_reporter_months: fig.reporter_months,
        }
    }
}

/// The months of `all` with nothing reported.
fn missing_months(all: &[Period], fig: &PeriodFigures) -> Vec<String> {
    all.iter()
        .filter(|m| !fig.months_present.contains(m))
        .map(|m| m.to_string())
        .collect()
}

impl IndicatorsView {
    pub fn build(
        catalog: &Catalog,
        period: ReportPeriod,
        org: &OrgRow,
        fig: &PeriodFigures,
    ) -> IndicatorsView {
        let mut metrics = BTreeMap::new();
        let mut metric_coverage = BTreeMap::new();
        for m in &catalog.metrics {
            let v = metric_value(m, fig);
            metrics.insert(m.code.clone(), v.map(|(value, _)| value));
            if let Some((_, units)) = v {
                metric_coverage.insert(
                    m.code.clone(),
                    MetricCoverage {
                        reported_units: units,
                    },
                );
            }
        }
        let mut indicators = BTreeMap::new();
        for ind in &catalog.indicators {
            indicators.insert(
                ind.code.clone(),
                indicator(catalog, ind, |c| fig.totals.get(c).copied()),
            );
        }
        let all_months = period.months();
        let coverage = Coverage::of(all_months.len(), org, fig);
        indicators.insert("reporting_rate".to_string(), reporting_rate(&coverage));
        let present: Vec<String> = fig.months_present.iter().map(|m| m.to_string()).collect();
        IndicatorsView {
            org: org.code.clone(),
            name: org.name.clone(),
            kind: org.kind.clone(),
            period: period.to_string(),
            period_kind: period.kind().to_string(),
            months: MonthsView {
                missing: missing_months(&all_months, fig),
                expected: all_months.iter().map(|m| m.to_string()).collect(),
                present,
                stock_month: fig.stock_month.map(|m| m.to_string()),
                short: fig
                    .short_months
                    .iter()
                    .map(|(m, _)| m.to_string())
                    .collect(),
            },
            partial: fig.is_partial(),
            partial_notes: fig.coverage_notes(),
            coverage,
            metrics,
            metric_coverage,
            indicators,
            approval: None,
            tree: None,
            comparisons: None,
            children: None,
        }
    }

    pub fn rate(&self, code: &str) -> Option<f64> {
        self.indicators.get(code).and_then(|r| r.value)
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReporterView {
    pub code: String,
    pub name: String,
    pub parent_code: Option<String>,
    /// on_time, late, returned (the accepted report was returned by a
    /// reviewer: not reported until a new upload is accepted), pending,
    /// rejected (only rejected submissions), missing
    pub status: String,
    /// The submission that decides the status (the accepted one, else the
    /// pending one, else the last rejected one).
    pub submission_id: Option<i64>,
    pub received_at: Option<String>,
    /// When the first report that was accepted for the month arrived: this is
    /// what on time or late is judged by (a later correction does not make a
    /// report late).
    pub first_accepted_at: Option<String>,
    /// The reporter's contact (联系人, master data: kept from its cover
    /// sheets and edited by staff): 填报人, 联系电话, email; null when unknown.
    pub preparer: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// The reporter has approved its subtree for the month (逐级审核).
    pub approved: bool,
    /// The latest review (审核) of the accepted report by a federation above:
    /// approved, or returned (退回) with its comment; null while unreviewed.
    pub review: Option<crate::flows::review::ReviewView>,
    /// The accepted report is a nil report (零报告): reported, with no figures.
    pub nil_report: bool,
}

/// 报送率 and 及时率 of one federation of the subtree.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LevelView {
    pub org: String,
    pub name: String,
    /// 0 for the node asked about, 1 for its children, …
    pub level: i64,
    pub expected_reporters: usize,
    pub reported: usize,
    pub on_time: usize,
    pub late: usize,
    pub pending: usize,
    pub rejected: usize,
    pub missing: usize,
    /// Accepted reports returned by a reviewer (退回): not reported.
    pub returned: usize,
    /// Of the reported: nil reports (零报告).
    pub nil_reports: usize,
    /// 报送率: reported / expected.
    pub reporting_rate: Rate,
    /// 及时率: reported on time / expected.
    pub timeliness_rate: Rate,
    /// This federation has approved its subtree for the month.
    pub approved: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CompletenessView {
    pub org: String,
    pub name: String,
    /// The form whose reports are counted (`monthly` unless asked).
    pub form: String,
    pub period: String,
    /// The day reports are due (end of day in `reporting.time_zone`):
    /// `reporting.deadline_day` of the following month; another form's own
    /// deadline (the annual survey's 2026SY: 2026-11-15).
    pub deadline: String,
    pub expected_reporters: usize,
    pub reported: usize,
    pub on_time: usize,
    pub late: usize,
    pub pending: usize,
    pub rejected: usize,
    pub missing: usize,
    /// Accepted reports returned by a reviewer (退回): not reported.
    pub returned: usize,
    /// Of the reported: nil reports (零报告), reported with no figures.
    pub nil_reports: usize,
    /// 报送率: reported / expected.
    pub reporting_rate: Rate,
    /// 及时率: reported on time / expected.
    pub timeliness_rate: Rate,
    /// The node's approval (逐级审核) and whether the month is locked for it.
    pub approval: ApprovalView,
    /// The node and each federation below it with reporters: the same counts.
    pub levels: Vec<LevelView>,
    pub reporters: Vec<ReporterView>,
    /// The tree whose expected reporters were counted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tree: Option<TreeUsed>,
}

/// What completeness needs besides each reporter's state.
#[derive(Debug, Clone, Default)]
pub struct CompletenessInputs {
    pub first_accepted: HashMap<String, String>,
    pub contacts: HashMap<String, ContactRow>,
    pub reporter_paths: HashMap<String, String>,
    pub levels: Vec<LevelOrg>,
    /// Live approvals of the month in the subtree and above it.
    pub approvals: HashMap<String, ApprovalRow>,
    /// The node's approval and lock.
    pub approval: Option<ApprovalView>,
    /// The latest review of each accepted submission, by submission id.
    pub reviews: HashMap<i64, crate::store::reviews::ReviewRow>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    expected: usize,
    reported: usize,
    on_time: usize,
    late: usize,
    pending: usize,
    rejected: usize,
    missing: usize,
    returned: usize,
    nil_reports: usize,
}

impl Counts {
    fn add(&mut self, status: &str, nil_report: bool) {
        self.expected += 1;
        self.nil_reports += usize::from(nil_report);
        match status {
            "on_time" => {
                self.reported += 1;
                self.on_time += 1;
            }
            "late" => {
                self.reported += 1;
                self.late += 1;
            }
            "pending" => self.pending += 1,
            "rejected" => self.rejected += 1,
            "returned" => self.returned += 1,
            _ => self.missing += 1,
        }
    }

    fn rate(&self, n: usize) -> Rate {
        Rate::of(
            (self.expected > 0).then_some(n as f64),
            Some(self.expected as f64),
        )
    }
}

/// A contact's field, None when unknown or blank.
fn contact_field(contact: Option<&ContactRow>, pick: fn(&ContactRow) -> &str) -> Option<String> {
    contact
        .map(pick)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

impl CompletenessView {
    pub fn build(
        org_code: &str,
        org_name: &str,
        fp: &FormPeriod,
        reporting: &crate::config::ReportingSettings,
        states: Vec<ReporterState>,
        inputs: &CompletenessInputs,
    ) -> CompletenessView {
        let deadline = fp.deadline(reporting);
        let mut total = Counts::default();
        let mut per_level: HashMap<&str, Counts> = HashMap::new();
        let mut reporters = Vec::with_capacity(states.len());
        for s in states {
            let first = inputs.first_accepted.get(&s.code).cloned();
            let review = match s.status.as_str() {
                "accepted" => s.submission_id.and_then(|id| inputs.reviews.get(&id)),
                _ => None,
            };
            let returned =
                review.is_some_and(|r| r.decision == crate::store::reviews::Decision::Returned);
            let status = match s.status.as_str() {
                "accepted" if returned => "returned",
                "accepted" => {
                    let received = first
                        .as_deref()
                        .or(s.received_at.as_deref())
                        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
                    if received.is_some_and(|t| !fp.is_late(reporting, t.to_utc())) {
                        "on_time"
                    } else {
                        "late"
                    }
                }
                "pending" => "pending",
                "rejected" => "rejected",
                _ => "missing",
            };
            total.add(status, s.nil_report);
            if let Some(path) = inputs.reporter_paths.get(&s.code) {
                for anc in crate::store::orgs::lineage(path) {
                    per_level.entry(anc).or_default().add(status, s.nil_report);
                }
            }
            let contact = inputs.contacts.get(&s.code);
            let approved = inputs.approvals.contains_key(&s.code);
            let review = review.map(|r| {
                let path = inputs
                    .reporter_paths
                    .get(&s.code)
                    .map_or("", String::as_str);
                let visible =
                    crate::flows::review::reviewer_visible(&r.reviewer_org, path, org_code);
                crate::flows::review::ReviewView::of(r, visible)
            });
            reporters.push(ReporterView {
                code: s.code,
                name: s.name,
                parent_code: s.parent_code,
                status: status.to_string(),
                submission_id: s.submission_id,
                received_at: s.received_at,
                first_accepted_at: first,
                preparer: contact_field(contact, |c| &c.name),
                phone: contact_field(contact, |c| &c.phone),
                email: contact_field(contact, |c| &c.email),
                approved,
                review,
                nil_report: s.nil_report,
            });
        }
        let base_depth = inputs.levels.first().map_or(0, |l| l.depth);
        let levels = inputs
            .levels
            .iter()
            .map(|l| {
                let c = per_level.get(l.code.as_str()).copied().unwrap_or_default();
                LevelView {
                    org: l.code.clone(),
                    name: l.name.clone(),
                    level: l.depth - base_depth,
                    expected_reporters: c.expected,
                    reported: c.reported,
                    on_time: c.on_time,
                    late: c.late,
                    pending: c.pending,
                    rejected: c.rejected,
                    missing: c.missing,
                    returned: c.returned,
                    nil_reports: c.nil_reports,
                    reporting_rate: c.rate(c.reported),
                    timeliness_rate: c.rate(c.on_time),
                    approved: inputs.approvals.contains_key(&l.code),
                }
            })
            .collect();
        CompletenessView {
            org: org_code.to_string(),
            name: org_name.to_string(),
            form: fp.code().to_string(),
            period: fp.text(),
            deadline: deadline.to_string(),
            expected_reporters: total.expected,
            reported: total.reported,
            on_time: total.on_time,
            late: total.late,
            pending: total.pending,
            rejected: total.rejected,
            missing: total.missing,
            returned: total.returned,
            nil_reports: total.nil_reports,
            reporting_rate: total.rate(total.reported),
            timeliness_rate: total.rate(total.on_time),
            approval: inputs.approval.clone().unwrap_or_else(|| {
                ApprovalView::of(&crate::flows::locking::LockState::default(), None)
            }),
            levels,
            reporters,
            tree: None,
        }
    }
}

/// Who of a node's expected reporters reported a month, on time or late, with
/// the counts for every level of the subtree.
pub async fn completeness_view(
    ctx: &crate::context::AppContext,
    current: &OrgRow,
    period: Period,
    view: TreeView,
) -> sqlx::Result<CompletenessView> {
    form_completeness_view(ctx, current, &FormPeriod::monthly(ctx, period), view).await
}

/// [`completeness_view`] of a form's period: the form's expected reporters
/// (a form a federation reports about itself: every federation taking part,
/// the node included), each one's state from its submissions of that form
/// and period, on time or late by the form's own deadline, and the form's
/// approvals and lock.
pub async fn form_completeness_view(
    ctx: &crate::context::AppContext,
    current: &OrgRow,
    fp: &FormPeriod,
    view: TreeView,
) -> sqlx::Result<CompletenessView> {
    let p = fp.text();
    let who = fp.reporters();
    let period = fp.month();
    let store = &ctx.store;
    let at = TreeAt::of(view, period);
    let newest = store.newest_tree_from().await?;
    let org = &node_in(ctx, current, at, newest).await?;
    let states = store.reporter_states(org, who, &p, at).await?;
    // The period's approvals and lock follow the tree of its (last) month.
    let in_month = match at {
        TreeAt::Month(_) => org.clone(),
        TreeAt::Current => node_in(ctx, current, TreeAt::Month(period), newest).await?,
    };
    let approvals = store
        .live_approvals_around(&in_month, fp.code(), &p)
        .await?;
    let lock = lock_from(ctx, fp, &in_month.lineage(), &approvals);
    let approval = Some(ApprovalView::of(&lock, approvals.get(&org.code)));
    let accepted: Vec<i64> = states
        .iter()
        .filter(|s| s.status == "accepted")
        .filter_map(|s| s.submission_id)
        .collect();
    let reviews = store.latest_reviews(&accepted).await?;
    let inputs = CompletenessInputs {
        reviews,
        first_accepted: store.first_accepted_at(org, who, &p, at).await?,
        contacts: store.contacts_under(org, at).await?,
        reporter_paths: store.reporter_paths(org, who, at).await?,
        levels: store.level_orgs(org, at).await?,
        approvals,
        approval,
    };
    let mut answer = CompletenessView::build(
        &org.code,
        &org.name,
        fp,
        &ctx.settings.reporting,
        states,
        &inputs,
    );
    answer.tree = Some(TreeUsed::of(ctx, view, &org.code, period, newest).await?);
    Ok(answer)
}

/// The coverage a month of `org` needs for its figures to stand.
pub fn full_coverage(ctx: &crate::context::AppContext, org: &OrgRow) -> FullCoverage {
    FullCoverage {
        expected_units: org.subtree_units,
        share: ctx.settings.reporting.full_coverage_share,
    }
}

impl<'c> Earlier<'c> {
    /// What a comparison needs of `org`'s figures for the earlier `period`:
    /// the values of [`IndicatorsView::build`] without the rest of an answer.
    pub fn of(
        catalog: &'c Catalog,
        period: ReportPeriod,
        org: &OrgRow,
        fig: &PeriodFigures,
    ) -> Earlier<'c> {
        Earlier::with(catalog, period, org, fig, true)
    }

    /// [`Earlier::of`], with the metrics' values only `with_metrics` (a
    /// child's comparisons leave them out unless asked).
    fn with(
        catalog: &'c Catalog,
        period: ReportPeriod,
        org: &OrgRow,
        fig: &PeriodFigures,
        with_metrics: bool,
    ) -> Earlier<'c> {
        let all_months = period.months();
        let coverage = Coverage::of(all_months.len(), org, fig);
        let mut indicators: CodeMap<&'c str, Option<f64>> = catalog
            .indicators
            .iter()
            .map(|ind| {
                let rate = indicator(catalog, ind, |c| fig.totals.get(c).copied());
                (ind.code.as_str(), rate.value)
            })
            .collect();
        indicators.insert("reporting_rate", reporting_rate(&coverage).value);
        Earlier {
            period: period.to_string(),
            months: all_months.len(),
            missing: missing_months(&all_months, fig),
            coverage,
            indicators,
            metrics: if with_metrics {
                catalog
                    .metrics
                    .iter()
                    .map(|m| (m.code.as_str(), metric_value(m, fig).map(|(v, _)| v)))
                    .collect()
            } else {
                CodeMap::default()
            },
        }
    }
}

/// A node's figures for a period and, when asked, its children's: answers
/// (without approvals, tree or comparisons), or what comparisons need of an
/// earlier period.
struct Views<T> {
    org: OrgRow,
    view: T,
    children: Vec<(OrgRow, T)>,
}

/// What one read gives: the node (as the tree of the read's first period has
/// it) with its months, and its children with theirs when asked.
#[derive(Clone)]
struct Read {
    org: OrgRow,
    months: Months,
    children: Vec<(OrgRow, Months)>,
}

impl Read {
    async fn of(
        ctx: &crate::context::AppContext,
        current: &OrgRow,
        (period, more): (ReportPeriod, &[ReportPeriod]),
        with_children: bool,
        tree: TreeView,
        newest: i64,
    ) -> sqlx::Result<Read> {
        let spans = Spans::of_periods(period, more);
        let at = TreeAt::of(tree, spans.tree_month());
        let org = node_in(ctx, current, at, newest).await?;
        let months = ctx.store.node_months(&org, &spans, tree).await?;
        let children = if with_children {
            ctx.store.children_months(&org, &spans, tree).await?
        } else {
            Vec::new()
        };
        Ok(Read {
            org,
            months,
            children,
        })
    }

    /// `build` of the node's and each child's figures for `period`, one of
    /// the periods read.
    /// `build` is told whether it builds the node's (true) or a child's.
    fn views<T>(
        &self,
        ctx: &crate::context::AppContext,
        period: ReportPeriod,
        build: impl Fn(&OrgRow, &PeriodFigures, bool) -> T,
    ) -> Views<T> {
        let months = period.months();
        let of = |o: &OrgRow, by_month: &Months, node: bool| {
            build(
                o,
                &aggregate_months(&ctx.catalog, &months, by_month, full_coverage(ctx, o)),
                node,
            )
        };
        Views {
            view: of(&self.org, &self.months, true),
            children: self
                .children
                .iter()
                .map(|(child, by_month)| (child.clone(), of(child, by_month, false)))
                .collect(),
            org: self.org.clone(),
        }
    }
}

/// A period's answers with what 环比 (the period before) and, when it is
/// another one, 同比 (the same period a year earlier) need of theirs.
struct Compared<'c> {
    now: Views<IndicatorsView>,
    mom: Views<Earlier<'c>>,
    yoy: Option<Views<Earlier<'c>>>,
}

impl<'c> Compared<'c> {
    /// Periods read under one tree are read together: one read of the node's
    /// months and one of its children's for all of them. That is every period
    /// in the current-tree view, and in the as-reported view every period from
    /// the newest tree change on (the usual case: no change since the year
    /// before); an earlier period is read on its own, under its own tree.
    async fn read(
        ctx: &'c crate::context::AppContext,
        current: &OrgRow,
        period: ReportPeriod,
        children: Children,
        tree: TreeView,
        newest: i64,
    ) -> sqlx::Result<Compared<'c>> {
        let with_children = children != Children::None;
        let child_metrics = children == Children::WithMetricChanges;
        let previous = period.previous();
        let year_earlier = (period.year_earlier() != previous).then(|| period.year_earlier());
        let in_current = |p: &ReportPeriod| tree == TreeView::Current || p.last().key() >= newest;
        let together: Vec<ReportPeriod> = [Some(period), Some(previous), year_earlier]
            .into_iter()
            .flatten()
            .filter(in_current)
            .collect();
        let shared = match together.split_first() {
            Some((first, more)) => {
                Some(Read::of(ctx, current, (*first, more), with_children, tree, newest).await?)
            }
            None => None,
        };
        let read = async |p: ReportPeriod| -> sqlx::Result<Cow<'_, Read>> {
            Ok(match &shared {
                Some(r) if in_current(&p) => Cow::Borrowed(r),
                _ => {
                    Cow::Owned(Read::of(ctx, current, (p, &[]), with_children, tree, newest).await?)
                }
            })
        };
        let catalog = &ctx.catalog;
        let earlier = async |p: ReportPeriod| -> sqlx::Result<Views<Earlier<'c>>> {
            Ok(read(p).await?.views(ctx, p, |o, fig, node| {
                Earlier::with(catalog, p, o, fig, node || child_metrics)
            }))
        };
        let now = read(period).await?.views(ctx, period, |o, fig, _| {
            IndicatorsView::build(catalog, period, o, fig)
        });
        let mom = earlier(previous).await?;
        let yoy = match year_earlier {
            Some(p) => Some(earlier(p).await?),
            None => None,
        };
        Ok(Compared { now, mom, yoy })
    }
}

/// 环比 and 同比 of the node and its children (the children's metrics'
/// changes only `child_metrics`).
fn compare(
    catalog: &Catalog,
    period: ReportPeriod,
    (mom, yoy): (&Views<Earlier<'_>>, &Views<Earlier<'_>>),
    view: &mut IndicatorsView,
    children: &mut [(OrgRow, IndicatorsView)],
    child_metrics: bool,
) {
    let pair =
        |now: &IndicatorsView, mom: &Earlier<'_>, yoy: &Earlier<'_>, metrics: bool| Comparisons {
            mom: Comparison::between(now, mom, metrics),
            yoy: Comparison::between(now, yoy, metrics),
        };
    view.comparisons = Some(pair(view, &mom.view, &yoy.view, true));
    fn by_code<'a, 'c>(earlier: &'a [(OrgRow, Earlier<'c>)]) -> HashMap<&'a str, &'a Earlier<'c>> {
        earlier.iter().map(|(o, v)| (o.code.as_str(), v)).collect()
    }
    let (mom_children, yoy_children) = (by_code(&mom.children), by_code(&yoy.children));
    for (child, v) in children.iter_mut() {
        // A child not under the node in the earlier period's tree compares
        // against nothing (its coverage then differs).
        let absent = |p: ReportPeriod| {
            let nothing = Default::default();
            Cow::Owned(Earlier::of(catalog, p, &child.outside_tree(), &nothing))
        };
        let code = child.code.as_str();
        let m = mom_children
            .get(code)
            .map_or_else(|| absent(period.previous()), |v| Cow::Borrowed(*v));
        let y = yoy_children
            .get(code)
            .map_or_else(|| absent(period.year_earlier()), |v| Cow::Borrowed(*v));
        v.comparisons = Some(pair(v, &m, &y, child_metrics));
    }
}

/// Which children an indicators answer carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Children {
    /// The node alone.
    None,
    /// Each child's answer, its comparisons with the rates' changes only.
    Figures,
    /// Each child's answer, its comparisons with the metrics' changes too.
    WithMetricChanges,
}

impl Children {
    /// The node alone, or its children with the rates' changes.
    pub fn of(with_children: bool) -> Children {
        if with_children {
            Children::Figures
        } else {
            Children::None
        }
    }
}

/// A node's indicators for a month, quarter, year or statistical year, with its
/// children's when asked, each with 环比 and 同比 (see [`Comparisons`]).
///
/// `tree`: each month under the tree in force in that month (the node and its
/// children as the period's last month has them), or restated under the
/// current tree.
pub async fn indicators_view(
    ctx: &crate::context::AppContext,
    current: &OrgRow,
    period: ReportPeriod,
    children_asked: Children,
    tree: TreeView,
) -> sqlx::Result<IndicatorsView> {
    let last = period.last();
    let with_children = children_asked != Children::None;
    let newest = ctx.store.newest_tree_from().await?;
    let Compared { now, mom, yoy } =
        Compared::read(ctx, current, period, children_asked, tree, newest).await?;
    let Views {
        org,
        mut view,
        mut children,
    } = now;
    let org = &org;
    view.tree = Some(TreeUsed::of(ctx, tree, &org.code, last, newest).await?);
    compare(
        &ctx.catalog,
        period,
        (&mom, yoy.as_ref().unwrap_or(&mom)),
        &mut view,
        &mut children,
        children_asked == Children::WithMetricChanges,
    );
    if let Some(month) = period.as_month() {
        // A month's approvals and locks follow the month's own tree (the rows
        // at hand when it is the current one).
        let mut orgs: Vec<&OrgRow> = children.iter().map(|(c, _)| c).collect();
        orgs.push(org);
        let in_month = if month.key() >= newest {
            Default::default()
        } else {
            let codes: Vec<String> = orgs.iter().map(|o| o.code.clone()).collect();
            ctx.store.orgs_by_code(&codes, TreeAt::Month(month)).await?
        };
        if !in_month.is_empty() {
            orgs = in_month.values().collect();
        }
        let mut approvals = approval_views(ctx, month, &orgs).await?;
        view.approval = approvals.remove(&org.code);
        for (child, v) in children.iter_mut() {
            v.approval = approvals.remove(&child.code);
        }
    }
    view.children = with_children.then(|| children.into_iter().map(|(_, v)| v).collect());
    Ok(view)
}

/// One version of a unit: what held from `from` (null: since always) until
/// before `until` (null: still in force).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrgVersionView {
    pub from: Option<String>,
    pub until: Option<String>,
    pub name: String,
    pub parent_code: Option<String>,
    pub kind: String,
    pub expected_to_report: bool,
}

/// One audited change of a unit in the tree.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrgChangeView {
    pub at: String,
    /// Who made it: a person, a labelled key, or `cli (OS user)`.
    pub actor: String,
    /// `org_opened`, `org_moved`, `org_changed` or `org_closed`.
    pub action: String,
    /// The month it took effect from (null: since always).
    pub effective: Option<String>,
    /// `{"change", "from", "to", "effective", "reason"}`.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

/// A unit in the current tree, its versions over time and its changes.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrgHistoryView {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub parent_code: Option<String>,
    pub expected_to_report: bool,
    /// The month from which the unit is closed, if it is.
    pub closed_from: Option<String>,
    pub versions: Vec<OrgVersionView>,
    pub changes: Vec<OrgChangeView>,
}

impl OrgHistoryView {
    pub fn build(
        org: &OrgRow,
        versions: &[crate::store::orgs::OrgVersion],
        changes: &[crate::store::history::AuditRow],
    ) -> OrgHistoryView {
        let month = |k: i64| Period::from_key(k).map(|p| p.to_string());
        let closed_from = versions
            .last()
            .filter(|v| v.valid_to < crate::store::orgs::OPEN)
            .and_then(|v| month(v.valid_to));
        OrgHistoryView {
            code: org.code.clone(),
            name: org.name.clone(),
            kind: org.kind.clone(),
            parent_code: org.parent_code.clone(),
            expected_to_report: org.expected_to_report,
            closed_from,
            versions: versions
                .iter()
                .map(|v| OrgVersionView {
                    from: month(v.valid_from),
                    until: month(v.valid_to),
                    name: v.org.name.clone(),
                    parent_code: v.org.parent_code.clone(),
                    kind: v.org.kind.clone(),
                    expected_to_report: v.org.expected_to_report,
                })
                .collect(),
            changes: changes
                .iter()
                .map(|c| OrgChangeView {
                    at: c.at.clone(),
                    actor: c.actor.clone(),
                    action: c.action.clone(),
                    effective: c.period.clone(),
                    detail: c
                        .detail
                        .as_deref()
                        .and_then(|d| serde_json::from_str(d).ok())
                        .unwrap_or(serde_json::Value::Null),
                })
                .collect(),
        }
    }
}
