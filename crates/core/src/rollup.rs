//! Roll-up arithmetic: ratio of sums, never average of ratios.

pub mod ledger;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, Indicator, MetricKind};
use crate::issue::Message;
use crate::period::Period;

/// The sum of one metric over a subtree, and how many units reported it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Total {
    /// Σ of the scaled values.
    pub value: i64,
    /// Grassroots units that reported this metric.
    pub units: i64,
}

/// A rate with what it was computed from. `value` is null when the denominator is
/// zero or unreported, or the numerator unreported: never NaN or ∞.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rate {
    pub value: Option<f64>,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
}

impl Rate {
    /// Σnumerator / Σdenominator, both already in natural units.
    pub fn of(numerator: Option<f64>, denominator: Option<f64>) -> Rate {
        let value = match (numerator, denominator) {
            (Some(n), Some(d)) if d != 0.0 && n.is_finite() && d.is_finite() => Some(n / d),
            _ => None,
        };
        Rate {
            value,
            numerator,
            denominator,
        }
    }
}

/// An indicator over totals keyed by metric code; an unreported metric (no unit
/// reported it) is `None`, never zero. Its metrics are looked up in every
/// form of `catalog` (an indicator spanning forms reads a monthly
/// denominator), so pass the whole catalogue, not a form's view.
pub fn indicator<F>(catalog: &Catalog, ind: &Indicator, total: F) -> Rate
where
    F: Fn(&str) -> Option<Total>,
{
    let natural = |code: &str| {
        let t = total(code)?;
        if t.units == 0 {
            return None;
        }
        Some(catalog.any_metric(code)?.to_f64(t.value))
    };
    Rate::of(natural(&ind.numerator), natural(&ind.denominator))
}

/// Totals keyed by metric code (see [`crate::CodeMap`] for its hash).
pub type Totals = crate::CodeMap<String, Total>;

/// Empty totals with room for `n` metrics (a map grown one insert at a time
/// is rebuilt five times on the way to the catalogue's size).
pub fn totals_with_capacity(n: usize) -> Totals {
    Totals::with_capacity_and_hasher(n, Default::default())
}

/// A node's figures for one month: its totals and coverage.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MonthFigures {
    pub totals: Totals,
    /// Grassroots units with any figure this month.
    pub reported_units: i64,
    /// Expected reporters with an accepted report this month.
    pub reported_reporters: i64,
}

impl MonthFigures {
    /// Whether anything was reported for the month: a figure or an accepted report.
    pub fn is_present(&self) -> bool {
        self.reported_units > 0
            || self.reported_reporters > 0
            || self.totals.values().any(|t| t.units > 0)
    }
}

/// How much of a node's units a month must cover for its figures to stand
/// for the node: `share` of `expected_units` (the units of its subtree).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FullCoverage {
    pub expected_units: i64,
    /// 0..=1; `reporting.full_coverage_share`.
    pub share: f64,
}

impl FullCoverage {
    /// Every month stands (no units expected, or no share asked).
    pub const ANY: FullCoverage = FullCoverage {
        expected_units: 0,
        share: 0.0,
    };

    /// Whether `reported_units` meet the share. A node without expected units
    /// is covered by whatever it has.
    pub fn is_met(&self, reported_units: i64) -> bool {
        self.expected_units <= 0
            || reported_units as f64 >= self.share * self.expected_units as f64 - 1e-9
    }
}

/// A node's figures over a period of one or more months.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PeriodFigures {
    /// Stock metrics: the value of `stock_month` (期末数). Flow metrics: the sum
    /// over the months present (累计数), with `units` the most units that
    /// reported it in any one month.
    pub totals: Totals,
    /// The months of the period with anything reported, oldest first.
    pub months_present: Vec<Period>,
    /// The month stock figures come from: the last month whose coverage meets
    /// the share, else (partial) the latest month present; None: nothing
    /// reported.
    pub stock_month: Option<Period>,
    /// Coverage of `stock_month`.
    pub reported_units: i64,
    pub reported_reporters: i64,
    /// Σ over the months of the expected reporters with an accepted report
    /// (reporter-months), for the period's 报送率.
    pub reporter_months: i64,
    /// The rule the months were judged by.
    pub full: Option<FullCoverage>,
    /// No month met the share: the stock figures rest on partial coverage.
    pub stock_partial: bool,
    /// A later month present whose coverage fell short, passed over for the
    /// stock figures (month, units reported).
    pub stock_passed_over: Option<(Period, i64)>,
    /// Months of the period whose coverage falls short of the share (month,
    /// units reported; 0 for a month with nothing): the flow sums miss them.
    pub short_months: Vec<(Period, i64)>,
}

