//! The annotated workbook keeps the clerk's layout: titles above the header (and
//! their merges), the 填表说明 row under the data, column widths and data
//! validations, with the issues still marked. The clerk's workbook is written by
//! Python's openpyxl (another producer than ours) and the copy read back both as
//! XML and by openpyxl. Months stay open (`lock_after_days = 0`, spawn_app).

use std::io::{Cursor, Read};
use std::process::Command;

use calamine::{Data, Reader, Xlsx};
use serde_json::Value;

use crate::helpers::*;
use crate::templates::download;

/// Writes the clerk's workbook to argv[2]: two merged title rows, the header in
/// row 3 (with a 组织类型 column the template does not know), three units
/// (乙公司工会 reports more members than employees at G5), the 填表说明 row
/// at A8, column widths, and six validations: a list on 组织类型, a whole
/// number ≥ 0 on the counts, a decimal on 帮扶慰问金额, a custom formula on the
/// codes, and two the copy cannot carry (a list from another sheet, a custom
/// formula naming a defined name).
const WRITE: &str = r#"
import sys
from openpyxl import Workbook
from openpyxl.worksheet.datavalidation import DataValidation
wb = Workbook()
ws = wb.active
ws.title = "基层工会情况"
ws["A1"] = "湖滨街道基层工会统计月报表"
ws.merge_cells("A1:H1")
ws["A2"] = "填报单位：湖滨街道总工会（盖章）    2026年10月"
ws.merge_cells("A2:H2")
header = ["单位代码", "单位名称", "组织类型", "应建会单位数", "已建会单位数", "职工人数", "会员人数", "帮扶慰问金额"]
for c, h in enumerate(header, start=1):
    ws.cell(row=3, column=c, value=h)
rows = [
    ["330102001001", "甲公司工会", "企业", 20, 19, 100000, 99000, 1234.5],
    ["330102001002", "乙公司工会", "企业", 15, 14, 1200, 1205, None],
    ["330102001003", "丙公司工会", "机关", 6, 6, 38000, 37500, 800],
]
for r, row in enumerate(rows, start=4):
    for c, v in enumerate(row, start=1):
        if v is not None:
            ws.cell(row=r, column=c, value=v)
ws["A8"] = "填表说明：1. 单位代码请勿修改；2. 人数为期末数。"
ws["H9"] = 2026
for col, w in {"A": 18, "B": 30, "C": 11, "D": 14, "E": 14, "F": 13, "G": 13, "H": 16}.items():
    ws.column_dimensions[col].width = w
kinds = DataValidation(type="list", formula1='"企业,机关,事业单位"', allow_blank=True)
kinds.promptTitle = "组织类型"
kinds.prompt = "请从下拉列表选择"
kinds.showInputMessage = True
kinds.add("C4:C100")
counts = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0")
counts.errorTitle = "数字有误"
counts.error = "请填写不小于0的整数"
counts.showErrorMessage = True
counts.add("D4:G100")
yuan = DataValidation(type="decimal", operator="between", formula1="0", formula2="99999999.99")
yuan.add("H4:H100")
other = DataValidation(type="list", formula1="字典!$A$1:$A$3")
other.add("B4:B100")
custom = DataValidation(type="custom", formula1="LEN(A4)=12")
custom.add("A4:A100")
named = DataValidation(type="custom", formula1="COUNTIF(单位库,A4)>0")
named.add("A4:A100")
for dv in (kinds, counts, yuan, other, custom, named):
    ws.add_data_validation(dv)
lists = wb.create_sheet("字典")
for i, v in enumerate(["企业", "机关", "事业单位"], start=1):
    lists.cell(row=i, column=1, value=v)
wb.save(sys.argv[2])
"#;

