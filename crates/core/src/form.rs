//! Forms (报表): the data sets the catalogue defines. Each form has a code, names,
//! a periodicity, who reports it, its deadline and lock rules, how a workbook is
//! recognised as the form, and its cover items. Template v1 is the first form,
//! `monthly`; a catalogue without `[[forms]]` has only it.

use chrono::NaiveDate;
use serde::Deserialize;

use crate::period::ReportPeriod;
use crate::text::normalise_header;

/// The code of the first form, Template v1: what a metric, rule or indicator
/// without `form = "…"` belongs to.
pub const MONTHLY: &str = "monthly";

/// How often a form is reported.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Periodicity {
    Month,
    Quarter,
    HalfYear,
    /// The union statistical year, 1 October – 30 September (`2026SY`).
    StatYear,
    Year,
}

impl Periodicity {
    /// The name a period of this periodicity gives as [`ReportPeriod::kind`].
    pub fn kind(self) -> &'static str {
        match self {
            Periodicity::Month => "month",
            Periodicity::Quarter => "quarter",
            Periodicity::HalfYear => "half_year",
            Periodicity::StatYear => "stat_year",
            Periodicity::Year => "year",
        }
    }

    /// Whether `period` is one of this periodicity's periods.
    pub fn fits(self, period: &ReportPeriod) -> bool {
        period.kind() == self.kind()
    }

    /// How a period of this periodicity is written, for messages.
    pub fn example(self) -> &'static str {
        match self {
            Periodicity::Month => "2026-10",
            Periodicity::Quarter => "2026Q4",
            Periodicity::HalfYear => "2026H1",
            Periodicity::StatYear => "2026SY",
            Periodicity::Year => "2026",
        }
    }

    /// Chinese and English names.
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            Periodicity::Month => ("月报", "monthly"),
            Periodicity::Quarter => ("季报", "quarterly"),
            Periodicity::HalfYear => ("半年报", "half-yearly"),
            Periodicity::StatYear => (
                "统计年报（10月1日至次年9月30日）",
                "statistical year (1 Oct – 30 Sep)",
            ),
            Periodicity::Year => ("年报", "yearly"),
        }
    }
}

/// Who reports a form and what its rows are.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReporterKind {
    /// A federation reports one row per grassroots unit under it (Template v1).
    FederationForUnits,
    /// A federation reports figures about itself (one row: its own code).
    FederationSelf,
}

/// What identifies a form in a workbook: the name of its data sheet, a title
/// on the cover, or the value of the cover's 表号 item.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recognition {
    /// Names of the data sheet (matched after normalising).
    #[serde(default)]
    pub sheets: Vec<String>,
    /// Titles that may stand in the cover's first cells (e.g. 工会统计年报).
    #[serde(default)]
    pub titles: Vec<String>,
    /// Values of the cover item 表号 (e.g. 工统基1表).
    #[serde(default)]
    pub form_numbers: Vec<String>,
}

/// What a cover item is on a row of the data sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemRole {
    /// The unit's code (e.g. 901 统计代码): an alias of the unit code column.
    UnitCode,
    /// The unit's name (902 名称): an alias of the unit name column.
    UnitName,
    /// A text attribute of the row (903 行政区划代码, 904 组织类型), checked
    /// against `values` or `digits` when given.
    Text,
}

/// A cover item of a form (基层工会调查表: 901 统计代码, 902 名称, …), carried as a
/// column of its data sheet.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoverItem {
    /// The item number as printed (`901`).
    pub code: String,
    pub zh: String,
    pub en: String,
    pub role: ItemRole,
    /// The values allowed (`单独`, `联合`); empty: any.
    #[serde(default)]
    pub values: Vec<String>,
    /// The number of digits the value must have (行政区划代码: 12); 0: any.
    #[serde(default)]
    pub digits: usize,
    #[serde(default)]
    pub aliases: Vec<String>,
}

impl CoverItem {
    /// Every header that names this item: `901`, `统计代码`, `901 统计代码`,
    /// `901统计代码`, the English name and the aliases.
    pub fn headers(&self) -> Vec<String> {
        let mut out = vec![
            self.code.clone(),
            self.zh.clone(),
            self.en.clone(),
            format!("{} {}", self.code, self.zh),
            format!("{}{}", self.code, self.zh),
        ];
        out.extend(self.aliases.iter().cloned());
        out
    }

