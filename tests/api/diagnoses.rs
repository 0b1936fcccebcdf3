//! What a clerk reads about a file, through the service: each kind of file
//! people really send (written here: a password-protected workbook, Excel 2.x–4.0
//! files, SYLK, a Latin-1 CSV, a one-column CSV, a web page saved as .xls, a
//! workbook with Excel 4.0 macro and dialog sheets, formatting down a whole
//! sheet, a table that is not the template) gets the right diagnosis in both
//! languages; no Chinese message holds English words; an unknown unit code asks
//! "did you mean" among the reporter's own units only; each issue names its
//! row's unit; an answer lists a bounded number of each rule's issues while the
//! annotated workbook keeps them all.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use rust_xlsxwriter::{Format, Workbook};
use serde_json::{json, Value};
use unionstat::core::text::english_run;
use unionstat::core::workbook_out::ISSUES_SHEET;
use unionstat::store::keys::Role;

use crate::helpers::*;

/// The bad files the reader's unit tests judge, the very same bytes.
#[path = "../../crates/core/src/ingest/sample_files.rs"]
#[allow(dead_code)]
mod sample_files;
use sample_files::{old_biff, password_protected, with_macro_and_dialog_sheets};

/// A dry run of `bytes` for town 330102001, 2026-10, as the admin.
async fn dry_run(app: &TestApp, bytes: Vec<u8>, extra: &str) -> Value {
    let (status, body) = app
        .upload_as(
            Some(&app.admin_key),
            bytes,
            &format!("dry_run=true&reporter=330102001&period=2026-10{extra}"),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

/// What an issue says: (rule, zh, en).
type Said = (String, String, String);

/// The one issue of a refused file.
fn the_refusal(answer: &Value) -> Said {
    assert_eq!(answer["status"], "rejected", "{answer}");
    let issues = answer["issues"].as_array().expect("issues");
    assert_eq!(issues.len(), 1, "{answer}");
    let i = &issues[0];
    (
        i["rule"].as_str().unwrap().to_string(),
        i["message"]["zh"].as_str().unwrap().to_string(),
        i["message"]["en"].as_str().unwrap().to_string(),
    )
}

/// The zh and en messages of the answer's issue of `rule`.
fn messages<'a>(answer: &'a Value, rule: &str) -> (&'a str, &'a str) {
    let i = issue(answer, rule).unwrap_or_else(|| panic!("no {rule}: {answer}"));
    (
        i["message"]["zh"].as_str().unwrap(),
        i["message"]["en"].as_str().unwrap(),
    )
}

/// The `unreadable` messages of the catalogue around a reason.
fn unreadable(zh: &str, en: &str) -> Said {
    (
        "unreadable".into(),
        format!("无法读取文件：{zh}。请用 Excel 或 WPS 另存为 .xlsx 后重新上传。"),
        format!("The file could not be read: {en}. Save it as .xlsx in Excel or WPS and upload it again."),
    )
}

/// Town A's three units as the template has them, with `extra` done to the
/// units sheet.
fn town_a_with(extra: impl FnOnce(&mut rust_xlsxwriter::Worksheet)) -> Vec<u8> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet().set_name("基层工会情况").unwrap();
    for (c, h) in BASIC.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    let rows = [
        (
            "330102001001",
            "甲公司工会",
            20.0,
            19.0,
            100_000.0,
            99_000.0,
        ),
        ("330102001002", "乙公司工会", 15.0, 14.0, 60_000.0, 59_500.0),
        ("330102001003", "丙公司工会", 6.0, 6.0, 38_000.0, 37_500.0),
    ];
    for (r, (code, name, a, b, c, d)) in rows.into_iter().enumerate() {
        let r = r as u32 + 1;
        ws.write_string(r, 0, code).unwrap();
        ws.write_string(r, 1, name).unwrap();
        for (k, v) in [a, b, c, d].into_iter().enumerate() {
            ws.write_number(r, k as u16 + 2, v).unwrap();
        }
    }
    extra(ws);
    wb.save_to_buffer().unwrap()
}

