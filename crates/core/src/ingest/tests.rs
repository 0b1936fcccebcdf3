//! Workbooks built in memory (rust_xlsxwriter, or by hand with the zip crate) read
//! through [`read_workbook`], with exact values and exact cells.

use std::io::{Cursor, Read, Write};

use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Worksheet};

use super::*;
use crate::catalog::Catalog;
use crate::issue::Severity;

fn catalog() -> Catalog {
    Catalog::builtin().expect("builtin catalogue")
}

fn read(bytes: &[u8]) -> Workbook {
    read_workbook(bytes, &catalog(), &ReadLimits::default())
}

/// A workbook with a `封面` cover and a `基层工会情况` sheet filled by `units`.
fn xlsx(cover: bool, units: impl FnOnce(&mut Worksheet)) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    if cover {
        let ws = wb.add_worksheet();
        ws.set_name("封面").unwrap();
        ws.write(0, 0, "报送单位代码").unwrap();
        ws.write(0, 1, 330102).unwrap();
        ws.write(1, 0, "报送单位名称").unwrap();
        ws.write(1, 1, " 上城区总工会 ").unwrap();
        ws.write(2, 0, "报告期：").unwrap();
        ws.write(2, 1, 202610).unwrap();
        ws.write(3, 0, "填报日期").unwrap();
        let date = ExcelDateTime::from_ymd(2026, 11, 3).unwrap();
        ws.write_datetime_with_format(3, 1, &date, &Format::new().set_num_format("yyyy-mm-dd"))
            .unwrap();
        ws.write(4, 0, "phone").unwrap();
        ws.write(4, 1, 13_800_138_000_f64).unwrap();
    }
    let ws = wb.add_worksheet();
    ws.set_name("基层工会情况").unwrap();
    units(ws);
    wb.save_to_buffer().unwrap()
}

fn row(ws: &mut Worksheet, r: u32, cells: &[&str]) {
    for (c, text) in cells.iter().enumerate() {
        if !text.is_empty() {
            ws.write(r, c as u16, *text).unwrap();
        }
    }
}

fn rules(wb: &Workbook) -> Vec<(&str, Option<&str>, Option<&str>)> {
    wb.issues
        .iter()
        .map(|i| (i.rule.as_str(), i.cell.as_deref(), i.value.as_deref()))
        .collect()
}

fn values(wb: &Workbook, metric: &str) -> Vec<Option<i64>> {
    let i = wb
        .columns
        .iter()
        .position(|c| c.metric == metric)
        .expect(metric);
    wb.rows.iter().map(|r| r.values[i]).collect()
}

