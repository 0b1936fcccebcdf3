//! The annotated workbook: a submitter's own data written back at the same cells,
//! every cell an issue names filled red (error) or yellow (warning) with a note
//! naming the rule in Chinese and English, after a first sheet listing all issues.

use std::collections::{BTreeSet, HashMap};

use rust_xlsxwriter::{Color, Format, Note, Url, Workbook, Worksheet};

use super::clerk_layout;
use super::{
    decimals_format, header_format, header_label, parse_cell_ref, write_text, WriteError,
    COVER_SHEET, UNITS_SHEET,
};
use crate::catalog::{Catalog, Metric};
use crate::ingest::layout::LayoutValue;
use crate::ingest::{CoverValue, Workbook as ReadWorkbook};
use crate::issue::{Issue, Severity};

/// Name of the first sheet, the list of every issue.
pub const ISSUES_SHEET: &str = "问题清单 Issues";
/// Issues listed at most; a last row says how many more there are.
pub const MAX_LISTED_ISSUES: usize = 100_000;
/// Cells given a note at most (every named cell is still filled).
pub const MAX_NOTES: usize = 10_000;

const ERROR_FILL: &str = "#FFC7CE";
const ERROR_FONT: &str = "#9C0006";
const WARNING_FILL: &str = "#FFEB9C";
const WARNING_FONT: &str = "#9C5700";

/// The annotated copy of `original` (the workbook as read) with `issues`.
///
/// Sheets, in order:
/// - `问题清单 Issues`: one row per issue (errors first) — severity, rule, sheet,
///   cell (a link to it when the cell is written back), value, 中文说明, English,
///   the submitter's explanation, and the unit of the row (code and name) —
///   under a header with an autofilter.
/// - the cover, when the original had one: each value at its own cell, with its
///   label beside it.
/// - the units sheet, when the original had one: the header, every unit row and the
///   合计 row at the same rows and columns as the original, values formatted with
///   the metric's decimals; a cell that could not be read holds the text the issue
///   quotes, so the clerk sees what they typed. Around them, the clerk's layout
///   as the reader kept it ([`crate::ingest::layout`]): titles, notes and the
///   columns the template does not read at their cells, merged ranges, column
///   widths and data validations. The line saying what the copy is goes in A1
///   only when the clerk's sheet has nothing above the header.
///
/// A sheet keeps its original name when the catalogue knows it as the cover or
/// units sheet, else takes the canonical one (`封面`, `基层工会情况`), so the copy,
/// once corrected, can be uploaded again. Every cell an issue of these sheets
/// names is filled (red: error, yellow: warning) and carries a note
/// `rule: 中文 / English` for each issue there. A workbook that could not be read
/// gives the issue list alone.
pub fn annotated(
    catalog: &Catalog,
    original: &ReadWorkbook,
    issues: &[Issue],
) -> Result<Vec<u8>, WriteError> {
    let mut wb = Workbook::new();

    let cover_name = original
        .cover
        .as_ref()
        .map(|c| sheet_name(&c.sheet, catalog.is_cover_sheet(&c.sheet), COVER_SHEET));
    let units_name = (!original.units_sheet.is_empty()).then(|| {
        sheet_name(
            &original.units_sheet,
            catalog.is_units_sheet(&original.units_sheet),
            UNITS_SHEET,
        )
    });
    // Original sheet name → the sheet written back.
    let mut written: HashMap<&str, &str> = HashMap::new();
    if let (Some(c), Some(name)) = (&original.cover, &cover_name) {
        written.insert(c.sheet.as_str(), name.as_str());
    }
    if let Some(name) = &units_name {
        written.insert(original.units_sheet.as_str(), name.as_str());
    }

    write_issue_list(wb.add_worksheet(), issues, &written)?;

    if let (Some(cover), Some(name)) = (&original.cover, &cover_name) {
        let sheet = wb.add_worksheet();
        sheet.set_name(name)?;
        let mut marks = Marks::of(issues, &cover.sheet);
        sheet.set_column_width(0, 16)?;
        sheet.set_column_width(1, 40)?;
        let label = Format::new().set_bold();
        let fields: [(&str, &Option<CoverValue>); 6] = [
            ("报送单位代码", &cover.reporter_code),
            ("报送单位名称", &cover.reporter_name),
            ("报告期", &cover.period),
            ("填报人", &cover.preparer),
            ("联系电话", &cover.phone),
            ("填报日期", &cover.date),
        ];
        for (text, value) in fields {
            let Some(v) = value else { continue };
            let Some((r, c)) = parse_cell_ref(&v.cell) else {
                continue;
            };
            if c > 0 {
                marks.text(sheet, r, c - 1, text, Some(&label))?;
            }
            marks.text(sheet, r, c, &v.value, None)?;
        }
        marks.finish(sheet)?;
    }

    if let Some(name) = &units_name {
        let sheet = wb.add_worksheet();
        sheet.set_name(name)?;
        write_units(sheet, catalog, original, issues)?;
    }

    Ok(wb.save_to_buffer()?)
}

