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
use crate::period::{Period, ReportPeriod};

mod explain;
mod form;
mod outliers;
mod rules;

pub use explain::{
    check_given, explain, given_json, GivenExplanation, MAX_EXPLANATIONS, MAX_EXPLANATION_CHARS,
};

pub use outliers::{hidiroglou_berthelot, OutlierTest};

pub use form::{parse_form_period, resolve_form_header, FormHeader};
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
    /// The robust outlier test on the stock figures of the reporter's own
    /// units against their previous reports ([`hidiroglou_berthelot`]).
    pub outliers: OutlierTest,
    /// The submitter declares a nil report (零报告: the upload's flag or the
    /// cover's line): a sheet without figures is then a report, and one with
    /// figures is refused.
    pub nil_report: bool,
    /// Explanations (说明) given with the upload, one per finding of an
    /// explain-severity rule (checked with [`check_given`]); the sheet's 说明
    /// column gives the others ([`explain`]).
    pub explanations: &'a [GivenExplanation],
    /// The period of a form that is not monthly (`2026SY`); `period` is then
    /// its last month (the period has begun when that month has).
    pub form_period: Option<ReportPeriod>,
}
