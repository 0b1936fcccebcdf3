//! The clerk's layout of the units sheet, kept so the annotated copy looks like
//! the workbook that was sent: the text and numbers outside the data (titles
//! above the header, 填表说明 notes below the rows, sub-headings, columns the
//! template does not know), merged ranges, column widths and data validations.
//!
//! Everything here comes from an untrusted file, so every list is capped in count
//! and every text in length, and nothing read here can refuse a workbook: a
//! sheet whose layout cannot be read keeps its figures and loses its layout.
//! Merges, widths and validations are read from the sheet's XML for .xlsx: the
//! part (bounded by the guard) is inflated once more, its cells skipped by a
//! byte search for the end of `<sheetData>` (on a 50,000-row sheet, about 1 % of
//! the read in a debug build) and the rest parsed; an .xls gives its merges
//! through calamine; other formats keep cells only.

use std::collections::HashMap;
use std::io::{BufReader, Cursor, Read};

use quick_xml::events::{BytesStart, Event};
use serde::{Deserialize, Serialize};

use super::cells::Raw;

/// Most cells kept outside the data.
pub const MAX_LAYOUT_CELLS: usize = 5_000;
/// Most bytes of text kept in those cells, all together.
pub const MAX_LAYOUT_TEXT_BYTES: usize = 512 * 1024;
/// Most merged ranges kept.
pub const MAX_MERGES: usize = 1_000;
/// Most column width entries kept.
pub const MAX_WIDTHS: usize = 256;
/// Most data validations kept.
pub const MAX_VALIDATIONS: usize = 512;
/// Most ranges one validation may apply to (`sqref="A1 B2:B9 …"`).
const MAX_VALIDATION_RANGES: usize = 64;
/// Excel's own bound on a validation formula, message and list: longer ones are
/// not a validation Excel wrote, and are dropped.
const MAX_FORMULA_CHARS: usize = 255;
/// Excel's bound on a validation message.
const MAX_MESSAGE_CHARS: usize = 255;
/// Excel's bound on a validation title.
const MAX_TITLE_CHARS: usize = 32;
/// Bytes of `workbook.xml` and its relationships read to find the sheet's part.
const MAX_INDEX_BYTES: u64 = 4 * 1024 * 1024;

/// A value of a kept cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum LayoutValue {
    Text(String),
    /// Always finite.
    Number(f64),
}

/// One cell kept outside the data: zero-based row and column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayoutCell {
    pub row: u32,
    pub col: u32,
    pub value: LayoutValue,
}

/// A rectangle of cells, zero-based and inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CellRange {
    pub first_row: u32,
    pub first_col: u32,
    pub last_row: u32,
    pub last_col: u32,
}

/// The width of columns `first..=last` (zero-based), in Excel's character units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnWidth {
    pub first: u32,
    pub last: u32,
    /// Always finite, 0–255.
    pub width: f64,
}

/// A data validation of the sheet, as the file states it. Only kinds the
/// annotated copy can write again are kept (see [`ValidationKind`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validation {
    pub kind: ValidationKind,
    /// `between`, `greaterThanOrEqual`, …; `None` means Excel's default (between).
    pub operator: Option<String>,
    /// Without the leading `=`, as Excel stores it (`"男,女"`, `0`, `$H$2:$H$9`).
    pub formula1: String,
    pub formula2: Option<String>,
    /// The cells it applies to; never empty.
    pub ranges: Vec<CellRange>,
    pub allow_blank: bool,
    /// The list's in-cell drop-down is shown (Excel's `showDropDown="1"` hides it).
    pub show_dropdown: bool,
    pub show_input: bool,
    pub show_error: bool,
    /// `stop`, `warning` or `information`.
    pub error_style: String,
    pub prompt_title: String,
    pub prompt: String,
    pub error_title: String,
    pub error: String,
}

/// The kinds of validation kept: every kind Excel writes, as rust_xlsxwriter
/// can write each (`any` is a prompt only). What rust_xlsxwriter cannot write
/// is left behind: the input method (`imeMode`), and any formula naming another
/// sheet or a defined name (see `writable_formula`), which the copy would not
/// have, so the validation would refuse every value the clerk types; such a
/// validation is dropped whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ValidationKind {
    Any,
    List,
    Whole,
    Decimal,
    Date,
    Time,
    TextLength,
    Custom,
}

