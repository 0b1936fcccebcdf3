//! The roll-up workbook federation staff hand to leadership: indicators with
//! numerator, denominator and coverage for a node and each child, a chart of
//! one rate (入会率) by child, and who reported. Pure: figures in, `.xlsx` out.
//!
//! Any text beginning with `=`, `+`, `-` or `@` (an org name from master data,
//! a phone number from a cover sheet) is written as a string cell with the
//! quote prefix, so no spreadsheet evaluates it as a formula.

use rust_xlsxwriter::{Chart, ChartType, Format, FormatAlign, Workbook, Worksheet};

pub use super::formula_like;
use super::{decimals_format, write_text, WriteError};
use crate::rollup::Rate;

pub const INDICATORS_SHEET: &str = "指标 Indicators";
pub const CHART_SHEET: &str = "图表 Chart";
pub const COMPLETENESS_SHEET: &str = "报送 Completeness";
/// Zero-based row of the node on the indicators sheet (children follow).
pub const FIRST_DATA_ROW: u32 = 4;
/// Zero-based column of the first indicator's value (each indicator has three:
/// value, numerator, denominator).
pub const FIRST_INDICATOR_COL: u16 = 6;

/// An indicator's heading.
#[derive(Debug, Clone)]
pub struct ExportIndicator {
    pub code: String,
    pub zh: String,
    pub en: String,
    /// Decimal places of the numerator's and the denominator's metric (0 for
    /// counts, 2 for yuan): their cells' number formats.
    pub numerator_decimals: u32,
    pub denominator_decimals: u32,
}

/// One row of the indicators sheet: the node or one of its children.
#[derive(Debug, Clone)]
pub struct ExportNode {
    pub code: String,
    pub name: String,
    pub expected_units: i64,
    pub reported_units: i64,
    pub expected_reporters: i64,
    pub reported_reporters: i64,
    /// One per [`ExportBook::indicators`], same order.
    pub rates: Vec<Rate>,
    /// 环比 and 同比 change of each rate in percentage points, one pair per
    /// [`ExportBook::indicators`] (empty: no comparison columns).
    pub changes: Vec<(Option<f64>, Option<f64>)>,
    /// The row rests on partial coverage (部分报送): its coverage column says
    /// so, and the chart labels it.
    pub partial: bool,
}

/// Zero-based column saying whether a row rests on partial coverage: after
/// the indicator columns and, when there are any, the comparison columns.
pub fn coverage_col(indicators: usize, with_changes: bool) -> u16 {
    if with_changes {
        change_col(indicators, indicators)
    } else {
        FIRST_INDICATOR_COL + 3 * indicators as u16
    }
}

/// How the coverage column and the chart name a row on partial coverage.
pub const PARTIAL_MARK: &str = "部分 partial";

/// Zero-based column of indicator `k`'s 环比 change (its 同比 change is the
/// next one), after the value/numerator/denominator columns of all
/// `indicators`.
pub fn change_col(indicators: usize, k: usize) -> u16 {
    FIRST_INDICATOR_COL + 3 * indicators as u16 + 2 * k as u16
}

/// Reporting counts of one federation level.
#[derive(Debug, Clone)]
pub struct ExportLevel {
    pub code: String,
    pub name: String,
    pub level: i64,
    pub expected: i64,
    pub reported: i64,
    pub on_time: i64,
    pub late: i64,
    pub pending: i64,
    pub rejected: i64,
    pub missing: i64,
    /// Accepted reports returned in review (审核退回): not reported.
    pub returned: i64,
    pub reporting_rate: Option<f64>,
    pub timeliness_rate: Option<f64>,
    pub approved: bool,
}

/// One expected reporter's state.
#[derive(Debug, Clone)]
pub struct ExportReporter {
    pub code: String,
    pub name: String,
    pub status: String,
    pub received_at: String,
    pub preparer: String,
    pub phone: String,
    pub approved: bool,
}

/// Everything the export shows.
#[derive(Debug, Clone)]
pub struct ExportBook {
    /// e.g. `330102 上城区总工会 — 2026Q4`
    pub title: String,
    /// Which months the figures are made of, in words.
    pub months_note: String,
    pub indicators: Vec<ExportIndicator>,
    pub node: ExportNode,
    pub children: Vec<ExportNode>,
    /// Index in `indicators` of the rate charted by child (入会率).
    pub chart_indicator: Option<usize>,
    /// e.g. `报送情况 2026-12（截止 2027-01-10）`
    pub completeness_title: String,
    pub levels: Vec<ExportLevel>,
    pub reporters: Vec<ExportReporter>,
}

