//! Reporting periods. Facts are monthly; a month is written `2026-10`.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::text::to_half_width;

/// A calendar month, the grain of every fact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    year: i32,
    month: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid month: {0:?} (write it like 2026-10 or 2026年10月)")]
pub struct PeriodError(pub String);

impl Period {
    pub fn new(year: i32, month: u32) -> Result<Period, PeriodError> {
        if (1900..=9999).contains(&year) && (1..=12).contains(&month) {
            Ok(Period { year, month })
        } else {
            Err(PeriodError(format!("{year}-{month}")))
        }
    }

    pub fn year(&self) -> i32 {
        self.year
    }

    pub fn month(&self) -> u32 {
        self.month
    }

    pub fn of_date(d: NaiveDate) -> Period {
        Period {
            year: d.year(),
            month: d.month(),
        }
    }

    pub fn previous(&self) -> Period {
        if self.month == 1 {
            Period {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Period {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    pub fn next(&self) -> Period {
        if self.month == 12 {
            Period {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Period {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    /// The first day of the month.
    pub fn first_day(&self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or_default()
    }

    /// The reporting deadline: day `day` of the following month (clamped to its end).
    pub fn deadline(&self, day: u32) -> NaiveDate {
        let next = self.next();
        let mut d = day.max(1);
        loop {
            if let Some(date) = NaiveDate::from_ymd_opt(next.year, next.month, d) {
                return date;
            }
            d -= 1;
        }
    }

    /// The last day changes are open: `after_days` days after the deadline
    /// (`day` of the following month). From the next day on the month is
    /// locked. `after_days = 0`: the month never closes by time.
    pub fn closes_on(&self, day: u32, after_days: u32) -> Option<NaiveDate> {
        if after_days == 0 {
            return None;
        }
        self.deadline(day)
            .checked_add_days(chrono::Days::new(u64::from(after_days)))
    }

    /// Whether the month is closed on `today` (see [`Period::closes_on`]).
    pub fn is_closed(&self, day: u32, after_days: u32, today: NaiveDate) -> bool {
        self.closes_on(day, after_days).is_some_and(|c| today > c)
    }

    /// Reads the forms clerks write: `2026-10`, `2026-1`, `2026/10`, `2026.10`,
    /// `2026年10月`, `202610`, and a date `2026-10-31` (its month).
    pub fn parse_loose(raw: &str) -> Result<Period, PeriodError> {
        let err = || PeriodError(raw.to_string());
        let s: String = to_half_width(raw)
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if s.is_empty() {
            return Err(err());
        }
        // 202610
        if s.len() == 6 && s.chars().all(|c| c.is_ascii_digit()) {
            let y = s[..4].parse().map_err(|_| err())?;
            let m = s[4..].parse().map_err(|_| err())?;
            return Period::new(y, m).map_err(|_| err());
        }
        // 2026年10月, 2026年10月31日
        let s = s.replace('年', "-").replace('月', "-").replace('日', "");
        let parts: Vec<&str> = s.split(['-', '/', '.']).filter(|p| !p.is_empty()).collect();
        if !(2..=3).contains(&parts.len()) || parts[0].len() != 4 {
            return Err(err());
        }
        if parts
            .iter()
            .any(|p| !p.chars().all(|c| c.is_ascii_digit()) || p.len() > 4)
        {
            return Err(err());
        }
        let y: i32 = parts[0].parse().map_err(|_| err())?;
        let m: u32 = parts[1].parse().map_err(|_| err())?;
        if parts.len() == 3 {
            let d: u32 = parts[2].parse().map_err(|_| err())?;
            NaiveDate::from_ymd_opt(y, m, d).ok_or_else(err)?;
        }
        Period::new(y, m).map_err(|_| err())
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for Period {
    type Err = PeriodError;

    /// Strict `YYYY-MM`, as the API and CLI take it.
    fn from_str(s: &str) -> Result<Period, PeriodError> {
        let err = || PeriodError(s.to_string());
        let (y, m) = s.split_once('-').ok_or_else(err)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(err());
        }
        let y = y.parse().map_err(|_| err())?;
        let m = m.parse().map_err(|_| err())?;
        Period::new(y, m).map_err(|_| err())
    }
}

impl Serialize for Period {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Period, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loose_forms() {
        let p = Period::new(2026, 10).unwrap();
        for s in [
            "2026-10",
            "2026年10月",
            "202610",
            "2026/10",
            "2026.10",
            " 2026-10-31 ",
            "２０２６年１０月",
        ] {
            assert_eq!(Period::parse_loose(s), Ok(p), "{s}");
        }
        assert_eq!(
            Period::parse_loose("2026-1"),
            Ok(Period::new(2026, 1).unwrap())
        );
        for s in ["", "2026-13", "26-10", "October", "2026-02-30", "2026"] {
            assert!(Period::parse_loose(s).is_err(), "{s}");
        }
    }

    #[test]
    fn a_month_closes_the_configured_days_after_its_deadline() {
        let p: Period = "2026-09".parse().unwrap();
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        // Due 2026-10-10; closed 20 days later, from 2026-10-31 on.
        assert_eq!(p.closes_on(10, 20), Some(d("2026-10-30")));
        assert!(!p.is_closed(10, 20, d("2026-10-30")));
        assert!(p.is_closed(10, 20, d("2026-10-31")));
        // 0: never by time.
        assert_eq!(p.closes_on(10, 0), None);
        assert!(!p.is_closed(10, 0, d("2099-01-01")));
    }

    #[test]
    fn strict_form_and_arithmetic() {
        let p: Period = "2026-01".parse().unwrap();
        assert_eq!(p.previous().to_string(), "2025-12");
        assert_eq!(p.previous().next(), p);
        assert!("2026-1".parse::<Period>().is_err());
        assert_eq!(
            p.deadline(10),
            NaiveDate::from_ymd_opt(2026, 2, 10).unwrap()
        );
        assert_eq!(
            p.deadline(31),
            NaiveDate::from_ymd_opt(2026, 2, 28).unwrap()
        );
    }
}

/// A reporting period of any length: a month (`2026-10`), a quarter (`2026Q4`),
/// a half-year (`2026H1` = January … June, `2026H2` = July … December), a calendar year (`2026`) or a union statistical year (`2026SY`: the 统计年报
/// year from October of the year before through September, 2025-10 … 2026-09).
/// Facts are monthly; a longer period aggregates its months (see
/// [`crate::rollup::aggregate_months`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReportPeriod {
    Month(Period),
    Quarter { year: i32, quarter: u32 },
    HalfYear { year: i32, half: u32 },
    Year(i32),
    StatYear(i32),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "not a valid period: {0:?} (a month 2026-10, a quarter 2026Q4, a half-year 2026H1 or 2026H2, a year 2026, or a statistical year 2026SY = 2025-10 … 2026-09)"
)]
pub struct ReportPeriodError(pub String);

impl ReportPeriod {
    /// The first month of the period.
    pub fn first(&self) -> Period {
        match *self {
            ReportPeriod::Month(p) => p,
            ReportPeriod::Quarter { year, quarter } => Period {
                year,
                month: quarter * 3 - 2,
            },
            ReportPeriod::HalfYear { year, half } => Period {
                year,
                month: half * 6 - 5,
            },
            ReportPeriod::Year(year) => Period { year, month: 1 },
            ReportPeriod::StatYear(year) => Period {
                year: year - 1,
                month: 10,
            },
        }
    }

    /// The last month of the period: the month whose figures are its stock
    /// (期末数).
    pub fn last(&self) -> Period {
        match *self {
            ReportPeriod::Month(p) => p,
            ReportPeriod::Quarter { year, quarter } => Period {
                year,
                month: quarter * 3,
            },
            ReportPeriod::HalfYear { year, half } => Period {
                year,
                month: half * 6,
            },
            ReportPeriod::Year(year) => Period { year, month: 12 },
            ReportPeriod::StatYear(year) => Period { year, month: 9 },
        }
    }

    /// Every month of the period, oldest first.
    pub fn months(&self) -> Vec<Period> {
        let (first, last) = (self.first(), self.last());
        let mut out = Vec::with_capacity(12);
        let mut p = first;
        while p <= last {
            out.push(p);
            p = p.next();
        }
        out
    }

    /// `month`, `quarter`, `half_year`, `year` or `stat_year`.
    pub fn kind(&self) -> &'static str {
        match self {
            ReportPeriod::Month(_) => "month",
            ReportPeriod::Quarter { .. } => "quarter",
            ReportPeriod::HalfYear { .. } => "half_year",
            ReportPeriod::Year(_) => "year",
            ReportPeriod::StatYear(_) => "stat_year",
        }
    }

    /// The month, when the period is one.
    pub fn as_month(&self) -> Option<Period> {
        match self {
            ReportPeriod::Month(p) => Some(*p),
            _ => None,
        }
    }

    /// The period of the same kind just before this one (环比): the previous
    /// month, quarter, calendar year or statistical year.
    pub fn previous(&self) -> ReportPeriod {
        match *self {
            ReportPeriod::Month(p) => ReportPeriod::Month(p.previous()),
            ReportPeriod::Quarter { year, quarter: 1 } => ReportPeriod::Quarter {
                year: year - 1,
                quarter: 4,
            },
            ReportPeriod::Quarter { year, quarter } => ReportPeriod::Quarter {
                year,
                quarter: quarter - 1,
            },
            ReportPeriod::HalfYear { year, half: 1 } => ReportPeriod::HalfYear {
                year: year - 1,
                half: 2,
            },
            ReportPeriod::HalfYear { year, .. } => ReportPeriod::HalfYear { year, half: 1 },
            ReportPeriod::Year(year) => ReportPeriod::Year(year - 1),
            ReportPeriod::StatYear(year) => ReportPeriod::StatYear(year - 1),
        }
    }

    /// The same period one year earlier (同比); for a year, the previous year.
    pub fn year_earlier(&self) -> ReportPeriod {
        match *self {
            ReportPeriod::Month(p) => ReportPeriod::Month(Period {
                year: p.year - 1,
                month: p.month,
            }),
            ReportPeriod::Quarter { year, quarter } => ReportPeriod::Quarter {
                year: year - 1,
                quarter,
            },
            ReportPeriod::HalfYear { year, half } => ReportPeriod::HalfYear {
                year: year - 1,
                half,
            },
            ReportPeriod::Year(year) => ReportPeriod::Year(year - 1),
            ReportPeriod::StatYear(year) => ReportPeriod::StatYear(year - 1),
        }
    }
}

impl From<Period> for ReportPeriod {
    fn from(p: Period) -> Self {
        ReportPeriod::Month(p)
    }
}

impl fmt::Display for ReportPeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReportPeriod::Month(p) => write!(f, "{p}"),
            ReportPeriod::Quarter { year, quarter } => write!(f, "{year:04}Q{quarter}"),
            ReportPeriod::HalfYear { year, half } => write!(f, "{year:04}H{half}"),
            ReportPeriod::Year(y) => write!(f, "{y:04}"),
            ReportPeriod::StatYear(y) => write!(f, "{y:04}SY"),
        }
    }
}

impl FromStr for ReportPeriod {
    type Err = ReportPeriodError;

    /// `2026-10`, `2026Q4` (or `2026-Q4`, lower case too), `2026H1` (or
    /// `2026-H1`), `2026`, `2026SY`.
    fn from_str(raw: &str) -> Result<ReportPeriod, ReportPeriodError> {
        let err = || ReportPeriodError(raw.to_string());
        let s = raw.trim().to_ascii_uppercase();
        let year = |y: &str| -> Result<i32, ReportPeriodError> {
            if y.len() != 4 || !y.chars().all(|c| c.is_ascii_digit()) {
                return Err(err());
            }
            let y: i32 = y.parse().map_err(|_| err())?;
            if (1900..=9999).contains(&y) {
                Ok(y)
            } else {
                Err(err())
            }
        };
        if let Some(y) = s.strip_suffix("SY") {
            // Its first month lies in the year before, which must be valid too.
            let y = year(y)?;
            return if y > 1900 {
                Ok(ReportPeriod::StatYear(y))
            } else {
                Err(err())
            };
        }
        if let Some((y, h)) = s.split_once('H') {
            let y = y.strip_suffix('-').unwrap_or(y);
            let half = match h {
                "1" => 1,
                "2" => 2,
                _ => return Err(err()),
            };
            return Ok(ReportPeriod::HalfYear {
                year: year(y)?,
                half,
            });
        }
        if let Some((y, q)) = s.split_once('Q') {
            let y = y.strip_suffix('-').unwrap_or(y);
            let quarter = match q {
                "1" => 1,
                "2" => 2,
                "3" => 3,
                "4" => 4,
                _ => return Err(err()),
            };
            return Ok(ReportPeriod::Quarter {
                year: year(y)?,
                quarter,
            });
        }
        if s.len() == 4 {
            return Ok(ReportPeriod::Year(year(&s)?));
        }
        s.parse::<Period>()
            .map(ReportPeriod::Month)
            .map_err(|_| err())
    }
}

impl Serialize for ReportPeriod {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod report_period_tests {
    use super::*;

    fn months(s: &str) -> Vec<String> {
        s.parse::<ReportPeriod>()
            .unwrap()
            .months()
            .iter()
            .map(|m| m.to_string())
            .collect()
    }

    #[test]
    fn each_kind_parses_and_spans_its_months() {
        assert_eq!(months("2026-10"), vec!["2026-10"]);
        assert_eq!(months("2026Q4"), vec!["2026-10", "2026-11", "2026-12"]);
        assert_eq!(months("2026q1"), vec!["2026-01", "2026-02", "2026-03"]);
        assert_eq!(months("2026-Q2"), vec!["2026-04", "2026-05", "2026-06"]);
        let year = months("2026");
        assert_eq!(year.len(), 12);
        assert_eq!(
            (year[0].as_str(), year[11].as_str()),
            ("2026-01", "2026-12")
        );
        // The statistical year 2026SY runs from October 2025 to September 2026.
        let sy = months("2026SY");
        assert_eq!(sy.len(), 12);
        assert_eq!((sy[0].as_str(), sy[11].as_str()), ("2025-10", "2026-09"));
        assert_eq!(sy[3], "2026-01");
        assert_eq!(
            months("2026H1"),
            vec!["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]
        );
        assert_eq!(months("2026-h2")[0], "2026-07");
        assert_eq!(months("2026H2")[5], "2026-12");
    }

    #[test]
    fn display_round_trips_and_kinds_are_named() {
        for s in ["2026-10", "2026Q4", "2026", "2026SY"] {
            let p: ReportPeriod = s.parse().unwrap();
            assert_eq!(p.to_string(), s);
        }
        let kinds: Vec<&str> = ["2026-10", "2026Q4", "2026", "2026SY"]
            .iter()
            .map(|s| s.parse::<ReportPeriod>().unwrap().kind())
            .collect();
        assert_eq!(kinds, vec!["month", "quarter", "year", "stat_year"]);
        assert_eq!(
            "2026Q4".parse::<ReportPeriod>().unwrap().last().to_string(),
            "2026-12"
        );
    }

    #[test]
    fn bad_periods_are_refused_with_the_forms_named() {
        for s in [
            "",
            "2026Q5",
            "2026Q0",
            "2026Q",
            "26Q4",
            "2026-13",
            "2026-1",
            "SY",
            "0000SY",
            "1900SY",
            "20261",
            "2026-10-01",
            "Q4",
            "2026SYX",
            "２０２６",
            "2026H0",
            "2026H3",
            "2026H",
        ] {
            let e = s.parse::<ReportPeriod>().unwrap_err();
            assert!(e.to_string().contains("2026Q4"), "{s}: {e}");
        }
    }
}

/// The integer key of a period in the warehouse: `kind · 10⁶ + year · 100 + index`.
/// A month is `yyyymm` itself (kind 0: `202610`), so a range of months is a
/// range of keys holding nothing else; a quarter is kind 1 (`1202604` = 2026Q4),
/// a half-year kind 2 (`2202602` = 2026H2), a
/// calendar year kind 3 (`3202600`), a statistical year kind 4 (`4202600` =
/// 2026SY). Keys of one kind sort like their periods.
pub type PeriodKey = i64;

const KEY_KIND: i64 = 1_000_000;

impl Period {
    /// This month's warehouse key, `yyyymm`.
    pub fn key(&self) -> PeriodKey {
        i64::from(self.year) * 100 + i64::from(self.month)
    }

    /// The month of a key, when the key is a month's.
    pub fn from_key(key: PeriodKey) -> Option<Period> {
        if !(0..KEY_KIND).contains(&key) {
            return None;
        }
        let year = i32::try_from(key / 100).ok()?;
        let month = u32::try_from(key % 100).ok()?;
        Period::new(year, month).ok()
    }
}

impl ReportPeriod {
    /// This period's warehouse key (see [`PeriodKey`]).
    pub fn key(&self) -> PeriodKey {
        match *self {
            ReportPeriod::Month(p) => p.key(),
            ReportPeriod::Quarter { year, quarter } => {
                KEY_KIND + i64::from(year) * 100 + i64::from(quarter)
            }
            ReportPeriod::HalfYear { year, half } => {
                2 * KEY_KIND + i64::from(year) * 100 + i64::from(half)
            }
            ReportPeriod::Year(year) => 3 * KEY_KIND + i64::from(year) * 100,
            ReportPeriod::StatYear(year) => 4 * KEY_KIND + i64::from(year) * 100,
        }
    }

    /// The period of a key (see [`PeriodKey`]).
    pub fn from_key(key: PeriodKey) -> Option<ReportPeriod> {
        let (kind, rest) = (key.div_euclid(KEY_KIND), key.rem_euclid(KEY_KIND));
        let year = i32::try_from(rest / 100).ok()?;
        let index = u32::try_from(rest % 100).ok()?;
        let p = match (kind, index) {
            (0, _) => ReportPeriod::Month(Period::from_key(key)?),
            (1, 1..=4) => ReportPeriod::Quarter {
                year,
                quarter: index,
            },
            (2, 1..=2) => ReportPeriod::HalfYear { year, half: index },
            (3, 0) => ReportPeriod::Year(year),
            (4, 0) => ReportPeriod::StatYear(year),
            _ => return None,
        };
        (1900..=9999).contains(&year).then_some(p)
    }
}

#[cfg(test)]
mod key_tests {
    use super::*;

    #[test]
    fn previous_and_year_earlier_keep_the_kind() {
        let cases = [
            ("2026-01", "2025-12", "2025-01"),
            ("2026-10", "2026-09", "2025-10"),
            ("2026Q1", "2025Q4", "2025Q1"),
            ("2026Q3", "2026Q2", "2025Q3"),
            ("2026", "2025", "2025"),
            ("2026SY", "2025SY", "2025SY"),
            ("2026H1", "2025H2", "2025H1"),
            ("2026H2", "2026H1", "2025H2"),
        ];
        for (p, prev, ago) in cases {
            let p: ReportPeriod = p.parse().unwrap();
            assert_eq!(p.previous().to_string(), prev);
            assert_eq!(p.year_earlier().to_string(), ago);
        }
    }

    #[test]
    fn keys_round_trip_and_months_are_yyyymm() {
        for s in [
            "2026-10", "2026Q4", "2026", "2026SY", "1999-01", "2026Q1", "2026H1", "2026H2",
        ] {
            let p: ReportPeriod = s.parse().unwrap();
            assert_eq!(ReportPeriod::from_key(p.key()), Some(p), "{s}");
        }
        let oct: Period = "2026-10".parse().unwrap();
        assert_eq!(oct.key(), 202610);
        assert_eq!(Period::from_key(202610), Some(oct));
        assert_eq!("2026Q4".parse::<ReportPeriod>().unwrap().key(), 1_202_604);
        assert_eq!("2026SY".parse::<ReportPeriod>().unwrap().key(), 4_202_600);
        assert_eq!("2026H2".parse::<ReportPeriod>().unwrap().key(), 2_202_602);
        for bad in [
            202613, 202600, 1_202_605, 2_202_600, 2_202_603, 3_202_601, -1,
        ] {
            assert_eq!(ReportPeriod::from_key(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_range_of_month_keys_holds_only_months_in_order() {
        let (first, last): (Period, Period) =
            ("2025-11".parse().unwrap(), "2026-10".parse().unwrap());
        let mut p = first;
        while p < last {
            assert!(p.key() < p.next().key());
            p = p.next();
        }
        for other in ["2026Q1", "2026", "2026SY", "2025Q4", "2026H1"] {
            let k = other.parse::<ReportPeriod>().unwrap().key();
            assert!(!(first.key()..=last.key()).contains(&k), "{other}");
        }
    }
}
