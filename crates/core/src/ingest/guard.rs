//! Checks on untrusted bytes before any spreadsheet parser sees them.
//!
//! calamine trusts what a file declares: a `sharedStrings.xml` announcing
//! `uniqueCount="100000000000"` makes it reserve terabytes and abort the process,
//! which no panic handler catches (DESIGN.md, Known hazards). So the format is
//! sniffed from the bytes, and a zip package is opened here first: entry count,
//! declared sizes (the zip crate enforces them while inflating), and the counts the
//! shared-string table announces are bounded before calamine opens it. An .xls
//! goes through `xls_guard`; worksheet extents are checked by [`check_dimensions`]
//! when a sheet is opened.

use std::io::{Cursor, Read};

use calamine::Dimensions;

use super::ReadLimits;
use crate::issue::Message;

/// Most entries a zip package may hold.
pub(crate) const MAX_ZIP_ENTRIES: usize = 10_000;
/// Most bytes all entries of a zip package may inflate to, as declared.
pub(crate) const MAX_UNZIPPED_BYTES: u64 = 200 * 1024 * 1024;
/// The `<sst>` start tag must appear within this many inflated bytes.
const SST_PREFIX_BYTES: u64 = 64 * 1024;
/// Rows allowed above and below the data rows: titles, header, total, notes.
pub(crate) const ROW_SLACK: usize = 1_000;

/// The spreadsheet formats read, told apart by content, not by file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Xlsx,
    Xlsb,
    Xls,
    Ods,
}

/// Why bytes are refused: maps to `unreadable` or `too_large`, with the reason
/// in Chinese (for the Chinese message) and in English (for the English one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Rejection {
    Unreadable(Message),
    TooLarge(Message),
}

/// A fixed reason: Chinese, English.
pub(crate) type Text = (&'static str, &'static str);

pub(crate) const EMPTY: Text = ("文件是空的", "the file is empty");
pub(crate) const NOT_A_WORKBOOK: Text = (
    "这不是 Excel 工作簿（.xlsx、.xls、.xlsb 或 .ods）",
    "not an Excel workbook (xlsx/xls/xlsb/ods)",
);
pub(crate) const DAMAGED: Text = (
    "工作簿已损坏或不完整",
    "the workbook is damaged or truncated",
);
pub(crate) const PASSWORD: Text = (
    "工作簿设有打开密码；请取消密码",
    "the workbook is password-protected; remove the password",
);
pub(crate) const HTML: Text = (
    "这是以 Excel 文件名保存的网页（HTML），不是真正的工作簿",
    "a web page (HTML) saved under an Excel name, not a real workbook",
);

pub(crate) const SYLK: Text = (
    "这是 SYLK（.slk）符号链接文件，不是 Excel 工作簿，也不是 CSV；请在 Excel 或 WPS 中打开后另存为 .xlsx",
    "a SYLK (.slk) file, neither an Excel workbook nor a CSV; open it in Excel or WPS and save it as .xlsx",
);
pub(crate) const OLD_EXCEL: Text = (
    "这是 Excel 2.x–4.0 时代的旧版 .xls 文件（BIFF2–BIFF4），无法直接读取；请在 Excel 或 WPS 中打开后另存为 .xlsx（Excel 工作簿）",
    "an Excel 2.x–4.0 workbook (BIFF2–BIFF4), a format too old to read; open it in Excel or WPS and save it as .xlsx (Excel Workbook)",
);

/// A reason from its two texts.
pub(crate) fn text(t: Text) -> Message {
    Message {
        zh: t.0.to_string(),
        en: t.1.to_string(),
    }
}

/// A reason written out: Chinese, English.
pub(crate) fn says(zh: String, en: String) -> Message {
    Message { zh, en }
}

pub(crate) fn unreadable(reason: Text) -> Rejection {
    Rejection::Unreadable(text(reason))
}

/// Formats recognised only to be named: SYLK (text that would otherwise pass for
/// a CSV) and the BIFF2–4 files of Excel 2.x–4.0 (a bare record stream, no OLE
/// container). Checked before anything else reads the bytes.
pub(crate) fn refuse_legacy(bytes: &[u8]) -> Result<(), Rejection> {
    if bytes.starts_with(b"ID;") {
        return Err(unreadable(SYLK));
    }
    // A BOF record first: type 0x0009 (BIFF2), 0x0209 (BIFF3) or 0x0409 (BIFF4),
    // then a short length.
    if let [0x09, 0x00 | 0x02 | 0x04, len, 0x00, ..] = bytes {
        if (4..=16).contains(len) {
            return Err(unreadable(OLD_EXCEL));
        }
    }
    Ok(())
}