/// Number format of counts (`63,805`).
pub const COUNT_FORMAT: &str = "#,##0";
/// Number format of rates, stored as fractions (`98.99%`).
pub const RATE_FORMAT: &str = "0.00%";
/// Number format of 环比 and 同比 changes in percentage points, signed.
pub const POINTS_FORMAT: &str = "+0.00;-0.00;0.00";

struct Formats {
    title: Format,
    head: Format,
    text: Format,
    pct: Format,
    count: Format,
    points: Format,
}

impl Formats {
    /// The format of a metric's figure with `decimals` places: counts
    /// `#,##0`, yuan `#,##0.00`.
    fn figure(&self, decimals: u32) -> Format {
        decimals_format(decimals).map_or_else(
            || self.count.clone(),
            |code| Format::new().set_num_format(code),
        )
    }
}

/// Writes text as a string cell; formula-like text with the quote prefix.
fn text(ws: &mut Worksheet, f: &Formats, row: u32, col: u16, s: &str) -> Result<(), WriteError> {
    write_text(ws, row, col, s, Some(&f.text))?;
    Ok(())
}

fn number(
    ws: &mut Worksheet,
    fmt: &Format,
    row: u32,
    col: u16,
    v: Option<f64>,
) -> Result<(), WriteError> {
    if let Some(v) = v.filter(|v| v.is_finite()) {
        ws.write_number_with_format(row, col, v, fmt)?;
    }
    Ok(())
}

impl Formats {
    fn new() -> Formats {
        Formats {
            title: Format::new().set_bold().set_font_size(14),
            head: Format::new()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Center)
                .set_background_color("#DDEBF7")
                .set_border(rust_xlsxwriter::FormatBorder::Thin),
            text: Format::new(),
            pct: Format::new().set_num_format(RATE_FORMAT),
            count: Format::new().set_num_format(COUNT_FORMAT),
            points: Format::new().set_num_format(POINTS_FORMAT),
        }
    }
}

/// Names a sheet and writes its title and note (rows 1 and 2) and its
/// `fixed` headings, each over the two header rows.
fn sheet_head(
    ws: &mut Worksheet,
    f: &Formats,
    name: &str,
    [title, note]: [&str; 2],
    fixed: &[&str],
) -> Result<(), WriteError> {
    ws.set_name(name)?;
    text(ws, f, 0, 0, title)?;
    ws.set_cell_format(0, 0, &f.title)?;
    text(ws, f, 1, 0, note)?;
    for (c, h) in fixed.iter().enumerate() {
        ws.merge_range(2, c as u16, 3, c as u16, h, &f.head)?;
    }
    Ok(())
}

/// The export workbook.
pub fn export_workbook(book: &ExportBook) -> Result<Vec<u8>, WriteError> {
    let f = Formats::new();
    let mut wb = Workbook::new();
    indicators_sheet(wb.add_worksheet(), &f, book)?;
    chart_sheet(&mut wb, &f, book)?;
    completeness_sheet(wb.add_worksheet(), &f, book)?;
    Ok(wb.save_to_buffer()?)
}

