//! What a clerk reads when a file is refused: the right diagnosis for each kind
//! of bad file (written here), and every reason in the clerk's language — no
//! English sentence inside a Chinese message.

use rust_xlsxwriter::Format;

use super::sample_files::{
    old_biff, password_protected as encrypted, with_macro_and_dialog_sheets,
};
use super::tests::{catalog, read, rewrite, row, rules, values, xlsx};
use super::*;
use crate::issue::Message;
use crate::text::english_run;

/// The one refusal of a file: its rule and both messages.
fn refusal(bytes: &[u8]) -> (String, Message) {
    let wb = read(bytes);
    assert_eq!(wb.issues.len(), 1, "{:#?}", wb.issues);
    (wb.issues[0].rule.clone(), wb.issues[0].message.clone())
}

fn assert_chinese(zh: &str) {
    let (run, words) = english_run(zh);
    assert!(
        run < 2,
        "English words inside a Chinese message ({words}): {zh}"
    );
}

#[test]
fn the_english_run_detector_finds_sentences_and_spares_identifiers() {
    assert_eq!(
        english_run("无法读取文件：the workbook is password-protected。").0,
        3
    );
    assert_eq!(english_run("文件超出限制：the workbook unpacks").0, 3);
    for ok in [
        "基层工会情况!F12：会员人数（abc）不能大于职工人数。",
        "请用 Excel 或 WPS 另存为 .xlsx 后重新上传。",
        "规则 members_le_employees：工作表 units 占 1048576 行",
        "请另存为“CSV UTF-8”或 .xlsx",
        "{metric}最多允许 {decimals} 位小数",
    ] {
        assert_chinese(ok);
    }
}

/// A units sheet with one unit and its figures.
fn one_unit() -> Vec<u8> {
    xlsx(true, |ws| {
        row(ws, 0, &["单位代码", "单位名称", "职工人数", "会员人数"]);
        row(ws, 1, &["330102001001", "甲公司工会", "10", "8"]);
    })
}

#[test]
fn a_workbook_with_macro_and_dialog_sheets_reads_its_data_sheets() {
    let bytes = with_macro_and_dialog_sheets(&one_unit());
    let wb = read(&bytes);
    assert_eq!(rules(&wb), vec![]);
    assert_eq!(wb.units_sheet, "基层工会情况");
    assert_eq!(wb.rows.len(), 1);
    assert_eq!(wb.rows[0].code, "330102001001");
    assert_eq!(values(&wb, "employees"), vec![Some(10)]);
    assert_eq!(values(&wb, "members"), vec![Some(8)]);
    assert_eq!(wb.cover.as_ref().map(|c| c.sheet.as_str()), Some("封面"));
}

#[test]
fn excel_2_to_4_files_are_named_with_how_to_resave_them() {
    for version in [0x0009u16, 0x0209, 0x0409] {
        let (rule, m) = refusal(&old_biff(version));
        assert_eq!(rule, "unreadable");
        assert!(
            m.zh.contains("Excel 2.x–4.0") && m.zh.contains("另存为 .xlsx"),
            "{}",
            m.zh
        );
        assert!(
            m.en.contains("BIFF2–BIFF4") && m.en.contains("save it as .xlsx"),
            "{}",
            m.en
        );
    }
}

#[test]
fn a_sylk_file_is_named_as_sylk_not_read_as_csv() {
    let sylk = b"ID;PWXL;N;E\r\nC;Y1;X1;K\"\xe5\x8d\x95\xe4\xbd\x8d\xe4\xbb\xa3\xe7\xa0\x81\"\r\nC;X2;K12\r\nE\r\n";
    let (rule, m) = refusal(sylk);
    assert_eq!(rule, "unreadable");
    assert!(
        m.zh.contains("SYLK") && m.zh.contains("不是 CSV"),
        "{}",
        m.zh
    );
    assert!(
        m.en.contains("SYLK") && m.en.contains("nor a CSV"),
        "{}",
        m.en
    );
}

#[test]
fn a_latin1_csv_says_csv_and_its_encoding() {
    // "Société" in Latin-1: é is the lone byte 0xE9, neither UTF-8 nor GBK.
    let latin1 = b"code,name,members\r\n330102001001,Soci\xe9t\xe9,12\r\n";
    let (rule, m) = refusal(latin1);
    assert_eq!(rule, "unreadable");
    assert!(
        m.zh.contains("CSV") && m.zh.contains("编码") && m.zh.contains("UTF-8"),
        "{}",
        m.zh
    );
    assert!(
        m.en.contains("CSV") && m.en.contains("encoding") && m.en.contains("Latin-1"),
        "{}",
        m.en
    );
}

