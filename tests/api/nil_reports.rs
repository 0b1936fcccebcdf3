//! Nil reports (零报告): a workbook without a single figure is a report only
//! when the submitter declares it one — by the upload's flag, a multipart
//! form field or the cover's 零报告 line — and completeness counts it as
//! reported, with no units, marked as a nil report.

use std::io::{Cursor, Read, Write};

use calamine::{Data, Reader, Xlsx};
use serde_json::Value;

use crate::helpers::*;

/// The blank Template v1 of town 330102001 for 2026-10, as served.
async fn blank_template(app: &TestApp) -> Vec<u8> {
    let resp = app
        .client
        .get(format!(
            "{}/api/v1/templates/330102001/2026-10.xlsx",
            app.addr
        ))
        .bearer_auth(&app.admin_key)
        .send()
        .await
        .expect("template");
    assert_eq!(resp.status().as_u16(), 200);
    resp.bytes().await.expect("bytes").to_vec()
}

async fn completeness(app: &TestApp, org: &str) -> Value {
    let (status, body) = app
        .get(
            &app.admin_key,
            &format!("/api/v1/orgs/{org}/completeness?period=2026-10"),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn upload_and_wait(app: &TestApp, bytes: Vec<u8>, query: &str) -> (u16, Value) {
    let (status, body) = app.upload_as(Some(&app.admin_key), bytes, query).await;
    assert!(status == 202 || status == 200, "{status}: {body}");
    (status, app.wait(body["id"].as_i64().unwrap()).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blank_template_is_refused_and_the_reporter_stays_not_reported() {
    let app = spawn_app().await;
    let blank = blank_template(&app).await;
    let (_, sub) = upload_and_wait(&app, blank, "reporter=330102001&period=2026-10").await;
    assert_eq!(sub["status"], "rejected", "{sub}");
    assert_eq!(sub["error_count"], 1, "{sub}");
    assert_eq!(sub["nil_report"], false);
    let i = issue(&sub, "no_figures").expect("no_figures");
    assert_eq!(i["severity"], "error");
    assert_eq!(i["sheet"], "基层工会情况");
    let (zh, en) = (
        i["message"]["zh"].as_str().unwrap(),
        i["message"]["en"].as_str().unwrap(),
    );
    assert!(zh.contains("报表列出 3 个单位，但没有填写任何数字"), "{zh}");
    assert!(zh.contains("勾选“零报告”"), "{zh}");
    assert!(
        zh.contains("nil_report=true") && zh.contains("--nil-report"),
        "{zh}"
    );
    assert!(
        en.contains("The sheet lists 3 units but holds no figure at all"),
        "{en}"
    );
    assert!(
        en.contains("declare a nil report") && en.contains("cover line 零报告"),
        "{en}"
    );

    // Completeness: the town is rejected, not reported; 报送率 0 of 2 for the county.
    let c = completeness(&app, "330102").await;
    assert_eq!(reporter_in(&c, "330102001")["status"], "rejected");
    assert_eq!(reporter_in(&c, "330102001")["nil_report"], false);
    assert_eq!(c["expected_reporters"], 2);
    assert_eq!(c["reported"], 0);
    assert_eq!(c["rejected"], 1);
    assert_eq!(c["nil_reports"], 0);
    assert_eq!(c["reporting_rate"]["value"].as_f64(), Some(0.0));
    assert_eq!(c["reporting_rate"]["numerator"].as_f64(), Some(0.0));
    assert_eq!(c["reporting_rate"]["denominator"].as_f64(), Some(2.0));
    let ind = app.indicators("330102001", "2026-10").await;
    assert_eq!(ind["coverage"]["reported_units"], 0, "{ind}");
    assert_eq!(ind["coverage"]["reported_reporters"], 0, "{ind}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_nil_report_is_accepted_and_counted_as_reported() {
    let app = spawn_app().await;
    let blank = blank_template(&app).await;
    let q = "reporter=330102001&period=2026-10";
    let (_, refused) = upload_and_wait(&app, blank.clone(), q).await;
    assert_eq!(refused["status"], "rejected");

    // The same bytes declared a nil report are a new submission, accepted.
    let (status, sub) = upload_and_wait(&app, blank.clone(), &format!("{q}&nil_report=true")).await;
    assert_eq!(status, 202, "a new submission, not the rejected one");
    assert_ne!(sub["id"], refused["id"]);
    assert_eq!(sub["status"], "accepted", "{sub}");
    assert_eq!(sub["error_count"], 0, "{sub}");
    assert_eq!(sub["nil_report"], true);

    let c = completeness(&app, "330102").await;
    let town = reporter_in(&c, "330102001");
    // 2026-10 was due 2026-11-10; the upload is of today (2026-12): late.
    assert_eq!(town["status"], "late", "{c}");
    assert_eq!(town["nil_report"], true);
    assert_eq!(reporter_in(&c, "330102002")["nil_report"], false);
    assert_eq!(c["reported"], 1);
    assert_eq!(c["rejected"], 0);
    assert_eq!(c["missing"], 1);
    assert_eq!(c["nil_reports"], 1);
    assert_eq!(c["reporting_rate"]["value"].as_f64(), Some(0.5));
    let county = c["levels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["org"] == "330102")
        .unwrap();
    assert_eq!(county["nil_reports"], 1);
    assert_eq!(county["reported"], 1);
    // Reported, with no unit: 0 of 3 units carry figures.
    let ind = app.indicators("330102001", "2026-10").await;
    assert_eq!(ind["coverage"]["expected_units"], 3, "{ind}");
    assert_eq!(ind["coverage"]["reported_units"], 0, "{ind}");
    assert!(ind["metrics"]["employees"].is_null(), "{ind}");

    // A nil report with figures is refused, naming the first figure's cell.
    let (_, bad) = upload_and_wait(
        &app,
        town_a_sheet(),
        "reporter=330102001&period=2026-10&nil_report=true",
    )
    .await;
    assert_eq!(bad["status"], "rejected");
    let i = issue(&bad, "nil_report_has_figures").expect("nil_report_has_figures");
    assert_eq!(i["cell"], "C3");
    let zh = i["message"]["zh"].as_str().unwrap();
    assert!(zh.contains("填写了 12 个数字（第一个在 C3）"), "{zh}");
    let en = i["message"]["en"].as_str().unwrap();
    assert!(en.contains("holds 12 figures (the first at C3)"), "{en}");
    assert!(app.verify().await.ok());
    app.stop().await;
}

/// A sheet listing town 330102002's two units with no figures, with a cover
/// whose 零报告 line reads `value`.
fn cover_declared(value: &str) -> Vec<u8> {
    let mut wb = new_workbook();
    let ws = wb.add_worksheet().set_name("封面").unwrap();
    for (r, (label, v)) in [
        ("报送单位代码", "330102002"),
        ("报告期", "2026-10"),
        ("零报告", value),
    ]
    .iter()
    .enumerate()
    {
        ws.write_string(r as u32, 0, *label).unwrap();
        ws.write_string(r as u32, 1, *v).unwrap();
    }
    let ws = wb.add_worksheet().set_name("基层工会情况").unwrap();
    for (c, h) in BASIC.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (r, (code, name)) in [
        ("330102002001", "丁公司工会"),
        ("330102002002", "戊公司工会"),
    ]
    .iter()
    .enumerate()
    {
        ws.write_string(r as u32 + 1, 0, *code).unwrap();
        ws.write_string(r as u32 + 1, 1, *name).unwrap();
    }
    wb.save_to_buffer().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cover_line_or_a_form_field_declares_a_nil_report() {
    let app = spawn_app().await;
    // 零报告 否 declares nothing.
    let (_, no) = upload_and_wait(&app, cover_declared("否"), "").await;
    assert_eq!(no["status"], "rejected", "{no}");
    assert!(issue(&no, "no_figures").is_some(), "{no}");
    // 零报告 是: accepted as a nil report, with no flag on the upload.
    let (_, yes) = upload_and_wait(&app, cover_declared("是"), "").await;
    assert_eq!(yes["status"], "accepted", "{yes}");
    assert_eq!(yes["nil_report"], true);
    assert_eq!(yes["reporter"], "330102002");

    // A multipart form with the field nil_report=on before the file.
    let blank = blank_template(&app).await;
    let (status, body) = app
        .upload_form(
            "reporter=330102001&period=2026-10",
            &[("nil_report", "on")],
            "blank.xlsx",
            &blank,
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let id = body["id"].as_i64().unwrap();
    let form = app.wait(id).await;
    assert_eq!(form["status"], "accepted", "{form}");
    assert_eq!(form["nil_report"], true);
    assert_eq!(form["filename"], "blank.xlsx");

    let c = completeness(&app, "330102").await;
    assert_eq!(c["reported"], 2);
    assert_eq!(c["nil_reports"], 2);
    assert_eq!(c["reporting_rate"]["value"].as_f64(), Some(1.0));
    app.stop().await;
}

/// `bytes` with the XML part `name` passed through `edit`, every other part
/// copied as it is.
fn edit_part(bytes: &[u8], name: &str, edit: impl Fn(&str) -> String) -> Vec<u8> {
    let mut zin = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for i in 0..zin.len() {
        let mut f = zin.by_index(i).unwrap();
        let part = f.name().unwrap().to_string();
        let mut content = Vec::new();
        f.read_to_end(&mut content).unwrap();
        if part == name {
            content = edit(std::str::from_utf8(&content).unwrap()).into_bytes();
        }
        out.start_file(part, options).unwrap();
        out.write_all(&content).unwrap();
    }
    out.finish().unwrap().into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_templates_nil_report_line_offers_yes_no_and_yes_makes_the_blank_template_a_nil_report()
{
    let app = spawn_app().await;
    let blank = blank_template(&app).await;
    // The cover's last line is 零报告, empty, with a 是/否 drop-down on B7.
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(blank.clone())).unwrap();
    let cover = wb.worksheet_range("封面").unwrap();
    assert_eq!(
        cover.get_value((6, 0)),
        Some(&Data::String("零报告".into()))
    );
    assert!(matches!(cover.get_value((6, 1)), None | Some(Data::Empty)));
    let mut xml = String::new();
    zip::ZipArchive::new(Cursor::new(blank.clone()))
        .unwrap()
        .by_name("xl/worksheets/sheet1.xml")
        .unwrap()
        .read_to_string(&mut xml)
        .unwrap();
    assert!(xml.contains(r#"type="list""#), "{xml}");
    assert!(xml.contains(r#"sqref="B7""#), "{xml}");
    assert!(xml.contains("<formula1>\"是,否\"</formula1>"), "{xml}");

    // Uploaded as served, the empty line declares nothing: no_figures.
    let q = "reporter=330102001&period=2026-10";
    let (_, as_served) = upload_and_wait(&app, blank.clone(), q).await;
    assert_eq!(as_served["status"], "rejected", "{as_served}");
    assert!(issue(&as_served, "no_figures").is_some(), "{as_served}");

    // 是 chosen on the line (and nothing else typed): a nil report, no flag.
    let chosen = edit_part(&blank, "xl/worksheets/sheet1.xml", |xml| {
        let start = xml.find(r#"<c r="B7""#).expect("the B7 cell");
        let end = start + xml[start..].find("/>").expect("an empty cell") + 2;
        format!(
            r#"{}<c r="B7" t="inlineStr"><is><t>是</t></is></c>{}"#,
            &xml[..start],
            &xml[end..]
        )
    });
    let (_, sub) = upload_and_wait(&app, chosen, q).await;
    assert_eq!(sub["status"], "accepted", "{sub}");
    assert_eq!(sub["nil_report"], true, "{sub}");
    assert_eq!(sub["error_count"], 0, "{sub}");
    let c = completeness(&app, "330102").await;
    assert_eq!(reporter_in(&c, "330102001")["nil_report"], true, "{c}");
    assert_eq!(c["nil_reports"], 1);
    app.stop().await;
}

postgres_twins!(
    the_templates_nil_report_line_offers_yes_no_and_yes_makes_the_blank_template_a_nil_report,
    a_blank_template_is_refused_and_the_reporter_stays_not_reported,
    a_declared_nil_report_is_accepted_and_counted_as_reported,
    the_cover_line_or_a_form_field_declares_a_nil_report,
);