fn indicators_sheet(ws: &mut Worksheet, f: &Formats, book: &ExportBook) -> Result<(), WriteError> {
    let fixed = [
        "单位代码 Code",
        "单位名称 Name",
        "应报基层工会 Units expected",
        "已报基层工会 Units reported",
        "应报单位 Reporters expected",
        "已报单位 Reporters reported",
    ];
    sheet_head(
        ws,
        f,
        INDICATORS_SHEET,
        [&book.title, &book.months_note],
        &fixed,
    )?;
    for (i, ind) in book.indicators.iter().enumerate() {
        let c = FIRST_INDICATOR_COL + 3 * i as u16;
        ws.merge_range(2, c, 2, c + 2, &format!("{} {}", ind.zh, ind.en), &f.head)?;
        ws.write_string_with_format(3, c, "值 Value", &f.head)?;
        ws.write_string_with_format(3, c + 1, "分子 Numerator", &f.head)?;
        ws.write_string_with_format(3, c + 2, "分母 Denominator", &f.head)?;
        ws.set_column_width(c, 10)?;
        ws.set_column_width(c + 1, 13)?;
        ws.set_column_width(c + 2, 13)?;
    }
    if !book.node.changes.is_empty() {
        let n = book.indicators.len();
        for (k, ind) in book.indicators.iter().enumerate() {
            let c = change_col(n, k);
            ws.merge_range(2, c, 2, c + 1, &format!("{} {}", ind.zh, ind.en), &f.head)?;
            ws.write_string_with_format(3, c, "环比 MoM (pts)", &f.head)?;
            ws.write_string_with_format(3, c + 1, "同比 YoY (pts)", &f.head)?;
        }
    }
    let coverage = coverage_col(book.indicators.len(), !book.node.changes.is_empty());
    ws.merge_range(2, coverage, 3, coverage, "覆盖 Coverage", &f.head)?;
    ws.set_column_width(coverage, 12)?;
    ws.set_column_width(0, 14)?;
    ws.set_column_width(1, 22)?;
    for c in 2..FIRST_INDICATOR_COL {
        ws.set_column_width(c, 11)?;
    }
    let figures: Vec<(Format, Format)> = book
        .indicators
        .iter()
        .map(|i| {
            (
                f.figure(i.numerator_decimals),
                f.figure(i.denominator_decimals),
            )
        })
        .collect();
    let rows = std::iter::once(&book.node).chain(&book.children);
    for (i, n) in rows.enumerate() {
        let r = FIRST_DATA_ROW + i as u32;
        text(ws, f, r, 0, &n.code)?;
        text(ws, f, r, 1, &n.name)?;
        for (c, v) in [
            n.expected_units,
            n.reported_units,
            n.expected_reporters,
            n.reported_reporters,
        ]
        .iter()
        .enumerate()
        {
            ws.write_number_with_format(r, 2 + c as u16, *v as f64, &f.count)?;
        }
        for ((k, rate), (num_fmt, den_fmt)) in n.rates.iter().enumerate().zip(&figures) {
            let c = FIRST_INDICATOR_COL + 3 * k as u16;
            number(ws, &f.pct, r, c, rate.value)?;
            number(ws, num_fmt, r, c + 1, rate.numerator)?;
            number(ws, den_fmt, r, c + 2, rate.denominator)?;
        }
        for (k, (mom, yoy)) in n.changes.iter().enumerate() {
            let c = change_col(book.indicators.len(), k);
            number(ws, &f.points, r, c, *mom)?;
            number(ws, &f.points, r, c + 1, *yoy)?;
        }
        let mark = if n.partial {
            PARTIAL_MARK
        } else {
            "完整 full"
        };
        text(ws, f, r, coverage, mark)?;
    }
    ws.set_freeze_panes(FIRST_DATA_ROW, 2)?;
    Ok(())
}

fn chart_sheet(wb: &mut Workbook, f: &Formats, book: &ExportBook) -> Result<(), WriteError> {
    let ws = wb.add_worksheet();
    ws.set_name(CHART_SHEET)?;
    let Some((k, ind)) = book
        .chart_indicator
        .and_then(|k| Some((k, book.indicators.get(k)?)))
    else {
        text(ws, f, 0, 0, "没有可绘制的指标 No indicator to chart")?;
        return Ok(());
    };
    let title = format!("{} {} — {}", ind.zh, ind.en, book.title);
    text(ws, f, 0, 0, &title)?;
    ws.set_cell_format(0, 0, &f.title)?;
    ws.write_string_with_format(1, 0, "单位代码 Code", &f.head)?;
    ws.write_string_with_format(1, 1, "单位名称 Name", &f.head)?;
    ws.write_string_with_format(1, 2, format!("{} {}", ind.zh, ind.en), &f.head)?;
    ws.set_column_width(0, 14)?;
    ws.set_column_width(1, 22)?;
    ws.set_column_width(2, 14)?;
    for (i, n) in book.children.iter().enumerate() {
        let r = 2 + i as u32;
        text(ws, f, r, 0, &n.code)?;
        if n.partial {
            text(ws, f, r, 1, &format!("{}（{PARTIAL_MARK}）", n.name))?;
        } else {
            text(ws, f, r, 1, &n.name)?;
        }
        number(ws, &f.pct, r, 2, n.rates.get(k).and_then(|x| x.value))?;
    }
    if book.children.is_empty() {
        text(ws, f, 2, 0, "没有下级单位 No children")?;
        return Ok(());
    }
    let last = 1 + book.children.len() as u32;
    let series_name = format!("{} {}", ind.zh, ind.en);
    let mut chart = Chart::new(ChartType::Bar);
    chart
        .add_series()
        .set_name(&series_name)
        .set_categories((CHART_SHEET, 2, 1, last, 1))
        .set_values((CHART_SHEET, 2, 2, last, 2));
    chart.title().set_name(&title);
    // A bar chart's values run along its x axis.
    chart.x_axis().set_num_format("0%");
    chart
        .set_width(720)
        .set_height((120 + 24 * book.children.len() as u32).clamp(300, 2000));
    chart.legend().set_hidden();
    ws.insert_chart(1, 4, &chart)?;
    Ok(())
}