/// The units sheet's layout, bounded by the constants of this module.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SheetLayout {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cells: Vec<LayoutCell>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merges: Vec<CellRange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub widths: Vec<ColumnWidth>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub validations: Vec<Validation>,
}

// Numbers and widths are finite by construction (see `keep` and `read_col`).
impl Eq for SheetLayout {}

impl SheetLayout {
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
            && self.merges.is_empty()
            && self.widths.is_empty()
            && self.validations.is_empty()
    }
}

/// Collects the cells kept outside the data, within the caps: cells the reader
/// met outside data rows first (titles, notes), then those of columns the
/// template does not know inside data rows, while room is left.
#[derive(Debug, Default)]
pub(crate) struct CellKeeper {
    outside: Vec<LayoutCell>,
    beside: Vec<LayoutCell>,
    bytes: usize,
}

impl CellKeeper {
    /// A cell of a row that is not data (a title, a sub-heading, a note).
    pub(crate) fn outside(&mut self, row: u32, col: u32, raw: &Raw, max_chars: usize) {
        if let Some(cell) = self.keep(row, col, raw, max_chars) {
            self.outside.push(cell);
        }
    }

    /// A cell of a data or header row in a column the template does not read.
    pub(crate) fn beside(&mut self, row: u32, col: u32, raw: &Raw, max_chars: usize) {
        if let Some(cell) = self.keep(row, col, raw, max_chars) {
            self.beside.push(cell);
        }
    }

    fn keep(&mut self, row: u32, col: u32, raw: &Raw, max_chars: usize) -> Option<LayoutCell> {
        if self.outside.len() + self.beside.len() >= MAX_LAYOUT_CELLS {
            return None;
        }
        let value = match raw {
            Raw::Int(i) => LayoutValue::Number(*i as f64),
            Raw::Float(f) if f.is_finite() => LayoutValue::Number(*f),
            Raw::Float(_) => return None,
            // A formula's text is not its value: left out.
            Raw::FormulaNoValue(_) => return None,
            other if other.is_blank() => return None,
            other => LayoutValue::Text(other.display(max_chars)),
        };
        if let LayoutValue::Text(t) = &value {
            if self.bytes + t.len() > MAX_LAYOUT_TEXT_BYTES {
                return None;
            }
            self.bytes += t.len();
        }
        Some(LayoutCell { row, col, value })
    }

    pub(crate) fn into_cells(self) -> Vec<LayoutCell> {
        let mut cells = self.outside;
        cells.extend(self.beside);
        cells
    }
}

/// Merges, widths and validations of the .xlsx sheet named `sheet`; empty when
/// they cannot be read.
pub(crate) fn xlsx_extras(bytes: &[u8], sheet: &str) -> SheetLayout {
    let mut layout = SheetLayout::default();
    let Ok(mut zip) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return layout;
    };
    let Some(path) = sheet_part(&mut zip, sheet) else {
        return layout;
    };
    let Ok(entry) = zip.by_name(&path) else {
        return layout;
    };
    let Some(outside) = outside_sheet_data(entry) else {
        return layout;
    };
    let mut xml = quick_xml::Reader::from_reader(outside.as_slice());
    xml.config_mut().check_end_names = false;
    xml.config_mut().expand_empty_elements = false;
    let mut buf = Vec::new();
    let mut open: Option<Validation> = None;
    let mut formula: Option<u8> = None;
    let mut text = String::new();
    loop {
        buf.clear();
        let event = match xml.read_event_into(&mut buf) {
            Ok(Event::Eof) | Err(_) => break,
            Ok(e) => e,
        };
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                match e.local_name().as_ref() {
                    "col" if layout.widths.len() < MAX_WIDTHS => {
                        if let Some(w) = read_col(e) {
                            layout.widths.push(w);
                        }
                    }
                    "mergeCell" if layout.merges.len() < MAX_MERGES => {
                        if let Some(r) = attr(e, "ref").and_then(|r| parse_range(&r)) {
                            layout.merges.push(r);
                        }
                    }
                    "dataValidation" if layout.validations.len() < MAX_VALIDATIONS => {
                        open = read_validation(e);
                        if empty {
                            finish(&mut open, &mut layout);
                        }
                    }
                    "formula1" if open.is_some() && !empty => {
                        formula = Some(1);
                        text.clear();
                    }
                    "formula2" if open.is_some() && !empty => {
                        formula = Some(2);
                        text.clear();
                    }
                    _ => {}
                }
            }
            Event::Text(t) if formula.is_some() && text.len() <= 4 * MAX_FORMULA_CHARS => {
                text.push_str(&t.xml10_content());
            }
            Event::GeneralRef(r) if formula.is_some() && text.len() <= 4 * MAX_FORMULA_CHARS => {
                match quick_xml::escape::resolve_xml_entity(&r) {
                    Some(s) => text.push_str(s),
                    None => {
                        if let Ok(Some(c)) = r.resolve_char_ref() {
                            text.push(c);
                        }
                    }
                }
            }
            Event::End(e) => match e.local_name().as_ref() {
                "formula1" | "formula2" => {
                    if let (Some(v), Some(which)) = (open.as_mut(), formula.take()) {
                        let f = text.trim().trim_start_matches('=').to_string();
                        if which == 1 {
                            v.formula1 = f;
                        } else {
                            v.formula2 = Some(f);
                        }
                    }
                }
                "dataValidation" => finish(&mut open, &mut layout),
                // Nothing of interest follows these.
                "worksheet" => break,
                _ => {}
            },
            _ => {}
        }
    }
    layout
}