#[test]
fn clean_workbook_reads_exact_values() {
    let bytes = xlsx(true, |ws| {
        ws.merge_range(0, 0, 0, 6, "2026年10月基层工会情况统计表", &Format::new())
            .unwrap();
        row(ws, 1, &["填报单位：上城区总工会"]);
        row(
            ws,
            2,
            &[
                "单位代码",
                "单位名称",
                "应建会单位数",
                "已建会单位数",
                "职工人数",
                "会员人数",
                "帮扶慰问金额(元)",
            ],
        );
        ws.write(3, 0, "330102001001").unwrap();
        ws.write(3, 1, "甲公司工会").unwrap();
        for (c, v) in [
            (2, 41.0),
            (3, 39.0),
            (4, 198_000.0),
            (5, 196_000.0),
            (6, 1234.56),
        ] {
            ws.write(3, c, v).unwrap();
        }
        ws.write(4, 0, 330_102_001_002_f64).unwrap();
        ws.write(4, 1, "乙公司工会").unwrap();
        for (c, v) in [(2, 1.0), (3, 1.0), (4, 20.0), (5, 18.0), (6, 0.5)] {
            ws.write(4, c, v).unwrap();
        }
        row(
            ws,
            5,
            &["330102001003", "丙社区工会", "0", "0", "7", "7", ""],
        );
        ws.write(6, 0, "合计").unwrap();
        for (c, v) in [
            (2, 42.0),
            (3, 40.0),
            (4, 198_027.0),
            (5, 196_025.0),
            (6, 1235.06),
        ] {
            ws.write(6, c, v).unwrap();
        }
        row(
            ws,
            8,
            &["填表说明：1. 本表由镇街总工会填报；2. 金额单位为元。"],
        );
        row(ws, 9, &["330102009999", "", "", "", "", "1"]); // after the notes: not read
    });
    let wb = read(&bytes);
    assert_eq!(wb.issues, vec![], "{:#?}", wb.issues);
    let cover = wb.cover.as_ref().expect("cover");
    assert_eq!(cover.sheet, "封面");
    let cv = |v: &str, c: &str| {
        Some(CoverValue {
            value: v.into(),
            cell: c.into(),
        })
    };
    assert_eq!(cover.reporter_code, cv("330102", "B1"));
    assert_eq!(cover.reporter_name, cv("上城区总工会", "B2"));
    assert_eq!(cover.period, cv("202610", "B3"));
    assert_eq!(cover.date, cv("2026-11-03", "B4"));
    assert_eq!(cover.phone, cv("13800138000", "B5"));
    assert_eq!(cover.preparer, None);

    assert_eq!(wb.units_sheet, "基层工会情况");
    assert_eq!(wb.header_row, 3);
    assert_eq!(wb.code_letter, "A");
    let cols: Vec<(&str, u32, &str)> = wb
        .columns
        .iter()
        .map(|c| (c.metric.as_str(), c.col, c.letter.as_str()))
        .collect();
    assert_eq!(
        cols,
        vec![
            ("enterprises_required", 2, "C"),
            ("unions_established", 3, "D"),
            ("employees", 4, "E"),
            ("members", 5, "F"),
            ("relief_yuan", 6, "G"),
        ]
    );
    assert_eq!(
        wb.rows,
        vec![
            UnitRow {
                row: 4,
                code: "330102001001".into(),
                name: "甲公司工会".into(),
                values: vec![
                    Some(41),
                    Some(39),
                    Some(198_000),
                    Some(196_000),
                    Some(123_456)
                ],
            },
            UnitRow {
                row: 5,
                code: "330102001002".into(),
                name: "乙公司工会".into(),
                values: vec![Some(1), Some(1), Some(20), Some(18), Some(50)],
            },
            UnitRow {
                row: 6,
                code: "330102001003".into(),
                name: "丙社区工会".into(),
                values: vec![Some(0), Some(0), Some(7), Some(7), None],
            },
        ]
    );
    let total = wb.total.as_ref().expect("total row");
    assert_eq!((total.row, total.code.as_str()), (7, "合计"));
    assert_eq!(
        total.values,
        vec![
            Some(42),
            Some(40),
            Some(198_027),
            Some(196_025),
            Some(123_506)
        ]
    );
    assert_eq!(wb.code_cell(&wb.rows[1]), "A5");
    assert_eq!(wb.cell_of(&wb.rows[1], 3), "F5");
}

#[test]
fn messy_headers_in_any_order() {
    let bytes = xlsx(false, |ws| {
        row(
            ws,
            0,
            &[
                "序号",
                "名称",
                "职工人数（人）",
                "组织代码",
                "会员人数\n(人)",
                " 女会员人数 ",
                "备注",
            ],
        );
        row(
            ws,
            1,
            &["1", "甲", "100", "330102001001", "90", "40", "新建"],
        );
    });
    let wb = read(&bytes);
    assert_eq!(wb.units_sheet, "基层工会情况");
    assert!(wb.cover.is_none());
    assert_eq!((wb.header_row, wb.code_letter.as_str()), (1, "D"));
    let cols: Vec<(&str, &str)> = wb
        .columns
        .iter()
        .map(|c| (c.metric.as_str(), c.letter.as_str()))
        .collect();
    assert_eq!(
        cols,
        vec![
            ("employees", "C"),
            ("members", "E"),
            ("female_members", "F")
        ]
    );
    assert_eq!(wb.rows.len(), 1);
    assert_eq!(
        (wb.rows[0].code.as_str(), wb.rows[0].name.as_str()),
        ("330102001001", "甲")
    );
    assert_eq!(wb.rows[0].values, vec![Some(100), Some(90), Some(40)]);
    assert_eq!(
        rules(&wb),
        vec![
            ("unknown_column", Some("A1"), Some("序号")),
            ("unknown_column", Some("G1"), Some("备注"))
        ]
    );
    assert!(wb.issues.iter().all(|i| i.severity == Severity::Warning));

    // English headers, a single sheet of any name.
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    row(ws, 0, &["Members", "unit_code", "Employees", "Unit name"]);
    row(ws, 1, &["5", "330102001001", "6", "A"]);
    let wb = read(&book.save_to_buffer().unwrap());
    assert_eq!(wb.issues, vec![]);
    assert_eq!(wb.units_sheet, "Sheet1");
    assert_eq!(values(&wb, "members"), vec![Some(5)]);
    assert_eq!(values(&wb, "employees"), vec![Some(6)]);
}