fn completeness_sheet(
    ws: &mut Worksheet,
    f: &Formats,
    book: &ExportBook,
) -> Result<(), WriteError> {
    ws.set_name(COMPLETENESS_SHEET)?;
    text(ws, f, 0, 0, &book.completeness_title)?;
    ws.set_cell_format(0, 0, &f.title)?;
    let heads = [
        "单位代码 Code",
        "单位名称 Name",
        "层级 Level",
        "应报 Expected",
        "已报 Reported",
        "按时 On time",
        "迟报 Late",
        "处理中 Pending",
        "仅被退回 Rejected",
        "未报 Missing",
        "报送率 Reporting rate",
        "及时率 Timeliness",
        "已审核 Approved",
        "审核退回 Returned in review",
    ];
    for (c, h) in heads.iter().enumerate() {
        ws.write_string_with_format(1, c as u16, *h, &f.head)?;
        ws.set_column_width(c as u16, if c == 1 { 22.0 } else { 12.0 })?;
    }
    let mut r = 2u32;
    for l in &book.levels {
        text(ws, f, r, 0, &l.code)?;
        text(ws, f, r, 1, &l.name)?;
        for (c, v) in [
            l.level, l.expected, l.reported, l.on_time, l.late, l.pending, l.rejected, l.missing,
        ]
        .iter()
        .enumerate()
        {
            ws.write_number_with_format(r, 2 + c as u16, *v as f64, &f.count)?;
        }
        number(ws, &f.pct, r, 10, l.reporting_rate)?;
        number(ws, &f.pct, r, 11, l.timeliness_rate)?;
        ws.write_string(r, 12, if l.approved { "是 yes" } else { "否 no" })?;
        ws.write_number_with_format(r, 13, l.returned as f64, &f.count)?;
        r += 1;
    }
    r += 1;
    let heads = [
        "报送单位 Reporter",
        "单位名称 Name",
        "状态 Status",
        "报送时间 Received",
        "填报人 Preparer",
        "联系电话 Phone",
        "已审核 Approved",
    ];
    for (c, h) in heads.iter().enumerate() {
        ws.write_string_with_format(r, c as u16, *h, &f.head)?;
    }
    r += 1;
    for p in &book.reporters {
        for (c, s) in [
            &p.code,
            &p.name,
            &p.status,
            &p.received_at,
            &p.preparer,
            &p.phone,
        ]
        .iter()
        .enumerate()
        {
            text(ws, f, r, c as u16, s)?;
        }
        ws.write_string(r, 6, if p.approved { "是 yes" } else { "否 no" })?;
        r += 1;
    }
    ws.set_freeze_panes(2, 2)?;
    Ok(())
}

/// The sheet of a form's figures (the annual survey's, the service form's).
pub const FORM_FIGURES_SHEET: &str = "报表数据 Figures";
/// The sheet of who has and has not reported a form's period.
pub const FORM_REPORTERS_SHEET: &str = "报送 Reporters";
/// Zero-based column of a form's first metric on [`FORM_FIGURES_SHEET`]
/// (after code, name, units reported, reporters reported).
pub const FORM_FIRST_METRIC_COL: u16 = 4;

/// One row of a form's figures: the node, its own row, or one of its children.
#[derive(Debug, Clone)]
pub struct FormExportRow {
    pub code: String,
    pub name: String,
    pub reported_units: i64,
    pub reported_reporters: i64,
    /// Scaled figures in the form view's metric order (`None`: not reported).
    pub values: Vec<Option<i64>>,
}

/// Everything a form's export shows.
#[derive(Debug, Clone)]
pub struct FormExportBook {
    /// e.g. `330102 上城区总工会 — 2026SY 工会统计年报·基层工会调查表`
    pub title: String,
    /// What the rows are, in words.
    pub note: String,
    /// The node first, then (when it reports about itself) its own row, then
    /// its children.
    pub rows: Vec<FormExportRow>,
    /// The expected reporters below the node: code, name, reported or not.
    pub reporters: Vec<(String, String, bool)>,
}