impl PeriodFigures {
    /// Whether anything in the answer rests on partial coverage: its stock
    /// month, or a month its flow sums are made of.
    pub fn is_partial(&self) -> bool {
        self.stock_partial || !self.short_months.is_empty()
    }

    /// Where the answer rests on partial coverage or took its stock figures
    /// from an earlier month, in words (empty when it does neither).
    pub fn coverage_notes(&self) -> Vec<Message> {
        let Some(full) = self.full else {
            return Vec::new();
        };
        let expected = full.expected_units;
        let pct = format!("{}%", (full.share * 100.0).round());
        let mut notes = Vec::new();
        if let (Some(m), Some((later, units))) = (self.stock_month, self.stock_passed_over) {
            notes.push(Message {
                zh: format!(
                    "期末数取自 {m}（覆盖率达到 {pct} 的最后一个月）；{later} 仅 {units}/{expected} 个基层工会报送。"
                ),
                en: format!(
                    "Stock figures are as of {m}, the last month with at least {pct} of units reported; {later} has {units} of {expected}."
                ),
            });
        }
        if self.stock_partial {
            if let Some(m) = self.stock_month {
                let units = self.reported_units;
                notes.push(Message {
                    zh: format!(
                        "期末数仅覆盖部分单位：{m} 有 {units}/{expected} 个基层工会报送，未达 {pct}。"
                    ),
                    en: format!(
                        "Stock figures rest on partial coverage: {m} has {units} of {expected} units reported, under {pct}."
                    ),
                });
            }
        }
        if !self.short_months.is_empty() {
            let list = self
                .short_months
                .iter()
                .map(|(m, u)| format!("{m} {u}/{expected}"))
                .collect::<Vec<_>>()
                .join(", ");
            notes.push(Message {
                zh: format!("以下月份报送未达 {pct}，流量数（累计数）不完整：{list}。"),
                en: format!(
                    "Months under {pct} of units reported, so flow sums are incomplete: {list}."
                ),
            });
        }
        notes
    }
}

