//! The answers federation staff read — indicators and completeness of a node —
//! in the DESIGN.md JSON shape, shared by the HTTP API and the CLI.

pub mod series;

use std::collections::BTreeMap;

use serde::Serialize;
use unionstat_core::period::ReportPeriod;
use unionstat_core::rollup::{aggregate_months, indicator, PeriodFigures, Rate};
use unionstat_core::{Catalog, Period};

use crate::store::orgs::OrgRow;
use crate::store::queries::ReporterState;

#[derive(Debug, Clone, Serialize)]
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

#[derive(Debug, Clone, Serialize)]
pub struct MetricCoverage {
    /// Units that reported this metric (flow metrics over several months: the
    /// most in any one month).
    pub reported_units: i64,
}

/// Which months a period answer is made of.
#[derive(Debug, Clone, Serialize)]
pub struct MonthsView {
    /// Every month of the period, oldest first.
    pub expected: Vec<String>,
    /// Months with anything reported.
    pub present: Vec<String>,
    /// Months with nothing reported.
    pub missing: Vec<String>,
    /// The month stock metrics (期末数) come from: the period's last month when
    /// present, else the latest month present; null when nothing was reported.
    pub stock_month: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
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
    /// Over the subtree: stock metrics as of the stock month (期末数), flow
    /// metrics summed over the months present (累计数); null when no unit
    /// reported it.
    pub metrics: BTreeMap<String, Option<f64>>,
    /// How many units reported each metric (only metrics with reports).
    pub metric_coverage: BTreeMap<String, MetricCoverage>,
    /// Ratio of sums, with numerator and denominator; null value for a zero or
    /// unreported denominator.
    pub indicators: BTreeMap<String, Rate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub children: Option<Vec<IndicatorsView>>,
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
            let t = fig.totals.get(&m.code).filter(|t| t.units > 0);
            metrics.insert(m.code.clone(), t.map(|t| m.to_f64(t.value)));
            if let Some(t) = t {
                metric_coverage.insert(
                    m.code.clone(),
                    MetricCoverage {
                        reported_units: t.units,
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
        let expected_reporters = org.subtree_reporters;
        let expected_reporter_months = expected_reporters * all_months.len() as i64;
        indicators.insert(
            "reporting_rate".to_string(),
            Rate::of(
                (expected_reporters > 0).then_some(fig.reporter_months as f64),
                Some(expected_reporter_months as f64),
            ),
        );
        let present: Vec<String> = fig.months_present.iter().map(|m| m.to_string()).collect();
        IndicatorsView {
            org: org.code.clone(),
            name: org.name.clone(),
            kind: org.kind.clone(),
            period: period.to_string(),
            period_kind: period.kind().to_string(),
            months: MonthsView {
                missing: all_months
                    .iter()
                    .filter(|m| !fig.months_present.contains(m))
                    .map(|m| m.to_string())
                    .collect(),
                expected: all_months.iter().map(|m| m.to_string()).collect(),
                present,
                stock_month: fig.stock_month.map(|m| m.to_string()),
            },
            coverage: Coverage {
                expected_units: org.subtree_units,
                reported_units: fig.reported_units,
                expected_reporters,
                reported_reporters: fig.reported_reporters,
                expected_reporter_months,
                reported_reporter_months: fig.reporter_months,
            },
            metrics,
            metric_coverage,
            indicators,
            children: None,
        }
    }

    pub fn rate(&self, code: &str) -> Option<f64> {
        self.indicators.get(code).and_then(|r| r.value)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ReporterView {
    pub code: String,
    pub name: String,
    pub parent_code: Option<String>,
    /// on_time, late, pending, rejected, missing
    pub status: String,
    pub submission_id: Option<i64>,
    pub received_at: Option<String>,
    /// Contact from the last cover sheet (填报人, 联系电话), when one was sent.
    pub preparer: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CompletenessView {
    pub org: String,
    pub name: String,
    pub period: String,
    /// The day reports are due (end of day, UTC).
    pub deadline: String,
    pub expected_reporters: usize,
    pub reported: usize,
    pub on_time: usize,
    pub late: usize,
    pub pending: usize,
    pub rejected: usize,
    pub missing: usize,
    pub reporting_rate: Rate,
    pub reporters: Vec<ReporterView>,
}

impl CompletenessView {
    pub fn build(
        org_code: &str,
        org_name: &str,
        period: Period,
        deadline_day: u32,
        states: Vec<ReporterState>,
    ) -> CompletenessView {
        let deadline = period.deadline(deadline_day);
        let mut v = CompletenessView {
            org: org_code.to_string(),
            name: org_name.to_string(),
            period: period.to_string(),
            deadline: deadline.to_string(),
            expected_reporters: states.len(),
            reported: 0,
            on_time: 0,
            late: 0,
            pending: 0,
            rejected: 0,
            missing: 0,
            reporting_rate: Rate::of(None, None),
            reporters: Vec::with_capacity(states.len()),
        };
        for s in states {
            let status = match s.status.as_str() {
                "accepted" => {
                    v.reported += 1;
                    let day = s
                        .received_at
                        .as_deref()
                        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                        .map(|t| t.date_naive());
                    if day.is_some_and(|d| d <= deadline) {
                        v.on_time += 1;
                        "on_time"
                    } else {
                        v.late += 1;
                        "late"
                    }
                }
                "pending" => {
                    v.pending += 1;
                    "pending"
                }
                "rejected" => {
                    v.rejected += 1;
                    "rejected"
                }
                _ => {
                    v.missing += 1;
                    "missing"
                }
            };
            let cover: Option<serde_json::Value> = s
                .cover
                .as_deref()
                .and_then(|c| serde_json::from_str(c).ok());
            let field = |name: &str| {
                cover
                    .as_ref()
                    .and_then(|c| c.get(name))
                    .and_then(|f| f.get("value"))
                    .and_then(|x| x.as_str())
                    .map(str::to_string)
            };
            v.reporters.push(ReporterView {
                code: s.code,
                name: s.name,
                parent_code: s.parent_code,
                status: status.to_string(),
                submission_id: s.submission_id,
                received_at: s.received_at,
                preparer: field("preparer"),
                phone: field("phone"),
            });
        }
        v.reporting_rate = Rate::of(
            (v.expected_reporters > 0).then_some(v.reported as f64),
            Some(v.expected_reporters as f64),
        );
        v
    }
}

/// A node's indicators for a month, quarter, year or statistical year, with its
/// children's when asked.
pub async fn indicators_view(
    ctx: &crate::app::AppContext,
    org: &OrgRow,
    period: ReportPeriod,
    with_children: bool,
) -> sqlx::Result<IndicatorsView> {
    let months = period.months();
    let (first, last) = (period.first(), period.last());
    let by_month = ctx.store.node_months(org, first, last).await?;
    let fig = aggregate_months(&ctx.catalog, &months, &by_month);
    let mut view = IndicatorsView::build(&ctx.catalog, period, org, &fig);
    if with_children {
        let children = ctx.store.children_months(org, first, last).await?;
        view.children = Some(
            children
                .iter()
                .map(|(child, by_month)| {
                    let fig = aggregate_months(&ctx.catalog, &months, by_month);
                    IndicatorsView::build(&ctx.catalog, period, child, &fig)
                })
                .collect(),
        );
    }
    Ok(view)
}