/// An English table of some other system: `Code`, `Description`, `Amount`.
fn not_the_template() -> Vec<u8> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet().set_name("Sheet1").unwrap();
    for (c, h) in ["Code", "Description", "Amount"].iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for r in 1..=500u32 {
        ws.write_string(r, 0, format!("ITEM-{r:05}")).unwrap();
        ws.write_string(r, 1, "office supplies").unwrap();
        ws.write_number(r, 2, f64::from(r) * 1.5).unwrap();
    }
    wb.save_to_buffer().unwrap()
}

/// An English table of another system where one header happens to be a
/// figure's English label (`Members`): a code column, one figure column, no
/// name column, and four headers of six unknown.
fn an_english_table_with_one_figure_column() -> Vec<u8> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet().set_name("Sheet1").unwrap();
    let header = ["Code", "Description", "Members", "Qty", "Price", "Supplier"];
    for (c, h) in header.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for r in 1..=3_000u32 {
        ws.write_string(r, 0, format!("SKU-{r:05}")).unwrap();
        ws.write_string(r, 1, "office chair").unwrap();
        ws.write_number(r, 2, f64::from(r % 40)).unwrap();
        ws.write_number(r, 3, 2.0).unwrap();
        ws.write_number(r, 4, 129.5).unwrap();
        ws.write_string(r, 5, "ACME").unwrap();
    }
    wb.save_to_buffer().unwrap()
}

