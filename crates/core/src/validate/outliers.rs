//! The robust outlier test of the `outlier` warning: Hidiroglou–Berthelot on
//! the units of one sheet, each against its own previous report.
//!
//! A unit's ratio r = this month / previous report is compared with the
//! median ratio of the sheet's units (the change they have in common: a
//! smooth trend moves every ratio alike), made symmetric (a halving counts as
//! much as a doubling) and weighted by the unit's size, so a small unit's
//! wobble weighs less than a large unit's. The fences are the median of
//! those effects plus or minus `fence` times their quartile distances (never
//! less than [`A`] of the median): a figure is an outlier only against how
//! the other units of the same sheet moved, never against a standard
//! deviation a stable series makes tiny. It must also move at least
//! `min_change` away from the common change, so noise on a flat series is
//! never news.

/// Settings of the test (`[validation]` in the service's configuration).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OutlierTest {
    /// C: how many quartile distances beyond the median effect a unit must lie.
    pub fence: f64,
    /// Least relative distance from the sheet's common change (0.1 = 10 %).
    pub min_change: f64,
    /// Fewer comparable units than this in a sheet: no test (no robust median).
    pub min_units: usize,
}

/// Size weight U of the effects (0.5: square root of the larger figure).
pub const U: f64 = 0.5;
/// Least fence half-width as a share of the median effect.
pub const A: f64 = 0.05;

/// The verdict on one sheet's column.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// The median ratio of this month to the previous report (the common change).
    pub median_ratio: f64,
    /// Indices (into the pairs given) of the outliers.
    pub outliers: Vec<usize>,
}

/// Tests `pairs` of (this month, previous report); a pair with a figure of 0
/// or below takes no part (the monthly-change warning speaks for it). None
/// when fewer than `min_units` pairs take part.
pub fn hidiroglou_berthelot(pairs: &[(i64, i64)], test: &OutlierTest) -> Option<Verdict> {
    let taking: Vec<(usize, f64, f64)> = pairs
        .iter()
        .enumerate()
        .filter(|(_, (now, before))| *now > 0 && *before > 0)
        .map(|(i, (now, before))| (i, *now as f64, *before as f64))
        .collect();
    if taking.len() < test.min_units.max(3) {
        return None;
    }
    let mut ratios: Vec<f64> = taking.iter().map(|(_, now, before)| now / before).collect();
    let median_ratio = quantile(&mut ratios, 0.5);
    let effect = |now: f64, before: f64| {
        let r = now / before;
        let s = if r < median_ratio {
            1.0 - median_ratio / r
        } else {
            r / median_ratio - 1.0
        };
        (s, s * now.max(before).powf(U))
    };
    let mut effects: Vec<f64> = taking.iter().map(|(_, n, b)| effect(*n, *b).1).collect();
    let (q1, med, q3) = (
        quantile(&mut effects, 0.25),
        quantile(&mut effects, 0.5),
        quantile(&mut effects, 0.75),
    );
    let low = med - test.fence * (med - q1).max(A * med.abs());
    let high = med + test.fence * (q3 - med).max(A * med.abs());
    let outliers = taking
        .iter()
        .filter(|(_, now, before)| {
            let (s, e) = effect(*now, *before);
            s.abs() >= test.min_change && (e < low || e > high)
        })
        .map(|(i, _, _)| *i)
        .collect();
    Some(Verdict {
        median_ratio,
        outliers,
    })
}

/// The `q` quantile (0..=1) by linear interpolation between order statistics;
/// sorts `values`, which must not be empty.
fn quantile(values: &mut [f64], q: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    let at = q * (values.len() - 1) as f64;
    let (lo, hi) = (at.floor() as usize, at.ceil() as usize);
    values[lo] + (values[hi] - values[lo]) * (at - lo as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEST: OutlierTest = OutlierTest {
        fence: 4.0,
        min_change: 0.1,
        min_units: 5,
    };

    /// Twenty units on a smooth upward trend (+1.5 % to +2.5 %), sizes 50..1000.
    fn trend() -> Vec<(i64, i64)> {
        (0..20)
            .map(|i| {
                let before = 50 + 50 * i;
                let growth = 1.015 + 0.01 * (i % 3) as f64 / 2.0;
                ((before as f64 * growth).round() as i64, before)
            })
            .collect()
    }

    #[test]
    fn a_smooth_trend_has_no_outlier() {
        let v = hidiroglou_berthelot(&trend(), &TEST).unwrap();
        assert_eq!(v.outliers, Vec::<usize>::new());
        assert!((v.median_ratio - 1.02).abs() < 0.006, "{}", v.median_ratio);
    }

    #[test]
    fn a_jump_against_the_trend_is_the_one_outlier() {
        let mut pairs = trend();
        // Unit 12 (650 members before) reports 910: +40 % where the others +2 %.
        pairs[12] = (910, 650);
        // Unit 3 (200) falls to 150: −25 %.
        pairs[3] = (150, 200);
        let v = hidiroglou_berthelot(&pairs, &TEST).unwrap();
        assert_eq!(v.outliers, vec![3, 12]);
    }

    #[test]
    fn a_small_wobble_beyond_the_fences_is_not_news() {
        // Every unit exactly +2 %: the quartile distances are 0, so any other
        // ratio is beyond the fences; +7 % is still under the least change.
        let mut pairs: Vec<(i64, i64)> = (1..=10).map(|i| (102 * i, 100 * i)).collect();
        pairs[4] = (535, 500);
        assert_eq!(
            hidiroglou_berthelot(&pairs, &TEST).unwrap().outliers,
            Vec::<usize>::new()
        );
        pairs[4] = (700, 500);
        assert_eq!(
            hidiroglou_berthelot(&pairs, &TEST).unwrap().outliers,
            vec![4]
        );
    }

    #[test]
    fn too_few_comparable_units_give_no_verdict() {
        // Zeros take no part: four units remain of six.
        let pairs = [(10, 10), (11, 10), (0, 10), (12, 0), (50, 10), (10, 9)];
        assert_eq!(hidiroglou_berthelot(&pairs, &TEST), None);
    }

    #[test]
    fn quantiles_interpolate() {
        assert_eq!(quantile(&mut [4.0, 1.0, 3.0, 2.0], 0.5), 2.5);
        assert_eq!(quantile(&mut [1.0, 2.0, 3.0, 4.0, 5.0], 0.25), 2.0);
        assert_eq!(quantile(&mut [7.0], 0.75), 7.0);
    }
}