/// Sniffs the format and, for zip packages, bounds what they may inflate to.
pub(crate) fn preflight(bytes: &[u8], limits: &ReadLimits) -> Result<Format, Rejection> {
    if bytes.is_empty() {
        return Err(unreadable(EMPTY));
    }
    if bytes.len() > limits.max_bytes {
        return Err(too_many_bytes(bytes.len(), limits));
    }
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return check_zip(bytes, limits);
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        // An encrypted xlsx is an OLE file holding an `EncryptedPackage` stream.
        if contains_utf16(bytes, "EncryptedPackage") {
            return Err(unreadable(PASSWORD));
        }
        super::xls_guard::check_xls(bytes, limits)?;
        return Ok(Format::Xls);
    }
    let head = &bytes[..bytes.len().min(1024)];
    let lower = String::from_utf8_lossy(head).to_ascii_lowercase();
    if lower.contains("<html") || lower.contains("<table") || lower.contains("<!doctype html") {
        return Err(unreadable(HTML));
    }
    Err(super::csv_units::diagnose_text(bytes).unwrap_or_else(|| unreadable(NOT_A_WORKBOOK)))
}

/// Relationship types of Excel 4.0 macro sheets, which calamine does not know
/// and refuses the whole workbook for.
const MACRO_SHEET_TYPES: [&str; 2] = ["/xlMacrosheet\"", "/xlIntlMacrosheet\""];
/// A relationship type calamine knows and the reader skips (not a worksheet).
const SKIPPED_SHEET_TYPE: &str = "/chartsheet\"";
/// The workbook's relationships part: small; more is not a real one.
const MAX_RELS_BYTES: u64 = 1024 * 1024;

/// An xlsx holding Excel 4.0 macro sheets (or international macro sheets),
/// rewritten so that calamine opens it and the reader skips those sheets, as it
/// skips chart sheets; `None` when there is none. Entries other than the
/// workbook's relationships are copied as they are, not inflated.
pub(crate) fn without_macro_sheets(bytes: &[u8]) -> Result<Option<Vec<u8>>, Rejection> {
    const RELS: &str = "xl/_rels/workbook.xml.rels";
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| unreadable(DAMAGED))?;
    let mut rels = Vec::new();
    match zip.by_name(RELS) {
        Ok(entry) => {
            let _ = entry.take(MAX_RELS_BYTES).read_to_end(&mut rels);
        }
        Err(_) => return Ok(None),
    }
    let rels = String::from_utf8_lossy(&rels);
    if !MACRO_SHEET_TYPES.iter().any(|t| rels.contains(t)) {
        return Ok(None);
    }
    let patched = MACRO_SHEET_TYPES
        .iter()
        .fold(rels.into_owned(), |r, t| r.replace(t, SKIPPED_SHEET_TYPE));
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::with_capacity(bytes.len())));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for i in 0..zip.len() {
        let entry = zip.by_index_raw(i).map_err(|_| unreadable(DAMAGED))?;
        if entry.name().is_ok_and(|n| n == RELS) {
            drop(entry);
            out.start_file(RELS, options)
                .and_then(|()| {
                    std::io::Write::write_all(&mut out, patched.as_bytes()).map_err(Into::into)
                })
                .map_err(|_| unreadable(DAMAGED))?;
        } else {
            out.raw_copy_file(entry).map_err(|_| unreadable(DAMAGED))?;
        }
    }
    let out = out.finish().map_err(|_| unreadable(DAMAGED))?;
    Ok(Some(out.into_inner()))
}

/// A file larger than the upload limit.
pub(crate) fn too_many_bytes(size: usize, limits: &ReadLimits) -> Rejection {
    Rejection::TooLarge(says(
        format!("文件有 {size} 字节，超过允许的 {} 字节", limits.max_bytes),
        format!(
            "the file is {size} bytes, more than the {} bytes allowed",
            limits.max_bytes
        ),
    ))
}

