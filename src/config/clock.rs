//! The federation's one clock: `reporting.time_zone` turns an instant into the
//! calendar date that deadlines, month locks, validation ("not in the
//! future"), the default month of a tree change and the reporting gauges all
//! judge by. Nothing else in the service asks the machine for "today".

use chrono::{DateTime, NaiveDate, TimeZone as _, Utc};
use serde::{Deserialize, Deserializer};
use unionstat_core::Period;

use super::ReportingSettings;

/// An IANA time zone name (`Asia/Shanghai`, `UTC`, …), checked when the
/// settings are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeZone(pub chrono_tz::Tz);

impl TimeZone {
    pub fn parse(name: &str) -> Result<TimeZone, String> {
        name.parse::<chrono_tz::Tz>().map(TimeZone).map_err(|_| {
            format!(
                "reporting.time_zone = {name:?} is not an IANA time zone name; use e.g. \"Asia/Shanghai\" or \"UTC\""
            )
        })
    }
}

impl<'de> Deserialize<'de> for TimeZone {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<TimeZone, D::Error> {
        let name = String::deserialize(d)?;
        TimeZone::parse(&name).map_err(serde::de::Error::custom)
    }
}

impl ReportingSettings {
    /// The federation's date at the instant `now`.
    pub fn today(&self, now: DateTime<Utc>) -> NaiveDate {
        now.with_timezone(&self.time_zone.0).date_naive()
    }

    /// The calendar month at `now`.
    pub fn current_month(&self, now: DateTime<Utc>) -> Period {
        Period::of_date(self.today(now))
    }

    /// The month being reported at `now`: the one before the current month.
    pub fn reporting_period(&self, now: DateTime<Utc>) -> Period {
        self.current_month(now).previous()
    }

    /// The first instant after `period`'s deadline day has ended in the
    /// federation's zone: a report received from then on is late.
    pub fn late_from(&self, period: Period) -> DateTime<Utc> {
        let day_after = period.deadline(self.deadline_day) + chrono::Days::new(1);
        let midnight = day_after.and_time(chrono::NaiveTime::MIN);
        match self.time_zone.0.from_local_datetime(&midnight).earliest() {
            Some(t) => t.with_timezone(&Utc),
            // Midnight skipped by a clock change: the day starts an hour later.
            None => self.late_from_after_gap(midnight),
        }
    }

    fn late_from_after_gap(&self, midnight: chrono::NaiveDateTime) -> DateTime<Utc> {
        let later = midnight + chrono::Duration::hours(1);
        self.time_zone
            .0
            .from_local_datetime(&later)
            .earliest()
            .map_or_else(|| later.and_utc(), |t| t.with_timezone(&Utc))
    }

    /// Whether a report for `period` received at `received` is late.
    pub fn is_late(&self, period: Period, received: DateTime<Utc>) -> bool {
        self.today(received) > period.deadline(self.deadline_day)
    }