/// Most bytes kept before `<sheetData>` (the sheet's properties, views and
/// `<cols>`) and after it (merges, validations and the rest).
const MAX_HEAD_BYTES: usize = 1024 * 1024;
const MAX_TAIL_BYTES: usize = 8 * 1024 * 1024;

/// The sheet's XML without its `<sheetData>`: the cells are the bulk of the
/// part and were read already, so they are skipped by a byte search for the
/// end tag instead of being parsed again (the part is still inflated once).
/// The text before and after is bounded; `None` when the part cannot be read.
fn outside_sheet_data(mut entry: impl Read) -> Option<Vec<u8>> {
    const START: &[u8] = b"sheetData";
    const END: &[u8] = b"sheetData>";
    let mut out: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    // Bytes not yet judged: a tag may straddle two chunks.
    let mut carry: Vec<u8> = Vec::new();
    enum State {
        Head,
        Skip,
        Tail,
    }
    let mut state = State::Head;
    loop {
        let n = entry.read(&mut chunk).ok()?;
        if n == 0 {
            break;
        }
        carry.extend_from_slice(&chunk[..n]);
        loop {
            match state {
                State::Head => match memchr::memmem::find(&carry, START) {
                    Some(at) => {
                        // Up to the tag's `<`, then past its `>`.
                        let open = carry[..at].iter().rposition(|&b| b == b'<')?;
                        let Some(close) = memchr::memchr(b'>', &carry[at..]) else {
                            if carry.len() > MAX_HEAD_BYTES {
                                return None;
                            }
                            break; // the start tag goes on in the next chunk
                        };
                        out.extend_from_slice(&carry[..open]);
                        let empty = carry[at + close - 1] == b'/';
                        carry.drain(..at + close + 1);
                        state = if empty { State::Tail } else { State::Skip };
                    }
                    None => {
                        let keep = carry.len().min(START.len() + 64);
                        let done = carry.len() - keep;
                        if out.len() + done > MAX_HEAD_BYTES {
                            return None;
                        }
                        out.extend_from_slice(&carry[..done]);
                        carry.drain(..done);
                        break;
                    }
                },
                State::Skip => match memchr::memmem::find(&carry, END) {
                    Some(at) => {
                        carry.drain(..at + END.len());
                        state = State::Tail;
                    }
                    None => {
                        let keep = carry.len().min(END.len());
                        carry.drain(..carry.len() - keep);
                        break;
                    }
                },
                State::Tail => {
                    let room = MAX_TAIL_BYTES.saturating_sub(out.len());
                    out.extend_from_slice(&carry[..carry.len().min(room)]);
                    carry.clear();
                    if room == 0 {
                        return Some(out);
                    }
                    break;
                }
            }
        }
    }
    if let State::Head = state {
        out.extend_from_slice(&carry);
    }
    Some(out)
}

/// An .xls sheet's merged ranges, through calamine (already parsed at open).
pub(crate) fn xls_merges(merges: Vec<calamine::Dimensions>) -> Vec<CellRange> {
    merges
        .into_iter()
        .filter(|d| d.start.0 <= d.end.0 && d.start.1 <= d.end.1)
        .take(MAX_MERGES)
        .map(|d| CellRange {
            first_row: d.start.0,
            first_col: d.start.1,
            last_row: d.end.0,
            last_col: d.end.1,
        })
        .collect()
}