/// The original name when it is known and valid, else the canonical one.
fn sheet_name(original: &str, known: bool, canonical: &str) -> String {
    let valid = !original.is_empty()
        && original.chars().count() <= 31
        && !original.contains(['[', ']', ':', '*', '?', '/', '\\'])
        && !original.starts_with('\'')
        && !original.ends_with('\'')
        && !original.eq_ignore_ascii_case("history")
        && original != ISSUES_SHEET;
    if known && valid {
        original.to_string()
    } else {
        canonical.to_string()
    }
}

fn severity_text(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Explain => "explain",
    }
}

/// The worst a finding weighs: an explain-severity finding without its
/// explanation blocks as an error, with it it is read as a warning.
fn weight(issue: &Issue) -> Severity {
    if issue.is_error() {
        Severity::Error
    } else {
        Severity::Warning
    }
}

fn highlight(base: Option<&Format>, s: Severity) -> Format {
    let (fill, font) = match s {
        Severity::Error => (ERROR_FILL, ERROR_FONT),
        Severity::Warning | Severity::Explain => (WARNING_FILL, WARNING_FONT),
    };
    base.cloned()
        .unwrap_or_default()
        .set_background_color(Color::from(fill))
        .set_font_color(Color::from(font))
}

fn write_issue_list(
    sheet: &mut Worksheet,
    issues: &[Issue],
    written: &HashMap<&str, &str>,
) -> Result<(), WriteError> {
    sheet.set_name(ISSUES_SHEET)?;
    let header = [
        "级别 Severity",
        "规则 Rule",
        "工作表 Sheet",
        "单元格 Cell",
        "填写值 Value",
        "中文说明",
        "English",
        "填报说明 Explanation",
        "单位 Unit",
    ];
    let widths = [12, 26, 16, 12, 16, 70, 70, 40, 28];
    let header_fmt = header_format();
    for (c, (h, w)) in header.iter().zip(widths).enumerate() {
        sheet.set_column_width(c as u16, w)?;
        sheet.write_string_with_format(0, c as u16, *h, &header_fmt)?;
    }
    let wrap = Format::new().set_text_wrap();
    let mut ordered: Vec<&Issue> = issues.iter().collect();
    ordered.sort_by_key(|i| !i.is_error());
    let mut r = 0u32;
    for issue in ordered.iter().take(MAX_LISTED_ISSUES) {
        r += 1;
        sheet.write_string_with_format(
            r,
            0,
            severity_text(issue.severity),
            &highlight(None, weight(issue)),
        )?;
        sheet.write_string(r, 1, &issue.rule)?;
        if let Some(s) = &issue.sheet {
            sheet.write_string(r, 2, s)?;
        }
        if let Some(cell) = &issue.cell {
            let target = issue
                .sheet
                .as_deref()
                .and_then(|s| written.get(s))
                .filter(|_| parse_cell_ref(cell).is_some());
            match target {
                Some(name) => {
                    let url = Url::new(format!("internal:'{name}'!{cell}")).set_text(cell);
                    sheet.write_url(r, 3, url)?;
                }
                None => {
                    sheet.write_string(r, 3, cell)?;
                }
            }
        }
        if let Some(v) = &issue.value {
            write_text(sheet, r, 4, v, None)?;
        }
        sheet.write_string_with_format(r, 5, &issue.message.zh, &wrap)?;
        sheet.write_string_with_format(r, 6, &issue.message.en, &wrap)?;
        if let Some(e) = &issue.explanation {
            write_text(sheet, r, 7, &e.text, Some(&wrap))?;
        }
        if let Some(unit) = &issue.unit {
            write_text(sheet, r, 8, &unit.label(), None)?;
        }
    }
    if issues.len() > MAX_LISTED_ISSUES {
        let more = issues.len() - MAX_LISTED_ISSUES;
        sheet.write_string(r + 1, 5, format!("……另有 {more} 个问题未列出"))?;
        sheet.write_string(r + 1, 6, format!("… {more} more issues not listed"))?;
    }
    sheet.autofilter(0, 0, r, (header.len() - 1) as u16)?;
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}

