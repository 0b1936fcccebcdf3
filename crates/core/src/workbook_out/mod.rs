//! Workbooks unionstat writes for people: the Template v1 a reporter fills in
//! ([`template`], [`filled_template`]) and a submitter's own workbook annotated with
//! every issue ([`annotated`]). Pure: catalogue and rows in, `.xlsx` bytes out.
//!
//! The layout of Template v1 lives here, so the blank template, the sample
//! workbooks of the demo ((the `unionstat-sample` crate)) and the annotated copies agree on it.

use rust_xlsxwriter::{Format, FormatAlign, Worksheet, XlsxError};

mod annotated;
pub mod chase;
mod clerk_layout;
pub mod export;
mod form_template;
pub mod inspect;
mod template;

pub use annotated::{annotated, ISSUES_SHEET, MAX_LISTED_ISSUES, MAX_NOTES};
pub use form_template::{form_title, form_workbook, FormLine, FORM_HEADER_ROW};
pub use template::{entered_template, filled_template, template, CoverFields, UnitLine};
pub use template::{write_template, TemplateSpec, Total};

/// Name of the cover sheet of Template v1.
pub const COVER_SHEET: &str = "封面";
/// Name of the units sheet of Template v1.
pub const UNITS_SHEET: &str = "基层工会情况";
/// Zero-based row of the header on the units sheet (after a title and a subtitle).
pub const HEADER_ROW: u32 = 2;
/// Zero-based row of the first unit on the units sheet.
pub const FIRST_UNIT_ROW: u32 = HEADER_ROW + 1;
/// Zero-based column of the first metric on the units sheet (after 单位代码, 单位名称).
pub const FIRST_METRIC_COL: u16 = 2;

/// Whether a spreadsheet could take this text for a formula (`=`, `+`, `-`, `@`,
/// half- or full-width, after leading blanks).
pub fn formula_like(s: &str) -> bool {
    s.trim_start().starts_with([
        '=', '+', '-', '@', '\u{FF1D}', '\u{FF0B}', '\u{FF0D}', '\u{FF20}',
    ])
}

/// Writes text that people typed or master data holds (names, codes, cover
/// values, typed cell values) as a string cell in `base` format; formula-like
/// text also gets the quote prefix, so that editing the cell in Excel or WPS
/// never turns it into a formula. Every workbook unionstat writes uses this for
/// such text: the template, the annotated copy and the export.
pub fn write_text(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    text: &str,
    base: Option<&Format>,
) -> Result<(), XlsxError> {
    match (formula_like(text), base) {
        (true, Some(f)) => {
            sheet.write_string_with_format(row, col, text, &f.clone().set_quote_prefix())?
        }
        (true, None) => {
            sheet.write_string_with_format(row, col, text, &Format::new().set_quote_prefix())?
        }
        (false, Some(f)) => sheet.write_string_with_format(row, col, text, f)?,
        (false, None) => sheet.write_string(row, col, text)?,
    };
    Ok(())
}