    /// Whether `period` is closed by time at `now` (`lock_after_days` after
    /// its deadline).
    pub fn is_closed(&self, period: Period, now: DateTime<Utc>) -> bool {
        period.is_closed(self.deadline_day, self.lock_after_days, self.today(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reporting(zone: &str) -> ReportingSettings {
        ReportingSettings {
            deadline_day: 10,
            lock_after_days: 20,
            full_coverage_share: 0.9,
            reconcile_share: 0.05,
            time_zone: TimeZone::parse(zone).unwrap(),
        }
    }

    fn at(rfc3339: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(rfc3339).unwrap().to_utc()
    }

    fn p(s: &str) -> Period {
        s.parse().unwrap()
    }

    /// Whether validation finds `period` in the future on `today` (the
    /// pipeline passes `reporting.today(now)`).
    fn in_the_future(period: Period, today: NaiveDate) -> bool {
        let catalog = unionstat_core::Catalog::builtin().unwrap();
        let (known, expected) = (Default::default(), Default::default());
        let previous = Default::default();
        let ctx = unionstat_core::validate::Context {
            catalog: &catalog,
            reporter: "330102001",
            period,
            today,
            locked: false,
            known_units: &known,
            expected_units: &expected,
            previous: &previous,
            max_monthly_change: 0.5,
            min_change_base: 20,
            outliers: unionstat_core::validate::OutlierTest {
                fence: 4.0,
                min_change: 0.1,
                min_units: 5,
            },
            nil_report: false,
            explanations: &[],
            form_period: None,
        };
        let wb = unionstat_core::ingest::Workbook::default();
        unionstat_core::validate::validate(&wb, &ctx)
            .iter()
            .any(|i| i.rule == "period_future")
    }

    /// 00:30 in China is 16:30 UTC the day before: the UTC date is a day
    /// behind. Deadline, lock and validation all take China's date.
    #[test]
    fn at_half_past_midnight_in_china_deadline_lock_and_validation_agree() {
        let china = reporting("Asia/Shanghai");
        let utc = reporting("UTC");
        let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();

        // 2026-12-01 00:30 in China.
        let now = at("2026-11-30T16:30:00Z");
        assert_eq!(china.today(now), date(2026, 12, 1));
        assert_eq!(china.current_month(now), p("2026-12"));
        assert_eq!(china.reporting_period(now), p("2026-11"));
        // The lock: October is due 2026-11-10 and open 20 days more, through
        // 2026-11-30, so it is closed now.
        assert!(china.is_closed(p("2026-10"), now));
        // Validation: December has begun.
        assert!(!in_the_future(p("2026-12"), china.today(now)));
        assert!(in_the_future(p("2027-01"), china.today(now)));
        // By the UTC date all three would still be in November.
        assert!(!utc.is_closed(p("2026-10"), now));
        assert!(in_the_future(p("2026-12"), utc.today(now)));
        assert_eq!(utc.reporting_period(now), p("2026-10"));

        // 2026-12-11 00:30 in China: November's report, due 2026-12-10, is
        // late, and November's last open day is 2026-12-30.
        let now = at("2026-12-10T16:30:00Z");
        assert!(china.is_late(p("2026-11"), now));
        assert!(now >= china.late_from(p("2026-11")));
        assert!(!china.is_closed(p("2026-11"), now));
        assert!(!utc.is_late(p("2026-11"), now));
    }

    #[test]
    fn an_unknown_zone_stops_the_settings_with_its_name() {
        let env = [(
            "UNIONSTAT_REPORTING__TIME_ZONE".to_string(),
            "Asia/Beijing".to_string(),
        )];
        let err = crate::config::Settings::load_from(None, None, &env).unwrap_err();
        let msg = format!("{err:#}");
        assert!(
            msg.contains("reporting.time_zone") && msg.contains("Asia/Beijing"),
            "{msg}"
        );
        let s = crate::config::Settings::load_from(None, None, &[]).unwrap();
        assert_eq!(
            s.reporting.time_zone,
            TimeZone::parse("Asia/Shanghai").unwrap()
        );
    }

    #[test]
    fn unknown_zone_names_are_refused_by_name() {
        let err = TimeZone::parse("Asia/Shangai").unwrap_err();
        assert!(err.contains("reporting.time_zone"), "{err}");
        assert!(err.contains("Asia/Shangai"), "{err}");
        assert!(TimeZone::parse("UTC").is_ok());
    }

    #[test]
    fn the_deadline_ends_at_midnight_in_the_zone() {
        let r = reporting("Asia/Shanghai");
        // 2026-10 is due on 2026-11-10; the day ends at 16:00 UTC.
        assert_eq!(r.late_from(p("2026-10")), at("2026-11-10T16:00:00Z"));
        assert!(!r.is_late(p("2026-10"), at("2026-11-10T15:59:59Z")));
        assert!(r.is_late(p("2026-10"), at("2026-11-10T16:00:00Z")));
        let utc = reporting("UTC");
        assert_eq!(utc.late_from(p("2026-10")), at("2026-11-11T00:00:00Z"));
        // A zone with a clock change keeps a whole day.
        let ny = reporting("America/New_York");
        assert_eq!(ny.late_from(p("2026-10")), at("2026-11-11T05:00:00Z"));
    }
}