/// The units sheet written back at its original rows and columns.
fn write_units(
    sheet: &mut Worksheet,
    catalog: &Catalog,
    original: &ReadWorkbook,
    issues: &[Issue],
) -> Result<(), WriteError> {
    let mut marks = Marks::of(issues, &original.units_sheet);
    let code_col = parse_cell_ref(&format!(
        "{}1",
        if original.code_letter.is_empty() {
            "A"
        } else {
            &original.code_letter
        }
    ))
    .map_or(0, |(_, c)| c);
    let metric_cols: Vec<u16> = original.columns.iter().map(|c| c.col as u16).collect();
    let metrics: Vec<Option<&Metric>> = original
        .columns
        .iter()
        .map(|c| catalog.metric(&c.metric))
        .collect();
    // Rate columns, from the cells the clerk's rates were read at.
    let mut rate_cols: HashMap<u16, &str> = HashMap::new();
    for rate in &original.rates {
        if let Some((_, c)) = parse_cell_ref(&rate.cell) {
            rate_cols.insert(c, rate.indicator.as_str());
        }
    }
    // The 说明 column, from the cells its texts were read at.
    let note_col: Option<u16> = original
        .notes
        .first()
        .and_then(|n| parse_cell_ref(&n.cell))
        .map(|(_, c)| c);
    // Columns the copy writes besides the name's (an unknown column's header is
    // named by an issue, so it is not free either).
    let header_r = original.header_row.checked_sub(1);
    let taken: BTreeSet<u16> = std::iter::once(code_col)
        .chain(metric_cols.iter().copied())
        .chain(rate_cols.keys().copied())
        .chain(note_col)
        .chain(
            marks
                .cells
                .keys()
                .filter(|(r, _)| Some(*r) == header_r)
                .map(|&(_, c)| c),
        )
        .collect();
    // Where the reader found it; else (an older reading) the first free
    // column after the code's.
    let read_at = parse_cell_ref(&format!("{}1", original.name_letter)).map(|(_, c)| c);
    let name_col = read_at.or_else(|| {
        (code_col + 1..16_383)
            .chain(0..code_col)
            .find(|c| !taken.contains(c))
    });
    let has_names = original.rows.iter().any(|r| !r.name.is_empty());

    // The clerk's layout first: the figures below overwrite none of it but the
    // cells they own, and its widths come last, over the copy's own.
    let layout = &original.layout;
    let firsts = clerk_layout::write_merges(sheet, layout)?;
    for cell in &layout.cells {
        let (r, c) = (cell.row, cell.col as u16);
        if cell.col >= 16_384 || firsts.contains(&(r, c)) {
            continue;
        }
        match &cell.value {
            LayoutValue::Text(t) => marks.text(sheet, r, c, t, None)?,
            LayoutValue::Number(n) => marks.number(sheet, r, c, *n, None)?,
        }
    }
    // A line saying what this copy is, where the clerk's sheet leaves room.
    let titled = layout.cells.iter().any(|c| c.row + 1 < original.header_row) || !firsts.is_empty();
    if original.header_row > 1 && !titled {
        sheet.write_string(
            0,
            0,
            "标注副本：红色单元格为错误，黄色为警告，鼠标停留可见说明；全部问题见“问题清单 Issues”。\
             Annotated copy: red cells are errors, yellow ones warnings (hover for the note); \
             every issue is listed on the Issues sheet.",
        )?;
    }
    let fmts: Vec<Option<Format>> = metrics
        .iter()
        .map(|m| {
            m.and_then(|m| decimals_format(m.decimals))
                .map(|f| Format::new().set_num_format(f))
        })
        .collect();
    if original.header_row > 0 {
        let hr = original.header_row - 1;
        let hf = header_format();
        sheet.set_row_height(hr, 45)?;
        marks.text(sheet, hr, code_col, "单位代码", Some(&hf))?;
        sheet.set_column_width(code_col, 16)?;
        if let (Some(nc), true) = (name_col, has_names) {
            marks.text(sheet, hr, nc, "单位名称", Some(&hf))?;
            sheet.set_column_width(nc, 36)?;
        }
        for (col, (column, m)) in metric_cols
            .iter()
            .zip(original.columns.iter().zip(&metrics))
        {
            let label = match m {
                Some(m) => header_label(&m.zh, m.decimals),
                None => column.metric.clone(),
            };
            marks.text(sheet, hr, *col, &label, Some(&hf))?;
            sheet.set_column_width(*col, 12)?;
        }
        for (col, indicator) in &rate_cols {
            let label = catalog
                .indicators
                .iter()
                .find(|i| i.code == *indicator)
                .map_or_else(|| indicator.to_string(), |i| i.zh.clone());
            marks.text(sheet, hr, *col, &label, Some(&hf))?;
        }
        if let Some(col) = note_col {
            marks.text(sheet, hr, col, "说明", Some(&hf))?;
            sheet.set_column_width(col, 30)?;
        }
        // Frozen below the header, and right of code and name when they lead.
        let left = match name_col.filter(|_| has_names) {
            Some(nc) => code_col.max(nc) + 1,
            None => code_col + 1,
        };
        sheet.set_freeze_panes(original.header_row, if left <= 2 { left } else { 0 })?;
    }

    let bold = Format::new().set_bold();
    for (row, is_total) in original
        .rows
        .iter()
        .map(|r| (r, false))
        .chain(original.total.iter().map(|t| (t, true)))
    {
        let Some(r) = row.row.checked_sub(1) else {
            continue;
        };
        if !row.code.is_empty() {
            marks.text(sheet, r, code_col, &row.code, is_total.then_some(&bold))?;
        }
        if let (Some(nc), false) = (name_col, row.name.is_empty()) {
            marks.text(sheet, r, nc, &row.name, None)?;
        }
        for (i, v) in row.values.iter().enumerate() {
            let (Some(v), Some(&col), Some(Some(m))) = (v, metric_cols.get(i), metrics.get(i))
            else {
                continue;
            };
            let fmt = match (&fmts[i], is_total) {
                (Some(f), true) => Some(f.clone().set_bold()),
                (Some(f), false) => Some(f.clone()),
                (None, true) => Some(bold.clone()),
                (None, false) => None,
            };
            marks.number(sheet, r, col, m.to_f64(*v), fmt.as_ref())?;
        }
    }
    for rate in &original.rates {
        if let Some((r, c)) = parse_cell_ref(&rate.cell) {
            marks.text(sheet, r, c, &rate.raw, None)?;
        }
    }
    // The clerk's 说明 stay where they were, so a corrected copy keeps them.
    for note in &original.notes {
        if let Some((r, c)) = parse_cell_ref(&note.cell) {
            marks.text(sheet, r, c, &note.text, None)?;
        }
    }
    clerk_layout::write_widths(sheet, layout)?;
    clerk_layout::write_validations(sheet, layout);
    marks.finish(sheet)
}