/// Keeps a validation just closed when the copy can write it again.
fn finish(open: &mut Option<Validation>, layout: &mut SheetLayout) {
    let Some(v) = open.take() else { return };
    let needs_formula = v.kind != ValidationKind::Any;
    if needs_formula && v.formula1.is_empty() {
        return;
    }
    let two = matches!(v.operator.as_deref(), None | Some("between" | "notBetween"));
    let one_formula = matches!(v.kind, ValidationKind::List | ValidationKind::Custom);
    if needs_formula && !one_formula && two && v.formula2.is_none() {
        return;
    }
    let formulas = std::iter::once(&v.formula1).chain(v.formula2.as_ref());
    if formulas.into_iter().all(|f| writable_formula(f)) {
        layout.validations.push(v);
    }
}

/// A formula the copy can carry: within Excel's length, and naming no other
/// sheet (`字典!A1:A9`) and no defined name (`=组织类型`). The copy holds neither,
/// so such a validation would refuse every value; it is dropped instead.
/// Quoted text, numbers, functions and this sheet's cell references pass.
fn writable_formula(f: &str) -> bool {
    if f.chars().count() > MAX_FORMULA_CHARS {
        return false;
    }
    let mut chars = f.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                // To the closing quote; `""` inside is an escaped quote.
                for q in chars.by_ref() {
                    if q == '"' {
                        break;
                    }
                }
            }
            '!' | '[' | '\'' => return false,
            c if c.is_alphabetic() || c == '_' || c == '$' => {
                let mut word = String::from(c);
                while let Some(&n) = chars.peek() {
                    if n.is_alphanumeric() || matches!(n, '_' | '.' | '$') {
                        word.push(n);
                        chars.next();
                    } else {
                        break;
                    }
                }
                let function = chars.peek() == Some(&'(');
                let boolean =
                    word.eq_ignore_ascii_case("true") || word.eq_ignore_ascii_case("false");
                if !function && !boolean && parse_cell(&word).is_none() {
                    return false;
                }
            }
            _ => {}
        }
    }
    true
}

fn read_col(e: &BytesStart) -> Option<ColumnWidth> {
    let min: u32 = attr(e, "min")?.trim().parse().ok()?;
    let max: u32 = attr(e, "max")?.trim().parse().ok()?;
    let width: f64 = attr(e, "width")?.trim().parse().ok()?;
    if min == 0
        || max < min
        || max > 16_384
        || !width.is_finite()
        || !(0.0..=255.0).contains(&width)
    {
        return None;
    }
    Some(ColumnWidth {
        first: min - 1,
        last: max - 1,
        width,
    })
}

fn read_validation(e: &BytesStart) -> Option<Validation> {
    let kind = match attr(e, "type").as_deref().unwrap_or("none") {
        "none" => ValidationKind::Any,
        "list" => ValidationKind::List,
        "whole" => ValidationKind::Whole,
        "decimal" => ValidationKind::Decimal,
        "date" => ValidationKind::Date,
        "time" => ValidationKind::Time,
        "textLength" => ValidationKind::TextLength,
        "custom" => ValidationKind::Custom,
        _ => return None,
    };
    let operator = attr(e, "operator");
    const OPERATORS: [&str; 8] = [
        "between",
        "notBetween",
        "equal",
        "notEqual",
        "lessThan",
        "lessThanOrEqual",
        "greaterThan",
        "greaterThanOrEqual",
    ];
    if operator.as_deref().is_some_and(|o| !OPERATORS.contains(&o)) {
        return None;
    }
    let sqref = attr(e, "sqref")?;
    let ranges: Vec<CellRange> = sqref
        .split_whitespace()
        .take(MAX_VALIDATION_RANGES + 1)
        .map(parse_range)
        .collect::<Option<_>>()?;
    if ranges.is_empty() || ranges.len() > MAX_VALIDATION_RANGES {
        return None;
    }
    let flag = |name: &str| attr(e, name).is_some_and(|v| v == "1" || v == "true");
    let text = |name: &str, max: usize| {
        attr(e, name)
            .map(|t| t.chars().take(max).collect::<String>())
            .unwrap_or_default()
    };
    let error_style = match attr(e, "errorStyle").as_deref() {
        Some("warning") => "warning",
        Some("information") => "information",
        _ => "stop",
    };
    Some(Validation {
        kind,
        operator,
        formula1: String::new(),
        formula2: None,
        ranges,
        allow_blank: flag("allowBlank"),
        show_dropdown: !flag("showDropDown"),
        show_input: flag("showInputMessage"),
        show_error: flag("showErrorMessage"),
        error_style: error_style.to_string(),
        prompt_title: text("promptTitle", MAX_TITLE_CHARS),
        prompt: text("prompt", MAX_MESSAGE_CHARS),
        error_title: text("errorTitle", MAX_TITLE_CHARS),
        error: text("error", MAX_MESSAGE_CHARS),
    })
}