#[test]
fn duplicate_metric_column_is_an_error_naming_both_cells() {
    let bytes = xlsx(false, |ws| {
        row(ws, 0, &["单位代码", "会员人数", "职工人数", "会员数"]);
        row(ws, 1, &["330102001001", "5", "6", "7"]);
    });
    let wb = read(&bytes);
    assert_eq!(
        rules(&wb),
        vec![("duplicate_column", Some("D1"), Some("会员数"))]
    );
    let issue = &wb.issues[0];
    assert_eq!(issue.severity, Severity::Error);
    assert!(
        issue.message.zh.contains("会员人数") && issue.message.zh.contains("B1"),
        "{}",
        issue.message.zh
    );
    assert!(
        issue.message.en.contains("Members") && issue.message.en.contains("D1"),
        "{}",
        issue.message.en
    );
    assert_eq!(values(&wb, "members"), vec![Some(5)]);
}

#[test]
fn cell_forms_read_exactly() {
    let forms: &[(&str, Option<i64>)] = &[
        ("1,234", Some(1234)),
        ("１２３４", Some(1234)),
        (" 1234 ", Some(1234)),
        ("1.2万", Some(12_000)),
        ("3.5亿", Some(350_000_000)),
        ("+5", Some(5)),
        ("1，234", Some(1234)),
        ("0", Some(0)),
        ("", None),
        ("   ", None),
    ];
    let bytes = xlsx(false, |ws| {
        row(ws, 0, &["单位代码", "会员人数", "工会经费收缴金额(元)"]);
        for (i, (text, _)) in forms.iter().enumerate() {
            let r = i as u32 + 1;
            ws.write(r, 0, format!("3301020010{r:02}")).unwrap();
            ws.write(r, 1, *text).unwrap(); // numbers stored as text
        }
        let r = forms.len() as u32 + 1;
        ws.write(r, 0, "330102001099").unwrap();
        ws.write(r, 1, 7.0).unwrap();
        ws.write(r, 2, 1234.56).unwrap();
        ws.write(r + 1, 0, "330102001100").unwrap();
        ws.write(r + 1, 2, "1,234.5").unwrap();
        ws.write(r + 2, 0, "330102001101").unwrap();
        ws.write(r + 2, 2, "3.5亿").unwrap();
        ws.write(r + 3, 0, "330102001102").unwrap();
        ws.write(r + 3, 2, 0.1 + 0.2).unwrap();
    });
    let wb = read(&bytes);
    assert_eq!(wb.issues, vec![], "{:#?}", wb.issues);
    let mut expected: Vec<Option<i64>> = forms.iter().map(|f| f.1).collect();
    expected.extend([Some(7), None, None, None]);
    assert_eq!(values(&wb, "members"), expected);
    let mut yuan = vec![None; forms.len()];
    yuan.extend([Some(123_456), Some(123_450), Some(35_000_000_000), Some(30)]);
    assert_eq!(values(&wb, "dues_collected_yuan"), yuan);
}