/// Prints, as JSON, what openpyxl finds on the units sheet of argv[2]: merges,
/// widths of A–H (a group of columns stated once counted for each), validations (type, operator, formulas, ranges, texts), and
/// the values of A1, A2, A8, C4, H9.
const DUMP: &str = r#"
import json, sys
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
ws = load_workbook(sys.argv[2])["基层工会情况"]
out = {
    "merges": sorted(str(m) for m in ws.merged_cells.ranges),
    "widths": {get_column_letter(i): d.width for d in ws.column_dimensions.values()
               for i in range(d.min, d.max + 1)},
    "validations": sorted(
        [{"type": dv.type, "operator": dv.operator, "formula1": dv.formula1,
          "formula2": dv.formula2, "sqref": str(dv.sqref),
          "prompt": dv.prompt, "promptTitle": dv.promptTitle,
          "error": dv.error, "errorTitle": dv.errorTitle}
         for dv in ws.data_validations.dataValidation],
        key=lambda v: v["sqref"]),
    "cells": {c: ws[c].value for c in ["A1", "A2", "A8", "C4", "H9"]},
}
print(json.dumps(out, ensure_ascii=False))
"#;

fn python(script: &str, path: &std::path::Path) -> Option<Vec<u8>> {
    let out = Command::new("python3")
        .args(["-c", script, "-"])
        .arg(path)
        .output()
        .ok()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(out.stdout)
}

