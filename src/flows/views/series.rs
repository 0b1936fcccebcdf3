//! A node's indicator or metric month by month: `GET /api/v1/orgs/{code}/series`
//! and `unionstat series`.

use serde::Serialize;
use unionstat_core::catalog::{Indicator, Metric, MetricKind};
use unionstat_core::rollup::{indicator, Rate};
use unionstat_core::Period;

use crate::context::AppContext;
use crate::store::orgs::{OrgRow, TreeAt, TreeView};
use crate::store::periods::Spans;

/// The longest series answered, in months (20 years).
pub const MAX_SERIES_MONTHS: usize = 240;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SeriesPoint {
    /// The month, `YYYY-MM`.
    pub period: String,
    /// Whether anything was reported for the month.
    pub present: bool,
    /// An indicator: Σnumerator / Σdenominator; null when either is
    /// unreported or the denominator is 0. A metric: its total over the
    /// subtree for the month; null when no unit reported it.
    pub value: Option<f64>,
    /// An indicator's numerator and denominator; null for a metric.
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
    /// Grassroots units with any figure that month.
    pub reported_units: i64,
    /// A metric: the grassroots units that reported it that month; null for
    /// an indicator.
    pub value_units: Option<i64>,
    /// The month was reported but by fewer than `reporting.full_coverage_share`
    /// of the node's units (those of the tree at `to`): the point rests on
    /// partial coverage (部分报送).
    pub partial: bool,
    /// 环比: the change from the previous month's value, in `change_unit`
    /// (an indicator: percentage points; a metric: percent of the earlier
    /// total, null when that is 0); null when either value is null.
    pub mom_change: Option<f64>,
    /// 同比: the change from the same month a year earlier, in `change_unit`;
    /// null when either value is null. Both earlier months are read under the
    /// same tree as the point, also before `from`.
    pub yoy_change: Option<f64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SeriesView {
    pub org: String,
    pub name: String,
    /// The code asked for: an indicator, `reporting_rate` or a metric.
    pub indicator: String,
    /// `rate` for an indicator; a metric's kind as the catalogue says,
    /// `stock` (期末数) or `flow` (累计数). A month's value is the month's
    /// figure either way.
    pub kind: String,
    /// `points` (percentage points) for an indicator's 环比 and 同比,
    /// `percent` (of the earlier total) for a metric's.
    pub change_unit: String,
    pub zh: String,
    pub en: String,
    /// The metric codes the rate divides (`reporting_rate`: reporters); null
    /// for a metric.
    pub numerator: Option<String>,
    pub denominator: Option<String>,
    pub from: String,
    pub to: String,
    pub points: Vec<SeriesPoint>,
    /// `reporting.full_coverage_share`: points below it are `partial`.
    pub full_coverage_share: f64,
    /// The tree the months were read under.
    pub tree: crate::flows::views::TreeUsed,
}

/// What is wrong with a series request (the caller's mistake, not the server's).
#[derive(Debug, thiserror::Error)]
pub enum SeriesError {
    /// The code is neither an indicator nor a metric; the codes that are.
    #[error("“{0}”既不是目录中的指标代码，也不是统计项代码。指标：{1}；统计项：{2} / {0:?} is neither an indicator nor a metric of the catalogue. Indicators: {1}; metrics: {2}")]
    UnknownIndicator(String, String, String),
    #[error("起始月 {0} 晚于截止月 {1} / from {0} is after to {1}")]
    Reversed(String, String),
    #[error("{0} 至 {1} 共 {2} 个月，最多回答 {MAX_SERIES_MONTHS} 个月 / from {0} to {1} spans {2} months; at most {MAX_SERIES_MONTHS} are answered")]
    TooLong(String, String, usize),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The indicator codes a series may ask for.
pub fn indicator_codes(ctx: &AppContext) -> Vec<String> {
    let mut codes: Vec<String> = ctx
        .catalog
        .indicators
        .iter()
        .map(|i| i.code.clone())
        .collect();
    codes.push("reporting_rate".into());
    codes
}

fn months_between(from: Period, to: Period) -> usize {
    let (a, b) = (
        from.year() as i64 * 12 + from.month() as i64,
        to.year() as i64 * 12 + to.month() as i64,
    );
    (b - a + 1).max(0) as usize
}

/// The indicator or metric `code` of `org` for every month from `from` to `to`
/// (both included).
pub async fn series_view(
    ctx: &AppContext,
    current: &OrgRow,
    code: &str,
    from: Period,
    to: Period,
    tree: TreeView,
) -> Result<SeriesView, SeriesError> {
    if from > to {
        return Err(SeriesError::Reversed(from.to_string(), to.to_string()));
    }
    let n = months_between(from, to);
    if n > MAX_SERIES_MONTHS {
        return Err(SeriesError::TooLong(from.to_string(), to.to_string(), n));
    }
    let what = Asked::of(ctx, code)?;
    let newest = ctx.store.newest_tree_from().await?;
    let org = &crate::flows::views::node_in(ctx, current, TreeAt::of(tree, to), newest).await?;
    let year_before = Period::new(from.year() - 1, from.month()).unwrap_or(from);
    let by_month = ctx
        .store
        .node_months(org, &Spans::range(year_before, to), tree)
        .await?;
    let rate_of = |month: &Period| {
        let fig = by_month.get(month);
        match (&what, fig) {
            (Asked::Indicator(ind), Some(f)) => {
                indicator(&ctx.catalog, ind, |c| f.totals.get(c).copied())
            }
            (Asked::Indicator(_), None) | (Asked::Metric(_), _) => Rate::of(None, None),
            (Asked::Reporting, f) => {
                let expected = org.subtree_reporters;
                Rate::of(
                    (expected > 0).then(|| f.map_or(0, |f| f.reported_reporters) as f64),
                    Some(expected as f64),
                )
            }
        }
    };
    // A metric's total and the units that reported it; None for indicators.
    let total_of = |month: &Period| match &what {
        Asked::Metric(m) => by_month
            .get(month)
            .and_then(|f| f.totals.get(&m.code))
            .filter(|t| t.units > 0)
            .map(|t| (m.to_f64(t.value), t.units)),
        _ => None,
    };
    let value_of = |month: &Period| match &what {
        Asked::Metric(_) => total_of(month).map(|(v, _)| v),
        _ => rate_of(month).value,
    };
    let full = crate::flows::views::full_coverage(ctx, org);
    let mut points = Vec::with_capacity(n);
    let mut month = from;
    while month <= to {
        let fig = by_month.get(&month);
        let rate = rate_of(&month);
        let value = value_of(&month);
        let change_from = |earlier: Period| {
            let before = (earlier >= year_before)
                .then(|| value_of(&earlier))
                .flatten();
            match what {
                Asked::Metric(_) => super::compare::Change::percent(value, before).change,
                _ => super::compare::Change::points(value, before).change,
            }
        };
        let a_year_before = Period::new(month.year() - 1, month.month()).unwrap_or(month);
        let present = fig.is_some_and(|f| f.is_present());
        let reported_units = fig.map_or(0, |f| f.reported_units);
        points.push(SeriesPoint {
            period: month.to_string(),
            present,
            value,
            numerator: rate.numerator,
            denominator: rate.denominator,
            reported_units,
            value_units: total_of(&month).map(|(_, u)| u),
            partial: present && !full.is_met(reported_units),
            mom_change: change_from(month.previous()),
            yoy_change: change_from(a_year_before),
        });
        month = month.next();
    }
    Ok(SeriesView {
        org: org.code.clone(),
        name: org.name.clone(),
        indicator: code.to_string(),
        kind: what.kind().to_string(),
        change_unit: match what {
            Asked::Metric(_) => "percent",
            _ => "points",
        }
        .to_string(),
        zh: what.zh().to_string(),
        en: what.en().to_string(),
        numerator: what.parts().map(|(n, _)| n.to_string()),
        denominator: what.parts().map(|(_, d)| d.to_string()),
        from: from.to_string(),
        to: to.to_string(),
        points,
        full_coverage_share: full.share,
        tree: crate::flows::views::TreeUsed::of(ctx, tree, &org.code, to, newest).await?,
    })
}

/// What a series asks for.
enum Asked<'c> {
    Indicator(&'c Indicator),
    /// 报送率: reporters, not metrics.
    Reporting,
    Metric(&'c Metric),
}

impl<'c> Asked<'c> {
    fn of(ctx: &'c AppContext, code: &str) -> Result<Asked<'c>, SeriesError> {
        if code == "reporting_rate" {
            return Ok(Asked::Reporting);
        }
        if let Some(ind) = ctx.catalog.indicators.iter().find(|i| i.code == code) {
            return Ok(Asked::Indicator(ind));
        }
        if let Some(m) = ctx.catalog.metric(code) {
            return Ok(Asked::Metric(m));
        }
        let metrics: Vec<&str> = ctx
            .catalog
            .metrics
            .iter()
            .map(|m| m.code.as_str())
            .collect();
        Err(SeriesError::UnknownIndicator(
            code.to_string(),
            indicator_codes(ctx).join(", "),
            metrics.join(", "),
        ))
    }

    fn kind(&self) -> &'static str {
        match self {
            Asked::Metric(m) => match m.kind {
                MetricKind::Stock => "stock",
                MetricKind::Flow => "flow",
            },
            _ => "rate",
        }
    }

    fn zh(&self) -> &str {
        match self {
            Asked::Indicator(i) => &i.zh,
            Asked::Reporting => "报送率",
            Asked::Metric(m) => &m.zh,
        }
    }

    fn en(&self) -> &str {
        match self {
            Asked::Indicator(i) => &i.en,
            Asked::Reporting => "Reporting rate",
            Asked::Metric(m) => &m.en,
        }
    }

    /// The numerator's and denominator's codes of a rate.
    fn parts(&self) -> Option<(&str, &str)> {
        match self {
            Asked::Indicator(i) => Some((&i.numerator, &i.denominator)),
            Asked::Reporting => Some(("reported_reporters", "expected_reporters")),
            Asked::Metric(_) => None,
        }
    }
}