/// Writing a workbook failed (a limit of the xlsx format, e.g. a text too long).
#[derive(Debug, thiserror::Error)]
#[error("cannot write the workbook: {0}")]
pub struct WriteError(#[from] XlsxError);

/// The header of a metric column: the canonical Chinese header plus a bracketed
/// unit, as real templates print it (`会员人数（人）`, `帮扶慰问金额（元）`).
pub fn header_label(zh: &str, decimals: u32) -> String {
    if zh.ends_with(')') || zh.ends_with('）') {
        return zh.to_string();
    }
    let unit = if decimals > 0 {
        "元"
    } else if zh.ends_with("人次") {
        "人次"
    } else if zh.ends_with("人数") {
        "人"
    } else if zh.ends_with("份数") {
        "份"
    } else if zh.ends_with("场次") {
        "场"
    } else if zh.ends_with("案件数") || zh.ends_with("结案数") {
        "件"
    } else if zh.ends_with("单位数") || zh.ends_with("企业数") {
        "个"
    } else {
        return zh.to_string();
    };
    format!("{zh}（{unit}）")
}

/// The 填表说明 note under the units table.
pub(crate) const NOTE: &str =
    "填表说明：1. 单位代码为基层工会组织代码，请勿修改；2. 人数、单位数为期末数，\
新发展会员、竞赛、争议、帮扶、经费为本月数；3. 金额单位为元，保留两位小数；\
4. 未统计的指标请留空，确无请填0。";

/// Number format of a metric with `decimals` places (`0.00` for yuan).
pub(crate) fn decimals_format(decimals: u32) -> Option<String> {
    (decimals > 0).then(|| format!("#,##0.{}", "0".repeat(decimals as usize)))
}

/// The bold, wrapped, centred format of header cells.
pub(crate) fn header_format() -> Format {
    Format::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
}

/// A metric's header cell at (`row`, `col`): its Chinese name with the unit
/// (`会员人数（人）`), in `fmt`, the column as wide as its kind needs.
pub(crate) fn write_metric_header(
    sheet: &mut rust_xlsxwriter::Worksheet,
    row: u32,
    col: u16,
    metric: &crate::catalog::Metric,
    fmt: &Format,
) -> Result<(), WriteError> {
    sheet.set_column_width(col, if metric.decimals > 0 { 14 } else { 12 })?;
    sheet.write_string_with_format(row, col, header_label(&metric.zh, metric.decimals), fmt)?;
    Ok(())
}

/// Zero-based (row, column) of an A1 reference (`F12` → (11, 5)); `None` for
/// anything else (ranges, `$` anchors, rows or columns out of the sheet).
pub(crate) fn parse_cell_ref(cell: &str) -> Option<(u32, u16)> {
    let at = cell.find(|c: char| c.is_ascii_digit())?;
    let (letters, digits) = cell.split_at(at);
    if letters.is_empty()
        || letters.len() > 3
        || !letters.chars().all(|c| c.is_ascii_uppercase())
        || !digits.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let col = letters
        .bytes()
        .fold(0u32, |acc, b| acc * 26 + u32::from(b - b'A' + 1))
        - 1;
    let row: u32 = digits.parse().ok()?;
    // Excel's sheet: 1,048,576 rows × 16,384 columns (XFD).
    if row == 0 || row > 1_048_576 || col >= 16_384 {
        return None;
    }
    Some((row - 1, col as u16))
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::{Cursor, Read};

    use super::*;

    /// The text of a part of an xlsx package (`xl/comments1.xml`, …).
    pub(crate) fn part(bytes: &[u8], name: &str) -> String {
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        let mut s = String::new();
        zip.by_name(name).unwrap().read_to_string(&mut s).unwrap();
        s
    }

    #[test]
    fn workbook_out_parses_cell_refs_and_labels_headers() {
        assert_eq!(parse_cell_ref("A1"), Some((0, 0)));
        assert_eq!(parse_cell_ref("F12"), Some((11, 5)));
        assert_eq!(parse_cell_ref("AA3"), Some((2, 26)));
        assert_eq!(parse_cell_ref("XFD1048576"), Some((1_048_575, 16_383)));
        for bad in [
            "", "A", "12", "a1", "A0", "XFE1", "A1:B2", "$A$1", "A1048577",
        ] {
            assert_eq!(parse_cell_ref(bad), None, "{bad}");
        }
        assert_eq!(header_label("会员人数", 0), "会员人数（人）");
        assert_eq!(
            header_label("劳动争议涉及金额(元)", 2),
            "劳动争议涉及金额(元)"
        );
        assert_eq!(header_label("帮扶慰问金额", 2), "帮扶慰问金额（元）");
        assert_eq!(header_label("参赛职工人次", 0), "参赛职工人次（人次）");
        assert_eq!(decimals_format(2).as_deref(), Some("#,##0.00"));
        assert_eq!(decimals_format(0), None);
    }
}
