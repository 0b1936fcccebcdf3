//! Who reports which period of a form that is not monthly (the annual survey
//! `2026SY`, the half-yearly service form `2026H1`): the cover's 报告期 read as
//! any period, checked against the form's periodicity.

use serde::Serialize;

use super::rules::{resolve_period, resolve_reporter};
use crate::catalog::Catalog;
use crate::ingest::Workbook;
use crate::issue::{Issue, Message};
use crate::period::{Period, ReportPeriod};
use crate::text::to_half_width;

/// Who reports a form, for which period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FormHeader {
    pub reporter: String,
    pub period: ReportPeriod,
}

/// A period as clerks write it on a form's cover: `2026SY`, `2026H1`,
/// `2026Q4`, `2026`, a month in any of the forms [`Period::parse_loose`]
/// reads, and `2026年上半年` / `2026年下半年` / `2026统计年度`.
pub fn parse_form_period(raw: &str) -> Option<ReportPeriod> {
    let s: String = to_half_width(raw)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if let Ok(p) = s.parse::<ReportPeriod>() {
        return Some(p);
    }
    let year = |y: &str| -> Option<i32> {
        let y = y.strip_suffix('年').unwrap_or(y);
        (y.len() == 4 && y.chars().all(|c| c.is_ascii_digit()))
            .then(|| y.parse().ok())
            .flatten()
    };
    for (suffix, make) in [
        (
            "上半年",
            (|y| ReportPeriod::HalfYear { year: y, half: 1 }) as fn(i32) -> ReportPeriod,
        ),
        ("下半年", |y| ReportPeriod::HalfYear { year: y, half: 2 }),
        ("统计年度", ReportPeriod::StatYear),
    ] {
        if let Some(y) = s.strip_suffix(suffix).and_then(year) {
            return Some(make(y));
        }
    }
    Period::parse_loose(&s).ok().map(ReportPeriod::Month)
}