/// An attribute's unescaped value, by local name.
fn attr(e: &BytesStart, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name)
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned())
        })
}

/// `A1`, `$A$1`, `A1:H2` (either corner first) → a range within Excel's sheet.
pub(crate) fn parse_range(text: &str) -> Option<CellRange> {
    let (a, b) = text.split_once(':').unwrap_or((text, text));
    let (r1, c1) = parse_cell(a)?;
    let (r2, c2) = parse_cell(b)?;
    Some(CellRange {
        first_row: r1.min(r2),
        first_col: c1.min(c2),
        last_row: r1.max(r2),
        last_col: c1.max(c2),
    })
}

/// `F12`, `$F$12` → zero-based (row, column) within Excel's sheet.
fn parse_cell(text: &str) -> Option<(u32, u32)> {
    let t = text.replace('$', "");
    let at = t.find(|c: char| c.is_ascii_digit())?;
    let (letters, digits) = t.split_at(at);
    if letters.is_empty()
        || letters.len() > 3
        || !letters.bytes().all(|b| b.is_ascii_alphabetic())
        || digits.is_empty()
        || digits.len() > 7
        || !digits.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let col = letters.bytes().fold(0u32, |acc, b| {
        acc * 26 + u32::from(b.to_ascii_uppercase() - b'A' + 1)
    }) - 1;
    let row: u32 = digits.parse().ok()?;
    (row >= 1 && row <= 1_048_576 && col < 16_384).then_some((row - 1, col))
}

/// The zip path of the worksheet named `sheet`, from the workbook's index and
/// its relationships.
fn sheet_part(zip: &mut zip::ZipArchive<Cursor<&[u8]>>, sheet: &str) -> Option<String> {
    let workbook = (0..zip.len())
        .filter_map(|i| Some(zip.name_for_index(i)?.ok()?.into_owned()))
        .find(|n| n.to_ascii_lowercase().ends_with("workbook.xml"))?;
    let dir = workbook.rsplit_once('/').map_or("", |(d, _)| d).to_string();
    let rels = if dir.is_empty() {
        "_rels/workbook.xml.rels".to_string()
    } else {
        format!("{dir}/_rels/workbook.xml.rels")
    };
    let mut id = None;
    each_tag(zip, &workbook, "sheet", |e| {
        if attr(e, "name").as_deref() == Some(sheet) {
            id = attr(e, "id");
        }
        id.is_some()
    });
    let id = id?;
    let mut target = None;
    each_tag(zip, &rels, "Relationship", |e| {
        if attr(e, "Id").as_deref() == Some(id.as_str()) {
            target = attr(e, "Target");
        }
        target.is_some()
    });
    let target = target?;
    let path = match target.strip_prefix('/') {
        Some(absolute) => absolute.to_string(),
        None if dir.is_empty() => target,
        None => format!("{dir}/{target}"),
    };
    // `xl/worksheets/../worksheets/sheet1.xml` and the like.
    let mut parts: Vec<&str> = Vec::new();
    for p in path.split('/') {
        match p {
            ".." => {
                parts.pop();
            }
            "." | "" => {}
            p => parts.push(p),
        }
    }
    let path = parts.join("/");
    let names: HashMap<String, String> = (0..zip.len())
        .filter_map(|i| Some(zip.name_for_index(i)?.ok()?.into_owned()))
        .map(|n| (n.replace('\\', "/").to_ascii_lowercase(), n))
        .collect();
    names.get(&path.to_ascii_lowercase()).cloned()
}

