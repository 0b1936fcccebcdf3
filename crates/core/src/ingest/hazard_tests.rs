//! Bytes that must not bring the service down: empty, random, truncated, not a
//! workbook, allocation bombs (shared strings, far-apart cells, .xls records),
//! limits, and mutated workbooks; plus .ods and .xls reading.

use std::io::{Cursor, Read};

use super::tests::{catalog, read, reason, rewrite, row, rules, values, xlsx, zip_of};
use super::*;

#[test]
fn unreadable_bytes_give_one_clear_issue() {
    let (rule, en) = reason(&read(b""));
    assert_eq!(rule, "unreadable");
    assert!(en.contains("the file is empty"), "{en}");

    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let random: Vec<u8> = (0..4096)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        })
        .collect();
    let (rule, en) = reason(&read(&random));
    assert_eq!(rule, "unreadable");
    assert!(en.contains("not an Excel workbook"), "{en}");

    let good = xlsx(true, |ws| row(ws, 0, &["单位代码"]));
    for cut in [10, good.len() / 2, good.len() - 10] {
        let (rule, en) = reason(&read(&good[..cut]));
        assert_eq!(rule, "unreadable", "cut at {cut}");
        assert!(en.contains("damaged or truncated"), "{en}");
    }
    // Random bytes behind a zip or OLE signature.
    for magic in [
        &b"PK\x03\x04"[..],
        &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1],
    ] {
        let mut bytes = magic.to_vec();
        bytes.extend_from_slice(&random);
        assert_eq!(reason(&read(&bytes)).0, "unreadable");
    }

    let docx = zip_of([
        ("[Content_Types].xml", &b"<Types/>"[..]),
        ("word/document.xml", b"<w:document/>"),
    ]);
    let (rule, en) = reason(&read(&docx));
    assert_eq!(rule, "unreadable");
    assert!(
        en.contains("not an Excel workbook (xlsx/xls/xlsb/ods)"),
        "{en}"
    );

    let small = ReadLimits {
        max_bytes: 100,
        ..ReadLimits::default()
    };
    let wb = read_workbook(&good, &catalog(), &small);
    assert_eq!(reason(&wb).0, "too_large");
}

/// A minimal xlsx written by hand: the parts calamine needs, nothing else.
fn handmade(shared_strings: &str, sheet: &str) -> Vec<u8> {
    zip_of([
        (
            "[Content_Types].xml",
            br#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"#.as_slice(),
        ),
        (
            "_rels/.rels",
            br#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.as_slice(),
        ),
        (
            "xl/workbook.xml",
            r#"<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="基层工会情况" sheetId="1" r:id="rId1"/></sheets></workbook>"#.as_bytes(),
        ),
        (
            "xl/_rels/workbook.xml.rels",
            br#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#.as_slice(),
        ),
        ("xl/worksheets/sheet1.xml", sheet.as_bytes()),
        ("xl/sharedStrings.xml", shared_strings.as_bytes()),
    ])
}

const SST: &str = r#"<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="2" uniqueCount="2"><si><t>单位代码</t></si><si><t>会员人数</t></si></sst>"#;

fn sheet_xml(dimension: &str, extra: &str) -> String {
    format!(
        r#"<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{dimension}<sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>330102001001</t></is></c><c r="B2"><v>12</v></c></row>{extra}</sheetData></worksheet>"#
    )
}