/// Decides reporter and period of a form's workbook from the caller and the
/// cover, as [`super::resolve_header`] does for Template v1; a period that is
/// not of the form's periodicity is `period_wrong_kind`, saying how to write
/// one that is. Every problem is returned at once.
pub fn resolve_form_header(
    wb: &Workbook,
    catalog: &Catalog,
    caller_reporter: Option<&str>,
    caller_period: Option<ReportPeriod>,
) -> Result<FormHeader, Vec<Issue>> {
    let mut issues = Vec::new();
    let reporter = resolve_reporter(wb, catalog, caller_reporter, &mut issues);
    let period = resolve_period(wb, catalog, caller_period, parse_form_period, &mut issues);
    let cover = wb.cover.as_ref();
    let cover_sheet = cover.map(|c| c.sheet.as_str());
    let cell = cover.and_then(|c| c.period.as_ref());
    if let Some(p) = period {
        if let Some((zh, en)) = catalog.form.period_refusal(&p) {
            let value = p.to_string();
            issues.push(catalog.bilingual_issue(
                "period_wrong_kind",
                cover_sheet,
                cell.map(|v| v.cell.as_str()),
                Some(&value),
                &[],
                &[("reason", &Message { zh, en })],
            ));
        }
    }
    match (reporter, period) {
        (Some(reporter), Some(period)) if issues.is_empty() => Ok(FormHeader { reporter, period }),
        _ => Err(issues),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{read_workbook, ReadLimits};
    use crate::workbook_out::{form_workbook, FormLine};

    fn p(s: &str) -> ReportPeriod {
        s.parse().unwrap()
    }

    #[test]
    fn form_periods_read_as_clerks_write_them() {
        for (raw, want) in [
            ("2026SY", "2026SY"),
            (" 2026sy ", "2026SY"),
            ("２０２６Ｈ１", "2026H1"),
            ("2026年上半年", "2026H1"),
            ("2026下半年", "2026H2"),
            ("2026统计年度", "2026SY"),
            ("2026年10月", "2026-10"),
            ("2026Q4", "2026Q4"),
        ] {
            assert_eq!(parse_form_period(raw), Some(p(want)), "{raw}");
        }
        for bad in ["", "2026H3", "上半年", "26年下半年", "SY"] {
            assert_eq!(parse_form_period(bad), None, "{bad}");
        }
    }

    fn annual_workbook(period: &str) -> (Catalog, Workbook) {
        let c = Catalog::builtin().unwrap();
        let annual = c.form("annual_survey").unwrap().clone();
        let line = FormLine {
            code: "330102001001".into(),
            name: "甲公司工会".into(),
            items: vec![],
            values: vec![Some(1)],
        };
        // Written for 2026SY, the cover then edited to `period`.
        let bytes = form_workbook(
            &annual,
            ("330102001", "某街道总工会"),
            &p("2026SY"),
            &[line],
        )
        .unwrap();
        let mut wb = read_workbook(&bytes, &annual, &ReadLimits::default());
        if let Some(cv) = wb.cover.as_mut().and_then(|c| c.period.as_mut()) {
            cv.value = period.into();
        }
        (annual, wb)
    }

    #[test]
    fn the_annual_cover_gives_reporter_and_statistical_year() {
        let (annual, wb) = annual_workbook("2026SY");
        let h = resolve_form_header(&wb, &annual, None, None).unwrap();
        assert_eq!((h.reporter.as_str(), h.period), ("330102001", p("2026SY")));
        let h = resolve_form_header(&wb, &annual, Some("330102001"), Some(p("2026SY"))).unwrap();
        assert_eq!(h.period.to_string(), "2026SY");
        let issues = resolve_form_header(&wb, &annual, None, Some(p("2025SY"))).unwrap_err();
        assert_eq!(issues[0].rule, "cover_mismatch");
        assert_eq!(issues[0].cell.as_deref(), Some("B3"));
    }

    #[test]
    fn a_month_on_the_annual_cover_is_refused_saying_how_to_write_the_year() {
        let (annual, wb) = annual_workbook("2026-09");
        let issues = resolve_form_header(&wb, &annual, None, None).unwrap_err();
        assert_eq!(issues.len(), 1);
        let i = &issues[0];
        assert_eq!(
            (i.rule.as_str(), i.cell.as_deref()),
            ("period_wrong_kind", Some("B3"))
        );
        assert_eq!(
            i.message.zh,
            "封面!B3：工会统计年报·基层工会调查表为统计年报（10月1日至次年9月30日），报告期应写作 2026SY，不是 2026-09。"
        );
        assert_eq!(
            i.message.en,
            "封面!B3: Annual union statistics: grassroots union survey is statistical year (1 Oct – 30 Sep): write its period like 2026SY, not 2026-09."
        );
        let (annual, wb) = annual_workbook("明年");
        let issues = resolve_form_header(&wb, &annual, None, None).unwrap_err();
        assert_eq!(issues[0].rule, "period_invalid");
    }

    #[test]
    fn annual_rows_are_checked_by_the_annual_rules_and_name_their_cells() {
        use super::super::{validate, Context, MasterUnit, OutlierTest};
        use std::collections::{BTreeMap, HashMap};
        let c = Catalog::builtin().unwrap();
        let annual = c.form("annual_survey").unwrap();
        let sy = p("2026SY");
        let figures = |members, female, employees| {
            let mut v = vec![None; annual.metrics.len()];
            v[0] = Some(members);
            v[1] = Some(female);
            v[3] = Some(employees);
            v
        };
        let lines = vec![
            FormLine {
                code: "330102001001".into(),
                name: "甲公司工会".into(),
                items: vec!["330102001000".into(), "单独".into()],
                values: figures(120, 130, 150),
            },
            FormLine {
                code: "330102001002".into(),
                name: "乙公司工会".into(),
                items: vec!["330102001000".into(), "联合".into()],
                values: figures(40, 10, 50),
            },
        ];
        let bytes = form_workbook(annual, ("330102001", "某街道总工会"), &sy, &lines).unwrap();
        let wb = read_workbook(&bytes, annual, &ReadLimits::default());
        assert!(wb.issues.is_empty(), "{:?}", wb.issues);
        let mut known = HashMap::new();
        let mut expected = BTreeMap::new();
        for l in &lines {
            known.insert(
                l.code.clone(),
                MasterUnit {
                    code: l.code.clone(),
                    name: l.name.clone(),
                    parent_code: Some("330102001".into()),
                    grassroots: true,
                },
            );
            expected.insert(l.code.clone(), l.name.clone());
        }
        let previous = HashMap::new();
        let ctx = Context {
            catalog: annual,
            reporter: "330102001",
            period: sy.last(),
            today: chrono::NaiveDate::from_ymd_opt(2026, 12, 6).unwrap(),
            locked: false,
            known_units: &known,
            expected_units: &expected,
            previous: &previous,
            max_monthly_change: 0.5,
            min_change_base: 20,
            outliers: OutlierTest {
                fence: 4.0,
                min_change: 0.1,
                min_units: 5,
            },
            nil_report: false,
            explanations: &[],
            form_period: Some(sy),
        };
        let issues = validate(&wb, &ctx);
        let errors: Vec<_> = issues
            .iter()
            .filter(|i| i.severity == crate::issue::Severity::Error)
            .collect();
        assert_eq!(errors.len(), 1, "{issues:?}");
        let e = errors[0];
        assert_eq!(
            (e.rule.as_str(), e.cell.as_deref()),
            ("sy_female_members_le_members", Some("F4"))
        );
        assert!(
            e.message
                .zh
                .contains("女会员人数（130）不能大于会员人数（120）"),
            "{}",
            e.message.zh
        );
        assert!(
            e.message
                .en
                .contains("Female members (130) cannot exceed Members (120)"),
            "{}",
            e.message.en
        );
        // A statistical year whose September has not begun is in the future.
        let later = Context {
            period: p("2027SY").last(),
            form_period: Some(p("2027SY")),
            ..ctx.clone()
        };
        let future: Vec<_> = validate(&wb, &later)
            .into_iter()
            .filter(|i| i.rule == "period_future")
            .collect();
        assert_eq!(future.len(), 1);
        assert_eq!(future[0].value.as_deref(), Some("2027SY"));
    }
}
