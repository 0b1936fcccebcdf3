//! Figures entered in the page (网页填报) for a reporter's units: the form to
//! fill (its units, the figures accepted for the month, last month's for
//! reference) and the Template v1 workbook written from what was entered.
//! The API hands that workbook to the upload path unchanged, so the entered
//! figures meet the same rules, make the same submission and audit, and are
//! kept as an upload's bytes are — by construction, not by a second path.

use std::collections::{BTreeMap, HashMap, HashSet};

use anyhow::Context as _;
use unionstat_core::ingest::{parse_number_float, CellProblem};
use unionstat_core::workbook_out::{self, CoverFields, UnitLine};
use unionstat_core::{Catalog, Message, Period};

use crate::context::AppContext;
use crate::flows::workbooks::units_of;
use crate::store::orgs::OrgRow;

/// Longest 填报人 or 联系电话 kept, in characters.
pub const MAX_FIELD_CHARS: usize = 100;

/// What the page shows for a reporter and month.
pub struct Form {
    /// The grassroots units directly under the reporter that month (code, name).
    pub units: Vec<(String, String)>,
    /// (unit, metric) → the figure accepted for the month (scaled).
    pub current: HashMap<(String, String), i64>,
    /// (unit, metric) → the unit's figure of the month before (scaled).
    pub previous: HashMap<(String, String), i64>,
}

/// The form of `reporter` (a federation) for `period`.
pub async fn form(ctx: &AppContext, reporter: &OrgRow, period: Period) -> anyhow::Result<Form> {
    let units = units_of(ctx, reporter, period).await?;
    let codes: Vec<String> = units.iter().map(|(c, _)| c.clone()).collect();
    let metrics: Vec<&str> = ctx
        .catalog
        .metrics
        .iter()
        .map(|m| m.code.as_str())
        .collect();
    // The latest report within one month before the next is the month's own.
    let current = ctx
        .store
        .unit_history(&codes, period.next(), 1, &metrics)
        .await
        .context("loading the month's accepted figures")?;
    let previous = ctx
        .store
        .unit_history(&codes, period, 1, &metrics)
        .await
        .context("loading last month's figures")?;
    Ok(Form {
        units,
        current: current.previous,
        previous: previous.previous,
    })
}

/// One unit's figures as entered: metric code → number, or null for "not
/// reported".
#[derive(Debug, Clone, Default)]
pub struct EnteredUnit {
    pub code: String,
    pub figures: BTreeMap<String, Option<f64>>,
}

/// The rows of the workbook: every unit of the reporter in order, with the
/// figures entered for it (a unit not entered is a row left blank, as in a
/// template the clerk did not fill). A negative number is written as entered,
/// for the rules to report at its cell. Refused, with a reason in both
/// languages: a unit that is not one of `units` or is entered twice, an
/// unknown metric, a number that is not finite, too large, or finer than the
/// metric's decimals.
pub fn lines(
    catalog: &Catalog,
    units: &[(String, String)],
    entered: &[EnteredUnit],
) -> Result<Vec<UnitLine>, Message> {
    let position: HashMap<&str, usize> = units
        .iter()
        .enumerate()
        .map(|(i, (code, _))| (code.as_str(), i))
        .collect();
    let mut lines: Vec<UnitLine> = units
        .iter()
        .map(|(code, name)| UnitLine {
            code: code.clone(),
            name: name.clone(),
            values: vec![None; catalog.metrics.len()],
        })
        .collect();
    let mut seen = HashSet::new();
    for unit in entered {
        let code = unit.code.trim();
        let shown: String = code.chars().take(40).collect();
        let Some(&row) = position.get(code) else {
            return Err(Message {
                zh: format!("单位代码 {shown} 不是本单位本月所辖的基层工会"),
                en: format!(
                    "unit {shown} is not one of the reporter's grassroots unions this month"
                ),
            });
        };
        if !seen.insert(code) {
            return Err(Message {
                zh: format!("单位代码 {shown} 重复填报"),
                en: format!("unit {shown} is entered twice"),
            });
        }
        for (metric, value) in &unit.figures {
            let Some(i) = catalog.metric_position(metric) else {
                let shown: String = metric.chars().take(40).collect();
                return Err(Message {
                    zh: format!("没有指标 {shown}"),
                    en: format!("no metric {shown}"),
                });
            };
            let Some(value) = value else { continue };
            let m = &catalog.metrics[i];
            let scaled = parse_number_float(value.abs(), m.decimals)
                .map_err(|problem| {
                    let (zh, en) = match problem {
                        CellProblem::DecimalPlaces if m.decimals == 0 => {
                            ("应为整数".to_string(), "must be a whole number".to_string())
                        }
                        CellProblem::DecimalPlaces => (
                            format!("最多 {} 位小数", m.decimals),
                            format!("takes at most {} decimals", m.decimals),
                        ),
                        _ => (
                            "不是可接受的数字".to_string(),
                            "is not a number that can be taken".to_string(),
                        ),
                    };
                    Message {
                        zh: format!("单位 {code} 的“{}”{zh}", m.zh),
                        en: format!("unit {code}, {} ({}): {en}", m.en, m.code),
                    }
                })?
                .unwrap_or(0);
            lines[row].values[i] = Some(if *value < 0.0 { -scaled } else { scaled });
        }
    }
    Ok(lines)
}