    /// Whether a (trimmed) value is allowed; `None` when it is, else the
    /// reason in Chinese and English.
    pub fn check(&self, value: &str) -> Option<(String, String)> {
        let v = value.trim();
        if !self.values.is_empty() && !self.values.iter().any(|a| a == v) {
            let list = self.values.join("、");
            return Some((
                format!("应为{list}之一"),
                format!("must be one of {}", self.values.join(", ")),
            ));
        }
        if self.digits > 0
            && (v.chars().count() != self.digits || !v.chars().all(|c| c.is_ascii_digit()))
        {
            return Some((
                format!("应为{}位数字", self.digits),
                format!("must be {} digits", self.digits),
            ));
        }
        None
    }
}

fn one() -> u32 {
    1
}

/// A form (data set) of the catalogue.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Form {
    pub code: String,
    pub zh: String,
    pub en: String,
    pub periodicity: Periodicity,
    pub reporter: ReporterKind,
    /// Day of the month the report is due (end of that day); absent: the
    /// service's `reporting.deadline_day`.
    #[serde(default)]
    pub deadline_day: Option<u32>,
    /// Which month after the period's last month holds the deadline: 1 (the
    /// default) is the month after, 2 the one after that.
    #[serde(default = "one")]
    pub deadline_months_after: u32,
    /// Days after the deadline the period stays open; absent: the service's
    /// `reporting.lock_after_days`. 0: never closes by time.
    #[serde(default)]
    pub lock_after_days: Option<u32>,
    #[serde(default)]
    pub recognise: Recognition,
    #[serde(default)]
    pub items: Vec<CoverItem>,
    /// The monthly metric that counts this form's rows (the annual survey's
    /// one row per grassroots union and the monthly 已建会单位数): an upload
    /// warns when its row count and that figure differ by more than
    /// `reporting.reconcile_share` in the period's last month.
    #[serde(default)]
    pub rows_reconcile_with: Option<String>,
}

impl Form {
    /// The form every catalogue has first: Template v1, monthly, reported by a
    /// federation for its grassroots units, deadline and lock from the
    /// service's `[reporting]` settings.
    pub fn monthly() -> Form {
        Form {
            code: MONTHLY.into(),
            zh: "基层工会情况月报".into(),
            en: "Monthly return of grassroots unions".into(),
            periodicity: Periodicity::Month,
            reporter: ReporterKind::FederationForUnits,
            deadline_day: None,
            deadline_months_after: 1,
            lock_after_days: None,
            recognise: Recognition::default(),
            items: Vec::new(),
            rows_reconcile_with: None,
        }
    }

    /// The day `period`'s report is due: `deadline_day` (else `default_day`)
    /// of the `deadline_months_after`-th month after the period's last month,
    /// clamped to that month's end.
    pub fn deadline(&self, period: &ReportPeriod, default_day: u32) -> NaiveDate {
        let mut month = period.last();
        for _ in 1..self.deadline_months_after.max(1) {
            month = month.next();
        }
        month.deadline(self.deadline_day.unwrap_or(default_day))
    }

    /// The last day `period` is open (`None`: never closes by time).
    pub fn closes_on(
        &self,
        period: &ReportPeriod,
        default_day: u32,
        default_after_days: u32,
    ) -> Option<NaiveDate> {
        let after = self.lock_after_days.unwrap_or(default_after_days);
        if after == 0 {
            return None;
        }
        self.deadline(period, default_day)
            .checked_add_days(chrono::Days::new(u64::from(after)))
    }

    /// Whether the form's data sheet may be called `name`.
    pub fn names_sheet(&self, name: &str) -> bool {
        let n = normalise_header(name);
        self.recognise
            .sheets
            .iter()
            .any(|s| normalise_header(s) == n)
    }

    /// Whether a cover title or 表号 value identifies this form.
    pub fn names_title(&self, text: &str) -> bool {
        let n = normalise_header(text);
        !n.is_empty()
            && (self
                .recognise
                .titles
                .iter()
                .any(|t| n.contains(&normalise_header(t)))
                || self
                    .recognise
                    .form_numbers
                    .iter()
                    .any(|t| normalise_header(t) == n))
    }