/// Calls `each` on every start or empty tag `local` of a small part until it
/// says it is done; a part over [`MAX_INDEX_BYTES`] is read only that far.
fn each_tag(
    zip: &mut zip::ZipArchive<Cursor<&[u8]>>,
    name: &str,
    local: &str,
    mut each: impl FnMut(&BytesStart) -> bool,
) {
    let Ok(entry) = zip.by_name(name) else { return };
    let mut xml = quick_xml::Reader::from_reader(BufReader::new(entry.take(MAX_INDEX_BYTES)));
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match xml.read_event_into(&mut buf) {
            Ok(Event::Start(e) | Event::Empty(e)) if e.local_name().as_ref() == local => {
                if each(&e) {
                    return;
                }
            }
            Ok(Event::Eof) | Err(_) => return,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_formulas() {
        assert_eq!(
            parse_range("$B$3:A1"),
            Some(CellRange {
                first_row: 0,
                first_col: 0,
                last_row: 2,
                last_col: 1
            })
        );
        assert_eq!(parse_range("C1048577"), None);
        assert_eq!(parse_range("XFE1"), None);
        assert_eq!(parse_range("A1:B"), None);
        for ok in [
            "\"男,女\"",
            "0",
            "$H$2:$H$9",
            "DATE(2026,1,1)",
            "1.5E3",
            "TRUE",
        ] {
            assert!(writable_formula(ok), "{ok}");
        }
        for dropped in [
            "字典!$A$1:$A$9",
            "组织类型",
            "'其他 表'!A1",
            "[1]Sheet1!A1",
            "OrgTypes",
        ] {
            assert!(!writable_formula(dropped), "{dropped}");
        }
        assert!(!writable_formula(&"1".repeat(256)));
    }

    /// A reader that gives `n` bytes at a time, so tags straddle its reads.
    struct Drip<'a>(&'a [u8], usize);

    impl Read for Drip<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.1.min(buf.len()).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn the_cells_are_skipped_whatever_the_reads_and_the_prefix() {
        let cells = "<row r=\"1\"><c r=\"A1\"><v>1</v></c></row>".repeat(5_000);
        for (xml, want) in [
            (
                format!("<worksheet><cols><col min=\"1\"/></cols><sheetData>{cells}</sheetData><mergeCells/></worksheet>"),
                "<worksheet><cols><col min=\"1\"/></cols><mergeCells/></worksheet>",
            ),
            (
                format!("<x:worksheet><x:sheetData>{cells}</x:sheetData><x:dataValidations/></x:worksheet>"),
                "<x:worksheet><x:dataValidations/></x:worksheet>",
            ),
            (
                "<worksheet><sheetData/><mergeCells/></worksheet>".to_string(),
                "<worksheet><mergeCells/></worksheet>",
            ),
        ] {
            for step in [1, 7, 64 * 1024] {
                let out = outside_sheet_data(Drip(xml.as_bytes(), step)).unwrap();
                assert_eq!(String::from_utf8(out).unwrap(), want, "step {step}");
            }
        }
    }

    #[test]
    fn the_keeper_is_bounded_and_puts_outside_cells_first() {
        let mut k = CellKeeper::default();
        k.beside(5, 9, &Raw::Text("国有".into()), 100);
        k.outside(0, 0, &Raw::Text("标题".into()), 100);
        k.outside(0, 1, &Raw::Float(f64::NAN), 100);
        k.outside(0, 2, &Raw::FormulaNoValue("A1".into()), 100);
        k.outside(0, 3, &Raw::Int(7), 100);
        let cells = k.into_cells();
        assert_eq!(cells.len(), 3);
        assert_eq!(cells[0].value, LayoutValue::Text("标题".into()));
        assert_eq!(cells[1].value, LayoutValue::Number(7.0));
        assert_eq!((cells[2].row, cells[2].col), (5, 9));

        let mut k = CellKeeper::default();
        let long = "长".repeat(1000);
        for r in 0..(MAX_LAYOUT_CELLS as u32 * 2) {
            k.outside(r, 0, &Raw::Text(long.as_str().into()), 1000);
        }
        let cells = k.into_cells();
        let bytes: usize = cells
            .iter()
            .map(|c| match &c.value {
                LayoutValue::Text(t) => t.len(),
                LayoutValue::Number(_) => 0,
            })
            .sum();
        assert!(bytes <= MAX_LAYOUT_TEXT_BYTES && cells.len() < MAX_LAYOUT_CELLS);
    }
}