/// The cells of one sheet that issues name, and whether they were written yet.
struct Marks<'a> {
    cells: HashMap<(u32, u16), Mark<'a>>,
}

struct Mark<'a> {
    worst: Severity,
    issues: Vec<&'a Issue>,
    written: bool,
}

impl<'a> Marks<'a> {
    fn of(issues: &'a [Issue], sheet: &str) -> Marks<'a> {
        let mut cells: HashMap<(u32, u16), Mark<'a>> = HashMap::new();
        for issue in issues {
            if issue.sheet.as_deref() != Some(sheet) {
                continue;
            }
            let Some(at) = issue.cell.as_deref().and_then(parse_cell_ref) else {
                continue;
            };
            let mark = cells.entry(at).or_insert(Mark {
                worst: weight(issue),
                issues: Vec::new(),
                written: false,
            });
            if issue.is_error() {
                mark.worst = Severity::Error;
            }
            mark.issues.push(issue);
        }
        Marks { cells }
    }

    /// The format of a cell: `base`, filled when an issue names the cell.
    fn format(&mut self, r: u32, c: u16, base: Option<&Format>) -> Option<Format> {
        match self.cells.get_mut(&(r, c)) {
            Some(mark) => {
                mark.written = true;
                Some(highlight(base, mark.worst))
            }
            None => base.cloned(),
        }
    }

    fn text(
        &mut self,
        sheet: &mut Worksheet,
        r: u32,
        c: u16,
        text: &str,
        base: Option<&Format>,
    ) -> Result<(), WriteError> {
        let f = self.format(r, c, base);
        write_text(sheet, r, c, text, f.as_ref())?;
        Ok(())
    }

    fn number(
        &mut self,
        sheet: &mut Worksheet,
        r: u32,
        c: u16,
        n: f64,
        base: Option<&Format>,
    ) -> Result<(), WriteError> {
        match self.format(r, c, base) {
            Some(f) => sheet.write_number_with_format(r, c, n, &f)?,
            None => sheet.write_number(r, c, n)?,
        };
        Ok(())
    }

    /// Writes the named cells nothing else wrote (with the text their issue
    /// quotes) and the notes.
    fn finish(self, sheet: &mut Worksheet) -> Result<(), WriteError> {
        let mut cells: Vec<((u32, u16), Mark<'a>)> = self.cells.into_iter().collect();
        cells.sort_by_key(|(at, _)| *at);
        for (i, ((r, c), mark)) in cells.iter().enumerate() {
            if !mark.written {
                let fmt = highlight(None, mark.worst);
                match mark.issues.iter().find_map(|i| i.value.as_deref()) {
                    Some(v) => write_text(sheet, *r, *c, v, Some(&fmt))?,
                    None => {
                        sheet.write_blank(*r, *c, &fmt)?;
                    }
                };
            }
            if i < MAX_NOTES {
                sheet.insert_note(*r, *c, &note(&mark.issues))?;
            }
        }
        Ok(())
    }
}

/// `rule: 中文 / English` for each issue of a cell.
fn note(issues: &[&Issue]) -> Note {
    let text: Vec<String> = issues
        .iter()
        .map(|i| {
            let said = match &i.explanation {
                Some(e) => format!("\n说明 Explanation: {}", e.text),
                None => String::new(),
            };
            format!("{}: {} / {}{said}", i.rule, i.message.zh, i.message.en)
        })
        .collect();
    let text = text.join("\n\n");
    // About 40 characters a line at this width.
    let lines: usize = text
        .lines()
        .map(|l| l.chars().count().div_ceil(40).max(1))
        .sum();
    Note::new(text)
        .add_author_prefix(false)
        .set_author("unionstat")
        .set_width(380)
        .set_height((24 + 16 * lines).min(600) as u32)
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use calamine::{Data, Reader, Xlsx};

    use super::*;
    use crate::ingest::{read_workbook, ReadLimits};
    use crate::issue::Message;
    use crate::text::column_name;
    use crate::workbook_out::tests::part;
    use crate::workbook_out::{filled_template, CoverFields, UnitLine, FIRST_UNIT_ROW};

    fn letters(col: u16) -> String {
        column_name(u32::from(col))
    }

    fn catalog() -> Catalog {
        Catalog::builtin().unwrap()
    }

    fn sheet(bytes: &[u8], name: &str) -> Vec<Vec<Data>> {
        let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
        let range = wb.worksheet_range(name).unwrap();
        let (r0, c0) = range.start().unwrap();
        // Pad to A1 so indices are sheet positions.
        let mut rows = vec![vec![Data::Empty; range.width() + c0 as usize]; r0 as usize];
        for r in range.rows() {
            let mut row = vec![Data::Empty; c0 as usize];
            row.extend(r.iter().cloned());
            rows.push(row);
        }
        rows
    }

    fn at<'a>(rows: &'a [Vec<Data>], cell: &str) -> &'a Data {
        let (r, c) = parse_cell_ref(cell).unwrap();
        rows.get(r as usize)
            .and_then(|row| row.get(c as usize))
            .unwrap_or(&Data::Empty)
    }