/// Opens a zip package and checks it before calamine does.
fn check_zip(bytes: &[u8], limits: &ReadLimits) -> Result<Format, Rejection> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| unreadable(DAMAGED))?;
    if zip.len() > MAX_ZIP_ENTRIES {
        return Err(Rejection::TooLarge(says(
            format!("工作簿包含 {} 个部件，超过 {MAX_ZIP_ENTRIES} 个", zip.len()),
            format!(
                "the package holds {} parts, more than {MAX_ZIP_ENTRIES}",
                zip.len()
            ),
        )));
    }
    let mut total: u64 = 0;
    let mut format = None;
    let mut is_ods = false;
    let mut shared_strings = Vec::new();
    for i in 0..zip.len() {
        let entry = zip.by_index_data(i).map_err(|_| unreadable(DAMAGED))?;
        let size = entry.size();
        total = total.saturating_add(size);
        if size > MAX_UNZIPPED_BYTES || total > MAX_UNZIPPED_BYTES {
            let mb = MAX_UNZIPPED_BYTES / (1024 * 1024);
            return Err(Rejection::TooLarge(says(
                format!("工作簿解压后超过 {mb} MB"),
                format!("the workbook unpacks to more than {mb} MB"),
            )));
        }
        let name = entry
            .name()
            .map_err(|_| unreadable(DAMAGED))?
            .replace('\\', "/")
            .to_ascii_lowercase();
        if name.ends_with("workbook.xml") {
            format = Some(Format::Xlsx);
        } else if name.ends_with("workbook.bin") && format.is_none() {
            format = Some(Format::Xlsb);
        } else if name == "content.xml" {
            is_ods = true;
        }
        if name.ends_with("sharedstrings.xml") {
            shared_strings.push(i);
        }
    }
    let format = match format {
        Some(f) => f,
        None if is_ods && ods_mimetype(&mut zip) => Format::Ods,
        None => return Err(unreadable(NOT_A_WORKBOOK)),
    };
    let max_strings = max_shared_strings(limits);
    for i in shared_strings {
        let mut prefix = Vec::new();
        let entry = zip.by_index(i).map_err(|_| unreadable(DAMAGED))?;
        // `<si/>` is five bytes: no honest table announces more strings than
        // its size allows, which keeps calamine's reservation near the upload's.
        let max_unique = max_strings.min(entry.size() / 5 + 16);
        // A read error here (bad CRC, lying size) may only mean the prefix is cut:
        // what was read is still checked, and calamine reports real damage.
        let _ = entry.take(SST_PREFIX_BYTES).read_to_end(&mut prefix);
        check_shared_strings(&prefix, max_strings, max_unique)?;
    }
    Ok(format)
}

fn ods_mimetype(zip: &mut zip::ZipArchive<Cursor<&[u8]>>) -> bool {
    let Ok(entry) = zip.by_name("mimetype") else {
        return false;
    };
    let mut head = Vec::new();
    let _ = entry.take(256).read_to_end(&mut head);
    String::from_utf8_lossy(&head).contains("opendocument.spreadsheet")
}

/// Most shared strings a workbook may announce: ten per allowed cell, and never
/// more than could fit in the allowed unpacked size.
pub(crate) fn max_shared_strings(limits: &ReadLimits) -> u64 {
    let by_cells = 10u64
        .saturating_mul(limits.max_rows.saturating_add(ROW_SLACK) as u64)
        .saturating_mul(limits.max_columns as u64);
    // `<si/>` is five bytes: no honest table holds more strings than this.
    by_cells.min(MAX_UNZIPPED_BYTES / 5)
}

/// Finds the `<sst>` start tag in the first bytes of a shared-string table and
/// refuses a `count` above `max_count` or a `uniqueCount` (what calamine reserves)
/// above `max_unique`. The tag must come early: an honest table starts with it, so
/// a table hiding it is refused as damaged.
pub(crate) fn check_shared_strings(
    prefix: &[u8],
    max_count: u64,
    max_unique: u64,
) -> Result<(), Rejection> {
    let Some(attrs) = find_start_tag(prefix, b"sst")? else {
        return Err(unreadable(DAMAGED));
    };
    for (name, value) in attrs {
        let max = match name.rsplit(|&b| b == b':').next().unwrap_or(name) {
            b"count" => max_count,
            b"uniqueCount" => max_unique,
            _ => continue,
        };
        let digits = value.trim_ascii();
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            continue; // calamine ignores a count it cannot parse
        }
        let significant = digits.iter().skip_while(|&&b| b == b'0').count();
        let n: u64 = if significant > 19 {
            u64::MAX
        } else {
            std::str::from_utf8(digits)
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(u64::MAX)
        };
        if n > max {
            let n = String::from_utf8_lossy(digits);
            return Err(Rejection::TooLarge(says(
                format!("共享字符串表声明了 {n} 个字符串，超过 {max} 个"),
                format!("the shared-string table announces {n} strings, more than {max}"),
            )));
        }
    }
    Ok(())
}

