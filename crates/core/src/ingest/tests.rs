//! Workbooks built in memory (rust_xlsxwriter, or by hand with the zip crate) read
//! through [`read_workbook`], with exact values and exact cells.

use std::io::{Cursor, Read};

use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Worksheet};

pub(super) use super::sample_files::{rewrite, zip_of};
use super::*;
use crate::catalog::Catalog;
use crate::issue::Severity;

pub(super) fn catalog() -> Catalog {
    Catalog::builtin().expect("builtin catalogue")
}

pub(super) fn read(bytes: &[u8]) -> Workbook {
    read_workbook(bytes, &catalog(), &ReadLimits::default())
}

/// A workbook with a `封面` cover and a `基层工会情况` sheet filled by `units`.
pub(super) fn xlsx(cover: bool, units: impl FnOnce(&mut Worksheet)) -> Vec<u8> {
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

pub(super) fn row(ws: &mut Worksheet, r: u32, cells: &[&str]) {
    for (c, text) in cells.iter().enumerate() {
        if !text.is_empty() {
            ws.write(r, c as u16, *text).unwrap();
        }
    }
}

pub(super) fn rules(wb: &Workbook) -> Vec<(&str, Option<&str>, Option<&str>)> {
    wb.issues
        .iter()
        .map(|i| (i.rule.as_str(), i.cell.as_deref(), i.value.as_deref()))
        .collect()
}

pub(super) fn values(wb: &Workbook, metric: &str) -> Vec<Option<i64>> {
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

pub(super) fn reason(wb: &Workbook) -> (String, String) {
    assert_eq!(wb.issues.len(), 1, "{:#?}", wb.issues);
    let i = &wb.issues[0];
    (i.rule.clone(), i.message.en.clone())
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
    assert_eq!(wb.columns.len(), 32);
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

#[test]
fn two_row_headers_unit_rows_and_column_numbers() {
    let bytes = xlsx(false, |ws| {
        row(ws, 0, &["2026年10月基层工会情况统计表"]);
        row(ws, 1, &["单位代码", "单位名称", "会员情况", "", "职工人数"]);
        row(ws, 2, &["", "", "会员人数", "女会员人数", ""]);
        row(ws, 3, &["甲", "乙", "1", "2", "3"]);
        row(ws, 4, &["330102001001", "甲公司工会", "90", "40", "100"]);
    });
    let wb = read(&bytes);
    assert_eq!(wb.issues, vec![]);
    assert_eq!(wb.header_row, 3);
    let cols: Vec<(&str, &str)> = wb
        .columns
        .iter()
        .map(|c| (c.metric.as_str(), c.letter.as_str()))
        .collect();
    assert_eq!(
        cols,
        vec![
            ("members", "C"),
            ("female_members", "D"),
            ("employees", "E")
        ]
    );
    let rows: Vec<(u32, &str, Vec<Option<i64>>)> = wb
        .rows
        .iter()
        .map(|r| (r.row, r.code.as_str(), r.values.clone()))
        .collect();
    assert_eq!(
        rows,
        vec![(5, "330102001001", vec![Some(90), Some(40), Some(100)])]
    );

    let bytes = xlsx(false, |ws| {
        row(ws, 0, &["单位代码", "会员人数", "帮扶慰问金额"]);
        row(ws, 1, &["", "(人)", "（元）"]);
        row(ws, 2, &["330102001001", "5", "12.30"]);
        row(ws, 3, &["330102001002", "6", "7"]);
    });
    let wb = read(&bytes);
    assert_eq!(wb.issues, vec![]);
    assert_eq!(wb.header_row, 2);
    assert_eq!(values(&wb, "relief_yuan"), vec![Some(1230), Some(700)]);
    // A first unit whose figures happen to count up is still a unit: it has a code.
    let bytes = xlsx(false, |ws| {
        row(ws, 0, &["单位代码", "会员人数", "职工人数"]);
        row(ws, 1, &["330102001001", "5", "6"]);
    });
    assert_eq!(values(&read(&bytes), "members"), vec![Some(5)]);
}

#[test]
fn a_note_column_is_read_per_row_and_is_neither_a_metric_nor_unknown() {
    let long = "长".repeat(crate::validate::MAX_EXPLANATION_CHARS + 40);
    let bytes = xlsx(false, |ws| {
        row(ws, 0, &["单位代码", "职工人数", "情况说明", "说明"]);
        row(
            ws,
            1,
            &["330102001001", "160", " 两厂合并 ", "second note column"],
        );
        row(ws, 2, &["330102001002", "90", "", ""]);
        row(ws, 3, &["330102001003", "80", &long, ""]);
    });
    let wb = read(&bytes);
    assert_eq!(rules(&wb), vec![]);
    assert_eq!(wb.columns.len(), 1);
    let notes: Vec<(u32, &str, usize)> = wb
        .notes
        .iter()
        .map(|n| (n.row, n.cell.as_str(), n.text.chars().count()))
        .collect();
    // The first 说明 column counts; a long one is cut one past the limit (with …).
    assert_eq!(notes, vec![(2, "C2", 4), (4, "C4", 502)]);
    assert_eq!(wb.notes[0].text, "两厂合并");
}
