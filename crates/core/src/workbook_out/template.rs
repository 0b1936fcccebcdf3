//! Template v1 as unionstat hands it out: the blank workbook a reporter fills in
//! (cover prefilled, its grassroots units listed, a note on every metric header,
//! data validation, frozen header, a 合计 row of SUM formulas), the same filled in
//! by code, and the writer the sample workbooks share.

use rust_xlsxwriter::{
    DataValidation, DataValidationErrorStyle, DataValidationRule, DocProperties, ExcelDateTime,
    Format, FormatAlign, Formula, Note, Workbook, Worksheet,
};

use super::{
    decimals_format, header_format, write_metric_header, write_text, WriteError, COVER_SHEET,
    FIRST_METRIC_COL, FIRST_UNIT_ROW, HEADER_ROW, NOTE, UNITS_SHEET,
};
use crate::catalog::{Catalog, Metric};
use crate::period::Period;
use crate::text::column_name;

/// The 零报告 drop-down's values on a handed-out template's cover.
pub const NIL_YES: &str = "是";
pub const NIL_NO: &str = "否";

/// The cover sheet's values: who reports for which month, and the clerk's own
/// fields (empty in a blank template).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverFields {
    pub reporter_code: String,
    pub reporter_name: String,
    pub period: Period,
    /// 填报人.
    pub preparer: String,
    /// 联系电话.
    pub phone: String,
    /// 填报日期, as the clerk writes it (`2026-11-03`).
    pub date: String,
}

impl CoverFields {
    /// A cover with the reporter and month filled and the clerk's fields empty.
    pub fn new(reporter_code: &str, reporter_name: &str, period: Period) -> CoverFields {
        CoverFields {
            reporter_code: reporter_code.to_string(),
            reporter_name: reporter_name.to_string(),
            period,
            preparer: String::new(),
            phone: String::new(),
            date: String::new(),
        }
    }
}

/// One grassroots unit's row of the units sheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitLine {
    pub code: String,
    pub name: String,
    /// Scaled values in catalogue order (`None` or missing at the end: an empty
    /// cell, "not reported").
    pub values: Vec<Option<i64>>,
}

impl UnitLine {
    fn value(&self, metric: usize) -> Option<i64> {
        self.values.get(metric).copied().flatten()
    }
}

/// The 合计 row of the units sheet.
#[derive(Debug, Clone, Copy)]
pub enum Total<'a> {
    /// No total row.
    Omit,
    /// `SUM` formulas over the unit rows, their cached results set to the sums of
    /// the values written, as Excel leaves them after recalculating (0 over an
    /// empty column).
    Formulas,
    /// Numbers, as a clerk types them (in catalogue order).
    Values(&'a [Option<i64>]),
}

/// Everything [`write_template`] writes.
pub struct TemplateSpec<'a> {
    pub cover: &'a CoverFields,
    pub rows: &'a [UnitLine],
    pub total: Total<'a>,
    /// The helps of a handed-out template: a note on each metric header, data
    /// validation on the metric cells, the code column formatted as text.
    pub guide: bool,
    /// Document properties (a fixed creation time makes the bytes reproducible);
    /// `None`: a title and the current time.
    pub properties: Option<DocProperties>,
}

/// A blank Template v1 for `reporter_code` and `period` listing `units`
/// (code, name) in the given order.
///
/// Sheet `封面`: labels in column A, values in column B — 报送单位代码, 报送单位名称,
/// 报告期 (`YYYY-MM` text) prefilled; 填报人, 联系电话, 填报日期 empty for the
/// clerk, then 零报告 (empty, with a 是/否 drop-down: 是 declares a nil report). Sheet `基层工会情况`: a merged title in row 1, a subtitle in row 2, the
/// header in row 3 (单位代码, 单位名称, every catalogue metric's canonical header
/// with its unit in brackets, each with a note giving its meaning in Chinese and
/// English), one row per unit from row 4 (codes as text), then a 合计 row of `SUM`
/// formulas (cached 0, which the reader takes as the sum of nothing) and a
/// 填表说明 note. Metric cells accept only numbers ≥ 0 — whole for counts, with
/// at most the metric's decimals for yuan; panes are frozen below the header and
/// right of the names. With no units, the table has no rows and no 合计.
pub fn template(
    catalog: &Catalog,
    reporter_code: &str,
    reporter_name: &str,
    period: Period,
    units: &[(String, String)],
) -> Result<Vec<u8>, WriteError> {
    let rows: Vec<UnitLine> = units
        .iter()
        .map(|(code, name)| UnitLine {
            code: code.clone(),
            name: name.clone(),
            values: Vec::new(),
        })
        .collect();
    write_template(
        catalog,
        &TemplateSpec {
            cover: &CoverFields::new(reporter_code, reporter_name, period),
            rows: &rows,
            total: Total::Formulas,
            guide: true,
            properties: None,
        },
    )
}

