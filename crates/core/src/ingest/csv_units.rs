//! The units table alone as CSV, as Chinese Excel and WPS save it: UTF-8 with or
//! without a byte-order mark, or GB18030/GBK. The format is recognised from the
//! bytes (text, not a zip or OLE container); reporter and period come from the
//! caller, since a CSV has no cover. Rows go through the same header search and
//! cell parsing as a workbook's units sheet.

use encoding_rs::GB18030;

use super::cells::Raw;
use super::grid::{Bounds, Grid};
use super::guard::{self, Rejection};
use super::reader::read_units;
use super::{ReadLimits, Workbook};
use crate::catalog::Catalog;

/// Decodes bytes that are plausibly a CSV table: not a zip or OLE container,
/// valid UTF-8 (BOM allowed) or GB18030, no control characters but tab and line
/// breaks, and a comma, semicolon or tab in the first line.
pub(crate) fn decode_text(bytes: &[u8]) -> Option<String> {
    if bytes.is_empty() || bytes.starts_with(b"PK") || bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0])
    {
        return None;
    }
    let text = decode_text_any(bytes)?;
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\r' | '\n'))
    {
        return None;
    }
    let first = text.lines().find(|l| !l.trim().is_empty())?;
    first.contains(DELIMITERS).then_some(text)
}

const TOO_MANY_CELLS: guard::Text = (
    "CSV 文件的行或列太多",
    "the CSV has too many rows or columns",
);

/// What separates the columns of a CSV's first line.
const DELIMITERS: [char; 4] = [',', ';', '\t', '，'];

const ENCODING: guard::Text = (
    "这是文本（CSV）文件，但编码既不是 UTF-8 也不是 GBK（可能是 Latin-1 等西文编码）；请在 Excel 或 WPS 中另存为“CSV UTF-8”或 .xlsx",
    "a text (CSV) file whose encoding is neither UTF-8 nor GBK (perhaps Latin-1); save it as \"CSV UTF-8\" or .xlsx in Excel or WPS",
);
const ONE_COLUMN: guard::Text = (
    "这是只有一列的文本（CSV）文件：第一行没有逗号、分号或制表符分隔的列；报表至少需要“单位代码”列和数字列，请用逗号分隔，或另存为 .xlsx",
    "a text (CSV) file with one column only: its first line has no comma, semicolon or tab between columns; the table needs a 单位代码 column and figure columns, separated by commas, or save it as .xlsx",
);

/// Names what is wrong with bytes that look like text but were not read as a CSV
/// table: an encoding other than UTF-8/GBK, or a single column. `None` for bytes
/// that are not text at all.
pub(crate) fn diagnose_text(bytes: &[u8]) -> Option<Rejection> {
    let head = &bytes[..bytes.len().min(4096)];
    let binary = |b: &u8| *b < 0x09 || (0x0E..0x20).contains(b) || *b == 0x7F;
    if head.is_empty() || head.iter().any(binary) {
        return None;
    }
    let reason = match decode_text_any(bytes) {
        Some(text)
            if text
                .lines()
                .find(|l| !l.trim().is_empty())?
                .contains(DELIMITERS) =>
        {
            return None
        }
        Some(_) => ONE_COLUMN,
        None => ENCODING,
    };
    Some(Rejection::Unreadable(guard::text(reason)))
}

/// UTF-8 (BOM allowed) or GB18030 text, whatever its shape.
fn decode_text_any(bytes: &[u8]) -> Option<String> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(body) {
        Ok(t) => Some(t.to_string()),
        Err(_) => GB18030
            .decode_without_bom_handling_and_without_replacement(bytes)
            .map(|t| t.into_owned()),
    }
}

/// The delimiter of the first non-empty line: the most frequent of `,` `;` tab.
fn delimiter(text: &str) -> u8 {
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    [b',', b'\t', b';']
        .into_iter()
        .max_by_key(|d| first.bytes().filter(|b| b == d).count())
        .unwrap_or(b',')
}