type Attrs<'a> = Vec<(&'a [u8], &'a [u8])>;

/// Scans XML for the first start tag with the local name `local`, skipping the
/// declaration, comments and other elements; returns its attributes. `Ok(None)`
/// when the prefix ends first; a DOCTYPE is refused (no honest part has one).
fn find_start_tag<'a>(xml: &'a [u8], local: &[u8]) -> Result<Option<Attrs<'a>>, Rejection> {
    let mut i = 0;
    while let Some(off) = xml[i..].iter().position(|&b| b == b'<') {
        let at = i + off;
        let rest = &xml[at..];
        if rest.starts_with(b"<?") {
            i = at + skip_past(rest, b"?>");
        } else if rest.starts_with(b"<!--") {
            i = at + skip_past(rest, b"-->");
        } else if rest.starts_with(b"<!") {
            return Err(unreadable(DAMAGED));
        } else if rest.starts_with(b"</") {
            i = at + skip_past(rest, b">");
        } else {
            let name_end = rest[1..]
                .iter()
                .position(|&b| b.is_ascii_whitespace() || b == b'/' || b == b'>')
                .map(|p| p + 1);
            let Some(name_end) = name_end else {
                return Ok(None);
            };
            let name = &rest[1..name_end];
            let (attrs, len) = match parse_attrs(&rest[name_end..]) {
                Some(parsed) => parsed,
                None => return Ok(None),
            };
            if name.rsplit(|&b| b == b':').next() == Some(local) {
                return Ok(Some(attrs));
            }
            i = at + name_end + len;
        }
    }
    Ok(None)
}

/// Offset just past `end` in `s`, or `s.len()` when it is missing (the scan ends).
fn skip_past(s: &[u8], end: &[u8]) -> usize {
    s.windows(end.len())
        .position(|w| w == end)
        .map_or(s.len(), |p| p + end.len())
}

/// Attributes up to the closing `>` of a tag: `(attrs, bytes consumed)`, or
/// `None` when the tag does not end within the slice.
fn parse_attrs(s: &[u8]) -> Option<(Attrs<'_>, usize)> {
    let mut attrs = Vec::new();
    let mut i = 0;
    loop {
        while i < s.len() && (s[i].is_ascii_whitespace() || s[i] == b'/') {
            i += 1;
        }
        match s.get(i)? {
            b'>' => return Some((attrs, i + 1)),
            _ => {
                let name_start = i;
                while i < s.len()
                    && !matches!(s[i], b'=' | b'>' | b'/')
                    && !s[i].is_ascii_whitespace()
                {
                    i += 1;
                }
                let name = &s[name_start..i];
                while i < s.len() && s[i].is_ascii_whitespace() {
                    i += 1;
                }
                if s.get(i) != Some(&b'=') {
                    if name.is_empty() {
                        i += 1; // stray byte: step over it
                    }
                    continue;
                }
                i += 1;
                while i < s.len() && s[i].is_ascii_whitespace() {
                    i += 1;
                }
                let quote = *s.get(i)?;
                if quote != b'"' && quote != b'\'' {
                    continue;
                }
                let value_start = i + 1;
                let len = s[value_start..].iter().position(|&b| b == quote)?;
                attrs.push((name, &s[value_start..value_start + len]));
                i = value_start + len + 1;
            }
        }
    }
}

/// Refuses a worksheet whose declared or real extent exceeds the limits, before
/// any dense range of it is built.
pub(crate) fn check_dimensions(
    dims: Dimensions,
    limits: &ReadLimits,
    sheet: &str,
) -> Result<(), Rejection> {
    let rows = u64::from(dims.end.0) + 1;
    let cols = u64::from(dims.end.1) + 1;
    let max_rows = limits.max_rows.saturating_add(ROW_SLACK) as u64;
    if rows > max_rows {
        return Err(Rejection::TooLarge(says(
            format!(
                "工作表 {sheet} 占 {rows} 行，超过允许的 {} 行",
                limits.max_rows
            ),
            format!(
                "sheet {sheet} spans {rows} rows, more than the {} allowed",
                limits.max_rows
            ),
        )));
    }
    if cols > limits.max_columns as u64 {
        return Err(Rejection::TooLarge(says(
            format!(
                "工作表 {sheet} 占 {cols} 列，超过允许的 {} 列",
                limits.max_columns
            ),
            format!(
                "sheet {sheet} spans {cols} columns, more than the {} allowed",
                limits.max_columns
            ),
        )));
    }
    Ok(())
}