/// [`template`] filled in: the cover's clerk fields and every unit's values,
/// with the 合计 formulas' cached results set to the column sums — the workbook
/// as a clerk saves it from Excel or WPS.
pub fn filled_template(
    catalog: &Catalog,
    cover: &CoverFields,
    units: &[UnitLine],
) -> Result<Vec<u8>, WriteError> {
    filled(catalog, cover, units, None)
}

fn filled(
    catalog: &Catalog,
    cover: &CoverFields,
    units: &[UnitLine],
    properties: Option<DocProperties>,
) -> Result<Vec<u8>, WriteError> {
    write_template(
        catalog,
        &TemplateSpec {
            cover,
            rows: units,
            total: Total::Formulas,
            guide: true,
            properties,
        },
    )
}

/// [`filled_template`] for figures entered in the page (网页填报): the same
/// workbook, its creation time set to `created` (midnight), so the same figures
/// entered on the same day are the same bytes and answer as the same upload.
pub fn entered_template(
    catalog: &Catalog,
    cover: &CoverFields,
    units: &[UnitLine],
    created: chrono::NaiveDate,
) -> Result<Vec<u8>, WriteError> {
    use chrono::Datelike;
    let at = ExcelDateTime::from_ymd(
        created.year() as u16,
        created.month() as u8,
        created.day() as u8,
    )?;
    let properties = DocProperties::new()
        .set_title(title(cover.period))
        .set_author(cover.reporter_name.as_str())
        .set_creation_datetime(&at);
    filled(catalog, cover, units, Some(properties))
}

/// The monthly title of the units sheet: `2026年10月基层工会统计月报表`.
fn title(period: Period) -> String {
    format!("{}年{}月基层工会统计月报表", period.year(), period.month())
}

/// The note on a metric's header: what it means, in Chinese and English.
fn metric_note(m: &Metric) -> Note {
    let mut text = format!("{}（{}）", m.zh, m.code);
    if !m.help_zh.is_empty() {
        text.push('\n');
        text.push_str(&m.help_zh);
    }
    text.push_str("\n\n");
    text.push_str(&m.en);
    if !m.help_en.is_empty() {
        text.push('\n');
        text.push_str(&m.help_en);
    }
    Note::new(text)
        .add_author_prefix(false)
        .set_author("unionstat")
        .set_width(320)
        .set_height(140)
}

/// Numbers ≥ 0: whole for counts, at most `decimals` places otherwise.
fn metric_validation(m: &Metric, col: u16) -> Result<DataValidation, WriteError> {
    let v = if m.decimals == 0 {
        DataValidation::new()
            .allow_whole_number(DataValidationRule::GreaterThanOrEqualTo(0))
            .set_error_message(
                "请填写不小于0的整数；未统计请留空。\nEnter a whole number of at least 0; leave the cell empty if not counted.",
            )?
    } else {
        // The formula is relative to the first cell of the range.
        let first = format!("{}{}", column_name(u32::from(col)), FIRST_UNIT_ROW + 1);
        let places = m.decimals;
        DataValidation::new()
            .allow_custom(Formula::new(format!(
                "=AND(ISNUMBER({first}),{first}>=0,ROUND({first},{places})={first})"
            )))
            .set_error_message(format!(
                "请填写不小于0的金额，最多{places}位小数；未统计请留空。\nEnter an amount of at least 0 with at most {places} decimals; leave the cell empty if not counted."
            ))?
    };
    Ok(v.set_error_title("数值无效 Invalid value")?
        .set_error_style(DataValidationErrorStyle::Stop))
}