#[test]
fn rejected_cells_name_rule_cell_and_value() {
    let bytes = xlsx(false, |ws| {
        row(
            ws,
            0,
            &[
                "单位代码",
                "单位名称",
                "职工人数",
                "会员人数",
                "帮扶慰问金额",
            ],
        );
        row(ws, 1, &["330102001001", "甲", "-5", "12.5", "3.005"]);
        row(ws, 2, &["330102001002", "乙", "abc", "", "1e999"]);
        ws.write(2, 3, Formula::new("=C3/0").set_result("#DIV/0!"))
            .unwrap();
        ws.write(3, 0, "330102001003").unwrap();
        ws.write(3, 2, -1.0).unwrap();
        ws.write(3, 3, 2.5).unwrap();
        ws.write(3, 4, "99999999999999999999").unwrap();
        ws.write(4, 0, "330102001004").unwrap();
        ws.write(4, 2, "x".repeat(1500)).unwrap();
        ws.write(4, 3, true).unwrap();
    });
    let wb = read(&bytes);
    let long = format!("{}…", "x".repeat(1000));
    assert_eq!(
        rules(&wb),
        vec![
            ("negative_value", Some("C2"), Some("-5")),
            ("decimal_places", Some("D2"), Some("12.5")),
            ("decimal_places", Some("E2"), Some("3.005")),
            ("not_a_number", Some("C3"), Some("abc")),
            ("excel_error", Some("D3"), Some("#DIV/0!")),
            ("not_a_number", Some("E3"), Some("1e999")),
            ("negative_value", Some("C4"), Some("-1")),
            ("decimal_places", Some("D4"), Some("2.5")),
            ("not_a_number", Some("E4"), Some("99999999999999999999")),
            ("not_a_number", Some("C5"), Some(long.as_str())),
            ("not_a_number", Some("D5"), Some("TRUE")),
        ]
    );
    assert!(wb
        .issues
        .iter()
        .all(|i| i.sheet.as_deref() == Some("基层工会情况") && i.is_error()));
    let dp = &wb.issues[2];
    assert!(
        dp.message
            .zh
            .starts_with("基层工会情况!E2：帮扶慰问金额最多允许 2 位小数"),
        "{}",
        dp.message.zh
    );
    assert!(
        dp.message
            .en
            .contains("Relief paid allows at most 2 decimal places"),
        "{}",
        dp.message.en
    );
    assert_eq!(wb.rows.len(), 4);
    assert!(wb.rows.iter().all(|r| r.values.iter().all(Option::is_none)));
}

/// Rewrites one part of a zip package.
fn rewrite(bytes: &[u8], part: &str, edit: impl Fn(&str) -> String) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut entries = Vec::new();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).unwrap();
        let mut body = Vec::new();
        f.read_to_end(&mut body).unwrap();
        let name = f.name().unwrap().to_string();
        if name == part {
            body = edit(std::str::from_utf8(&body).unwrap()).into_bytes();
        }
        entries.push((name, body));
    }
    zip_of(entries.iter().map(|(n, b)| (n.as_str(), b.as_slice())))
}

fn zip_of<'a>(entries: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, body) in entries {
        w.start_file(name, opts).unwrap();
        w.write_all(body).unwrap();
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn formulas_read_their_cached_value_or_report_its_absence() {
    let bytes = xlsx(false, |ws| {
        row(ws, 0, &["单位代码", "职工人数", "会员人数", "女会员人数"]);
        row(ws, 1, &["330102001001", "10", "", ""]);
        // rust_xlsxwriter caches "0" unless told otherwise: verified here.
        ws.write(1, 2, Formula::new("=B2+1")).unwrap();
        ws.write(1, 3, Formula::new("=B2-1").set_result("9"))
            .unwrap();
    });
    let sheet = "xl/worksheets/sheet1.xml";
    let xml = {
        let mut a = zip::ZipArchive::new(Cursor::new(bytes.as_slice())).unwrap();
        let mut s = String::new();
        a.by_name(sheet).unwrap().read_to_string(&mut s).unwrap();
        s
    };
    assert!(xml.contains("<f>B2+1</f><v>0</v>"), "{xml}");
    let wb = read(&bytes);
    assert_eq!(wb.issues, vec![]);
    assert_eq!(wb.rows[0].values, vec![Some(10), Some(0), Some(9)]);

    // The same file as a tool that writes no cached values leaves it.
    let stripped = rewrite(&bytes, sheet, |x| {
        x.replace("</f><v>0</v>", "</f>")
            .replace("</f><v>9</v>", "</f>")
    });
    let wb = read(&stripped);
    assert_eq!(
        rules(&wb),
        vec![
            ("formula_no_value", Some("C2"), Some("=B2+1")),
            ("formula_no_value", Some("D2"), Some("=B2-1"))
        ]
    );
    assert!(wb.issues[0].message.zh.contains("重新计算"));
    assert_eq!(wb.rows[0].values, vec![Some(10), None, None]);
}