/// Every class of file that is refused, with the refusal it must get.
fn refused_corpus() -> Vec<(&'static str, Vec<u8>, Said)> {
    let old_excel = unreadable(
        "这是 Excel 2.x–4.0 时代的旧版 .xls 文件（BIFF2–BIFF4），无法直接读取；请在 Excel 或 WPS 中打开后另存为 .xlsx（Excel 工作簿）",
        "an Excel 2.x–4.0 workbook (BIFF2–BIFF4), a format too old to read; open it in Excel or WPS and save it as .xlsx (Excel Workbook)",
    );
    vec![
        (
            "password",
            password_protected(),
            unreadable(
                "工作簿设有打开密码；请取消密码",
                "the workbook is password-protected; remove the password",
            ),
        ),
        ("Excel 2.x (BIFF2)", old_biff(0x0009), old_excel.clone()),
        ("Excel 3.0 (BIFF3)", old_biff(0x0209), old_excel.clone()),
        ("Excel 4.0 (BIFF4)", old_biff(0x0409), old_excel),
        (
            "SYLK",
            b"ID;PWXL;N;E\r\nC;Y1;X1;K\"Code\"\r\nC;X2;K12\r\nE\r\n".to_vec(),
            unreadable(
                "这是 SYLK（.slk）符号链接文件，不是 Excel 工作簿，也不是 CSV；请在 Excel 或 WPS 中打开后另存为 .xlsx",
                "a SYLK (.slk) file, neither an Excel workbook nor a CSV; open it in Excel or WPS and save it as .xlsx",
            ),
        ),
        (
            "Latin-1 CSV",
            b"code,name,members\r\n330102001001,Soci\xe9t\xe9 G\xe9n\xe9rale,12\r\n".to_vec(),
            unreadable(
                "这是文本（CSV）文件，但编码既不是 UTF-8 也不是 GBK（可能是 Latin-1 等西文编码）；请在 Excel 或 WPS 中另存为“CSV UTF-8”或 .xlsx",
                "a text (CSV) file whose encoding is neither UTF-8 nor GBK (perhaps Latin-1); save it as \"CSV UTF-8\" or .xlsx in Excel or WPS",
            ),
        ),
        (
            "one-column CSV",
            "单位代码\r\n330102001001\r\n330102001002\r\n".as_bytes().to_vec(),
            unreadable(
                "这是只有一列的文本（CSV）文件：第一行没有逗号、分号或制表符分隔的列；报表至少需要“单位代码”列和数字列，请用逗号分隔，或另存为 .xlsx",
                "a text (CSV) file with one column only: its first line has no comma, semicolon or tab between columns; the table needs a 单位代码 column and figure columns, separated by commas, or save it as .xlsx",
            ),
        ),
        (
            "web page saved as .xls",
            "<html><body><table><tr><td>单位代码</td><td>会员人数</td></tr></table></body></html>"
                .as_bytes()
                .to_vec(),
            unreadable(
                "这是以 Excel 文件名保存的网页（HTML），不是真正的工作簿",
                "a web page (HTML) saved under an Excel name, not a real workbook",
            ),
        ),
        (
            "binary garbage",
            (0u8..=255).cycle().take(3000).collect(),
            unreadable(
                "这不是 Excel 工作簿（.xlsx、.xls、.xlsb 或 .ods）",
                "not an Excel workbook (xlsx/xls/xlsb/ods)",
            ),
        ),
        (
            "a value in the sheet's last row",
            town_a_with(|ws| {
                ws.write_number(1_048_575, 4, 7.0).unwrap();
            }),
            (
                "too_large".into(),
                "文件超出限制：工作表 基层工会情况 第 1048576 行有数据，超出允许的 200000 行。".into(),
                "The file exceeds a limit: sheet 基层工会情况 has a value in row 1048576, beyond the 200000 rows allowed.".into(),
            ),
        ),
        (
            "not the template",
            not_the_template(),
            (
                "not_template".into(),
                "Sheet1!A1：这不是报表模板：第 1 行只认出单位代码列“Code”，没有认出任何指标列（如“职工人数”“会员人数”）。找到的表头：“Code”、“Description”、“Amount”。请使用报表模板（工作表“基层工会情况”，表头含“单位代码”“单位名称”和各指标列）。".into(),
                "Sheet1!A1: This is not the template: row 1 has a unit code column (\"Code\") but no figure column (such as 职工人数 / Employees, 会员人数 / Members). Headers found: \"Code\", \"Description\", \"Amount\". Use the template (sheet 基层工会情况 with 单位代码, 单位名称 and the figure columns).".into(),
            ),
        ),
        (
            "an English table with one figure column",
            an_english_table_with_one_figure_column(),
            (
                "not_template".into(),
                "Sheet1!A1：这不是报表模板：第 1 行只认出单位代码列“Code”和一个指标列“Members”（会员人数），没有单位名称列，另有 4 列表头都不认识。找到的表头：“Code”、“Description”、“Members”、“Qty”、“Price”、“Supplier”。请使用报表模板（工作表“基层工会情况”，表头含“单位代码”“单位名称”和各指标列）。".into(),
                "Sheet1!A1: This is not the template: row 1 has a unit code column (\"Code\") and one figure column (\"Members\", 会员人数 / Members) but no unit name column, and 4 headers it does not know. Headers found: \"Code\", \"Description\", \"Members\", \"Qty\", \"Price\", \"Supplier\". Use the template (sheet 基层工会情况 with 单位代码, 单位名称 and the figure columns).".into(),
            ),
        ),
    ]
}