/// Aggregates the monthly figures of one node over `months` (oldest first):
/// stock metrics by the last month whose coverage meets `full` (else, marked
/// partial, the latest month present), flow metrics by sum, with the months
/// short of `full` listed. Months of `by_month` outside `months` are ignored;
/// metrics the catalogue does not know are left out.
pub fn aggregate_months(
    catalog: &Catalog,
    months: &[Period],
    by_month: &BTreeMap<Period, MonthFigures>,
    full: FullCoverage,
) -> PeriodFigures {
    let mut out = PeriodFigures {
        full: Some(full),
        totals: totals_with_capacity(catalog.metrics.len()),
        ..PeriodFigures::default()
    };
    let present: Vec<(Period, &MonthFigures)> = months
        .iter()
        .filter_map(|m| by_month.get(m).filter(|f| f.is_present()).map(|f| (*m, f)))
        .collect();
    out.months_present = present.iter().map(|(m, _)| *m).collect();
    out.reporter_months = present.iter().map(|(_, f)| f.reported_reporters).sum();
    out.short_months = months
        .iter()
        .map(|m| {
            let units = by_month
                .get(m)
                .filter(|f| f.is_present())
                .map_or(0, |f| f.reported_units);
            (*m, units)
        })
        .filter(|(_, units)| !full.is_met(*units))
        .collect();
    let Some(&(latest, latest_fig)) = present.last() else {
        return out;
    };
    let covered = present
        .iter()
        .rev()
        .find(|(_, f)| full.is_met(f.reported_units))
        .copied();
    let (stock_month, stock) = match covered {
        Some(c) => {
            if c.0 != latest {
                out.stock_passed_over = Some((latest, latest_fig.reported_units));
            }
            c
        }
        None => {
            out.stock_partial = true;
            (latest, latest_fig)
        }
    };
    out.stock_month = Some(stock_month);
    out.reported_units = stock.reported_units;
    out.reported_reporters = stock.reported_reporters;
    for metric in &catalog.metrics {
        let total = match metric.kind {
            MetricKind::Stock => stock.totals.get(&metric.code).copied(),
            MetricKind::Flow => {
                let mut sum: Option<Total> = None;
                for (_, f) in &present {
                    if let Some(t) = f.totals.get(&metric.code).filter(|t| t.units > 0) {
                        let s = sum.get_or_insert_with(Total::default);
                        s.value += t.value;
                        s.units = s.units.max(t.units);
                    }
                }
                sum
            }
        };
        if let Some(t) = total.filter(|t| t.units > 0) {
            out.totals.insert(metric.code.clone(), t);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn ratio_of_sums_and_null_for_zero_denominator() {
        let c = Catalog::builtin().unwrap();
        let ind = c
            .indicators
            .iter()
            .find(|i| i.code == "membership_rate")
            .unwrap();
        let mut t = HashMap::new();
        // Two units: 1/1 and 1/99: average of ratios would be 0.505, ratio of sums 0.02.
        t.insert("members", Total { value: 2, units: 2 });
        t.insert(
            "employees",
            Total {
                value: 100,
                units: 2,
            },
        );
        let r = indicator(&c, ind, |m| t.get(m).copied());
        assert_eq!(r.value, Some(0.02));
        t.insert("employees", Total { value: 0, units: 2 });
        assert_eq!(indicator(&c, ind, |m| t.get(m).copied()).value, None);
        t.remove("employees");
        let r = indicator(&c, ind, |m| t.get(m).copied());
        assert_eq!((r.value, r.denominator), (None, None));
    }
}

#[cfg(test)]
mod aggregate_tests {
    use super::*;
    use crate::period::ReportPeriod;

    fn month(members: i64, new_members: i64, reporters: i64) -> MonthFigures {
        let mut totals = Totals::default();
        totals.insert(
            "members".to_string(),
            Total {
                value: members,
                units: 2,
            },
        );
        totals.insert(
            "new_members".to_string(),
            Total {
                value: new_members,
                units: 2,
            },
        );
        MonthFigures {
            totals,
            reported_units: 2,
            reported_reporters: reporters,
        }
    }

    fn figures(data: &[(&str, MonthFigures)]) -> BTreeMap<Period, MonthFigures> {
        data.iter()
            .map(|(m, f)| (m.parse().unwrap(), f.clone()))
            .collect()
    }

    fn agg(period: &str, data: &BTreeMap<Period, MonthFigures>) -> PeriodFigures {
        let c = Catalog::builtin().unwrap();
        let p: ReportPeriod = period.parse().unwrap();
        aggregate_months(&c, &p.months(), data, FullCoverage::ANY)
    }

    #[test]
    fn stock_takes_the_period_end_and_flow_the_sum() {
        let data = figures(&[
            ("2026-09", month(90, 4, 1)),
            ("2026-10", month(100, 5, 1)),
            ("2026-11", month(110, 7, 1)),
            ("2026-12", month(120, 3, 1)),
        ]);
        let q = agg("2026Q4", &data);
        assert_eq!(q.totals["members"].value, 120);
        assert_eq!(q.totals["new_members"].value, 15);
        assert_eq!(q.stock_month, Some("2026-12".parse().unwrap()));
        assert_eq!(q.months_present.len(), 3);
        assert_eq!(q.reporter_months, 3);
        let m = agg("2026-10", &data);
        assert_eq!(
            (m.totals["members"].value, m.totals["new_members"].value),
            (100, 5)
        );
        // The calendar year: members of December, new members of Sep..Dec.
        let y = agg("2026", &data);
        assert_eq!(
            (y.totals["members"].value, y.totals["new_members"].value),
            (120, 19)
        );
        // The statistical year 2027SY (2026-10 .. 2027-09) has Oct..Dec only:
        // its stock is December's, the latest month present.
        let sy = agg("2027SY", &data);
        assert_eq!(
            (sy.totals["members"].value, sy.totals["new_members"].value),
            (120, 15)
        );
        assert_eq!(sy.stock_month, Some("2026-12".parse().unwrap()));
        // 2026SY (2025-10 .. 2026-09) has September only.
        let sy = agg("2026SY", &data);
        assert_eq!(
            (sy.totals["members"].value, sy.totals["new_members"].value),
            (90, 4)
        );
    }

    #[test]
    fn a_missing_period_end_falls_back_to_the_latest_month_and_says_so() {
        let data = figures(&[("2026-10", month(100, 5, 1)), ("2026-11", month(110, 7, 1))]);
        let q = agg("2026Q4", &data);
        assert_eq!(q.stock_month, Some("2026-11".parse().unwrap()));
        assert_eq!(q.totals["members"].value, 110);
        assert_eq!(q.totals["new_members"].value, 12);
        let present: Vec<String> = q.months_present.iter().map(|m| m.to_string()).collect();
        assert_eq!(present, vec!["2026-10", "2026-11"]);
        // Nothing reported: no figure at all (missing is not zero).
        let empty = agg("2027Q1", &data);
        assert!(empty.totals.is_empty());
        assert_eq!(empty.stock_month, None);
        assert!(empty.months_present.is_empty());
    }

    fn units(members: i64, units: i64) -> MonthFigures {
        let mut f = month(members, 1, 1);
        f.reported_units = units;
        f
    }

    #[test]
    fn stock_comes_from_the_last_month_that_meets_the_share_and_short_months_are_named() {
        let c = Catalog::builtin().unwrap();
        let q: ReportPeriod = "2026Q4".parse().unwrap();
        // 60 units expected, 90 % asked: December has 28 of 60.
        let data = figures(&[
            ("2026-10", units(100, 60)),
            ("2026-11", units(110, 58)),
            ("2026-12", units(130, 28)),
        ]);
        let full = FullCoverage {
            expected_units: 60,
            share: 0.9,
        };
        let f = aggregate_months(&c, &q.months(), &data, full);
        assert_eq!(f.stock_month, Some("2026-11".parse().unwrap()));
        assert_eq!(f.totals["members"].value, 110);
        assert_eq!(f.reported_units, 58);
        assert!(!f.stock_partial);
        assert_eq!(f.stock_passed_over, Some(("2026-12".parse().unwrap(), 28)));
        assert_eq!(f.short_months, vec![("2026-12".parse().unwrap(), 28)]);
        assert!(f.is_partial());
        let notes = f.coverage_notes();
        assert_eq!(notes.len(), 2);
        assert_eq!(
            notes[0].zh,
            "期末数取自 2026-11（覆盖率达到 90% 的最后一个月）；2026-12 仅 28/60 个基层工会报送。"
        );
        assert_eq!(
            notes[1].en,
            "Months under 90% of units reported, so flow sums are incomplete: 2026-12 28/60."
        );
        // No month meets the share: the latest present, marked partial; a
        // month with nothing counts as short with 0 units.
        let data = figures(&[("2026-10", units(50, 30)), ("2026-11", units(55, 31))]);
        let f = aggregate_months(&c, &q.months(), &data, full);
        assert_eq!(f.stock_month, Some("2026-11".parse().unwrap()));
        assert!(f.stock_partial);
        assert_eq!(f.stock_passed_over, None);
        let short: Vec<(String, i64)> = f
            .short_months
            .iter()
            .map(|(m, u)| (m.to_string(), *u))
            .collect();
        assert_eq!(
            short,
            vec![
                ("2026-10".into(), 30),
                ("2026-11".into(), 31),
                ("2026-12".into(), 0)
            ]
        );
        assert!(f.coverage_notes()[0]
            .en
            .starts_with("Stock figures rest on partial coverage: 2026-11 has 31 of 60"));
        // Exactly the share is enough (54 of 60 is 90 %).
        let data = figures(&[("2026-10", units(100, 54))]);
        let m: ReportPeriod = "2026-10".parse().unwrap();
        let f = aggregate_months(&c, &m.months(), &data, full);
        assert!(!f.is_partial());
        assert!(f.coverage_notes().is_empty());
    }
}
