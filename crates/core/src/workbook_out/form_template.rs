//! The workbook of a form other than Template v1 (the annual survey, the
//! half-yearly service form, a form added to the catalogue): a cover and one
//! data sheet named as the form's recognition says, its cover items as the
//! first columns, then the form's metrics.

use rust_xlsxwriter::{DataValidation, DataValidationErrorStyle, DocProperties, Format, Workbook};

use super::{
    decimals_format, header_format, write_metric_header, write_text, WriteError, COVER_SHEET,
};
use crate::catalog::Catalog;
use crate::form::{ItemRole, ReporterKind};
use crate::period::ReportPeriod;

/// Zero-based row of the header on a form's data sheet.
pub const FORM_HEADER_ROW: u32 = 2;

/// One row of a form's data sheet: a grassroots unit (or, for a form a
/// federation reports about itself, the federation), its text items in the
/// order of the form's text items, its scaled figures in the view's metric
/// order (`None`: empty cell).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FormLine {
    pub code: String,
    pub name: String,
    pub items: Vec<String>,
    pub values: Vec<Option<i64>>,
}

/// The header of the code and name columns: the form's cover item (901
/// 统计代码, 902 名称) when it has one, else 单位代码 / 单位名称.
fn unit_header(catalog: &Catalog, role: ItemRole, plain: &str) -> String {
    catalog
        .form
        .items
        .iter()
        .find(|i| i.role == role)
        .map_or_else(|| plain.to_string(), |i| format!("{} {}", i.code, i.zh))
}

/// The title of a form's data sheet: `2026SY 工会统计年报·基层工会调查表`.
pub fn form_title(catalog: &Catalog, period: &ReportPeriod) -> String {
    format!("{period} {}", catalog.form.zh)
}

