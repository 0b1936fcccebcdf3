//! A node's indicator month by month: `GET /api/v1/orgs/{code}/series` and
//! `unionstat series`.

use serde::Serialize;
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
    /// Σnumerator / Σdenominator; null when either is unreported or the
    /// denominator is 0.
    pub value: Option<f64>,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
    /// Grassroots units with any figure that month.
    pub reported_units: i64,
    /// The month was reported but by fewer than `reporting.full_coverage_share`
    /// of the node's units (those of the tree at `to`): the point rests on
    /// partial coverage (部分报送).
    pub partial: bool,
    /// 环比: the change from the previous month's value, in percentage
    /// points; null when either value is null.
    pub mom_change: Option<f64>,
    /// 同比: the change from the same month a year earlier, in percentage
    /// points; null when either value is null. Both earlier months are read
    /// under the same tree as the point, also before `from`.
    pub yoy_change: Option<f64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SeriesView {
    pub org: String,
    pub name: String,
    pub indicator: String,
    pub zh: String,
    pub en: String,
    /// The metric codes the rate divides (`reporting_rate`: reporters).
    pub numerator: String,
    pub denominator: String,
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
    #[error("indicator {0:?} is not in the catalogue; use one of: {1}")]
    UnknownIndicator(String, String),
    #[error("from {0} is after to {1}")]
    Reversed(String, String),
    #[error("from {0} to {1} spans {2} months; at most {MAX_SERIES_MONTHS} are answered")]
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

/// The indicator of `org` for every month from `from` to `to` (both included).
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
    let (zh, en, numerator, denominator, ind) = if code == "reporting_rate" {
        (
            "报送率".to_string(),
            "Reporting rate".to_string(),
            "reported_reporters".to_string(),
            "expected_reporters".to_string(),
            None,
        )
    } else {
        let ind = ctx
            .catalog
            .indicators
            .iter()
            .find(|i| i.code == code)
            .ok_or_else(|| {
                SeriesError::UnknownIndicator(code.to_string(), indicator_codes(ctx).join(", "))
            })?;
        (
            ind.zh.clone(),
            ind.en.clone(),
            ind.numerator.clone(),
            ind.denominator.clone(),
            Some(ind),
        )
    };
    let newest = ctx.store.newest_tree_from().await?;
    let org = &crate::flows::views::node_in(ctx, current, TreeAt::of(tree, to), newest).await?;
    let year_before = Period::new(from.year() - 1, from.month()).unwrap_or(from);
    let by_month = ctx
        .store
        .node_months(org, &Spans::range(year_before, to), tree)
        .await?;
    let rate_of = |month: &Period| {
        let fig = by_month.get(month);
        match (ind, fig) {
            (Some(ind), Some(f)) => indicator(&ctx.catalog, ind, |c| f.totals.get(c).copied()),
            (Some(_), None) => Rate::of(None, None),
            (None, f) => {
                let expected = org.subtree_reporters;
                Rate::of(
                    (expected > 0).then(|| f.map_or(0, |f| f.reported_reporters) as f64),
                    Some(expected as f64),
                )
            }
        }
    };
    let full = crate::flows::views::full_coverage(ctx, org);
    let mut points = Vec::with_capacity(n);
    let mut month = from;
    while month <= to {
        let fig = by_month.get(&month);
        let rate = rate_of(&month);
        let change_from = |earlier: Period| {
            let before = (earlier >= year_before).then(|| rate_of(&earlier).value);
            super::compare::Change::points(rate.value, before.flatten()).change
        };
        let a_year_before = Period::new(month.year() - 1, month.month()).unwrap_or(month);
        let present = fig.is_some_and(|f| f.is_present());
        let reported_units = fig.map_or(0, |f| f.reported_units);
        points.push(SeriesPoint {
            period: month.to_string(),
            present,
            value: rate.value,
            numerator: rate.numerator,
            denominator: rate.denominator,
            reported_units,
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
        zh,
        en,
        numerator,
        denominator,
        from: from.to_string(),
        to: to.to_string(),
        points,
        full_coverage_share: full.share,
        tree: crate::flows::views::TreeUsed::of(ctx, tree, &org.code, to, newest).await?,
    })
}