/// Reads a decoded CSV as the units sheet.
pub(crate) fn read_csv(
    size: usize,
    text: &str,
    catalog: &Catalog,
    limits: &ReadLimits,
) -> Result<Workbook, Rejection> {
    if size > limits.max_bytes {
        return Err(guard::too_many_bytes(size, limits));
    }
    let sheet = catalog
        .sheets
        .units
        .first()
        .cloned()
        .unwrap_or_else(|| "units".to_string());
    let bounds = Bounds::units(limits);
    let mut grid = Grid::new();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter(text))
        .from_reader(text.as_bytes());
    for (row, record) in reader.records().enumerate() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            Rejection::Unreadable(guard::says(
                format!("CSV 文件格式有误（第 {line} 行附近，例如引号不成对）"),
                format!("the CSV is malformed: {e}"),
            ))
        })?;
        let too_many = || Rejection::TooLarge(guard::text(TOO_MANY_CELLS));
        let row = u32::try_from(row).map_err(|_| too_many())?;
        for (col, field) in record.iter().enumerate() {
            if field.trim().is_empty() {
                continue;
            }
            let col = u32::try_from(col).map_err(|_| too_many())?;
            grid.push(row, col, Raw::Text(field.into()), bounds, &sheet)?;
        }
    }
    let grid = grid.finish();
    let mut workbook = Workbook::default();
    read_units(&grid, &sheet, catalog, limits, &mut workbook)?;
    Ok(workbook)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::read_workbook;

    fn values(wb: &Workbook, metric: &str) -> Vec<Option<i64>> {
        let i = wb
            .columns
            .iter()
            .position(|c| c.metric == metric)
            .expect(metric);
        wb.rows.iter().map(|r| r.values[i]).collect()
    }

    const TABLE: &str = "单位代码,单位名称,职工人数（人）,会员人数,帮扶慰问金额(元)\n330102001001,甲公司工会,\"1,234\",1200,12.5\n330102001002,乙公司工会,１００,,\n合计,,1334,1200,12.5\n";

    #[test]
    fn utf8_with_and_without_bom_and_gbk_read_the_same() {
        let c = Catalog::builtin().unwrap();
        let limits = ReadLimits::default();
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(TABLE.as_bytes());
        let (gbk, _, bad) = GB18030.encode(TABLE);
        assert!(!bad);
        for bytes in [TABLE.as_bytes().to_vec(), bom, gbk.into_owned()] {
            let wb = read_workbook(&bytes, &c, &limits);
            assert!(wb.issues.is_empty(), "{:?}", wb.issues);
            assert_eq!(wb.units_sheet, "基层工会情况");
            assert_eq!(wb.rows.len(), 2);
            assert_eq!(wb.rows[0].code, "330102001001");
            assert_eq!(wb.rows[0].name, "甲公司工会");
            assert_eq!(values(&wb, "employees"), vec![Some(1234), Some(100)]);
            assert_eq!(values(&wb, "members"), vec![Some(1200), None]);
            assert_eq!(values(&wb, "relief_yuan"), vec![Some(1250), None]);
            assert!(wb.total.is_some());
        }
    }

    #[test]
    fn bad_cells_are_named_and_tabs_work() {
        let c = Catalog::builtin().unwrap();
        let text = "单位代码\t职工人数\t会员人数\n330102001001\tabc\t-3\n";
        let wb = read_workbook(text.as_bytes(), &c, &ReadLimits::default());
        let found: Vec<(&str, Option<&str>)> = wb
            .issues
            .iter()
            .map(|i| (i.rule.as_str(), i.cell.as_deref()))
            .collect();
        assert_eq!(
            found,
            vec![("not_a_number", Some("B2")), ("negative_value", Some("C2"))]
        );
    }

    #[test]
    fn binary_and_prose_are_not_csv() {
        assert!(decode_text(b"").is_none());
        assert!(decode_text(b"PK\x03\x04,,,").is_none());
        assert!(decode_text(&[0x00, 0x01, b',', 0xFF]).is_none());
        assert!(decode_text("一段没有分隔符的文字\n".as_bytes()).is_none());
        assert!(decode_text(b"a,b\n1,2\n").is_some());
    }
}