#[test]
fn rows_totals_blanks_and_missing_codes() {
    let bytes = xlsx(false, |ws| {
        row(ws, 0, &["单位代码", "单位名称", "会员人数"]);
        row(ws, 1, &["", "总 计", "30"]);
        row(ws, 2, &["330102001001", "甲", "10"]);
        row(ws, 3, &[" ", "  ", ""]);
        row(ws, 5, &["", "一、制造业", ""]);
        row(ws, 6, &["", "无代码单位", "20"]);
        row(ws, 7, &["３３０１０２００１００２", "乙", ""]);
        row(ws, 8, &["注：本表数据截至月末"]);
    });
    let wb = read(&bytes);
    assert_eq!(rules(&wb), vec![("unit_code_missing", Some("A7"), None)]);
    assert!(
        wb.issues[0].message.zh.contains("第 7 行"),
        "{}",
        wb.issues[0].message.zh
    );
    let total = wb.total.as_ref().unwrap();
    assert_eq!(
        (total.row, total.code.as_str(), total.values.clone()),
        (2, "总 计", vec![Some(30)])
    );
    let rows: Vec<(u32, &str, Vec<Option<i64>>)> = wb
        .rows
        .iter()
        .map(|r| (r.row, r.code.as_str(), r.values.clone()))
        .collect();
    assert_eq!(
        rows,
        vec![
            (3, "330102001001", vec![Some(10)]),
            (8, "330102001002", vec![None])
        ]
    );
}

#[test]
fn sheets_and_headers_that_are_missing() {
    let mut book = rust_xlsxwriter::Workbook::new();
    book.add_worksheet().set_name("封面").unwrap();
    book.add_worksheet().set_name("甲").unwrap();
    book.add_worksheet().set_name("乙").unwrap();
    let wb = read(&book.save_to_buffer().unwrap());
    assert_eq!(rules(&wb), vec![("sheet_missing", None, None)]);
    assert!(wb.cover.is_some());

    let bytes = xlsx(false, |ws| row(ws, 0, &["名称", "会员人数"]));
    let wb = read(&bytes);
    assert_eq!(rules(&wb), vec![("header_missing", None, None)]);
    assert_eq!(wb.issues[0].sheet.as_deref(), Some("基层工会情况"));
}

fn reason(wb: &Workbook) -> (String, String) {
    assert_eq!(wb.issues.len(), 1, "{:#?}", wb.issues);
    let i = &wb.issues[0];
    (i.rule.clone(), i.message.en.clone())
}

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
    // Declared extent A1:XFD1048576.
    let declared = sheet_xml(r#"<dimension ref="A1:XFD1048576"/>"#, "");
    let (rule, en) = reason(&read(&handmade(SST, &declared)));
    assert_eq!(rule, "too_large");
    assert!(en.contains("1048576 rows"), "{en}");
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

fn big_workbook(rows: u32) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name("units").unwrap();
    let cat = catalog();
    ws.write(0, 0, "单位代码").unwrap();
    ws.write(0, 1, "单位名称").unwrap();
    for (i, m) in cat.metrics.iter().enumerate() {
        ws.write(0, i as u16 + 2, m.zh.as_str()).unwrap();
    }
    for r in 1..=rows {
        ws.write(r, 0, format!("33010200{r:06}")).unwrap();
        ws.write(r, 1, format!("单位{r}")).unwrap();
        for i in 0..cat.metrics.len() {
            ws.write(r, i as u16 + 2, f64::from(r % 1000 + i as u32))
                .unwrap();
        }
    }
    book.save_to_buffer().unwrap()
}

#[test]
fn many_rows_read_in_order() {
    let bytes = big_workbook(2_000);
    let wb = read(&bytes);
    assert_eq!(wb.issues, vec![]);
    assert_eq!(wb.columns.len(), 31);
    assert_eq!(wb.rows.len(), 2_000);
    assert_eq!(wb.rows[1999].code, "33010200002000");
    assert_eq!(wb.rows[1999].values[3], Some(3));
}

/// 50,000 rows × 33 columns: run with
/// `cargo test -p unionstat-core --release ingest -- --ignored --nocapture`.
#[test]
#[ignore]
fn fifty_thousand_rows_read_fast() {
    let bytes = big_workbook(50_000);
    let start = std::time::Instant::now();
    let wb = read_workbook(
        &bytes,
        &catalog(),
        &ReadLimits {
            max_bytes: 100 << 20,
            ..ReadLimits::default()
        },
    );
    let took = start.elapsed();
    eprintln!("{} bytes, 50,000 × 33 read in {took:?}", bytes.len());
    assert_eq!(wb.issues, vec![]);
    assert_eq!(wb.rows.len(), 50_000);
    assert!(took.as_secs_f64() < 3.0, "{took:?}");
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
