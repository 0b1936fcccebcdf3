//! 同比 and 环比: an answer against the same answer for an earlier period.

use std::collections::BTreeMap;

use serde::Serialize;

use unionstat_core::{CodeMap, Message};

use super::{Coverage, IndicatorsView};

/// What a comparison needs of the earlier period (built by `Earlier::of`):
/// its coverage, its months with nothing reported, and every indicator's and
/// metric's value keyed by the catalogue's codes.
#[derive(Debug, Clone)]
pub struct Earlier<'c> {
    /// `2025-10`, `2026Q3`, `2025`, `2025SY`.
    pub period: String,
    pub coverage: Coverage,
    /// How many months the period has.
    pub months: usize,
    /// Its months with nothing reported.
    pub missing: Vec<String>,
    pub indicators: CodeMap<&'c str, Option<f64>>,
    /// Empty when the comparison leaves the metrics out (a child's, unless
    /// asked for).
    pub metrics: CodeMap<&'c str, Option<f64>>,
}

/// 环比 and 同比 of an indicators answer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Comparisons {
    /// 环比: against the previous period of the same kind (the previous month,
    /// quarter, calendar year or statistical year).
    pub mom: Comparison,
    /// 同比: against the same period one year earlier (for a year or a
    /// statistical year, the previous one, as `mom`).
    pub yoy: Comparison,
}

/// One comparison: the earlier period's figures under the same tree view as
/// the answer, and how far the answer moved from them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Comparison {
    /// The earlier period: `2025-10`, `2026Q3`, `2025`, `2025SY`.
    pub period: String,
    /// The earlier period's coverage.
    pub coverage: super::Coverage,
    /// Set when the earlier period's coverage differs from the answer's
    /// (expected or reported units, expected or reported reporters), or a
    /// quarter or year before has months with nothing reported: the change then mixes
    /// a change of the figures with a change of who is counted.
    pub coverage_differs: bool,
    /// What differs, in both languages (empty when nothing does).
    pub coverage_note: Vec<Message>,
    /// Each indicator with a value now or then: the earlier value and the
    /// change in percentage points.
    pub indicators: BTreeMap<String, Change>,
    /// Each metric reported now or then: the earlier value and the change in
    /// percent of it. Absent from a child's comparisons unless the answer was
    /// asked with `child_metric_changes=true` (the page and the export read
    /// only the rates of the children).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics: Option<BTreeMap<String, Change>>,
}

/// A figure of the earlier period and the change to the answer's.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Change {
    /// The earlier value (a rate as a fraction, as in `indicators`); null when
    /// it was not reported.
    pub earlier: Option<f64>,
    /// Rates: (now − earlier) × 100, in percentage points. Counts and
    /// amounts: (now − earlier) / earlier × 100, in percent; null when the
    /// earlier value is null or 0. Null when the current value is null.
    pub change: Option<f64>,
}

impl Change {
    /// A rate's change in percentage points.
    pub fn points(now: Option<f64>, earlier: Option<f64>) -> Change {
        Change {
            earlier,
            change: now.zip(earlier).map(|(n, e)| (n - e) * 100.0),
        }
    }

    /// A count's change in percent of the earlier count.
    pub fn percent(now: Option<f64>, earlier: Option<f64>) -> Change {
        Change {
            earlier,
            change: now
                .zip(earlier.filter(|e| *e != 0.0))
                .map(|(n, e)| (n - e) / e * 100.0),
        }
    }
}

/// Whether a figure has a value in either period (figures with neither are
/// left out of a comparison).
fn reported(now: Option<f64>, earlier: Option<f64>) -> bool {
    now.is_some() || earlier.is_some()
}

/// Why the coverage of `earlier` and `now` differ, in both languages.
fn coverage_note(now: &IndicatorsView, earlier: &Earlier<'_>) -> Vec<Message> {
    let (a, b) = (&now.coverage, &earlier.coverage);
    let p = &earlier.period;
    let mut note = Vec::new();
    let counts = |zh: &str, en: &str, then: (i64, i64), now: (i64, i64)| Message {
        zh: format!("{zh}：{p} {}/{}，本期 {}/{}", then.0, then.1, now.0, now.1),
        en: format!(
            "{en}: {p} {} of {}, now {} of {}",
            then.0, then.1, now.0, now.1
        ),
    };
    if (a.reported_units, a.expected_units) != (b.reported_units, b.expected_units) {
        note.push(counts(
            "已报基层工会",
            "units reported",
            (b.reported_units, b.expected_units),
            (a.reported_units, a.expected_units),
        ));
    }
    if (a.reported_reporters, a.expected_reporters) != (b.reported_reporters, b.expected_reporters)
    {
        note.push(counts(
            "已报单位",
            "reporters reported",
            (b.reported_reporters, b.expected_reporters),
            (a.reported_reporters, a.expected_reporters),
        ));
    }
    // A month with nothing reported already shows in its units.
    if earlier.months > 1 && !earlier.missing.is_empty() {
        let months = earlier.missing.join(", ");
        note.push(Message {
            zh: format!("{p} 有月份无任何报送：{months}"),
            en: format!("{p} has months with nothing reported: {months}"),
        });
    }
    note
}

impl Comparison {
    /// `label`, the earlier period and, where its coverage differs, why:
    /// `环比 2026-09 — 口径不同 coverage differs: …`.
    pub fn described(&self, label: &str) -> String {
        let mut s = format!("{label} {}", self.period);
        if self.coverage_differs {
            s.push_str(" — 口径不同 coverage differs: ");
            let notes: Vec<String> = self
                .coverage_note
                .iter()
                .map(|m| format!("{} {}", m.zh, m.en))
                .collect();
            s.push_str(&notes.join("; "));
        }
        s
    }

    /// `now` against `earlier`, two answers for the same node; the metrics'
    /// changes only `with_metrics`.
    pub fn between(now: &IndicatorsView, earlier: &Earlier<'_>, with_metrics: bool) -> Comparison {
        let indicators = now
            .indicators
            .iter()
            .filter_map(|(code, rate)| {
                let before = earlier.indicators.get(code.as_str()).copied().flatten();
                reported(rate.value, before)
                    .then(|| (code.clone(), Change::points(rate.value, before)))
            })
            .collect();
        let metrics = with_metrics.then(|| {
            now.metrics
                .iter()
                .filter_map(|(code, value)| {
                    let before = earlier.metrics.get(code.as_str()).copied().flatten();
                    reported(*value, before)
                        .then(|| (code.clone(), Change::percent(*value, before)))
                })
                .collect()
        });
        let coverage_note = coverage_note(now, earlier);
        Comparison {
            period: earlier.period.clone(),
            coverage: earlier.coverage.clone(),
            coverage_differs: !coverage_note.is_empty(),
            coverage_note,
            indicators,
            metrics,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Change;

    #[test]
    fn rates_move_in_points_and_counts_in_percent() {
        let c = Change::points(Some(0.95), Some(0.9));
        assert!((c.change.unwrap() - 5.0).abs() < 1e-9);
        let c = Change::percent(Some(110.0), Some(100.0));
        assert!((c.change.unwrap() - 10.0).abs() < 1e-9);
        assert_eq!(Change::percent(Some(5.0), Some(0.0)).change, None);
        assert_eq!(Change::percent(Some(5.0), None).change, None);
        assert_eq!(Change::points(None, Some(0.5)).change, None);
    }
}
