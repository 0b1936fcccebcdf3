//! Validation of a read workbook against the catalogue's rules and master data.
//!
//! Two phases: [`resolve_header`] decides who reports for which month (cover vs the
//! caller's own reporter/period); then, once the service has loaded the master data
//! and last month's figures, [`validate`] checks every cell and cross-figure rule.
//! Each finding is an [`Issue`](crate::issue::Issue) naming sheet and cell.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::period::Period;

mod rules;

pub use rules::{resolve_header, validate};

/// Who reports, for which month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub reporter: String,
    pub period: Period,
}

/// A unit of the master data, as validation needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MasterUnit {
    pub code: String,
    pub name: String,
    pub parent_code: Option<String>,
    /// A grassroots union (a leaf that carries figures), not a federation.
    pub grassroots: bool,
}

/// Everything [`validate`] needs besides the workbook.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    pub catalog: &'a Catalog,
    pub reporter: &'a str,
    pub period: Period,
    /// Today, for "the period is not in the future".
    pub today: NaiveDate,
    /// The period is closed for this reporter.
    pub locked: bool,
    /// The units named in the sheet that exist in master data and that the
    /// uploader may know of (its own subtree; the whole tree for an admin). A code
    /// not here is `unit_unknown`, whether it exists elsewhere or not; one here but
    /// not a grassroots union directly under the reporter is
    /// `unit_not_under_reporter`, and nothing more of it is quoted.
    pub known_units: &'a HashMap<String, MasterUnit>,
    /// The grassroots units directly under the reporter: code → name. These are the
    /// units the sheet must cover.
    pub expected_units: &'a BTreeMap<String, String>,
    /// Each unit's previous report of each stock figure (its latest month
    /// before this one): (unit, metric) → scaled value. Only the reporter's own
    /// units are compared with it.
    pub previous: &'a HashMap<(String, String), i64>,
    /// Relative change against the previous report above which a stock figure is
    /// warned about (0.5 = 50 %); figures below `min_change_base` before are
    /// exempt.
    pub max_monthly_change: f64,
    pub min_change_base: i64,
    /// Statistics of the unit's stock figures of the months before this one
    /// (up to 12): (unit, metric) → their count, mean and standard deviation. A
    /// figure more than `outlier_sigma` standard deviations from their mean is
    /// warned about, when there are at least `outlier_min_months` of them.
    pub history: &'a HashMap<(String, String), History>,
    pub outlier_sigma: f64,
    pub outlier_min_months: usize,
}

/// What the outlier rule needs of a unit's past figures of one metric.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct History {
    /// Months with a figure.
    pub months: usize,
    /// Mean and population standard deviation of the scaled figures.
    pub mean: f64,
    pub sd: f64,
}

impl History {
    /// From the figures themselves.
    pub fn of(values: &[i64]) -> Option<History> {
        let (mean, sd) = mean_sd(values)?;
        Some(History {
            months: values.len(),
            mean,
            sd,
        })
    }

    /// From the count, Σx and Σx² a database computes (population variance
    /// E[x²] − mean², never below zero).
    pub fn of_sums(months: i64, sum: f64, sum_sq: f64) -> Option<History> {
        if months <= 0 {
            return None;
        }
        let n = months as f64;
        let mean = sum / n;
        let var = (sum_sq / n - mean * mean).max(0.0);
        Some(History {
            months: months as usize,
            mean,
            sd: var.sqrt(),
        })
    }
}

/// Mean and (population) standard deviation of scaled values.
pub fn mean_sd(values: &[i64]) -> Option<(f64, f64)> {
    if values.is_empty() {
        return None;
    }
    let n = values.len() as f64;
    let mean = values.iter().map(|v| *v as f64).sum::<f64>() / n;
    let var = values
        .iter()
        .map(|v| (*v as f64 - mean).powi(2))
        .sum::<f64>()
        / n;
    Some((mean, var.sqrt()))
}