    /// A workbook in the layout of the integration tests' helpers: a title row,
    /// the header in row 2 (A 单位代码, B 单位名称, C 应建会单位数, D 已建会单位数,
    /// E 职工人数, F 会员人数, G 帮扶慰问金额), units from row 3.
    fn clerk_workbook() -> Vec<u8> {
        let mut wb = Workbook::new();
        let cover = wb.add_worksheet().set_name("封面").unwrap();
        cover.write_string(0, 0, "报送单位代码").unwrap();
        cover.write_string(0, 1, "330102001").unwrap();
        cover.write_string(1, 0, "报告期").unwrap();
        cover.write_string(1, 1, "2026-13").unwrap();
        let ws = wb.add_worksheet().set_name("基层工会情况").unwrap();
        ws.write_string(0, 0, "基层工会统计月报表").unwrap();
        let header = [
            "单位代码",
            "单位名称",
            "应建会单位数",
            "已建会单位数",
            "职工人数",
            "会员人数",
            "帮扶慰问金额",
        ];
        for (c, h) in header.iter().enumerate() {
            ws.write_string(1, c as u16, *h).unwrap();
        }
        let rows: [(&str, &str, [f64; 4], &str); 3] = [
            (
                "330102001001",
                "甲公司工会",
                [20.0, 19.0, 100_000.0, 99_000.0],
                "1234.5",
            ),
            (
                "330102001002",
                "乙公司工会",
                [15.0, 14.0, 1200.0, 1205.0],
                "12a",
            ),
            (
                "330102001003",
                "丙公司工会",
                [6.0, 6.0, 38_000.0, 37_500.0],
                "",
            ),
        ];
        for (i, (code, name, nums, yuan)) in rows.iter().enumerate() {
            let r = i as u32 + 2;
            ws.write_string(r, 0, *code).unwrap();
            ws.write_string(r, 1, *name).unwrap();
            for (j, n) in nums.iter().enumerate() {
                ws.write_number(r, 2 + j as u16, *n).unwrap();
            }
            match yuan.parse::<f64>() {
                Ok(n) => ws.write_number(r, 6, n).unwrap(),
                Err(_) if !yuan.is_empty() => ws.write_string(r, 6, *yuan).unwrap(),
                Err(_) => ws,
            };
        }
        ws.write_string(5, 0, "合计").unwrap();
        ws.write_number(5, 4, 139_200.0).unwrap();
        wb.save_to_buffer().unwrap()
    }

