//! Roll-up arithmetic: ratio of sums, never average of ratios.

use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, Indicator};

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
/// reported it) is `None`, never zero.
pub fn indicator<F>(catalog: &Catalog, ind: &Indicator, total: F) -> Rate
where
    F: Fn(&str) -> Option<Total>,
{
    let natural = |code: &str| {
        let t = total(code)?;
        if t.units == 0 {
            return None;
        }
        Some(catalog.metric(code)?.to_f64(t.value))
    };
    Rate::of(natural(&ind.numerator), natural(&ind.denominator))
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