#[test]
fn a_gbk_csv_is_still_read() {
    let (gbk, _, _) = encoding_rs::GBK.encode("单位代码,会员人数\r\n330102001001,12\r\n");
    let wb = read(&gbk);
    assert_eq!(rules(&wb), vec![]);
    assert_eq!(values(&wb, "members"), vec![Some(12)]);
}

#[test]
fn a_one_column_csv_says_so() {
    let (rule, m) = refusal("单位代码\r\n330102001001\r\n330102001002\r\n".as_bytes());
    assert_eq!(rule, "unreadable");
    assert!(
        m.zh.contains("只有一列") && m.zh.contains("CSV"),
        "{}",
        m.zh
    );
    assert!(
        m.en.contains("one column") && m.en.contains("CSV"),
        "{}",
        m.en
    );
}

#[test]
fn formatting_down_the_whole_sheet_counts_only_rows_with_values() {
    let bytes = xlsx(false, |ws| {
        row(ws, 0, &["单位代码", "会员人数"]);
        row(ws, 1, &["330102001001", "4"]);
        let shaded = Format::new().set_background_color("#FFFF00");
        ws.write_blank(1_048_575, 1, &shaded).unwrap();
        ws.write_blank(1_048_575, 0, &shaded).unwrap();
    });
    let wb = read(&bytes);
    assert_eq!(rules(&wb), vec![]);
    assert_eq!(values(&wb, "members"), vec![Some(4)]);
    // A value down there is still refused, naming its row in both languages.
    let bytes = xlsx(false, |ws| {
        row(ws, 0, &["单位代码", "会员人数"]);
        ws.write(1_048_575, 1, 7).unwrap();
    });
    let (rule, m) = refusal(&bytes);
    assert_eq!(rule, "too_large");
    assert!(
        m.zh.contains("第 1048576 行") && m.zh.contains("200000 行"),
        "{}",
        m.zh
    );
    assert!(
        m.en.contains("row 1048576, beyond the 200000 rows allowed"),
        "{}",
        m.en
    );
}