    fn issue(severity: Severity, rule: &str, sheet: &str, cell: &str, value: &str) -> Issue {
        Issue {
            severity,
            rule: rule.into(),
            sheet: Some(sheet.into()),
            cell: Some(cell.into()),
            value: Some(value.into()),
            message: Message {
                zh: format!("{sheet}!{cell}：{rule} 的说明"),
                en: format!("{sheet}!{cell}: about {rule}"),
            },
            unit: None,
            explanation: None,
        }
    }

    #[test]
    fn workbook_out_annotated_keeps_the_notes_and_each_explanation() {
        let c = catalog();
        let mut book = rust_xlsxwriter::Workbook::new();
        let ws = book.add_worksheet().set_name("基层工会情况").unwrap();
        for (col, h) in ["单位代码", "单位名称", "职工人数", "说明"]
            .iter()
            .enumerate()
        {
            ws.write(0, col as u16, *h).unwrap();
        }
        for (col, v) in ["330102001001", "甲", "160000", "两厂合并"]
            .iter()
            .enumerate()
        {
            ws.write(1, col as u16, *v).unwrap();
        }
        let bytes = book.save_to_buffer().unwrap();
        let read = read_workbook(&bytes, &c, &ReadLimits::default());
        assert_eq!(read.notes.len(), 1);
        let mut explained = issue(
            Severity::Explain,
            "monthly_change",
            "基层工会情况",
            "C2",
            "160000",
        );
        explained.explanation = Some(crate::issue::Explanation {
            text: "两厂合并".into(),
            source: crate::issue::ExplanationSource::Column,
            note_cell: Some("D2".into()),
            unit: Some("330102001001".into()),
            metric: Some("employees".into()),
        });
        let out = annotated(&c, &read, &[explained]).unwrap();
        let units = sheet(&out, "基层工会情况");
        assert_eq!(units[0][3], Data::String("说明".into()));
        assert_eq!(units[1][3], Data::String("两厂合并".into()));
        let list = sheet(&out, ISSUES_SHEET);
        assert_eq!(list[0][7], Data::String("填报说明 Explanation".into()));
        assert_eq!(list[1][0], Data::String("explain".into()));
        assert_eq!(list[1][7], Data::String("两厂合并".into()));
        let notes = part(&out, "xl/comments1.xml");
        assert!(notes.contains("说明 Explanation: 两厂合并"), "{notes}");
    }

    #[test]
    fn workbook_out_annotated_rewrites_cells_and_marks_issues() {
        let c = catalog();
        let bytes = clerk_workbook();
        let read = read_workbook(&bytes, &c, &ReadLimits::default());
        // The reader finds the text in a yuan cell; add what validation says.
        let unreadable = read
            .issues
            .iter()
            .find(|i| i.cell.as_deref() == Some("G4"))
            .expect("G4 cannot be read")
            .clone();
        assert_eq!(unreadable.value.as_deref(), Some("12a"));
        let mut issues = read.issues.clone();
        issues.push(Issue {
            unit: Some(crate::issue::IssueUnit {
                code: "330102001002".into(),
                name: Some("乙公司工会".into()),
            }),
            ..issue(
                Severity::Error,
                "members_le_employees",
                "基层工会情况",
                "F4",
                "1205",
            )
        });
        issues.push(issue(
            Severity::Warning,
            "monthly_change",
            "基层工会情况",
            "E3",
            "100000",
        ));
        issues.push(issue(
            Severity::Error,
            "period_invalid",
            "封面",
            "B2",
            "2026-13",
        ));
        issues.push(Issue {
            sheet: None,
            cell: None,
            value: None,
            ..issue(Severity::Warning, "expected_unit_missing", "", "", "")
        });
        let out = annotated(&c, &read, &issues).unwrap();

        let wb: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(out.clone())).unwrap();
        assert_eq!(wb.sheet_names(), vec![ISSUES_SHEET, "封面", "基层工会情况"]);