/// Writes a Template v1 workbook as `spec` says.
pub fn write_template(catalog: &Catalog, spec: &TemplateSpec<'_>) -> Result<Vec<u8>, WriteError> {
    let cover = spec.cover;
    let period = cover.period;
    let mut wb = Workbook::new();
    let properties = spec.properties.clone().unwrap_or_else(|| {
        DocProperties::new()
            .set_title(title(period))
            .set_author(cover.reporter_name.as_str())
    });
    wb.set_properties(&properties);

    let bold = Format::new().set_bold();
    let title_fmt = Format::new()
        .set_bold()
        .set_font_size(14)
        .set_align(FormatAlign::Center);
    let header_fmt = header_format();
    let metric_fmts: Vec<Option<Format>> = catalog
        .metrics
        .iter()
        .map(|m| decimals_format(m.decimals).map(|f| Format::new().set_num_format(f)))
        .collect();

    // 封面
    let sheet = wb.add_worksheet();
    sheet.set_name(COVER_SHEET)?;
    sheet.set_column_width(0, 16)?;
    sheet.set_column_width(1, 40)?;
    let pairs: [(&str, &str); 6] = [
        ("报送单位代码", &cover.reporter_code),
        ("报送单位名称", &cover.reporter_name),
        ("报告期", &period.to_string()),
        ("填报人", &cover.preparer),
        ("联系电话", &cover.phone),
        ("填报日期", &cover.date),
    ];
    let text = Format::new().set_num_format("@");
    for (i, (label, value)) in pairs.iter().enumerate() {
        let r = i as u32;
        sheet.write_string_with_format(r, 0, *label, &bold)?;
        if !value.is_empty() {
            write_text(sheet, r, 1, value, None)?;
        } else if spec.guide {
            // What the clerk types stays text (a phone number keeps its 0).
            sheet.write_blank(r, 1, &text)?;
        }
    }
    if spec.guide {
        // The 零报告 line (the catalogue's first label), left empty: 是 declares a
        // nil report, anything else declares nothing. A drop-down offers 是/否.
        let r = pairs.len() as u32;
        let label = catalog
            .cover
            .nil_report
            .first()
            .map_or("零报告", String::as_str);
        sheet.write_string_with_format(r, 0, label, &bold)?;
        sheet.write_blank(r, 1, &text)?;
        let yes_no = DataValidation::new()
            .allow_list_strings(&[NIL_YES, NIL_NO])?
            .set_input_title("零报告 Nil report")?
            .set_input_message(
                "本月确无数据时选“是”，否则选“否”或留空。\nChoose 是 (yes) only when there is nothing to report this month.",
            )?
            .set_error_title("零报告 Nil report")?
            .set_error_message("请选择“是”或“否”。\nChoose 是 (yes) or 否 (no).")?
            .set_error_style(DataValidationErrorStyle::Stop);
        sheet.add_data_validation(r, 1, r, 1, &yes_no)?;
    }

    // 基层工会情况
    let sheet = wb.add_worksheet();
    sheet.set_name(UNITS_SHEET)?;
    let metrics = catalog.metrics.len() as u16;
    let last_col = FIRST_METRIC_COL + metrics.saturating_sub(1);
    sheet.merge_range(0, 0, 0, last_col.max(1), &title(period), &title_fmt)?;
    let subtitle = format!(
        "填报单位：{}（{}）    报告期：{}年{}月",
        cover.reporter_name,
        cover.reporter_code,
        period.year(),
        period.month()
    );
    sheet.write_string(1, 0, &subtitle)?;
    if spec.guide {
        // Codes typed into new rows stay text (a 12-digit code is not a number).
        sheet.set_column_format(0, &text)?;
    }
    sheet.set_column_width(0, 16)?;
    sheet.set_column_width(1, 36)?;
    sheet.set_row_height(HEADER_ROW, 45)?;
    sheet.write_string_with_format(HEADER_ROW, 0, "单位代码", &header_fmt)?;
    sheet.write_string_with_format(HEADER_ROW, 1, "单位名称", &header_fmt)?;
    for (i, m) in catalog.metrics.iter().enumerate() {
        let col = FIRST_METRIC_COL + i as u16;
        write_metric_header(sheet, HEADER_ROW, col, m, &header_fmt)?;
        if spec.guide {
            sheet.insert_note(HEADER_ROW, col, &metric_note(m))?;
        }
    }
    sheet.set_freeze_panes(FIRST_UNIT_ROW, FIRST_METRIC_COL)?;

    let write_value = |sheet: &mut Worksheet,
                       row: u32,
                       i: usize,
                       v: i64,
                       fmt: Option<&Format>|
     -> Result<(), WriteError> {
        let m = &catalog.metrics[i];
        let col = FIRST_METRIC_COL + i as u16;
        match fmt.or(metric_fmts[i].as_ref()) {
            Some(f) => sheet.write_number_with_format(row, col, m.to_f64(v), f)?,
            None => sheet.write_number(row, col, m.to_f64(v))?,
        };
        Ok(())
    };
    let mut r = FIRST_UNIT_ROW;
    for line in spec.rows {
        write_text(sheet, r, 0, &line.code, None)?;
        write_text(sheet, r, 1, &line.name, None)?;
        for i in 0..catalog.metrics.len() {
            if let Some(v) = line.value(i) {
                write_value(sheet, r, i, v, None)?;
            }
        }
        r += 1;
    }
    let last_unit_row = r.checked_sub(1).filter(|&l| l >= FIRST_UNIT_ROW);

    if spec.guide {
        if let Some(last) = last_unit_row {
            for (i, m) in catalog.metrics.iter().enumerate() {
                let col = FIRST_METRIC_COL + i as u16;
                sheet.add_data_validation(
                    FIRST_UNIT_ROW,
                    col,
                    last,
                    col,
                    &metric_validation(m, col)?,
                )?;
            }
        }
    }

    match spec.total {
        Total::Omit => {}
        Total::Values(values) => {
            sheet.write_string_with_format(r, 0, "合计", &bold)?;
            for (i, v) in values.iter().enumerate().take(catalog.metrics.len()) {
                if let Some(v) = v {
                    write_value(sheet, r, i, *v, None)?;
                }
            }
            r += 1;
        }
        Total::Formulas => {
            if let Some(last) = last_unit_row {
                sheet.write_string_with_format(r, 0, "合计", &bold)?;
                for (i, m) in catalog.metrics.iter().enumerate() {
                    let col = FIRST_METRIC_COL + i as u16;
                    let letters = column_name(u32::from(col));
                    let sum: i64 = spec.rows.iter().filter_map(|l| l.value(i)).sum();
                    let formula = Formula::new(format!(
                        "=SUM({letters}{}:{letters}{})",
                        FIRST_UNIT_ROW + 1,
                        last + 1
                    ))
                    .set_result(m.format(sum));
                    let fmt = match &metric_fmts[i] {
                        Some(f) => f.clone().set_bold(),
                        None => bold.clone(),
                    };
                    sheet.write_formula_with_format(r, col, formula, &fmt)?;
                }
                r += 1;
            }
        }
    }
    sheet.write_string(r + 1, 0, NOTE)?;

    Ok(wb.save_to_buffer()?)
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use calamine::{Data, Reader, Xlsx};

    use super::*;
    use crate::catalog::HeaderMeaning;
    use crate::ingest::{read_workbook, ReadLimits};
    use crate::workbook_out::tests::part;

    fn catalog() -> Catalog {
        Catalog::builtin().unwrap()
    }

    fn units() -> Vec<(String, String)> {
        vec![
            ("330102001001".into(), "甲公司工会".into()),
            ("330102001002".into(), "乙公司工会".into()),
            ("330102001003".into(), "丙公司工会".into()),
        ]
    }

    fn period() -> Period {
        "2026-10".parse().unwrap()
    }

    fn sheet(bytes: &[u8], name: &str) -> Vec<Vec<Data>> {
        let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
        let range = wb.worksheet_range(name).unwrap();
        assert_eq!(range.start(), Some((0, 0)));
        range.rows().map(|r| r.to_vec()).collect()
    }

    fn text(d: &Data) -> String {
        match d {
            Data::String(s) => s.clone(),
            other => panic!("expected text, got {other:?}"),
        }
    }

    #[test]
    fn workbook_out_template_prefills_cover_units_and_header() {
        let c = catalog();
        let bytes = template(&c, "330102001", "湖滨街道总工会", period(), &units()).unwrap();
        let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.clone())).unwrap();
        assert_eq!(wb.sheet_names(), vec![COVER_SHEET, UNITS_SHEET]);

        let cover = sheet(&bytes, COVER_SHEET);
        let labels: Vec<String> = cover.iter().map(|r| text(&r[0])).collect();
        assert_eq!(
            labels,
            [
                "报送单位代码",
                "报送单位名称",
                "报告期",
                "填报人",
                "联系电话",
                "填报日期",
                "零报告"
            ]
        );
        assert_eq!(text(&cover[0][1]), "330102001");
        assert_eq!(text(&cover[1][1]), "湖滨街道总工会");
        assert_eq!(text(&cover[2][1]), "2026-10", "the period is text");
        for r in &cover[3..] {
            assert_eq!(r[1], Data::Empty);
        }

        let rows = sheet(&bytes, UNITS_SHEET);
        assert_eq!(text(&rows[0][0]), "2026年10月基层工会统计月报表");
        let header = &rows[HEADER_ROW as usize];
        assert_eq!(text(&header[0]), "单位代码");
        assert_eq!(text(&header[1]), "单位名称");
        assert_eq!(header.len(), 2 + c.metrics.len());
        for (i, m) in c.metrics.iter().enumerate() {
            let h = text(&header[2 + i]);
            assert_eq!(c.header(&h), Some(HeaderMeaning::Metric(i)), "{h}");
            assert!(h.starts_with(&m.zh));
        }
        assert_eq!(
            text(&header[2 + c.metric_position("members").unwrap()]),
            "会员人数（人）"
        );
        for (i, (code, name)) in units().iter().enumerate() {
            let row = &rows[FIRST_UNIT_ROW as usize + i];
            assert_eq!(row[0], Data::String(code.clone()), "codes are text");
            assert_eq!(text(&row[1]), *name);
            assert!(row[2..].iter().all(|d| *d == Data::Empty));
        }
        let total = &rows[FIRST_UNIT_ROW as usize + 3];
        assert_eq!(text(&total[0]), "合计");
        // The cached result of every SUM is 0.
        assert!(
            total[2..].iter().all(|d| *d == Data::Float(0.0)),
            "{total:?}"
        );
        let formulas = wb.worksheet_formula(UNITS_SHEET).unwrap();
        assert_eq!(
            formulas
                .get_value((FIRST_UNIT_ROW + 3, 2))
                .map(String::as_str),
            Some("SUM(C4:C6)")
        );
        assert!(text(&rows[FIRST_UNIT_ROW as usize + 5][0]).starts_with("填表说明"));

        // Notes on the metric headers, in both languages.
        let notes = part(&bytes, "xl/comments1.xml");
        assert_eq!(notes.matches("<comment ").count(), c.metrics.len());
        assert!(notes.contains("ref=\"F3\""), "members' header is F3");
        assert!(notes.contains("工会会员人数（期末数），不得大于职工人数"));
        assert!(notes.contains("Union members (end of month); at most the employees"));

        // The 零报告 line offers 是/否 and is left empty.
        let ws1 = part(&bytes, "xl/worksheets/sheet1.xml");
        assert_eq!(ws1.matches("<dataValidation ").count(), 1, "{ws1}");
        assert!(ws1.contains("type=\"list\""), "{ws1}");
        assert!(ws1.contains("sqref=\"B7\""), "{ws1}");
        assert!(ws1.contains("<formula1>\"是,否\"</formula1>"), "{ws1}");

        // Validation, frozen panes, text codes.
        let ws = part(&bytes, "xl/worksheets/sheet2.xml");
        assert!(
            ws.contains("<pane xSplit=\"2\" ySplit=\"3\" topLeftCell=\"C4\""),
            "{ws}"
        );
        assert_eq!(ws.matches("<dataValidation ").count(), c.metrics.len());
        assert!(ws.contains("type=\"whole\" operator=\"greaterThanOrEqual\" allowBlank=\"1\""));
        assert!(ws.contains("sqref=\"F4:F6\""));
        let yuan = column_name(2 + c.metric_position("relief_yuan").unwrap() as u32);
        assert!(ws.contains(&format!(
            "AND(ISNUMBER({yuan}4),{yuan}4&gt;=0,ROUND({yuan}4,2)={yuan}4)"
        )));
    }

    #[test]
    fn workbook_out_blank_template_reads_back_with_nothing_reported() {
        let c = catalog();
        let bytes = template(&c, "330102001", "湖滨街道总工会", period(), &units()).unwrap();
        let wb = read_workbook(&bytes, &c, &ReadLimits::default());
        assert!(wb.issues.is_empty(), "{:?}", wb.issues);
        assert_eq!(wb.header_row, HEADER_ROW + 1);
        assert_eq!(wb.columns.len(), c.metrics.len());
        assert_eq!(wb.rows.len(), 3);
        assert!(wb.rows.iter().all(|r| r.values.iter().all(Option::is_none)));
        assert_eq!(wb.rows[0].code, "330102001001");
        let cover = wb.cover.as_ref().unwrap();
        assert_eq!(cover.reporter_code.as_ref().unwrap().value, "330102001");
        assert_eq!(cover.period.as_ref().unwrap().value, "2026-10");
        assert!(cover.preparer.is_none());
        // The 合计 row's cached 0s equal the sums of nothing.
        let total = wb.total.as_ref().unwrap();
        assert!(total.values.iter().all(|v| *v == Some(0)));
    }

    #[test]
    fn workbook_out_filled_template_caches_the_sums() {
        let c = catalog();
        let members = c.metric_position("members").unwrap();
        let employees = c.metric_position("employees").unwrap();
        let yuan = c.metric_position("relief_yuan").unwrap();
        let mut lines: Vec<UnitLine> = units()
            .into_iter()
            .map(|(code, name)| UnitLine {
                code,
                name,
                values: vec![None; c.metrics.len()],
            })
            .collect();
        for (i, line) in lines.iter_mut().enumerate() {
            line.values[employees] = Some(1000 * (i as i64 + 1));
            line.values[members] = Some(900 * (i as i64 + 1));
        }
        lines[1].values[yuan] = Some(123_456);
        let mut cover = CoverFields::new("330102001", "湖滨街道总工会", period());
        cover.preparer = "张三".into();
        cover.phone = "0571-87654321".into();
        cover.date = "2026-11-03".into();
        let bytes = filled_template(&c, &cover, &lines).unwrap();

        let wb = read_workbook(&bytes, &c, &ReadLimits::default());
        assert!(wb.issues.is_empty(), "{:?}", wb.issues);
        let col = |metric: usize| {
            wb.columns
                .iter()
                .position(|m| m.metric == c.metrics[metric].code)
                .unwrap()
        };
        let total = wb.total.as_ref().unwrap();
        assert_eq!(total.values[col(employees)], Some(6000));
        assert_eq!(total.values[col(members)], Some(5400));
        assert_eq!(total.values[col(yuan)], Some(123_456));
        assert_eq!(
            total.values[col(c.metric_position("new_members").unwrap())],
            Some(0)
        );
        assert_eq!(wb.rows[1].values[col(yuan)], Some(123_456));
        assert_eq!(wb.rows[2].values[col(members)], Some(2700));
        let cv = wb.cover.as_ref().unwrap();
        assert_eq!(cv.phone.as_ref().unwrap().value, "0571-87654321");

        let rows = sheet(&bytes, UNITS_SHEET);
        let total = &rows[FIRST_UNIT_ROW as usize + 3];
        assert_eq!(total[2 + yuan], Data::Float(1234.56));
    }

    #[test]
    fn workbook_out_template_without_units_has_no_total() {
        let c = catalog();
        let bytes = template(&c, "330102", "上城区总工会", period(), &[]).unwrap();
        let rows = sheet(&bytes, UNITS_SHEET);
        assert_eq!(
            rows.len(),
            FIRST_UNIT_ROW as usize + 2,
            "header, blank, note"
        );
        assert!(text(&rows[FIRST_UNIT_ROW as usize + 1][0]).starts_with("填表说明"));
        let ws = part(&bytes, "xl/worksheets/sheet2.xml");
        assert!(!ws.contains("<dataValidation "));
    }

    #[test]
    fn workbook_out_entered_template_is_the_same_bytes_for_the_same_day() {
        let c = catalog();
        let members = c.metric_position("members").unwrap();
        let lines: Vec<UnitLine> = units()
            .into_iter()
            .map(|(code, name)| {
                let mut values = vec![None; c.metrics.len()];
                values[members] = Some(57);
                UnitLine { code, name, values }
            })
            .collect();
        let cover = CoverFields::new("330102001", "湖滨街道总工会", period());
        let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 3).unwrap();
        let one = entered_template(&c, &cover, &lines, day).unwrap();
        let two = entered_template(&c, &cover, &lines, day).unwrap();
        assert_eq!(one, two);
        let next = day.succ_opt().unwrap();
        assert_ne!(one, entered_template(&c, &cover, &lines, next).unwrap());
        let core = part(&one, "docProps/core.xml");
        assert!(core.contains("2026-11-03T00:00:00Z"), "{core}");
        let wb = read_workbook(&one, &c, &ReadLimits::default());
        assert!(wb.issues.is_empty(), "{:?}", wb.issues);
        let col = wb
            .columns
            .iter()
            .position(|m| m.metric == "members")
            .unwrap();
        assert_eq!(wb.rows[2].values[col], Some(57));
    }
}
