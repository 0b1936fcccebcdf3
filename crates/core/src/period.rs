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