        let list = sheet(&out, ISSUES_SHEET);
        assert_eq!(
            list.len(),
            issues.len() + 1,
            "a header and one row per issue"
        );
        assert_eq!(list[0][0], Data::String("级别 Severity".into()));
        let errors = issues.iter().filter(|i| i.is_error()).count();
        for (k, row) in list[1..].iter().enumerate() {
            let expected = if k < errors { "error" } else { "warning" };
            assert_eq!(row[0], Data::String(expected.into()), "errors first");
        }
        let f4 = list
            .iter()
            .find(|r| r[1] == Data::String("members_le_employees".into()))
            .unwrap();
        assert_eq!(f4[2], Data::String("基层工会情况".into()));
        assert_eq!(f4[3], Data::String("F4".into()));
        assert_eq!(f4[4], Data::String("1205".into()));
        assert_eq!(
            f4[5],
            Data::String("基层工会情况!F4：members_le_employees 的说明".into())
        );
        assert_eq!(f4[8], Data::String("330102001002 乙公司工会".into()));
        let list_xml = part(&out, "xl/worksheets/sheet1.xml");
        let last = issues.len() + 1;
        assert!(
            list_xml.contains(&format!("<autoFilter ref=\"A1:I{last}\"/>")),
            "{list_xml}"
        );
        // The cell links to the cell written back; an issue without a place does not.
        assert!(
            list_xml.contains("location=\"'基层工会情况'!F4\""),
            "{list_xml}"
        );
        assert_eq!(list_xml.matches("<hyperlink ").count(), 4, "{list_xml}");

        // The units sheet at the original cells.
        let units = sheet(&out, "基层工会情况");
        assert_eq!(*at(&units, "A2"), Data::String("单位代码".into()));
        assert_eq!(*at(&units, "B2"), Data::String("单位名称".into()));
        assert_eq!(*at(&units, "F2"), Data::String("会员人数（人）".into()));
        assert_eq!(*at(&units, "G2"), Data::String("帮扶慰问金额（元）".into()));
        assert_eq!(*at(&units, "A3"), Data::String("330102001001".into()));
        assert_eq!(*at(&units, "B4"), Data::String("乙公司工会".into()));
        assert_eq!(*at(&units, "F4"), Data::Float(1205.0));
        assert_eq!(*at(&units, "G3"), Data::Float(1234.5));
        assert_eq!(
            *at(&units, "G4"),
            Data::String("12a".into()),
            "what the clerk typed"
        );
        assert_eq!(*at(&units, "G5"), Data::Empty);
        assert_eq!(*at(&units, "A6"), Data::String("合计".into()));
        assert_eq!(*at(&units, "E6"), Data::Float(139_200.0));
        let units_xml = part(&out, "xl/worksheets/sheet3.xml");
        // A yuan value keeps two decimals.
        let styles = part(&out, "xl/styles.xml");
        assert!(styles.contains("formatCode=\"#,##0.00\""));
        assert!(
            styles.contains("FFC7CE") && styles.contains("FFEB9C"),
            "red and yellow fills"
        );
        assert!(
            units_xml.contains("<c r=\"F4\" s="),
            "F4 has a style: {units_xml}"
        );

        // Cover values at their cells, the period marked.
        let cover = sheet(&out, "封面");
        assert_eq!(*at(&cover, "A1"), Data::String("报送单位代码".into()));
        assert_eq!(*at(&cover, "B1"), Data::String("330102001".into()));
        assert_eq!(*at(&cover, "B2"), Data::String("2026-13".into()));