#[test]
fn handmade_xlsx_reads() {
    let wb = read(&handmade(
        SST,
        &sheet_xml(r#"<dimension ref="A1:B2"/>"#, ""),
    ));
    assert_eq!(wb.issues, vec![]);
    assert_eq!(wb.rows.len(), 1);
    assert_eq!(values(&wb, "members"), vec![Some(12)]);
}

#[test]
fn shared_string_bomb_is_refused_without_aborting() {
    let bomb = SST.replace(r#"uniqueCount="2""#, r#"uniqueCount="100000000000""#);
    let (rule, en) = reason(&read(&handmade(&bomb, &sheet_xml("", ""))));
    assert_eq!(rule, "too_large");
    assert!(en.contains("100000000000"), "{en}");
}

#[test]
fn far_apart_cells_are_refused_before_a_dense_range() {
    // A declared extent A1:XFD1048576 around two rows of values (what
    // formatting down a whole sheet declares) is read: only values count.
    let declared = sheet_xml(r#"<dimension ref="A1:XFD1048576"/>"#, "");
    let wb = read(&handmade(SST, &declared));
    assert_eq!(wb.issues, vec![]);
    assert_eq!(values(&wb, "members"), vec![Some(12)]);
    // Real cells at A1 and XFD1048576 with an honest-looking dimension.
    let far = sheet_xml(
        r#"<dimension ref="A1:B2"/>"#,
        r#"<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>"#,
    );
    let (rule, en) = reason(&read(&handmade(SST, &far)));
    assert_eq!(rule, "too_large");
    assert!(en.contains("column XFD"), "{en}");
}

#[test]
fn row_and_column_limits() {
    let bytes = xlsx(false, |ws| {
        row(ws, 0, &["单位代码", "会员人数"]);
        for r in 1..=5 {
            row(ws, r, &["330102001001", "1"]);
        }
    });
    let tight = ReadLimits {
        max_rows: 4,
        ..ReadLimits::default()
    };
    let (rule, en) = reason(&read_workbook(&bytes, &catalog(), &tight));
    assert_eq!(rule, "too_large");
    assert!(en.contains("more than 4 unit rows"), "{en}");
    let narrow = ReadLimits {
        max_columns: 1,
        ..ReadLimits::default()
    };
    assert_eq!(
        reason(&read_workbook(&bytes, &catalog(), &narrow)).0,
        "too_large"
    );
    let ok = ReadLimits {
        max_rows: 5,
        max_columns: 2,
        ..ReadLimits::default()
    };
    assert_eq!(read_workbook(&bytes, &catalog(), &ok).rows.len(), 5);
}

fn ods(rows: &str) -> Vec<u8> {
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0" office:version="1.2"><office:body><office:spreadsheet><table:table table:name="基层工会情况">{rows}</table:table></office:spreadsheet></office:body></office:document-content>"#
    );
    zip_of([
        ("mimetype", &b"application/vnd.oasis.opendocument.spreadsheet"[..]),
        ("content.xml", content.as_bytes()),
        (
            "META-INF/manifest.xml",
            br#"<?xml version="1.0"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#,
        ),
    ])
}

fn ods_text(s: &str) -> String {
    format!(
        r#"<table:table-cell office:value-type="string"><text:p>{s}</text:p></table:table-cell>"#
    )
}

#[test]
fn ods_reads_values_errors_and_formulas_without_values() {
    let header = ["单位代码", "会员人数", "职工人数", "女会员人数"]
        .map(ods_text)
        .concat();
    let unit = [
        ods_text("330102001001"),
        r#"<table:table-cell office:value-type="float" office:value="12"/>"#.to_string(),
        r#"<table:table-cell table:formula="of:=[.B2]+1"/>"#.to_string(),
        r#"<table:table-cell table:formula="of:=1/0" office:value-type="string" office:string-value="" calcext:value-type="error"><text:p>#DIV/0!</text:p></table:table-cell>"#.to_string(),
    ]
    .concat();
    let bytes = ods(&format!(
        "<table:table-row>{header}</table:table-row><table:table-row>{unit}</table:table-row>"
    ));
    let wb = read(&bytes);
    assert_eq!(
        rules(&wb),
        vec![
            ("formula_no_value", Some("C2"), Some("=[.B2]+1")),
            ("excel_error", Some("D2"), Some("#DIV/0!"))
        ]
    );
    assert_eq!(wb.rows[0].values, vec![Some(12), None, None]);
}

#[test]
fn mutated_workbooks_never_panic_or_abort() {
    let good = xlsx(true, |ws| {
        row(ws, 0, &["单位代码", "单位名称", "会员人数"]);
        row(ws, 1, &["330102001001", "甲", "5"]);
    });
    let sheet = "xl/worksheets/sheet2.xml";
    let xml = {
        let mut a = zip::ZipArchive::new(Cursor::new(good.as_slice())).unwrap();
        let mut s = Vec::new();
        a.by_name(sheet).unwrap().read_to_end(&mut s).unwrap();
        s
    };
    let good_xls = {
        use super::xls_guard::tests::{biff, compound, header_and_unit};
        compound(biff("基层工会情况", (0, 2, 0, 2), &header_and_unit()))
    };
    let rounds: usize = std::env::var("FUZZ_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(150);
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..rounds {
        // Raw byte damage anywhere in the package.
        let mut bytes = good.clone();
        for _ in 0..1 + next() % 8 {
            let at = (next() as usize) % bytes.len();
            bytes[at] = next() as u8;
        }
        let wb = read(&bytes);
        assert!(wb.issues.iter().all(|i| !i.message.en.is_empty()));
        // Damage inside the sheet XML, repackaged with valid checksums.
        let mut x = xml.clone();
        for _ in 0..1 + next() % 4 {
            let at = (next() as usize) % x.len();
            x[at] = b"<>\"/=0123456789ABCXYZ:r"[(next() % 23) as usize];
        }
        let text = String::from_utf8_lossy(&x).into_owned();
        let _ = read(&rewrite(&good, sheet, |_| text.clone()));
        // Damage to an .xls: compound-file tables and BIFF records.
        let mut xls = good_xls.clone();
        for _ in 0..1 + next() % 6 {
            let at = (next() as usize) % xls.len();
            xls[at] = next() as u8;
        }
        let _ = read(&xls);
    }
}

#[test]
fn xls_reads_and_its_allocation_bombs_are_refused() {
    use super::xls_guard::tests::{biff, compound, header_and_unit};
    let file = compound(biff("基层工会情况", (0, 2, 0, 2), &header_and_unit()));
    let wb = read(&file);
    assert_eq!(wb.issues, vec![]);
    assert_eq!(
        (wb.rows[0].code.as_str(), wb.rows[0].values.clone()),
        ("330102001001", vec![Some(12)])
    );

    // Each of these aborted the process inside calamine before the guard.
    let huge_dims = compound(biff(
        "基层工会情况",
        (0, u32::MAX, 0, 0xFFFF),
        &header_and_unit(),
    ));
    let (rule, en) = reason(&read(&huge_dims));
    assert_eq!(rule, "too_large");
    assert!(en.contains("4294967295 rows"), "{en}");
    let mut far = header_and_unit();
    far.extend(super::xls_guard::tests::number_cell(65535, 65535, 1.0));
    let (rule, en) = reason(&read(&compound(biff("基层工会情况", (0, 2, 0, 2), &far))));
    assert_eq!(rule, "too_large");
    assert!(en.contains("65536 columns"), "{en}");
}

/// A sheet whose layout is hostile: tens of thousands of merges (one covering
/// the whole sheet, many overlapping), validations over thousands of ranges or
/// with texts past Excel's bounds, and width entries over every column. What
/// the reader keeps is capped, and the annotated copy stays small and quick.
#[test]
fn a_hostile_layout_is_capped_and_the_annotated_copy_stays_small() {
    use crate::ingest::layout::{MAX_MERGES, MAX_VALIDATIONS, MAX_WIDTHS};
    let good = xlsx(false, |ws| {
        row(ws, 0, &["单位代码", "单位名称", "会员人数"]);
        row(ws, 1, &["330102001001", "甲", "5"]);
    });
    let mut merges = String::from(r#"<mergeCells count="30001"><mergeCell ref="A1:XFD1048576"/>"#);
    for r in 0..30_000u32 {
        merges.push_str(&format!(
            r#"<mergeCell ref="A{}:C{}"/>"#,
            r % 50 + 3,
            r % 50 + 4
        ));
    }
    merges.push_str("</mergeCells>");
    let mut dv = String::from(r#"<dataValidations count="3000">"#);
    let many: Vec<String> = (1..=5_000).map(|r| format!("D{r}")).collect();
    dv.push_str(&format!(
        r#"<dataValidation type="whole" operator="greaterThan" sqref="{}"><formula1>0</formula1></dataValidation>"#,
        many.join(" ")
    ));
    let long = "长".repeat(1_000);
    for k in 0..3_000u32 {
        dv.push_str(&format!(
            r#"<dataValidation type="list" showInputMessage="1" prompt="{long}" sqref="E{}"><formula1>"a,b"</formula1></dataValidation>"#,
            k + 1
        ));
    }
    dv.push_str("</dataValidations>");
    let mut cols = String::from("<cols>");
    for k in 0..2_000u32 {
        cols.push_str(&format!(
            r#"<col min="{}" max="16384" width="1e308"/><col min="1" max="16384" width="9"/>"#,
            k + 1
        ));
    }
    cols.push_str("</cols>");
    let bytes = rewrite(&good, "xl/worksheets/sheet1.xml", |xml| {
        xml.replacen("<sheetData", &format!("{cols}<sheetData"), 1)
            .replacen("</sheetData>", &format!("</sheetData>{merges}{dv}"), 1)
    });
    let started = std::time::Instant::now();
    let wb = read(&bytes);
    assert_eq!(wb.rows.len(), 1, "{:?}", rules(&wb));
    assert_eq!(wb.layout.merges.len(), MAX_MERGES);
    assert_eq!(wb.layout.widths.len(), MAX_WIDTHS);
    assert!(wb.layout.widths.iter().all(|w| w.width == 9.0));
    // The one over 5,000 ranges is dropped; of the rest, the first ones kept.
    assert_eq!(wb.layout.validations.len(), MAX_VALIDATIONS);
    assert!(wb
        .layout
        .validations
        .iter()
        .all(|v| v.prompt.chars().count() == 255 && v.ranges.len() == 1));
    let out = crate::workbook_out::annotated(&catalog(), &wb, &wb.issues).unwrap();
    assert!(out.len() < 2_000_000, "{} bytes", out.len());
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    let mut zip = zip::ZipArchive::new(Cursor::new(out.as_slice())).unwrap();
    let mut xml = String::new();
    zip.by_name("xl/worksheets/sheet2.xml")
        .unwrap()
        .read_to_string(&mut xml)
        .unwrap();
    // The whole-sheet merge is dropped; of the overlapping ones, the first.
    assert!(!xml.contains("A1:XFD1048576"));
    assert!(
        xml.contains(r#"<mergeCell ref="A3:C4"/>"#),
        "{}",
        &xml[..2000.min(xml.len())]
    );
    assert_eq!(
        xml.matches("<mergeCell ").count(),
        25,
        "A3:C4, A5:C6 … A51:C52"
    );
}