/// Fails naming the words when a Chinese text holds two or more English words
/// in a row (identifiers, cell references, file extensions and units aside).
fn assert_chinese(what: &str, zh: &str) {
    let (run, words) = english_run(zh);
    assert!(run < 2, "{what}: English words ({words}) in Chinese: {zh}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_kind_of_file_gets_its_diagnosis_in_both_languages() {
    let app = spawn_app().await;
    for (what, bytes, expected) in refused_corpus() {
        let answer = dry_run(&app, bytes, "").await;
        assert_eq!(the_refusal(&answer), expected, "{what}: {answer}");
        assert_eq!(answer["error_count"], 1, "{what}");
        assert_eq!(
            answer["rules"][0]["count"], 1,
            "{what}: one rule, one issue: {answer}"
        );
    }

    // Readable after all: Excel 4.0 macro and dialog sheets are skipped like
    // chart sheets and the data sheet read; formatting down to the sheet's last
    // row counts for nothing, only rows holding values do.
    let formatted = town_a_with(|ws| {
        let shaded = Format::new().set_background_color("#FFFF00");
        for c in 0..6 {
            ws.write_blank(1_048_575, c, &shaded).unwrap();
        }
    });
    for (what, bytes) in [
        (
            "macro and dialog sheets",
            with_macro_and_dialog_sheets(&town_a_with(|_| {})),
        ),
        ("formatting down the whole sheet", formatted.clone()),
    ] {
        let answer = dry_run(&app, bytes, "").await;
        assert_eq!(answer["status"], "accepted", "{what}: {answer}");
        assert_eq!(answer["error_count"], 0, "{what}");
        assert_eq!(answer["warning_count"], 0, "{what}");
        assert_eq!(answer["issues"], json!([]), "{what}");
    }
    // Stored and accepted, the formatted workbook reports its figures exactly.
    let sub = app.submit(formatted, "330102001", "2026-10").await;
    assert_eq!(sub["status"], "accepted", "{sub}");
    assert_eq!(sub["rows_read"], 3);
    let town = app.indicators("330102001", "2026-10").await;
    assert_eq!(metric(&town, "employees"), Some(198_000.0));
    assert_eq!(metric(&town, "members"), Some(196_000.0));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_the_reader_cannot_afford_is_told_to_be_saved_as_xlsx() {
    // A reader child whose address space is too small for any workbook: the
    // dry run's verdict is the reader giving up, with what to do about it.
    let app = spawn_app_with(|s| s.ingest.reader_memory_mb = 16).await;
    let answer = dry_run(&app, town_a_sheet(), "").await;
    assert_eq!(
        the_refusal(&answer),
        unreadable(
            "读取该文件所需的内存或时间超过了允许的上限；旧版 .xls 等格式读取时占用内存很多，另存为 .xlsx 通常即可解决，文件本身很大时请把数据拆分为几个较小的文件",
            "reading it needs more memory or time than the reader allows; older formats such as .xls take far more memory to read, so saving it as .xlsx usually solves this, and a file that is itself large should be split into smaller files",
        )
    );
    assert_chinese(
        "reader gave up",
        answer["issues"][0]["message"]["zh"].as_str().unwrap(),
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_period_says_missing_and_a_missing_header_names_the_sheet_once() {
    let app = spawn_app().await;
    // The cover's 报告期 line is there but empty, and the caller names no month.
    let blank_period = workbook(Some(("330102001", "")), BASIC, &town_a_rows());
    let (status, answer) = app
        .upload_as(Some(&app.admin_key), blank_period, "dry_run=true")
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        messages(&answer, "period_missing"),
        (
            "封面：未填写报告期。请在封面“报告期”填写如 2026-10 或 2026年10月，或在上传时指定报告期。",
            "封面: The period is missing. Fill 报告期 on the cover like 2026-10 or 2026年10月, or name the period when uploading.",
        )
    );
    assert!(issue(&answer, "period_invalid").is_none(), "{answer}");

    // A units sheet without a header row.
    let no_header = workbook(None, &["说明"], &[vec![C::S("本月无变化")]]);
    let answer = dry_run(&app, no_header, "").await;
    assert_eq!(
        messages(&answer, "header_missing"),
        (
            "基层工会情况：找不到表头行（需要“单位代码”列）。",
            "基层工会情况: No header row (with a 单位代码 / unit code column) was found.",
        )
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_chinese_message_the_service_can_produce_holds_english_words() {
    let app = spawn_app().await;
    // The catalogue's every rule: its message templates and its title.
    for rule in &app.ctx.catalog.rules {
        assert_chinese(&rule.code, &rule.zh);
        assert_chinese(&rule.code, &rule.title_zh);
        assert!(
            !rule.en.is_empty() && !rule.title_en.is_empty(),
            "{}",
            rule.code
        );
    }
    // The reader's reasons, as they reach the clerk, and what an answer says
    // it left out.
    let mut corpus = refused_corpus();
    let many: Vec<Vec<C>> = (0..150)
        .map(|_| basic_row("999", "某工会", 1.0, 1.0, 2.0, 1.0))
        .collect();
    corpus.push((
        "many unknown units",
        workbook(None, BASIC, &many),
        Default::default(),
    ));
    for (what, bytes, _) in corpus {
        let answer = dry_run(&app, bytes, "").await;
        for i in answer["issues"].as_array().unwrap() {
            assert_chinese(what, i["message"]["zh"].as_str().unwrap());
        }
        for r in answer["rules"].as_array().unwrap() {
            assert_chinese(what, r["title"]["zh"].as_str().unwrap());
            if let Some(more) = r["more"]["zh"].as_str() {
                assert_chinese(what, more);
            }
        }
    }
    app.stop().await;
}

/// Town A's sheet with typos in its codes: a code whose name is 乙公司工会's,
/// a code two digits off 丙公司工会's, and another town's unit.
fn typos() -> Vec<u8> {
    workbook(
        None,
        BASIC,
        &[
            basic_row("330102001001", "甲公司工会", 20.0, 19.0, 1_000.0, 1_200.0),
            basic_row("330102001050", "乙公司工会", 15.0, 14.0, 600.0, 595.0),
            basic_row("330102001113", "", 6.0, 6.0, 380.0, 375.0),
            basic_row("330102002001", "丁公司工会", 3.0, 2.0, 500.0, 450.0),
        ],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_code_asks_did_you_mean_among_the_reporters_own_units_only() {
    let app = spawn_app().await;
    let town = app.key("330102001", Role::Submitter).await;
    let (status, body) = app
        .upload_as(Some(&town), typos(), "reporter=330102001&period=2026-10")
        .await;
    assert_eq!(status, 202, "{body}");
    let sub = app.wait(body["id"].as_i64().unwrap()).await;
    assert_eq!(sub["status"], "rejected");
    let unknown: Vec<&Value> = sub["issues"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["rule"] == "unit_unknown")
        .collect();
    assert_eq!(unknown.len(), 3, "{sub}");
    let said = |i: &Value| {
        (
            i["cell"].as_str().unwrap().to_string(),
            i["message"]["zh"].as_str().unwrap().to_string(),
            i["message"]["en"].as_str().unwrap().to_string(),
        )
    };
    assert_eq!(
        said(unknown[0]),
        (
            "A4".into(),
            "基层工会情况!A4（330102001050）：单位代码 330102001050 不在组织机构库中（或不在您所属单位的范围内）。是否应为 330102001002（乙公司工会）？请核对代码，或先登记该基层工会。".into(),
            "基层工会情况!A4 (330102001050): Unit code 330102001050 is not in the master data (or not within your organisation). Did you mean 330102001002 (乙公司工会)? Check the code or register the union first.".into(),
        )
    );
    assert_eq!(
        said(unknown[1]),
        (
            "A5".into(),
            "基层工会情况!A5（330102001113）：单位代码 330102001113 不在组织机构库中（或不在您所属单位的范围内）。是否应为 330102001003（丙公司工会）？请核对代码，或先登记该基层工会。".into(),
            "基层工会情况!A5 (330102001113): Unit code 330102001113 is not in the master data (or not within your organisation). Did you mean 330102001003 (丙公司工会)? Check the code or register the union first.".into(),
        )
    );
    // Another town's unit reads as a code that exists nowhere: nothing of it,
    // and nothing of that town, is quoted; the only units suggested are the
    // town's own that the sheet lacks, and two fit alike, so none is.
    assert_eq!(
        said(unknown[2]),
        (
            "A6".into(),
            "基层工会情况!A6（330102002001）：单位代码 330102002001 不在组织机构库中（或不在您所属单位的范围内）。请核对代码，或先登记该基层工会。".into(),
            "基层工会情况!A6 (330102002001): Unit code 330102002001 is not in the master data (or not within your organisation). Check the code or register the union first.".into(),
        )
    );
    // The units reported missing name the typo taken for them.
    let missing: Vec<&Value> = sub["issues"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["rule"] == "expected_unit_missing")
        .map(|i| &i["message"])
        .collect();
    assert_eq!(
        missing,
        [
            &json!({
                "zh": "基层工会情况：应报单位 330102001002（乙公司工会）没有出现在报表中。A4 的单位代码 330102001050 是否就是它？",
                "en": "基层工会情况: Expected unit 330102001002 (乙公司工会) is missing from the sheet. Is the unit code 330102001050 at A4 this unit?"
            }),
            &json!({
                "zh": "基层工会情况：应报单位 330102001003（丙公司工会）没有出现在报表中。A5 的单位代码 330102001113 是否就是它？",
                "en": "基层工会情况: Expected unit 330102001003 (丙公司工会) is missing from the sheet. Is the unit code 330102001113 at A5 this unit?"
            }),
        ]
    );
    let text = sub.to_string();
    assert!(
        !text.contains("丁公司工会") && !text.contains("清波"),
        "{text}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_issue_names_its_rows_unit_in_the_answer_and_the_annotated_workbook() {
    let app = spawn_app().await;
    let sub = app.submit(typos(), "330102001", "2026-10").await;
    assert_eq!(sub["status"], "rejected");
    let over = issue(&sub, "members_le_employees").expect("F3 over");
    assert_eq!(over["cell"], "F3");
    assert_eq!(
        over["unit"],
        json!({"code": "330102001001", "name": "甲公司工会"})
    );
    assert!(
        over["message"]["zh"]
            .as_str()
            .unwrap()
            .starts_with("基层工会情况!F3（330102001001 甲公司工会）："),
        "{over}"
    );
    assert!(
        over["message"]["en"]
            .as_str()
            .unwrap()
            .starts_with("基层工会情况!F3 (330102001001 甲公司工会): "),
        "{over}"
    );
    let unknown = issue(&sub, "unit_unknown").expect("unit_unknown");
    assert_eq!(unknown["unit"], json!({"code": "330102001050"}));
    // A sheet-wide finding names no unit.
    let missing = issue(&sub, "expected_unit_missing").expect("expected_unit_missing");
    assert!(missing.get("unit").is_none(), "{missing}");

    let list = annotated_issues(&app, sub["id"].as_i64().unwrap()).await;
    assert_eq!(list[0][8], Data::String("单位 Unit".into()));
    let f3 = list
        .iter()
        .find(|r| r[1] == Data::String("members_le_employees".into()))
        .expect("F3 listed");
    assert_eq!(f3[3], Data::String("F3".into()));
    assert_eq!(f3[8], Data::String("330102001001 甲公司工会".into()));
    let a6 = list
        .iter()
        .find(|r| r[3] == Data::String("A6".into()))
        .expect("A6 listed");
    assert_eq!(a6[8], Data::String("330102002001".into()));
    app.stop().await;
}

/// The rows of the annotated workbook's issue list.
async fn annotated_issues(app: &TestApp, id: i64) -> Vec<Vec<Data>> {
    let resp = app
        .client
        .get(format!(
            "{}/api/v1/submissions/{id}/annotated.xlsx",
            app.addr
        ))
        .bearer_auth(&app.admin_key)
        .send()
        .await
        .expect("annotated");
    assert_eq!(resp.status().as_u16(), 200);
    let bytes = resp.bytes().await.unwrap().to_vec();
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).unwrap();
    let range = wb.worksheet_range(ISSUES_SHEET).unwrap();
    range.rows().map(<[Data]>::to_vec).collect()
}

/// 1,200 rows of codes that exist nowhere, then town A's three units with one
/// unit's members above its employees.
pub(crate) fn thousands_of_unknown_codes() -> Vec<u8> {
    let codes: Vec<&'static str> = (0..1_200)
        .map(|k| &*Box::leak(format!("4401{k:08}").into_boxed_str()))
        .collect();
    let mut rows: Vec<Vec<C>> = codes
        .iter()
        .map(|code| basic_row(code, "某公司工会", 1.0, 1.0, 10.0, 9.0))
        .collect();
    rows.extend(town_a_rows());
    rows.last_mut().unwrap()[5] = C::N(40_000.0);
    workbook(None, BASIC, &rows)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_list_the_first_issues_of_each_rule_and_the_annotated_workbook_keeps_all() {
    let app = spawn_app().await;
    let sub = app
        .submit(thousands_of_unknown_codes(), "330102001", "2026-10")
        .await;
    assert_eq!(sub["status"], "rejected");
    assert_eq!(sub["error_count"], 1_201);
    let rules = sub["rules"].as_array().unwrap();
    assert_eq!(
        rules[0],
        json!({
            "rule": "unit_unknown",
            "severity": "error",
            "title": {"zh": "单位代码不在组织机构库", "en": "Unit code not in master data"},
            "count": 1200,
            "listed": 100,
            "more": {
                "zh": "另有 1,100 条未列出；标注问题的工作簿列有全部问题。",
                "en": "1,100 more not listed; the annotated workbook marks them all."
            }
        })
    );
    assert_eq!(rules[1]["rule"], "members_le_employees");
    assert_eq!(rules[1]["title"]["zh"], "会员人数不超过职工人数");
    assert_eq!(
        (rules[1]["count"].as_u64(), rules[1]["listed"].as_u64()),
        (Some(1), Some(1))
    );
    assert!(rules[1].get("more").is_none(), "{}", rules[1]);
    assert_eq!(rules.len(), 2, "{rules:?}");
    let issues = sub["issues"].as_array().unwrap();
    assert_eq!(issues.len(), 101);
    // The first of the rule, in sheet order.
    assert_eq!(issues[0]["cell"], "A3");
    assert_eq!(issues[99]["cell"], "A102");
    let id = sub["id"].as_i64().unwrap();

    // Every issue when asked for.
    let (status, all) = app
        .get(
            &app.admin_key,
            &format!("/api/v1/submissions/{id}?issues_per_rule=0"),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(all["issues"].as_array().unwrap().len(), 1_201);
    assert!(all["rules"][0].get("more").is_none(), "{}", all["rules"][0]);
    let (_, some) = app
        .get(
            &app.admin_key,
            &format!("/api/v1/submissions/{id}?issues_per_rule=5"),
        )
        .await;
    assert_eq!(some["issues"].as_array().unwrap().len(), 6);
    assert_eq!(
        some["rules"][0]["more"]["zh"],
        "另有 1,195 条未列出；标注问题的工作簿列有全部问题。"
    );

    // The annotated workbook lists all 1,201 and marks every cell.
    let list = annotated_issues(&app, id).await;
    assert_eq!(list.len(), 1 + 1_201);
    assert_eq!(
        list.iter()
            .filter(|r| r[1] == Data::String("unit_unknown".into()))
            .count(),
        1_200
    );

    // A dry run is capped the same way, and takes the same parameter.
    let answer = dry_run(&app, thousands_of_unknown_codes(), "&issues_per_rule=10").await;
    assert_eq!(answer["error_count"], 1_201);
    assert_eq!(answer["issues"].as_array().unwrap().len(), 11);
    assert_eq!(answer["rules"][0]["listed"], 10);
    assert_eq!(
        answer["rules"][0]["more"]["en"],
        "1,190 more not listed; the annotated workbook marks them all."
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalogue_gives_each_rule_a_title_in_both_languages() {
    let app = spawn_app().await;
    let (status, cat) = app.get(&app.admin_key, "/api/v1/catalog").await;
    assert_eq!(status, 200);
    let rules = cat["rules"].as_array().unwrap();
    let find = |code: &str| rules.iter().find(|r| r["code"] == code).cloned();
    let unknown = find("unit_unknown").expect("unit_unknown");
    assert_eq!(unknown["title_zh"], "单位代码不在组织机构库");
    assert_eq!(unknown["title_en"], "Unit code not in master data");
    let template = find("not_template").expect("not_template");
    assert_eq!(template["title_zh"], "不是报表模板");
    assert_eq!(template["title_en"], "Not the template");
    for r in rules {
        assert_chinese(r["code"].as_str().unwrap(), r["title_zh"].as_str().unwrap());
    }
    app.stop().await;
}

postgres_twins!(
    an_unknown_code_asks_did_you_mean_among_the_reporters_own_units_only,
    each_issue_names_its_rows_unit_in_the_answer_and_the_annotated_workbook,
    answers_list_the_first_issues_of_each_rule_and_the_annotated_workbook_keeps_all,
);