/// The workbook of a node's figures of one form: `view` is the form's view
/// of the catalogue ([`crate::Catalog::form`]), whose metrics head the
/// columns (in Chinese with their unit, the English under them), each figure
/// in its number format (counts `#,##0`, yuan `#,##0.00`).
pub fn form_export_workbook(
    view: &crate::Catalog,
    book: &FormExportBook,
) -> Result<Vec<u8>, WriteError> {
    let f = Formats::new();
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let fixed = [
        "单位代码 Code",
        "单位名称 Name",
        "已报基层工会 Units reported",
        "已报单位 Reporters reported",
    ];
    sheet_head(
        ws,
        &f,
        FORM_FIGURES_SHEET,
        [&book.title, &book.note],
        &fixed,
    )?;
    ws.set_column_width(0, 14)?;
    ws.set_column_width(1, 26)?;
    ws.set_column_width(2, 11)?;
    ws.set_column_width(3, 11)?;
    let formats: Vec<Format> = view.metrics.iter().map(|m| f.figure(m.decimals)).collect();
    for (k, m) in view.metrics.iter().enumerate() {
        let c = FORM_FIRST_METRIC_COL + k as u16;
        super::write_metric_header(ws, 2, c, m, &f.head)?;
        ws.write_string_with_format(3, c, &m.en, &f.head)?;
    }
    for (i, row) in book.rows.iter().enumerate() {
        let r = FIRST_DATA_ROW + i as u32;
        text(ws, &f, r, 0, &row.code)?;
        text(ws, &f, r, 1, &row.name)?;
        ws.write_number_with_format(r, 2, row.reported_units as f64, &f.count)?;
        ws.write_number_with_format(r, 3, row.reported_reporters as f64, &f.count)?;
        for (k, (m, fmt)) in view.metrics.iter().zip(&formats).enumerate() {
            let v = row.values.get(k).copied().flatten().map(|v| m.to_f64(v));
            number(ws, fmt, r, FORM_FIRST_METRIC_COL + k as u16, v)?;
        }
    }
    ws.set_freeze_panes(FIRST_DATA_ROW, 2)?;

    let ws = wb.add_worksheet();
    ws.set_name(FORM_REPORTERS_SHEET)?;
    for (c, h) in ["报送单位 Reporter", "单位名称 Name", "报送 Reported"]
        .iter()
        .enumerate()
    {
        ws.write_string_with_format(0, c as u16, *h, &f.head)?;
    }
    ws.set_column_width(0, 14)?;
    ws.set_column_width(1, 26)?;
    ws.set_column_width(2, 14)?;
    for (i, (code, name, reported)) in book.reporters.iter().enumerate() {
        let r = 1 + i as u32;
        text(ws, &f, r, 0, code)?;
        text(ws, &f, r, 1, name)?;
        let mark = if *reported {
            "已报 reported"
        } else {
            "未报 not reported"
        };
        ws.write_string(r, 2, mark)?;
    }
    ws.set_freeze_panes(1, 0)?;
    Ok(wb.save_to_buffer()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{Data, Reader, Xlsx};

    fn node(code: &str, name: &str, members: f64, employees: f64) -> ExportNode {
        ExportNode {
            code: code.into(),
            name: name.into(),
            expected_units: 3,
            reported_units: 2,
            expected_reporters: 1,
            reported_reporters: 1,
            rates: vec![Rate::of(Some(members), Some(employees))],
            changes: Vec::new(),
            partial: false,
        }
    }

    #[test]
    fn counts_yuan_rates_and_changes_each_have_their_number_format() {
        let mut node = node("330102", "上城区", 196_520.0, 198_570.0);
        node.rates.push(Rate::of(Some(1_234.5), Some(63_805.0)));
        node.changes = vec![(Some(0.5), Some(-1.25)), (None, None)];
        let indicator = |code: &str, numerator_decimals| ExportIndicator {
            code: code.into(),
            zh: "入会率".into(),
            en: "Membership rate".into(),
            numerator_decimals,
            denominator_decimals: 0,
        };
        let book = ExportBook {
            title: "330102 — 2026-10".into(),
            months_note: "2026-10".into(),
            indicators: vec![indicator("membership_rate", 0), indicator("yuan_share", 2)],
            node,
            children: vec![],
            chart_indicator: Some(0),
            completeness_title: "报送情况".into(),
            levels: vec![ExportLevel {
                code: "330102".into(),
                name: "上城区".into(),
                level: 0,
                expected: 3,
                reported: 2,
                on_time: 1,
                late: 1,
                pending: 0,
                rejected: 0,
                missing: 1,
                returned: 0,
                reporting_rate: Some(2.0 / 3.0),
                timeliness_rate: Some(0.5),
                approved: false,
            }],
            reporters: vec![],
        };
        let bytes = export_workbook(&book).unwrap();
        let formats = crate::workbook_out::inspect::cell_number_formats(&bytes, 0).unwrap();
        let at = |cell: &str| formats.get(cell).map(String::as_str);
        // Row 5: units expected (C), the rate (G), its numerator and
        // denominator (H, I), the yuan numerator (K), the 环比 change (M).
        assert_eq!(at("C5"), Some("#,##0"));
        assert_eq!(at("G5"), Some("0.00%"));
        assert_eq!((at("H5"), at("I5")), (Some("#,##0"), Some("#,##0")));
        assert_eq!((at("K5"), at("L5")), (Some("#,##0.00"), Some("#,##0")));
        assert_eq!(
            (at("M5"), at("N5")),
            (Some(POINTS_FORMAT), Some(POINTS_FORMAT))
        );
        let formats = crate::workbook_out::inspect::cell_number_formats(&bytes, 2).unwrap();
        let at = |cell: &str| formats.get(cell).map(String::as_str);
        assert_eq!((at("D3"), at("J3")), (Some("#,##0"), Some("#,##0")));
        assert_eq!((at("K3"), at("N3")), (Some("0.00%"), Some("#,##0")));
    }

    #[test]
    fn formula_like_text_is_a_quoted_string_and_numbers_are_exact() {
        let book = ExportBook {
            title: "330102 =SUM(1,2) — 2026-10".into(),
            months_note: "2026-10".into(),
            indicators: vec![ExportIndicator {
                code: "membership_rate".into(),
                zh: "入会率".into(),
                en: "Membership rate".into(),
                numerator_decimals: 0,
                denominator_decimals: 0,
            }],
            node: node("330102", "上城区", 196_520.0, 198_570.0),
            children: vec![
                node(
                    "330102001",
                    "=HYPERLINK(\"http://x\")",
                    196_000.0,
                    198_000.0,
                ),
                node("330102002", "+1-2", 520.0, 570.0),
            ],
            chart_indicator: Some(0),
            completeness_title: "报送情况".into(),
            levels: vec![],
            reporters: vec![ExportReporter {
                code: "330102001".into(),
                name: "@cmd".into(),
                status: "on_time".into(),
                received_at: String::new(),
                preparer: "-张三".into(),
                phone: "0571".into(),
                approved: false,
            }],
        };
        let bytes = export_workbook(&book).unwrap();
        let mut x: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.clone())).unwrap();
        let range = x.worksheet_range(INDICATORS_SHEET).unwrap();
        assert_eq!(
            range.get_value((FIRST_DATA_ROW + 1, 1)),
            Some(&Data::String("=HYPERLINK(\"http://x\")".into()))
        );
        assert_eq!(
            range.get_value((FIRST_DATA_ROW, FIRST_INDICATOR_COL as u32)),
            Some(&Data::Float(196_520.0 / 198_570.0))
        );
        assert_eq!(
            range.get_value((FIRST_DATA_ROW + 2, FIRST_INDICATOR_COL as u32 + 2)),
            Some(&Data::Float(570.0))
        );
        // No formula anywhere: every such text is a string cell.
        for sheet in [INDICATORS_SHEET, CHART_SHEET, COMPLETENESS_SHEET] {
            let formulas = x.worksheet_formula(sheet).unwrap();
            assert!(formulas.cells().all(|(_, _, f)| f.is_empty()), "{sheet}");
        }
        // …and carries the quote prefix in the styles.
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut styles = String::new();
        std::io::Read::read_to_string(&mut zip.by_name("xl/styles.xml").unwrap(), &mut styles)
            .unwrap();
        assert!(styles.contains("quotePrefix=\"1\""), "{styles}");
        assert!(zip.by_name("xl/charts/chart1.xml").is_ok());
        assert!(formula_like(" =1") && formula_like("＝1") && !formula_like("a=1"));
    }
}