fn contains_utf16(bytes: &[u8], needle: &str) -> bool {
    let pattern: Vec<u8> = needle.encode_utf16().flat_map(u16::to_le_bytes).collect();
    bytes
        .windows(pattern.len())
        .any(|w| w == pattern.as_slice())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> ReadLimits {
        ReadLimits::default()
    }

    #[test]
    fn sniffs_empty_random_html_and_too_large() {
        assert_eq!(preflight(b"", &limits()), Err(unreadable(EMPTY)));
        assert_eq!(
            preflight(b"hello, world", &limits()),
            Err(unreadable(NOT_A_WORKBOOK))
        );
        assert!(matches!(
            preflight(b"<html><table><tr><td>1</td></tr></table></html>", &limits()),
            Err(Rejection::Unreadable(r)) if r.en.contains("HTML") && r.zh.contains("网页")
        ));
        let small = ReadLimits {
            max_bytes: 4,
            ..limits()
        };
        assert!(matches!(
            preflight(b"PK\x03\x04xx", &small),
            Err(Rejection::TooLarge(_))
        ));
        assert_eq!(
            preflight(b"PK\x03\x04trunc", &limits()),
            Err(unreadable(DAMAGED))
        );
    }

    #[test]
    fn shared_string_counts_are_bounded() {
        let ok = br#"<?xml version="1.0"?><!-- <sst uniqueCount="1"> --><sst xmlns="x" count="3" uniqueCount="2"><si><t>a</t></si>"#;
        assert_eq!(check_shared_strings(ok, 1000, 1000), Ok(()));
        let bomb = br#"<?xml version="1.0"?><sst xmlns="x" count="1" uniqueCount="100000000000">"#;
        assert!(
            matches!(check_shared_strings(bomb, 1000, 1000), Err(Rejection::TooLarge(r)) if r.zh.contains("100000000000"))
        );
        let prefixed = br#"<x:sst xmlns:x="x" uniqueCount = '99999999999999999999999999'>"#;
        assert!(matches!(
            check_shared_strings(prefixed, 1000, 1000),
            Err(Rejection::TooLarge(_))
        ));
        let hidden = br#"<a><b/></a><sst count="5000">"#;
        assert!(matches!(
            check_shared_strings(hidden, 1000, 10),
            Err(Rejection::TooLarge(_))
        ));
        assert_eq!(
            check_shared_strings(b"<?xml?><sst", 1000, 1000),
            Err(unreadable(DAMAGED))
        );
        assert_eq!(
            check_shared_strings(b"<!DOCTYPE x><sst>", 1000, 1000),
            Err(unreadable(DAMAGED))
        );
        assert_eq!(
            check_shared_strings(br#"<sst uniqueCount="&#49;">"#, 1000, 1000),
            Ok(())
        );
        assert!(max_shared_strings(&limits()) <= MAX_UNZIPPED_BYTES / 5);
        // Many references to few strings is honest; many unique strings in a
        // small table is not.
        let refs = br#"<sst count="1650000" uniqueCount="3">"#;
        assert_eq!(check_shared_strings(refs, 5_000_000, 100), Ok(()));
        let unique = br#"<sst count="3" uniqueCount="500">"#;
        assert!(matches!(
            check_shared_strings(unique, 5_000_000, 100),
            Err(Rejection::TooLarge(_))
        ));
    }

    #[test]
    fn dimensions_are_bounded() {
        let l = ReadLimits {
            max_rows: 100,
            max_columns: 10,
            ..limits()
        };
        let d = |r: u32, c: u32| Dimensions {
            start: (0, 0),
            end: (r, c),
        };
        assert_eq!(check_dimensions(d(1099, 9), &l, "s"), Ok(()));
        assert!(matches!(
            check_dimensions(d(1100, 9), &l, "s"),
            Err(Rejection::TooLarge(_))
        ));
        assert!(
            matches!(check_dimensions(d(5, 10), &l, "s"), Err(Rejection::TooLarge(r)) if r.en.contains("11 columns") && r.zh.contains("11 列"))
        );
        assert!(matches!(
            check_dimensions(d(1_048_575, 16_383), &limits(), "s"),
            Err(Rejection::TooLarge(_))
        ));
    }
}
