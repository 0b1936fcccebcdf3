//! Nil reports (零报告): a workbook without a single figure is a report only
//! when the submitter declares it one — by the upload's flag, a multipart
//! form field or the cover's 零报告 line — and completeness counts it as
//! reported, with no units, marked as a nil report.

use rust_xlsxwriter::Workbook;
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
    let mut wb = Workbook::new();
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

postgres_twins!(
    a_blank_template_is_refused_and_the_reporter_stays_not_reported,
    a_declared_nil_report_is_accepted_and_counted_as_reported,
    the_cover_line_or_a_form_field_declares_a_nil_report,
);