    /// The refusal when `period` is not of this form's periodicity, in
    /// Chinese and English.
    pub fn period_refusal(&self, period: &ReportPeriod) -> Option<(String, String)> {
        if self.periodicity.fits(period) {
            return None;
        }
        let (zh, en) = self.periodicity.names();
        let ex = self.periodicity.example();
        Some((
            format!("{}为{zh}，报告期应写作 {ex}，不是 {period}", self.zh),
            format!(
                "{} is {en}: write its period like {ex}, not {period}",
                self.en
            ),
        ))
    }
}

/// The storage key of a form's period: `slot · 10⁷ + period key`. The first
/// form (`monthly`) has slot 0, so its keys are the period keys themselves.
pub fn storage_key(slot: i64, period: &ReportPeriod) -> i64 {
    slot * STORAGE_SLOT + period.key()
}

/// The step between two forms' storage keys.
pub const STORAGE_SLOT: i64 = 10_000_000;

/// The form slot and period of a storage key.
pub fn from_storage_key(key: i64) -> Option<(i64, ReportPeriod)> {
    let (slot, rest) = (key.div_euclid(STORAGE_SLOT), key.rem_euclid(STORAGE_SLOT));
    Some((slot, ReportPeriod::from_key(rest)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> ReportPeriod {
        s.parse().unwrap()
    }

    #[test]
    fn a_stat_year_form_is_due_after_september_and_locks_later() {
        let mut f = Form::monthly();
        f.periodicity = Periodicity::StatYear;
        f.deadline_day = Some(15);
        f.deadline_months_after = 2;
        f.lock_after_days = Some(30);
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(f.deadline(&p("2026SY"), 10), d("2026-11-15"));
        assert_eq!(f.closes_on(&p("2026SY"), 10, 20), Some(d("2026-12-15")));
        let m = Form::monthly();
        assert_eq!(m.deadline(&p("2026-10"), 10), d("2026-11-10"));
        assert_eq!(m.closes_on(&p("2026-10"), 10, 20), Some(d("2026-11-30")));
        assert_eq!(m.closes_on(&p("2026-10"), 10, 0), None);
        let mut h = Form::monthly();
        h.periodicity = Periodicity::HalfYear;
        assert_eq!(h.deadline(&p("2026H1"), 10), d("2026-07-10"));
    }

    #[test]
    fn a_period_of_another_periodicity_is_refused_in_both_languages() {
        let mut f = Form::monthly();
        f.zh = "基层工会调查表".into();
        f.en = "Grassroots union survey".into();
        f.periodicity = Periodicity::StatYear;
        assert_eq!(f.period_refusal(&p("2026SY")), None);
        let (zh, en) = f.period_refusal(&p("2026-09")).unwrap();
        assert_eq!(
            zh,
            "基层工会调查表为统计年报（10月1日至次年9月30日），报告期应写作 2026SY，不是 2026-09"
        );
        assert_eq!(
            en,
            "Grassroots union survey is statistical year (1 Oct – 30 Sep): write its period like 2026SY, not 2026-09"
        );
    }

    #[test]
    fn storage_keys_keep_monthly_keys_and_part_the_forms() {
        assert_eq!(storage_key(0, &p("2026-10")), 202610);
        assert_eq!(storage_key(1, &p("2026SY")), 14_202_600);
        assert_eq!(storage_key(2, &p("2026H2")), 22_202_602);
        assert_eq!(from_storage_key(14_202_600), Some((1, p("2026SY"))));
        assert_eq!(from_storage_key(202610), Some((0, p("2026-10"))));
        assert_eq!(from_storage_key(15_202_600), None);
    }

    #[test]
    fn cover_items_check_their_values() {
        let item = CoverItem {
            code: "904".into(),
            zh: "组织类型".into(),
            en: "Organisation type".into(),
            role: ItemRole::Text,
            values: vec!["单独".into(), "联合".into()],
            digits: 0,
            aliases: vec![],
        };
        assert_eq!(item.check(" 联合 "), None);
        assert_eq!(
            item.check("独立"),
            Some((
                "应为单独、联合之一".into(),
                "must be one of 单独, 联合".into()
            ))
        );
        assert!(item.headers().contains(&"904 组织类型".to_string()));
        let region = CoverItem {
            digits: 12,
            values: vec![],
            ..item
        };
        assert_eq!(region.check("330102001000"), None);
        assert!(region.check("3301").is_some());
    }
}