/// Every kind of refusal the reader gives, each from a file written here.
fn bad_files() -> Vec<(&'static str, Vec<u8>, ReadLimits)> {
    let l = ReadLimits::default;
    let good = one_unit();
    let mut files: Vec<(&'static str, Vec<u8>, ReadLimits)> = vec![
        ("empty", Vec::new(), l()),
        (
            "random",
            (0..4096u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect(),
            l(),
        ),
        ("truncated", good[..good.len() / 2].to_vec(), l()),
        (
            "html",
            b"<html><table><tr><td>1</td></tr></table></html>".to_vec(),
            l(),
        ),
        ("password", encrypted(), l()),
        ("sylk", b"ID;PWXL\r\nC;X1;Y1;K1\r\nE\r\n".to_vec(), l()),
        ("biff4", old_biff(0x0409), l()),
        ("latin1_csv", b"code;name\n1;caf\xe9\n".to_vec(), l()),
        ("one_column_csv", b"code\n1\n".to_vec(), l()),
        (
            "ole_without_workbook",
            {
                let mut b = encrypted();
                b.truncate(700);
                b[520..540].fill(0);
                b
            },
            l(),
        ),
        (
            "bytes_limit",
            good.clone(),
            ReadLimits {
                max_bytes: 100,
                ..l()
            },
        ),
        (
            "rows_limit",
            good.clone(),
            ReadLimits { max_rows: 0, ..l() },
        ),
        (
            "columns_limit",
            good.clone(),
            ReadLimits {
                max_columns: 2,
                ..l()
            },
        ),
        (
            "csv_bytes_limit",
            b"a,b\n1,2\n".to_vec(),
            ReadLimits {
                max_bytes: 3,
                ..l()
            },
        ),
        (
            "csv_malformed",
            b"\xef\xbb\xbfa,b\n\"1,2\n3,\"4\"x\n".to_vec(),
            l(),
        ),
    ];
    let bomb = rewrite(&good, "xl/sharedStrings.xml", |x| {
        x.replacen("uniqueCount=\"", "uniqueCount=\"100000000000", 1)
    });
    files.push(("shared_string_bomb", bomb, l()));
    files
}

#[test]
fn every_refusal_gives_its_reason_in_both_languages() {
    let cat = catalog();
    for (what, bytes, limits) in bad_files() {
        let wb = read_workbook(&bytes, &cat, &limits);
        assert!(!wb.issues.is_empty(), "{what}: no issue");
        for issue in &wb.issues {
            assert_chinese(&issue.message.zh);
            assert_ne!(issue.message.zh, issue.message.en, "{what}");
            // Both texts carry a reason, not a bare "could not be read: ."
            assert!(
                !issue.message.zh.contains("：。"),
                "{what}: {}",
                issue.message.zh
            );
        }
        if matches!(wb.issues[0].rule.as_str(), "unreadable" | "too_large") {
            let m = &wb.issues[0].message;
            assert!(
                m.zh.chars().filter(|c| !c.is_ascii()).count() > 12,
                "{what}: {}",
                m.zh
            );
        }
    }
}

#[test]
fn every_catalogue_message_is_chinese_in_chinese() {
    let cat = catalog();
    for rule in &cat.rules {
        assert_chinese(&rule.zh);
        assert!(!rule.en.is_empty(), "{}", rule.code);
        // Filled as the service fills them: the sheet, a cell, a value.
        let issue = cat.issue(
            &rule.code,
            Some("基层工会情况"),
            Some("F12"),
            Some("1205"),
            &[("row", "12"), ("reporter", "330102")],
        );
        assert_chinese(&issue.message.zh);
    }
    for metric in &cat.metrics {
        let issue = cat.metric_issue(
            "not_a_number",
            metric,
            Some("units"),
            Some("C3"),
            Some("abc"),
            &[],
        );
        assert_chinese(&issue.message.zh);
    }
}

#[test]
fn a_sheet_with_a_code_column_and_nothing_else_is_not_the_template() {
    let bytes = xlsx(false, |ws| {
        row(ws, 0, &["Code", "Description", "Qty", "Unit price"]);
        for r in 1..=5_000u32 {
            let code = format!("SKU{r:05}");
            row(ws, r, &[&code, "widget", "3", "1.5"]);
        }
    });
    let wb = read(&bytes);
    assert_eq!(rules(&wb), vec![("not_template", Some("A1"), Some("Code"))]);
    assert!(wb.rows.is_empty());
    let m = &wb.issues[0].message;
    assert!(
        m.zh.starts_with("基层工会情况!A1：这不是报表模板：第 1 行只认出单位代码列“Code”")
            && m.zh
                .contains("找到的表头：“Code”、“Description”、“Qty”、“Unit price”"),
        "{}",
        m.zh
    );
    assert!(
        m.en.contains("This is not the template")
            && m.en
                .contains("Headers found: \"Code\", \"Description\", \"Qty\", \"Unit price\"."),
        "{}",
        m.en
    );
}

#[test]
fn an_english_table_where_one_header_is_a_figure_is_not_the_template() {
    let bytes = xlsx(false, |ws| {
        row(
            ws,
            0,
            &["Code", "Description", "Members", "Qty", "Price", "Supplier"],
        );
        for r in 1..=3_000u32 {
            let code = format!("SKU{r:05}");
            row(ws, r, &[&code, "chair", "7", "2", "129.5", "ACME"]);
        }
    });
    let wb = read(&bytes);
    assert_eq!(rules(&wb), vec![("not_template", Some("A1"), Some("Code"))]);
    assert!(wb.rows.is_empty());
    let m = &wb.issues[0].message;
    assert_eq!(
        m.zh,
        "基层工会情况!A1：这不是报表模板：第 1 行只认出单位代码列“Code”和一个指标列“Members”（会员人数），没有单位名称列，另有 4 列表头都不认识。找到的表头：“Code”、“Description”、“Members”、“Qty”、“Price”、“Supplier”。请使用报表模板（工作表“基层工会情况”，表头含“单位代码”“单位名称”和各指标列）。"
    );
    assert!(
        m.en.contains("row 1 has a unit code column (\"Code\") and one figure column (\"Members\", 会员人数 / Members) but no unit name column, and 4 headers it does not know."),
        "{}",
        m.en
    );
    assert_chinese(&m.zh);
}

/// The rule's other side: one figure column is the template when the row names
/// its units, or knows at least as many headers as it does not.
#[test]
fn one_figure_column_with_names_or_mostly_known_headers_is_the_template() {
    for header in [
        &["单位代码", "会员人数"][..],
        &["Code", "Name", "Members", "Qty", "Price", "Supplier"][..],
        &["代码", "会员人数", "组织类型"][..],
    ] {
        let bytes = xlsx(false, |ws| {
            row(ws, 0, header);
            let mut line = vec!["330102001001", "7"];
            if header.get(1) == Some(&"Name") {
                line = vec!["330102001001", "甲公司工会", "7"];
            }
            row(ws, 1, &line);
        });
        let wb = read(&bytes);
        assert!(
            !rules(&wb).iter().any(|r| r.0 == "not_template"),
            "{header:?}: {:?}",
            rules(&wb)
        );
        assert_eq!(wb.rows.len(), 1, "{header:?}");
        assert_eq!(wb.rows[0].values, vec![Some(7)], "{header:?}");
    }
}