/// Writes the workbook of `catalog`'s form (a form view, see
/// [`Catalog::form`]) for `reporter` and `period` with `lines` (empty figures
/// for a blank one). Cover: 报送单位代码, 报送单位名称, 报告期 (`2026SY`), 表号
/// (the form's first form number, when it has one), 填报人, 联系电话, 填报日期.
/// Data sheet: a title, a subtitle, the header (code, name, the text items,
/// every metric with its unit), one row per line; list items get a drop-down.
pub fn form_workbook(
    catalog: &Catalog,
    reporter: (&str, &str),
    period: &ReportPeriod,
    lines: &[FormLine],
) -> Result<Vec<u8>, WriteError> {
    let form = &catalog.form;
    let mut wb = Workbook::new();
    wb.set_properties(
        &DocProperties::new()
            .set_title(form_title(catalog, period))
            .set_author(reporter.1),
    );
    let bold = Format::new().set_bold();
    let header_fmt = header_format();

    let cover = wb.add_worksheet();
    cover.set_name(COVER_SHEET)?;
    cover.set_column_width(0, 16)?;
    cover.set_column_width(1, 40)?;
    let period_text = period.to_string();
    let mut pairs: Vec<(&str, &str)> = vec![
        ("报送单位代码", reporter.0),
        ("报送单位名称", reporter.1),
        ("报告期", &period_text),
    ];
    if let Some(number) = form.recognise.form_numbers.first() {
        pairs.push(("表号", number));
    }
    pairs.extend([("填报人", ""), ("联系电话", ""), ("填报日期", "")]);
    let text = Format::new().set_num_format("@");
    for (r, (label, value)) in pairs.iter().enumerate() {
        let r = r as u32;
        cover.write_string_with_format(r, 0, *label, &bold)?;
        if value.is_empty() {
            cover.write_blank(r, 1, &text)?;
        } else {
            write_text(cover, r, 1, value, None)?;
        }
    }

    let sheet_name = catalog
        .sheets
        .units
        .first()
        .map_or(form.zh.as_str(), String::as_str);
    let sheet = wb.add_worksheet();
    sheet.set_name(sheet_name)?;
    sheet.write_string_with_format(0, 0, form_title(catalog, period), &bold)?;
    sheet.write_string(
        1,
        0,
        format!(
            "填报单位：{}（{}）    报告期：{period}",
            reporter.1, reporter.0
        ),
    )?;
    sheet.set_column_format(0, &text)?;
    sheet.set_column_width(0, 16)?;
    sheet.set_column_width(1, 36)?;
    sheet.set_row_height(FORM_HEADER_ROW, 45)?;
    let (code_h, name_h) = match form.reporter {
        ReporterKind::FederationForUnits => (
            unit_header(catalog, ItemRole::UnitCode, "单位代码"),
            unit_header(catalog, ItemRole::UnitName, "单位名称"),
        ),
        ReporterKind::FederationSelf => ("单位代码".to_string(), "单位名称".to_string()),
    };
    sheet.write_string_with_format(FORM_HEADER_ROW, 0, code_h, &header_fmt)?;
    sheet.write_string_with_format(FORM_HEADER_ROW, 1, name_h, &header_fmt)?;
    let items: Vec<_> = form
        .items
        .iter()
        .filter(|i| i.role == ItemRole::Text)
        .collect();
    let first_metric = 2 + items.len() as u16;
    for (k, item) in items.iter().enumerate() {
        let col = 2 + k as u16;
        sheet.set_column_width(col, 14)?;
        sheet.write_string_with_format(
            FORM_HEADER_ROW,
            col,
            format!("{} {}", item.code, item.zh),
            &header_fmt,
        )?;
        sheet.set_column_format(col, &text)?;
        if !item.values.is_empty() && !lines.is_empty() {
            let values: Vec<&str> = item.values.iter().map(String::as_str).collect();
            let list = DataValidation::new()
                .allow_list_strings(&values)?
                .set_error_title("取值无效 Invalid value")?
                .set_error_message(format!(
                    "请选择：{}\nChoose one of: {}",
                    item.values.join("、"),
                    item.values.join(", ")
                ))?
                .set_error_style(DataValidationErrorStyle::Stop);
            let last = FORM_HEADER_ROW + lines.len() as u32;
            sheet.add_data_validation(FORM_HEADER_ROW + 1, col, last, col, &list)?;
        }
    }
    let fmts: Vec<Option<Format>> = catalog
        .metrics
        .iter()
        .map(|m| decimals_format(m.decimals).map(|f| Format::new().set_num_format(f)))
        .collect();
    for (i, m) in catalog.metrics.iter().enumerate() {
        let col = first_metric + i as u16;
        write_metric_header(sheet, FORM_HEADER_ROW, col, m, &header_fmt)?;
    }
    sheet.set_freeze_panes(FORM_HEADER_ROW + 1, 2)?;
    for (r, line) in lines.iter().enumerate() {
        let row = FORM_HEADER_ROW + 1 + r as u32;
        write_text(sheet, row, 0, &line.code, None)?;
        write_text(sheet, row, 1, &line.name, None)?;
        for (k, v) in line.items.iter().enumerate().take(items.len()) {
            if !v.is_empty() {
                write_text(sheet, row, 2 + k as u16, v, None)?;
            }
        }
        for (i, v) in line.values.iter().enumerate().take(catalog.metrics.len()) {
            let Some(v) = v else { continue };
            let m = &catalog.metrics[i];
            let col = first_metric + i as u16;
            match &fmts[i] {
                Some(f) => sheet.write_number_with_format(row, col, m.to_f64(*v), f)?,
                None => sheet.write_number(row, col, m.to_f64(*v))?,
            };
        }
    }
    Ok(wb.save_to_buffer()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{read_workbook, ReadLimits};

    #[test]
    fn the_annual_survey_reads_back_with_its_items_and_figures() {
        let c = Catalog::builtin().unwrap();
        let annual = c.form("annual_survey").unwrap();
        let sy: ReportPeriod = "2026SY".parse().unwrap();
        let mut values = vec![None; annual.metrics.len()];
        values[0] = Some(120); // sy_members
        values[3] = Some(150); // sy_employees
        let lines = vec![FormLine {
            code: "330102001001".into(),
            name: "甲公司工会".into(),
            items: vec!["330102001000".into(), "单独".into()],
            values,
        }];
        let bytes = form_workbook(annual, ("330102001", "某街道总工会"), &sy, &lines).unwrap();
        let wb = read_workbook(&bytes, annual, &ReadLimits::default());
        assert!(wb.issues.is_empty(), "{:?}", wb.issues);
        assert_eq!(wb.units_sheet, "基层工会调查表");
        assert_eq!(wb.rows.len(), 1);
        assert_eq!(wb.rows[0].code, "330102001001");
        let col = |m: &str| wb.columns.iter().position(|c| c.metric == m).unwrap();
        assert_eq!(wb.rows[0].values[col("sy_members")], Some(120));
        assert_eq!(wb.rows[0].values[col("sy_employees")], Some(150));
        // Metrics after the two items: 会员人数 in column E.
        assert_eq!(wb.columns[col("sy_members")].letter, "E");
        let cover = wb.cover.as_ref().unwrap();
        assert_eq!(cover.period.as_ref().unwrap().value, "2026SY");
        // The form is recognised from its sheet: the whole catalogue reads it
        // as the annual survey.
        let sheets = ["封面", "基层工会调查表"];
        assert_eq!(c.recognise(&sheets, &[]).unwrap().code, "annual_survey");
        let whole = read_workbook(&bytes, &c, &ReadLimits::default());
        assert_eq!(whole.form, "annual_survey");
        assert_eq!(whole.rows, wb.rows);
        assert_eq!(whole.columns, wb.columns);
        assert_eq!(wb.form, "annual_survey");
    }

    #[test]
    fn an_organisation_type_outside_its_list_names_its_cell_in_both_languages() {
        let c = Catalog::builtin().unwrap();
        let annual = c.form("annual_survey").unwrap();
        let sy: ReportPeriod = "2026SY".parse().unwrap();
        let lines = vec![FormLine {
            code: "330102001001".into(),
            name: "甲公司工会".into(),
            items: vec!["3301".into(), "独立".into()],
            values: vec![Some(5)],
        }];
        let bytes = form_workbook(annual, ("330102001", "某街道总工会"), &sy, &lines).unwrap();
        let wb = read_workbook(&bytes, annual, &ReadLimits::default());
        let found: Vec<(&str, &str)> = wb
            .issues
            .iter()
            .map(|i| (i.rule.as_str(), i.cell.as_deref().unwrap_or("")))
            .collect();
        assert_eq!(found, vec![("item_invalid", "C4"), ("item_invalid", "D4")]);
        let m = &wb.issues[1].message;
        assert_eq!(
            m.zh,
            "基层工会调查表!D4：904 组织类型填写为“独立”，应为单独、联合之一。请按报表说明填写。"
        );
        assert_eq!(
            m.en,
            "基层工会调查表!D4: 904 Organisation type is \"独立\": it must be one of 单独, 联合. Fill it in as the form says."
        );
        assert!(wb.issues[0].message.en.contains("must be 12 digits"));
    }
}