/// The clerk's own cover fields: control characters dropped, at most
/// [`MAX_FIELD_CHARS`] characters.
pub fn cover_text(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_control())
        .take(MAX_FIELD_CHARS)
        .collect::<String>()
        .trim()
        .to_string()
}

/// The workbook of what was entered: Template v1 of `reporter` for `period`
/// with the clerk's cover fields, 填报日期 today, and the rows filled.
pub async fn workbook(
    ctx: &AppContext,
    reporter: &OrgRow,
    period: Period,
    preparer: &str,
    phone: &str,
    rows: Vec<UnitLine>,
) -> anyhow::Result<Vec<u8>> {
    let today = ctx.settings.reporting.today(chrono::Utc::now());
    let cover = CoverFields {
        preparer: cover_text(preparer),
        phone: cover_text(phone),
        date: today.format("%Y-%m-%d").to_string(),
        ..CoverFields::new(&reporter.code, &reporter.name, period)
    };
    let catalog = ctx.catalog.clone();
    tokio::task::spawn_blocking(move || {
        workbook_out::entered_template(&catalog, &cover, &rows, today)
    })
    .await
    .context("writing the entered workbook stopped")?
    .context("writing the entered workbook")
}

/// The file name an entered workbook is kept under: it tells staff the
/// figures were entered in the page.
pub fn file_name(reporter: &str, period: Period) -> String {
    format!("网页填报-{reporter}-{period}.xlsx")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units() -> Vec<(String, String)> {
        vec![
            ("330102001001".into(), "甲公司工会".into()),
            ("330102001002".into(), "乙公司工会".into()),
        ]
    }

    fn entered(code: &str, figures: &[(&str, Option<f64>)]) -> EnteredUnit {
        EnteredUnit {
            code: code.into(),
            figures: figures.iter().map(|(m, v)| (m.to_string(), *v)).collect(),
        }
    }

    #[test]
    fn entered_figures_fill_their_units_rows_scaled() {
        let c = Catalog::builtin().unwrap();
        let members = c.metric_position("members").unwrap();
        let yuan = c.metric_position("relief_yuan").unwrap();
        let rows = lines(
            &c,
            &units(),
            &[entered(
                "330102001002",
                &[
                    ("members", Some(52.0)),
                    ("relief_yuan", Some(12.5)),
                    ("employees", None),
                ],
            )],
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].values.iter().flatten().count(), 0);
        assert_eq!(rows[1].name, "乙公司工会");
        assert_eq!(rows[1].values[members], Some(52));
        assert_eq!(rows[1].values[yuan], Some(1250));
        let negative = lines(
            &c,
            &units(),
            &[entered("330102001001", &[("members", Some(-3.0))])],
        );
        assert_eq!(negative.unwrap()[0].values[members], Some(-3));
    }

    #[test]
    fn entry_refuses_strangers_twins_unknown_metrics_and_bad_numbers() {
        let c = Catalog::builtin().unwrap();
        let refused = |e: &[EnteredUnit]| lines(&c, &units(), e).unwrap_err();
        let m = refused(&[entered("330103001001", &[])]);
        assert_eq!(m.zh, "单位代码 330103001001 不是本单位本月所辖的基层工会");
        let twice = [entered("330102001001", &[]), entered("330102001001", &[])];
        assert_eq!(refused(&twice).en, "unit 330102001001 is entered twice");
        let m = refused(&[entered("330102001001", &[("membres", Some(1.0))])]);
        assert_eq!(m.zh, "没有指标 membres");
        let m = refused(&[entered("330102001001", &[("members", Some(1.5))])]);
        assert_eq!(m.zh, "单位 330102001001 的“会员人数”应为整数");
        let m = refused(&[entered("330102001001", &[("relief_yuan", Some(1.234))])]);
        assert_eq!(m.zh, "单位 330102001001 的“帮扶慰问金额”最多 2 位小数");
        let m = refused(&[entered("330102001001", &[("members", Some(1e30))])]);
        assert!(m.zh.ends_with("不是可接受的数字"), "{}", m.zh);
    }

    #[test]
    fn cover_fields_lose_control_characters_and_length() {
        assert_eq!(cover_text(" 张三\n\u{7} "), "张三");
        assert_eq!(
            cover_text(&"电".repeat(500)).chars().count(),
            MAX_FIELD_CHARS
        );
    }
}