fn openpyxl_present() -> bool {
    let present = Command::new("python3")
        .args(["-c", "import openpyxl"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !present {
        let why = "python3 with openpyxl is missing (pip install openpyxl)";
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{why}");
        eprintln!("SKIPPED the clerk's layout test: {why}");
    }
    present
}

fn part(bytes: &[u8], name: &str) -> String {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut s = String::new();
    zip.by_name(name).unwrap().read_to_string(&mut s).unwrap();
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn annotated_workbook_keeps_the_clerks_titles_notes_merges_widths_and_validations() {
    if !openpyxl_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let clerk = dir.path().join("clerk.xlsx");
    python(WRITE, &clerk).expect("python3");
    let bytes = std::fs::read(&clerk).unwrap();

    let app = spawn_app().await;
    let sub = app.submit(bytes, "330102001", "2026-10").await;
    assert_eq!(sub["status"], "rejected", "{sub}");
    let rules: Vec<(&str, &str)> = sub["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["rule"].as_str().unwrap(),
                i["cell"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert!(rules.contains(&("members_le_employees", "G5")), "{rules:?}");
    assert!(rules.contains(&("unknown_column", "C3")), "{rules:?}");

    let id = sub["id"].as_i64().unwrap();
    let (status, _, _, out) = download(
        &app,
        &app.admin_key,
        &format!("/api/v1/submissions/{id}/annotated.xlsx"),
    )
    .await;
    assert_eq!(status, 200);
    let copy = dir.path().join("annotated.xlsx");
    std::fs::write(&copy, &out).unwrap();

    // Cells: titles, the notes row, the unknown column, the figures.
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(out.clone())).unwrap();
    let units = wb.worksheet_range("基层工会情况").unwrap();
    let at = |r: u32, c: u32| units.get_value((r, c)).cloned().unwrap_or(Data::Empty);
    assert_eq!(at(0, 0), Data::String("湖滨街道基层工会统计月报表".into()));
    assert_eq!(
        at(1, 0),
        Data::String("填报单位：湖滨街道总工会（盖章）    2026年10月".into())
    );
    assert_eq!(at(2, 2), Data::String("组织类型".into()));
    assert_eq!(at(3, 2), Data::String("企业".into()));
    assert_eq!(at(5, 2), Data::String("机关".into()));
    assert_eq!(at(4, 6), Data::Float(1205.0), "G5 holds the clerk's figure");
    assert_eq!(
        at(7, 0),
        Data::String("填表说明：1. 单位代码请勿修改；2. 人数为期末数。".into())
    );
    assert_eq!(at(8, 7), Data::Float(2026.0), "H9, below the notes");

    // The sheet's XML: merges, widths, validations, the red error cell.
    let xml = part(&out, "xl/worksheets/sheet2.xml");
    assert!(xml.contains(r#"<mergeCells count="2">"#), "{xml}");
    assert!(
        xml.contains(r#"<mergeCell ref="A1:H1"/>"#) && xml.contains(r#"<mergeCell ref="A2:H2"/>"#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<col min="1" max="1" width="18" customWidth="1"/><col min="2" max="2" width="30" customWidth="1"/>"#),
        "{xml}"
    );
    assert!(xml.contains(r#"<dataValidations count="4">"#), "{xml}");
    assert!(
        xml.contains(r#"<dataValidation type="list" allowBlank="1" showInputMessage="1" promptTitle="组织类型" prompt="请从下拉列表选择" sqref="C4:C100"><formula1>"企业,机关,事业单位"</formula1></dataValidation>"#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<dataValidation type="whole" operator="greaterThanOrEqual" showErrorMessage="1" errorTitle="数字有误" error="请填写不小于0的整数" sqref="D4:G100"><formula1>0</formula1></dataValidation>"#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<dataValidation type="decimal" sqref="H4:H100"><formula1>0</formula1><formula2>99999999.99</formula2></dataValidation>"#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<dataValidation type="custom" sqref="A4:A100"><formula1>LEN(A4)=12</formula1></dataValidation>"#),
        "{xml}"
    );
    assert!(!xml.contains("字典") && !xml.contains("单位库"), "{xml}");
    let styles = part(&out, "xl/styles.xml");
    assert!(styles.contains("FFC7CE"), "the red fill is there");
    let g5 = xml
        .split("<c r=\"G5\"")
        .nth(1)
        .and_then(|rest| rest.split('>').next())
        .expect("G5 written");
    assert!(g5.contains(" s="), "G5 carries a style: {g5}");
    let notes = part(&out, "xl/comments1.xml");
    assert!(
        notes.contains("ref=\"G5\"") && notes.contains("members_le_employees"),
        "{notes}"
    );

    // The same, as openpyxl reads the copy.
    let dump: Value = serde_json::from_slice(&python(DUMP, &copy).unwrap()).unwrap();
    assert_eq!(dump["merges"], serde_json::json!(["A1:H1", "A2:H2"]));
    let widths: Vec<f64> = "ABCDEFGH"
        .chars()
        .map(|c| dump["widths"][c.to_string()].as_f64().unwrap())
        .collect();
    // As the clerk's file states them (the width the file stores, padding
    // included).
    assert_eq!(widths, [18.0, 30.0, 11.0, 14.0, 14.0, 13.0, 13.0, 16.0]);
    let v = dump["validations"].as_array().unwrap();
    assert_eq!(v.len(), 4, "{dump}");
    assert_eq!(
        (&v[0]["type"], &v[0]["formula1"], &v[0]["sqref"]),
        (
            &Value::from("custom"),
            &Value::from("LEN(A4)=12"),
            &Value::from("A4:A100")
        )
    );
    let v = &v[1..];
    assert_eq!(
        (&v[0]["type"], &v[0]["formula1"], &v[0]["sqref"]),
        (
            &Value::from("list"),
            &Value::from("\"企业,机关,事业单位\""),
            &Value::from("C4:C100")
        )
    );
    assert_eq!(v[0]["promptTitle"], "组织类型");
    assert_eq!(
        (
            &v[1]["type"],
            &v[1]["operator"],
            &v[1]["formula1"],
            &v[1]["sqref"]
        ),
        (
            &Value::from("whole"),
            &Value::from("greaterThanOrEqual"),
            &Value::from("0"),
            &Value::from("D4:G100")
        )
    );
    assert_eq!(v[1]["error"], "请填写不小于0的整数");
    assert_eq!(
        (
            &v[2]["type"],
            &v[2]["formula1"],
            &v[2]["formula2"],
            &v[2]["sqref"]
        ),
        (
            &Value::from("decimal"),
            &Value::from("0"),
            &Value::from("99999999.99"),
            &Value::from("H4:H100")
        )
    );
    assert_eq!(dump["cells"]["A1"], "湖滨街道基层工会统计月报表");
    assert_eq!(
        dump["cells"]["A8"],
        "填表说明：1. 单位代码请勿修改；2. 人数为期末数。"
    );
    assert_eq!(dump["cells"]["C4"], "企业");
    app.stop().await;
}

postgres_twins!(annotated_workbook_keeps_the_clerks_titles_notes_merges_widths_and_validations,);