        // Notes name the rules, in both languages.
        let cover_notes = part(&out, "xl/comments1.xml");
        assert!(cover_notes.contains("ref=\"B2\""));
        assert!(cover_notes.contains(
            "period_invalid: 封面!B2：period_invalid 的说明 / 封面!B2: about period_invalid"
        ));
        let notes = part(&out, "xl/comments2.xml");
        assert!(notes.contains("ref=\"F4\""));
        assert!(notes.contains("members_le_employees: 基层工会情况!F4：members_le_employees 的说明 / 基层工会情况!F4: about members_le_employees"));
        assert!(notes.contains("ref=\"G4\"") && notes.contains(&unreadable.rule));
        assert!(notes.contains("ref=\"E3\"") && notes.contains("monthly_change"));
        assert_eq!(notes.matches("<comment ").count(), 3);

        // Corrected, the copy reads as the original did.
        let again = read_workbook(&out, &c, &ReadLimits::default());
        assert_eq!(again.rows, read.rows);
        assert_eq!(again.columns, read.columns);
        assert_eq!(again.total, read.total);
        assert_eq!(again.issues, read.issues);
    }

    /// Names go back to the clerk's name column, and an untitled column between
    /// it and the code keeps its values.
    #[test]
    fn workbook_out_annotated_keeps_names_and_an_untitled_column_in_place() {
        let c = catalog();
        let mut book = Workbook::new();
        let ws = book.add_worksheet().set_name("基层工会情况").unwrap();
        for (col, h) in ["单位代码", "", "单位名称", "会员人数"].iter().enumerate() {
            ws.write(0, col as u16, *h).unwrap();
        }
        ws.write(1, 0, "330102001001").unwrap();
        ws.write(1, 1, "企业").unwrap();
        ws.write(1, 2, "甲公司工会").unwrap();
        ws.write(1, 3, 5).unwrap();
        let bytes = book.save_to_buffer().unwrap();
        let read = read_workbook(&bytes, &c, &ReadLimits::default());
        assert_eq!(read.name_letter, "C");
        let out = annotated(&c, &read, &read.issues).unwrap();
        let units = sheet(&out, "基层工会情况");
        assert_eq!(*at(&units, "B2"), Data::String("企业".into()));
        assert_eq!(*at(&units, "C1"), Data::String("单位名称".into()));
        assert_eq!(*at(&units, "C2"), Data::String("甲公司工会".into()));
        assert_eq!(*at(&units, "D2"), Data::Float(5.0));
    }

    #[test]
    fn workbook_out_annotated_of_an_unreadable_file_is_the_issue_list() {
        let c = catalog();
        let read = read_workbook(b"PK\x03\x04 not really a zip", &c, &ReadLimits::default());
        assert!(read.rows.is_empty() && !read.issues.is_empty());
        let out = annotated(&c, &read, &read.issues).unwrap();
        let wb: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(out.clone())).unwrap();
        assert_eq!(wb.sheet_names(), vec![ISSUES_SHEET]);
        let list = sheet(&out, ISSUES_SHEET);
        assert_eq!(list.len(), read.issues.len() + 1);
        assert_eq!(list[1][1], Data::String(read.issues[0].rule.clone()));

        // No issues at all: the header alone.
        let out = annotated(&c, &ReadWorkbook::default(), &[]).unwrap();
        assert_eq!(sheet(&out, ISSUES_SHEET).len(), 1);
    }

    #[test]
    fn workbook_out_annotated_template_keeps_its_layout() {
        let c = catalog();
        let members = c.metric_position("members").unwrap();
        let lines = vec![UnitLine {
            code: "330102001001".into(),
            name: "甲公司工会".into(),
            values: {
                let mut v = vec![None; c.metrics.len()];
                v[members] = Some(5);
                v
            },
        }];
        let cover = CoverFields::new("330102001", "湖滨街道总工会", "2026-10".parse().unwrap());
        let bytes = filled_template(&c, &cover, &lines).unwrap();
        let read = read_workbook(&bytes, &c, &ReadLimits::default());
        let cell = format!("{}{}", letters(2 + members as u16), FIRST_UNIT_ROW + 1);
        let issues = vec![issue(
            Severity::Error,
            "members_le_employees",
            "基层工会情况",
            &cell,
            "5",
        )];
        let out = annotated(&c, &read, &issues).unwrap();
        let units = sheet(&out, "基层工会情况");
        assert_eq!(*at(&units, &cell), Data::Float(5.0));
        assert_eq!(*at(&units, "A4"), Data::String("330102001001".into()));
        assert_eq!(*at(&units, "A5"), Data::String("合计".into()));
        assert_eq!(
            *at(&units, &format!("{}5", letters(2 + members as u16))),
            Data::Float(5.0)
        );
        let again = read_workbook(&out, &c, &ReadLimits::default());
        assert_eq!(again.rows, read.rows);
    }
}
