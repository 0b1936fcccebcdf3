//! Reconciliation of a form with the monthly return (issue 18): where an
//! annual figure and the monthly figures measure the same thing (members,
//! employees; the survey's rows and the unions established), an upload warns
//! when they differ by more than a configured share, naming both values and
//! the month the monthly figure is read from.

use std::collections::HashMap;

use crate::catalog::Catalog;
use crate::issue::{Issue, Message};
use crate::period::Period;

/// What the uploaded form says and what the monthly return says.
#[derive(Debug, Clone)]
pub struct Sides<'a> {
    /// The form's totals over the workbook's rows, by metric code (scaled).
    pub form_totals: &'a HashMap<String, i64>,
    /// The number of rows the workbook reports.
    pub rows: i64,
    /// The monthly return's totals of the same units for `month`, by monthly
    /// metric code (scaled); a metric nobody reported is absent.
    pub monthly: &'a HashMap<String, i64>,
}

/// The warnings of an upload of `form` (a form view) against the monthly
/// return of `month` (`monthly`: the catalogue's monthly view): one per pair
/// whose two values differ by more than `share` of the monthly value. A pair
/// the month has no figure for is not compared (missing is not zero).
pub fn reconcile(
    form: &Catalog,
    monthly: &Catalog,
    sides: &Sides<'_>,
    month: Period,
    share: f64,
) -> Vec<Issue> {
    let mut pairs: Vec<(Message, i64, String)> = Vec::new();
    for m in &form.metrics {
        let Some(other) = &m.reconciles_with else {
            continue;
        };
        let Some(v) = sides.form_totals.get(&m.code) else {
            continue;
        };
        let label = Message {
            zh: m.zh.clone(),
            en: m.en.clone(),
        };
        pairs.push((label, *v, other.clone()));
    }
    if let Some(other) = &form.form.rows_reconcile_with {
        let label = Message {
            zh: format!(
                "基层工会数（本表行数，对应{}）",
                monthly
                    .metric(other)
                    .map_or(other.as_str(), |m| m.zh.as_str())
            ),
            en: format!(
                "Grassroots unions (rows of this form, against {})",
                monthly
                    .metric(other)
                    .map_or(other.as_str(), |m| m.en.as_str())
            ),
        };
        pairs.push((label, sides.rows, other.clone()));
    }
    let mut out = Vec::new();
    for (label, value, other) in pairs {
        let Some(m) = monthly.metric(&other) else {
            continue;
        };
        let Some(&month_value) = sides.monthly.get(&other) else {
            continue;
        };
        let gap = (value - month_value).abs();
        let base = month_value.abs().max(1);
        let off = gap as f64 / base as f64;
        if off <= share {
            continue;
        }
        // Both sides of a pair are in the monthly metric's unit.
        let (value_s, monthly_s) = (m.format(value), m.format(month_value));
        let (share_s, limit_s) = (percent(off), percent(share));
        let month_s = month.to_string();
        out.push(monthly.bilingual_issue(
            "reconcile_mismatch",
            None,
            None,
            Some(&value_s),
            &[
                ("monthly", &monthly_s),
                ("month", &month_s),
                ("share", &share_s),
                ("limit", &limit_s),
            ],
            &[("metric", &label)],
        ));
    }
    out
}

/// A share as a percentage with at most one decimal: 0.05 → "5%", 0.0625 → "6.3%".
fn percent(share: f64) -> String {
    let p = (share * 1000.0).round() / 10.0;
    if (p - p.round()).abs() < 1e-9 {
        format!("{}%", p.round() as i64)
    } else {
        format!("{p:.1}%")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_apart_by_more_than_the_share_warn_with_both_values_and_the_month() {
        let c = Catalog::builtin().unwrap();
        let annual = c.form("annual_survey").unwrap();
        let form_totals: HashMap<String, i64> = [
            ("sy_members".to_string(), 1_060),
            ("sy_employees".to_string(), 1_250),
        ]
        .into();
        let monthly: HashMap<String, i64> = [
            ("members".to_string(), 1_000),
            ("employees".to_string(), 1_200),
            ("unions_established".to_string(), 3),
        ]
        .into();
        let sides = Sides {
            form_totals: &form_totals,
            rows: 3,
            monthly: &monthly,
        };
        let sept: Period = "2026-09".parse().unwrap();
        let issues = reconcile(annual, &c, &sides, sept, 0.05);
        // Members: 60 apart = 6% > 5%; employees: 50 apart = 4.2%; rows equal.
        assert_eq!(issues.len(), 1, "{issues:?}");
        let i = &issues[0];
        assert_eq!(i.rule, "reconcile_mismatch");
        assert_eq!(i.severity, crate::issue::Severity::Warning);
        assert_eq!(i.value.as_deref(), Some("1060"));
        assert_eq!(
            i.message.zh,
            "会员人数：本表合计 1060，2026-09 月报为 1000，相差 6%，超过 5%。请核对。"
        );
        assert_eq!(
            i.message.en,
            "Members: this form totals 1060, the monthly return of 2026-09 says 1000, 6% apart, more than 5%. Please check."
        );
        // A tighter share catches employees too; a month without figures, nothing.
        assert_eq!(reconcile(annual, &c, &sides, sept, 0.04).len(), 2);
        let none = HashMap::new();
        let bare = Sides {
            monthly: &none,
            ..sides.clone()
        };
        assert!(reconcile(annual, &c, &bare, sept, 0.0).is_empty());
        // The rows against the unions established.
        let four = Sides { rows: 4, ..sides };
        let issues = reconcile(annual, &c, &four, sept, 0.05);
        assert_eq!(issues.len(), 2);
        assert!(issues[1].message.zh.starts_with("基层工会数（本表行数，对应已建会单位数）：本表合计 4，2026-09 月报为 3，相差 33.3%"), "{}", issues[1].message.zh);
    }
}
