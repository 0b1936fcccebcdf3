//! Templates handed out, filled in and uploaded; dry runs; annotated workbooks —
//! over HTTP, from the command line, and through LibreOffice.

use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use calamine::{Data, Reader, Xlsx};
use serde_json::Value;
use unionstat::core::ingest::{read_workbook, ReadLimits};
use unionstat::core::workbook_out::{self, CoverFields, UnitLine, ISSUES_SHEET};
use unionstat::core::Catalog;
use unionstat::store::keys::Role;

use crate::helpers::*;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// GET with a key; returns (status, content type, content disposition, bytes).
pub(crate) async fn download(
    app: &TestApp,
    key: &str,
    path: &str,
) -> (u16, String, String, Vec<u8>) {
    let resp = app
        .client
        .get(format!("{}{path}", app.addr))
        .bearer_auth(key)
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let (ct, cd) = (header("content-type"), header("content-disposition"));
    (status, ct, cd, resp.bytes().await.expect("body").to_vec())
}

fn catalog() -> Catalog {
    Catalog::builtin().unwrap()
}

fn sheet_names(bytes: &[u8]) -> Vec<String> {
    let wb: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    wb.sheet_names()
}

fn sheet(bytes: &[u8], name: &str) -> Vec<Vec<Data>> {
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    let range = wb.worksheet_range(name).unwrap();
    let (r0, c0) = range.start().unwrap();
    let mut rows = vec![Vec::new(); r0 as usize];
    for r in range.rows() {
        let mut row = vec![Data::Empty; c0 as usize];
        row.extend(r.iter().cloned());
        rows.push(row);
    }
    rows
}

fn text(d: &Data) -> String {
    match d {
        Data::String(s) => s.clone(),
        Data::Empty => String::new(),
        other => other.to_string(),
    }
}

/// The notes of the sheet `name` of an xlsx: (cell, text) pairs.
fn notes(bytes: &[u8], name: &str) -> Vec<(String, String)> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut read = |part: &str| -> Option<String> {
        let mut s = String::new();
        zip.by_name(part).ok()?.read_to_string(&mut s).ok()?;
        Some(s)
    };
    // The sheet part's own relationships name the comments part.
    let file = sheet_part(
        &read("xl/workbook.xml").unwrap(),
        &read("xl/_rels/workbook.xml.rels").unwrap(),
        name,
    );
    let (dir, base) = file.rsplit_once('/').unwrap();
    let Some(sheet_rels) = read(&format!("xl/{dir}/_rels/{base}.rels")) else {
        return Vec::new();
    };
    let Some(comments) = sheet_rels
        .split("<Relationship ")
        .find(|r| r.contains("/comments\""))
        .and_then(|r| attr_of(r, "Target"))
    else {
        return Vec::new();
    };
    let comments = comments.rsplit('/').next().unwrap();
    let xml = read(&format!("xl/{comments}")).unwrap();
    xml.split("<comment ")
        .skip(1)
        .map(|c| {
            let cell = attr_of(c, "ref").unwrap();
            let body: String = c
                .split("<t")
                .skip(1)
                .filter_map(|t| t.split_once('>').map(|(_, rest)| rest))
                .filter_map(|t| t.split_once("</t>").map(|(inner, _)| inner))
                .collect();
            (
                cell,
                body.replace("&amp;", "&")
                    .replace("&lt;", "<")
                    .replace("&gt;", ">"),
            )
        })
        .collect()
}

/// The part of sheet `name` below `xl/` (e.g. `worksheets/sheet2.xml`): workbook.xml
/// names the sheet's relationship id, whose target in the rels is the part.
fn sheet_part(workbook: &str, rels: &str, name: &str) -> String {
    let rid =
        attr_after(workbook, &format!("name=\"{name}\""), "r:id").expect("sheet in workbook.xml");
    let target = attr_after(rels, &format!("Id=\"{rid}\""), "Target").unwrap();
    target
        .trim_start_matches("/xl/")
        .trim_start_matches("xl/")
        .to_string()
}

/// The value of attribute `attr` in the element that contains `anchor`.
fn attr_after(xml: &str, anchor: &str, attr: &str) -> Option<String> {
    let at = xml.find(anchor)?;
    let start = xml[..at].rfind('<')?;
    let end = at + xml[at..].find('>')?;
    attr_of(&xml[start..end], attr)
}

/// The value of attribute `attr` in the (start of an) element `element`.
fn attr_of(element: &str, attr: &str) -> Option<String> {
    let key = format!(" {attr}=\"");
    let from = format!(" {element}").find(&key)? + key.len() - 1;
    let len = element[from..].find('"')?;
    Some(element[from..from + len].to_string())
}

/// Fills the template as a clerk would: the figures of town A (41 required, 39
/// unionised, 198,000 employees, 196,000 members) in the columns the downloaded
/// template's header names, for the unit codes it lists.
fn fill(template: &[u8]) -> Vec<u8> {
    let c = catalog();
    let rows = sheet(template, workbook_out::UNITS_SHEET);
    let header_at = workbook_out::HEADER_ROW as usize;
    let header: Vec<String> = rows[header_at].iter().map(text).collect();
    let codes: Vec<(String, String)> = rows[header_at + 1..]
        .iter()
        .take_while(|r| text(&r[0]).len() == 12)
        .map(|r| (text(&r[0]), text(&r[1])))
        .collect();
    assert_eq!(header[0], "单位代码");
    assert_eq!(
        codes.iter().map(|c| c.0.as_str()).collect::<Vec<_>>(),
        ["330102001001", "330102001002", "330102001003"]
    );
    // Metric positions as the template's header names them.
    let pos = |code: &str| {
        let i = header
            .iter()
            .position(|h| {
                c.header(h)
                    == c.metric_position(code)
                        .map(unionstat::core::catalog::HeaderMeaning::Metric)
            })
            .unwrap_or_else(|| panic!("{code} in the header"));
        i - workbook_out::FIRST_METRIC_COL as usize
    };
    let figures: [[i64; 4]; 3] = [
        [20, 19, 100_000, 99_000],
        [15, 14, 60_000, 59_500],
        [6, 6, 38_000, 37_500],
    ];
    let lines: Vec<UnitLine> = codes
        .into_iter()
        .zip(figures)
        .enumerate()
        .map(|(k, ((code, name), f))| {
            let mut values = vec![None; c.metrics.len()];
            for (metric, v) in [
                "enterprises_required",
                "unions_established",
                "employees",
                "members",
            ]
            .iter()
            .zip(f)
            {
                values[pos(metric)] = Some(v);
            }
            if k == 1 {
                values[pos("relief_yuan")] = Some(123_456); // 1,234.56 yuan
            }
            UnitLine { code, name, values }
        })
        .collect();
    let cover_rows = sheet(template, workbook_out::COVER_SHEET);
    let mut cover = CoverFields::new(
        &text(&cover_rows[0][1]),
        &text(&cover_rows[1][1]),
        text(&cover_rows[2][1]).parse().unwrap(),
    );
    cover.preparer = "张三".into();
    cover.phone = "0571-87654321".into();
    cover.date = "2026-11-03".into();
    workbook_out::filled_template(&c, &cover, &lines).unwrap()
}

async fn assert_county_totals(app: &TestApp) {
    let county = app.indicators("330102", "2026-10").await;
    assert_eq!(metric(&county, "employees"), Some(198_000.0), "{county}");
    assert_eq!(metric(&county, "members"), Some(196_000.0));
    assert_eq!(metric(&county, "enterprises_required"), Some(41.0));
    assert_eq!(metric(&county, "unions_established"), Some(39.0));
    assert_eq!(metric(&county, "relief_yuan"), Some(1234.56));
    assert_eq!(
        metric(&county, "new_members"),
        None,
        "empty cells are not reported"
    );
    let membership = &county["indicators"]["membership_rate"];
    assert_eq!(membership["numerator"], 196_000.0);
    assert_eq!(membership["denominator"], 198_000.0);
    assert_eq!(
        format!("{:.3}", rate(&county, "membership_rate").unwrap()),
        "0.990"
    );
    assert_eq!(
        format!("{:.3}", rate(&county, "unionisation_rate").unwrap()),
        "0.951"
    );
    assert_eq!(county["coverage"]["reported_units"], 3);
    assert!(app.verify().await.ok());
}

async fn submission_count(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM submissions").await
}

/// Town A's sheet with members above employees at F4 (the second unit's row).
fn members_above_employees() -> Vec<u8> {
    let mut rows = town_a_rows();
    rows[1][4] = C::N(1200.0);
    rows[1][5] = C::N(1205.0);
    workbook(None, BASIC, &rows)
}

#[tokio::test]
async fn template_downloaded_filled_and_uploaded_is_accepted_with_exact_county_totals() {
    let app = spawn_app().await;
    let (status, ct, cd, bytes) = download(
        &app,
        &app.admin_key,
        "/api/v1/templates/330102001/2026-10.xlsx",
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    assert_eq!(ct, XLSX);
    assert_eq!(cd, "attachment; filename=\"330102001_2026-10.xlsx\"");
    assert_eq!(sheet_names(&bytes), ["封面", "基层工会情况"]);
    let cover = sheet(&bytes, "封面");
    assert_eq!(text(&cover[0][1]), "330102001");
    assert_eq!(text(&cover[1][1]), "湖滨街道总工会");
    assert_eq!(text(&cover[2][1]), "2026-10");
    let header_notes = notes(&bytes, "基层工会情况");
    assert_eq!(
        header_notes.len(),
        app.ctx.catalog.metrics.len(),
        "a note on every metric header"
    );
    assert!(header_notes.iter().any(|(cell, t)| cell == "F3"
        && t.contains("不得大于职工人数")
        && t.contains("Union members")));

    // The cover names reporter and month: no query needed.
    let (status, body) = app
        .upload_as(Some(&app.admin_key), fill(&bytes), "filename=filled.xlsx")
        .await;
    assert_eq!(status, 202, "{body}");
    let sub = app.wait(body["id"].as_i64().unwrap()).await;
    assert_eq!(sub["status"], "accepted", "{sub}");
    assert_eq!(sub["error_count"], 0);
    assert_eq!(sub["reporter"], "330102001");
    assert_eq!(sub["period"], "2026-10");
    assert_county_totals(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn blank_template_uploaded_as_is_reports_nothing_and_passes_its_total_row() {
    let app = spawn_app().await;
    let (status, _, _, bytes) = download(
        &app,
        &app.admin_key,
        "/api/v1/templates/330102001/2026-10.xlsx",
    )
    .await;
    assert_eq!(status, 200);
    // As it is, it is no report (see nil_reports.rs): the only error says so;
    // its 合计 row of zeros passes.
    let sub = app.submit(bytes.clone(), "330102001", "2026-10").await;
    assert!(issue(&sub, "total_mismatch").is_none(), "{sub}");
    assert_eq!(sub["error_count"], 1, "{sub}");
    assert!(issue(&sub, "no_figures").is_some(), "{sub}");
    // Declared a nil report, it is accepted with nothing reported.
    let (status, body) = app
        .upload_as(
            Some(&app.admin_key),
            bytes,
            "reporter=330102001&period=2026-10&nil_report=true",
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let sub = app.wait(body["id"].as_i64().unwrap()).await;
    assert!(issue(&sub, "total_mismatch").is_none(), "{sub}");
    assert_eq!(sub["error_count"], 0, "{sub}");
    assert_eq!(sub["status"], "accepted", "{sub}");
    let county = app.indicators("330102", "2026-10").await;
    assert_eq!(
        metric(&county, "members"),
        None,
        "nothing reported is not 0: {county}"
    );
    assert_eq!(rate(&county, "membership_rate"), None);
    app.stop().await;
}

#[tokio::test]
async fn template_answers_404_and_422_as_documented() {
    let app = spawn_app().await;
    let other_county = app.key("330103", Role::Viewer).await;
    let own_town = app.key("330102001", Role::Submitter).await;
    let county = app.key("330102", Role::Viewer).await;
    let path = "/api/v1/templates/330102001/2026-10.xlsx";
    assert_eq!(download(&app, &other_county, path).await.0, 404);
    assert_eq!(download(&app, &own_town, path).await.0, 200);
    assert_eq!(
        download(&app, &county, path).await.0,
        200,
        "a viewer above reads it"
    );
    assert_eq!(download(&app, "no-such-key", path).await.0, 401);
    for (path, want) in [
        ("/api/v1/templates/999999/2026-10.xlsx", 404),
        ("/api/v1/templates/330102001/2026-10", 404),
        ("/api/v1/templates/330102001/2026-10.xls", 404),
        ("/api/v1/templates/330102001001/2026-10.xlsx", 422),
        ("/api/v1/templates/330102001/2026-13.xlsx", 422),
        ("/api/v1/templates/330102001/202610.xlsx", 422),
        ("/api/v1/templates/330102001/2026-1.xlsx", 422),
    ] {
        let (status, ct, _, body) = download(&app, &app.admin_key, path).await;
        assert_eq!(status, want, "{path}: {}", String::from_utf8_lossy(&body));
        assert!(ct.starts_with("application/json"), "{path}: {ct}");
    }
    // A county's template lists no grassroots units (its children are towns).
    let (status, _, _, bytes) = download(
        &app,
        &app.admin_key,
        "/api/v1/templates/330102/2026-10.xlsx",
    )
    .await;
    assert_eq!(status, 200);
    let wb = read_workbook(&bytes, &catalog(), &ReadLimits::default());
    assert!(wb.rows.is_empty() && wb.total.is_none());
    app.stop().await;
}

#[tokio::test]
async fn dry_run_names_the_error_cell_and_stores_nothing() {
    let app = spawn_app().await;
    let query = "reporter=330102001&period=2026-10&dry_run=true";
    let (status, body) = app
        .upload_as(Some(&app.admin_key), members_above_employees(), query)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["dry_run"], true);
    assert_eq!(body["status"], "rejected");
    assert_eq!(body["reporter"], "330102001");
    assert_eq!(body["period"], "2026-10");
    let i = issue(&body, "members_le_employees").expect("the rule is named");
    assert_eq!(i["sheet"], "基层工会情况");
    assert_eq!(i["cell"], "F4");
    assert_eq!(i["value"], "1205");
    assert_eq!(
        submission_count(&app).await,
        0,
        "a dry run stores no submission"
    );
    let county = app.indicators("330102", "2026-10").await;
    assert_eq!(metric(&county, "members"), None);

    // Accepted figures stay as they are through a dry run of a correction.
    let sub = app.submit(town_a_sheet(), "330102001", "2026-10").await;
    assert_eq!(sub["status"], "accepted", "{sub}");
    let before = app.indicators("330102", "2026-10").await;
    let (status, body) = app
        .upload_as(Some(&app.admin_key), members_above_employees(), query)
        .await;
    assert_eq!((status, body["status"].as_str()), (200, Some("rejected")));
    let (status, body) = app
        .upload_as(
            Some(&app.admin_key),
            {
                let mut rows = town_a_rows();
                rows[0][5] = C::N(99_100.0);
                workbook(None, BASIC, &rows)
            },
            query,
        )
        .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("accepted")),
        "{body}"
    );
    assert_eq!(body["error_count"], 0);
    assert_eq!(submission_count(&app).await, 1);
    assert_eq!(app.indicators("330102", "2026-10").await, before);
    assert!(app.verify().await.ok());

    // Scope and role apply as to an upload.
    let other = app.key("330103", Role::Submitter).await;
    let (status, _) = app
        .upload_as(Some(&other), members_above_employees(), query)
        .await;
    assert_eq!(status, 404);
    let viewer = app.key("330102", Role::Viewer).await;
    let (status, _) = app
        .upload_as(Some(&viewer), members_above_employees(), query)
        .await;
    assert_eq!(status, 403);
    // A key whose subtree does not hold the cover's reporter gets a rejection.
    let (status, body) = app
        .upload_as(
            Some(&other),
            workbook(
                Some(("330102001", "2026-10")),
                BASIC,
                &[basic_row("330102001001", "甲公司工会", 1.0, 1.0, 10.0, 9.0)],
            ),
            "dry_run=true",
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "rejected");
    assert!(issue(&body, "reporter_out_of_scope").is_some(), "{body}");
    // Something that is no workbook at all.
    let (status, body) = app
        .upload_as(Some(&app.admin_key), b"PK\x03\x04 broken".to_vec(), query)
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "rejected");
    assert!(body["error_count"].as_u64().unwrap() >= 1, "{body}");
    assert_eq!(submission_count(&app).await, 1);
    app.stop().await;
}

#[tokio::test]
async fn annotated_workbook_lists_issues_first_and_notes_the_rule_at_f4() {
    let app = spawn_app().await;
    let sub = app
        .submit(members_above_employees(), "330102001", "2026-10")
        .await;
    assert_eq!(sub["status"], "rejected");
    let id = sub["id"].as_i64().unwrap();
    let issues = sub["issues"].as_array().unwrap();
    let (status, ct, cd, bytes) = download(
        &app,
        &app.admin_key,
        &format!("/api/v1/submissions/{id}/annotated.xlsx"),
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    assert_eq!(ct, XLSX);
    assert_eq!(
        cd,
        format!("attachment; filename=\"submission_{id}_annotated.xlsx\"")
    );
    assert_eq!(sheet_names(&bytes), [ISSUES_SHEET, "基层工会情况"]);
    let list = sheet(&bytes, ISSUES_SHEET);
    assert_eq!(list.len(), issues.len() + 1);
    let row = list
        .iter()
        .find(|r| text(&r[1]) == "members_le_employees")
        .expect("listed");
    assert_eq!(text(&row[0]), "error");
    assert_eq!(text(&row[3]), "F4");
    let units = sheet(&bytes, "基层工会情况");
    assert_eq!(
        units[3][5],
        Data::Float(1205.0),
        "F4 holds the clerk's figure"
    );
    assert_eq!(text(&units[3][0]), "330102001002");
    let f4 = notes(&bytes, "基层工会情况");
    let (_, note) = f4
        .iter()
        .find(|(cell, _)| cell == "F4")
        .expect("a note on F4");
    assert!(note.starts_with("members_le_employees: "), "{note}");
    assert!(
        note.contains("会员人数") && note.contains("Members"),
        "{note}"
    );

    // Visible to whoever sees the submission, and to nobody else.
    let other = app.key("330103", Role::Viewer).await;
    let county = app.key("330102", Role::Viewer).await;
    let path = format!("/api/v1/submissions/{id}/annotated.xlsx");
    assert_eq!(download(&app, &other, &path).await.0, 404);
    assert_eq!(download(&app, &county, &path).await.0, 200);
    assert_eq!(
        download(
            &app,
            &app.admin_key,
            "/api/v1/submissions/999/annotated.xlsx"
        )
        .await
        .0,
        404
    );

    // A file nobody could read: the issue list alone.
    let sub = app
        .submit(b"PK\x03\x04 broken".to_vec(), "330102001", "2026-10")
        .await;
    assert_eq!(sub["status"], "rejected");
    let (status, _, _, bytes) = download(
        &app,
        &app.admin_key,
        &format!("/api/v1/submissions/{}/annotated.xlsx", sub["id"]),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(sheet_names(&bytes), [ISSUES_SHEET]);
    assert_eq!(
        sheet(&bytes, ISSUES_SHEET).len(),
        sub["issues"].as_array().unwrap().len() + 1
    );
    app.stop().await;
}

/// The cells of sheet `name` whose style carries Excel's quote prefix (text that
/// stays text when edited).
fn quote_prefixed_cells(bytes: &[u8], name: &str) -> Vec<String> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut read = |part: &str| -> String {
        let mut s = String::new();
        zip.by_name(part).unwrap().read_to_string(&mut s).unwrap();
        s
    };
    let part = format!(
        "xl/{}",
        sheet_part(
            &read("xl/workbook.xml"),
            &read("xl/_rels/workbook.xml.rels"),
            name
        )
    );
    let styles = read("xl/styles.xml");
    let xfs = styles
        .split("<cellXfs")
        .nth(1)
        .unwrap()
        .split("</cellXfs>")
        .next()
        .unwrap();
    let quoted: Vec<bool> = xfs
        .split("<xf ")
        .skip(1)
        .map(|xf| xf.split('>').next().unwrap().contains("quotePrefix=\"1\""))
        .collect();
    read(&part)
        .split("<c ")
        .skip(1)
        .filter_map(|c| {
            let head = c.split('>').next()?;
            let style: usize = attr_of(head, "s")?.parse().ok()?;
            quoted
                .get(style)
                .copied()
                .unwrap_or(false)
                .then(|| attr_of(head, "r"))?
        })
        .collect()
}

#[tokio::test]
async fn formula_like_text_is_kept_as_text_in_template_and_annotated_copy() {
    let app = spawn_app().await;
    // Master data may carry text that a spreadsheet would take for a formula.
    app.ctx
        .store
        .import_orgs(&[unit(
            "330102001004",
            "=HYPERLINK(\"http://x\",\"y\")",
            "330102001",
        )])
        .await
        .unwrap();
    let (status, _, _, bytes) = download(
        &app,
        &app.admin_key,
        "/api/v1/templates/330102001/2026-10.xlsx",
    )
    .await;
    assert_eq!(status, 200);
    let units = sheet(&bytes, "基层工会情况");
    let row = units
        .iter()
        .position(|r| r.first().map(text).as_deref() == Some("330102001004"))
        .expect("the unit is listed");
    assert_eq!(text(&units[row][1]), "=HYPERLINK(\"http://x\",\"y\")");
    assert_eq!(
        quote_prefixed_cells(&bytes, "基层工会情况"),
        [format!("B{}", row + 1)]
    );

    // A clerk's typed text that looks like a formula, in a rejected upload.
    let sub = app
        .submit(
            workbook(
                None,
                BASIC,
                &[
                    basic_row("330102001001", "+甲公司工会", 1.0, 1.0, 10.0, 9.0),
                    basic_row("330102001002", "乙公司工会", 1.0, 1.0, 10.0, 11.0),
                ],
            ),
            "330102001",
            "2026-10",
        )
        .await;
    assert_eq!(sub["status"], "rejected", "{sub}");
    let id = sub["id"].as_i64().unwrap();
    let (status, _, _, annotated) = download(
        &app,
        &app.admin_key,
        &format!("/api/v1/submissions/{id}/annotated.xlsx"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        text(&sheet(&annotated, "基层工会情况")[2][1]),
        "+甲公司工会"
    );
    assert!(
        quote_prefixed_cells(&annotated, "基层工会情况").contains(&"B3".to_string()),
        "{:?}",
        quote_prefixed_cells(&annotated, "基层工会情况")
    );
    // The issue list quotes the name it found (name_mismatch): quoted too.
    let list = sheet(&annotated, ISSUES_SHEET);
    let at = list
        .iter()
        .position(|r| text(&r[1]) == "name_mismatch")
        .expect("name_mismatch listed");
    assert_eq!(text(&list[at][4]), "+甲公司工会");
    assert!(quote_prefixed_cells(&annotated, ISSUES_SHEET).contains(&format!("E{}", at + 1)));

    app.stop().await;
}

// ------------------------------------------------------------------ command line

fn output(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn template_dry_run_and_annotate_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let csv: String = test_orgs()
        .iter()
        .map(|o| {
            format!(
                "{},{},{},{},{}\n",
                o.code,
                o.name,
                o.parent_code.as_deref().unwrap_or(""),
                o.kind.as_str(),
                o.expected_to_report
            )
        })
        .collect();
    std::fs::write(
        d.join("orgs.csv"),
        format!("code,name,parent_code,kind,expected_to_report\n{csv}"),
    )
    .unwrap();
    let out = unionstat(d, &["orgs", "import", "orgs.csv"]);
    assert!(out.status.success(), "{}", output(&out));

    let out = unionstat(
        d,
        &[
            "template",
            "--org",
            "330102001",
            "--period",
            "2026-10",
            "-o",
            "t.xlsx",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", output(&out));
    assert!(
        output(&out).contains("3 grassroots unit(s)"),
        "{}",
        output(&out)
    );
    let template = std::fs::read(d.join("t.xlsx")).unwrap();
    let wb = read_workbook(&template, &catalog(), &ReadLimits::default());
    let codes: Vec<&str> = wb.rows.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(codes, ["330102001001", "330102001002", "330102001003"]);
    // Another form's blank workbook: the annual survey of the statistical year.
    let out = unionstat(
        d,
        &[
            "template",
            "--org",
            "330102001",
            "--period",
            "2026SY",
            "--form",
            "annual_survey",
            "-o",
            "a.xlsx",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", output(&out));
    assert!(
        output(&out).contains("a.xlsx: form annual_survey of 330102001 湖滨街道总工会 for 2026SY"),
        "{}",
        output(&out)
    );
    let annual = read_workbook(
        &std::fs::read(d.join("a.xlsx")).unwrap(),
        &catalog(),
        &ReadLimits::default(),
    );
    assert_eq!(annual.form, "annual_survey");
    assert_eq!(annual.rows.len(), 3);
    // submit --form: named wrongly, refused (stored below, at the end).
    let out = unionstat(
        d,
        &[
            "submit",
            "a.xlsx",
            "--dry-run",
            "--form",
            "monthly",
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", output(&out));
    assert!(output(&out).contains("form_mismatch"), "{}", output(&out));
    let out = unionstat(
        d,
        &[
            "submit",
            "a.xlsx",
            "--dry-run",
            "--form",
            "annual_survey",
            "--period",
            "2026SY",
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", output(&out));
    assert!(
        output(&out).contains("\"period\": \"2026SY\""),
        "{}",
        output(&out)
    );
    assert!(!output(&out).contains("form_mismatch"), "{}", output(&out));
    let out = unionstat(
        d,
        &[
            "template",
            "--org",
            "330102001",
            "--period",
            "2026-09",
            "--form",
            "annual_survey",
            "-o",
            "b.xlsx",
        ],
    );
    assert_ne!(out.status.code(), Some(0));
    assert!(
        output(&out).contains("报告期应写作 2026SY，不是 2026-09"),
        "{}",
        output(&out)
    );
    for bad in [
        &[
            "template",
            "--org",
            "330102001001",
            "--period",
            "2026-10",
            "-o",
            "x.xlsx",
        ][..],
        &[
            "template", "--org", "999", "--period", "2026-10", "-o", "x.xlsx",
        ],
        &[
            "template",
            "--org",
            "330102001",
            "--period",
            "2026-13",
            "-o",
            "x.xlsx",
        ],
    ] {
        let out = unionstat(d, bad);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", output(&out));
    }

    std::fs::write(d.join("filled.xlsx"), fill(&template)).unwrap();
    std::fs::write(d.join("bad.xlsx"), members_above_employees()).unwrap();
    let flags = ["--as", "330102001", "--period", "2026-10"];
    let with = |args: &[&str]| -> Vec<String> {
        args.iter()
            .chain(flags.iter())
            .map(|s| s.to_string())
            .collect()
    };
    let run = |args: Vec<String>| {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        unionstat(d, &refs)
    };

    // Dry runs: verdicts, exit codes, annotated copies — and nothing stored.
    let out = run(with(&[
        "submit",
        "--dry-run",
        "bad.xlsx",
        "--annotate",
        "bad.annotated.xlsx",
    ]));
    assert_eq!(out.status.code(), Some(1), "{}", output(&out));
    let text_out = output(&out);
    assert!(
        text_out.contains("would be rejected (dry run, nothing stored"),
        "{text_out}"
    );
    assert!(
        text_out.contains("基层工会情况!F4") && text_out.contains("members_le_employees"),
        "{text_out}"
    );
    let annotated = std::fs::read(d.join("bad.annotated.xlsx")).unwrap();
    assert_eq!(sheet_names(&annotated)[0], ISSUES_SHEET);
    assert!(notes(&annotated, "基层工会情况")
        .iter()
        .any(|(c, n)| c == "F4" && n.starts_with("members_le_employees")));

    let out = run(with(&[
        "submit",
        "--dry-run",
        "--json",
        "filled.xlsx",
        "bad.xlsx",
        "--annotate",
        "marked",
    ]));
    assert_eq!(out.status.code(), Some(1), "{}", output(&out));
    let verdicts: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(verdicts[0]["status"], "accepted", "{verdicts}");
    assert_eq!(verdicts[0]["dry_run"], true);
    assert_eq!(verdicts[0]["id"], Value::Null);
    assert_eq!(verdicts[1]["status"], "rejected");
    for name in ["filled.annotated.xlsx", "bad.annotated.xlsx"] {
        assert!(d.join("marked").join(name).is_file(), "{name}");
    }
    let out = run(with(&["submit", "--dry-run", "filled.xlsx"]));
    assert_eq!(out.status.code(), Some(0), "{}", output(&out));

    // The first real submission is number 1: the dry runs stored nothing.
    let out = run(with(&["submit", "bad.xlsx", "--annotate", "stored.xlsx"]));
    assert_eq!(out.status.code(), Some(1), "{}", output(&out));
    assert!(
        output(&out).contains("rejected (submission 1, 330102001 2026-10)"),
        "{}",
        output(&out)
    );
    let stored = std::fs::read(d.join("stored.xlsx")).unwrap();
    assert!(notes(&stored, "基层工会情况")
        .iter()
        .any(|(c, n)| c == "F4" && n.starts_with("members_le_employees")));
    let out = run(with(&["submit", "filled.xlsx"]));
    assert_eq!(out.status.code(), Some(0), "{}", output(&out));
    assert!(
        output(&out).contains("accepted (submission 2"),
        "{}",
        output(&out)
    );

    let out = unionstat(d, &["submit", "--dry-run", "--no-wait", "bad.xlsx"]);
    assert_eq!(out.status.code(), Some(2), "{}", output(&out));

    // submit --form stores another form as the API does: the town's annual
    // survey of 2026SY (an admin's reason, so the clock does not matter).
    let survey = crate::forms::annual_of(
        ("330102001", "湖滨街道总工会"),
        &[
            ("330102001001", "甲公司工会", 430, 200, 520, "单独"),
            ("330102001002", "乙公司工会", 260, 100, 300, "单独"),
        ],
    );
    std::fs::write(d.join("survey.xlsx"), survey).unwrap();
    let out = unionstat(
        d,
        &[
            "submit",
            "survey.xlsx",
            "--form",
            "annual_survey",
            "--reason",
            "survey",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", output(&out));
    assert!(
        output(&out).contains("accepted (submission 3, 330102001 2026SY)"),
        "{}",
        output(&out)
    );
    // Named as the monthly form, the job refuses it (form_mismatch).
    let out = unionstat(d, &["submit", "survey.xlsx", "--form", "monthly", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", output(&out));
    let verdicts: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(verdicts[0]["id"], 4, "{verdicts}");
    assert_eq!(verdicts[0]["status"], "rejected", "{verdicts}");
    assert!(output(&out).contains("form_mismatch"), "{}", output(&out));
    // The stored figures, read back: 会员 430 + 260, 职工 520 + 300.
    let out = unionstat(
        d,
        &[
            "export",
            "--org",
            "330102001",
            "--period",
            "2026SY",
            "--form",
            "annual_survey",
            "-o",
            "survey_export.xlsx",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", output(&out));
    let bytes = std::fs::read(d.join("survey_export.xlsx")).unwrap();
    let mut x: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).unwrap();
    let r = x
        .worksheet_range(workbook_out::export::FORM_FIGURES_SHEET)
        .unwrap();
    let row = workbook_out::export::FIRST_DATA_ROW;
    let col = u32::from(workbook_out::export::FORM_FIRST_METRIC_COL);
    assert_eq!(r.get_value((row, col)), Some(&Data::Float(690.0)));
    assert_eq!(r.get_value((row, col + 3)), Some(&Data::Float(820.0)));
    assert_eq!(r.get_value((row + 2, col)), Some(&Data::Float(260.0)));
}

// ------------------------------------------------------------------ LibreOffice

/// `soffice`, when installed. Missing, the caller skips loudly — unless CI=true,
/// where it is a failure (`.ci/run` installs libreoffice-calc).
fn soffice() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .flat_map(|p| ["soffice", "libreoffice"].map(|n| p.join(n)))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("LibreOffice (soffice) is required when CI=true: apt-get install -y --no-install-recommends libreoffice-calc");
        }
        // Straight to stderr: libtest captures eprintln! of a passing test.
        let _ = writeln!(
            std::io::stderr(),
            "\n!!!!! SKIPPED: LibreOffice (soffice) is not installed; the LibreOffice round trips were NOT tested !!!!!\n"
        );
    }
    found
}

/// Converts `input` with LibreOffice headless to `format` (`xlsx`, `ods`, `xls`)
/// into a fresh directory; returns the converted bytes.
async fn convert(soffice: &Path, input: &[u8], name: &str, format: &str) -> Vec<u8> {
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join(name);
    std::fs::write(&src, input).unwrap();
    let out_dir = work.path().join("out");
    // Its own profile, so conversions running in parallel do not collide.
    let profile = format!(
        "-env:UserInstallation=file://{}",
        work.path().join("profile").display()
    );
    let run = tokio::process::Command::new(soffice)
        .arg(&profile)
        .args([
            "--headless",
            "--norestore",
            "--convert-to",
            format,
            "--outdir",
        ])
        .arg(&out_dir)
        .arg(&src)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(180), run)
        .await
        .expect("LibreOffice finished within 3 minutes")
        .expect("LibreOffice runs");
    let stem = Path::new(name).file_stem().unwrap().to_string_lossy();
    let converted = out_dir.join(format!("{stem}.{format}"));
    assert!(
        out.status.success() && converted.is_file(),
        "soffice --convert-to {format} {name}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(converted).unwrap()
}

#[tokio::test]
async fn templates_and_annotated_workbooks_survive_libreoffice() {
    let Some(soffice) = soffice() else { return };
    let app = spawn_app().await;
    let c = catalog();
    let (_, _, _, template) = download(
        &app,
        &app.admin_key,
        "/api/v1/templates/330102001/2026-10.xlsx",
    )
    .await;
    let original = read_workbook(&template, &c, &ReadLimits::default());

    // The blank template saved by LibreOffice reads back with the same header and units.
    for format in ["xlsx", "ods"] {
        let saved = convert(&soffice, &template, "template.xlsx", format).await;
        let wb = read_workbook(&saved, &c, &ReadLimits::default());
        assert!(wb.issues.is_empty(), "{format}: {:?}", wb.issues);
        assert_eq!(wb.header_row, original.header_row, "{format}");
        assert_eq!(wb.columns, original.columns, "{format}");
        let codes = |w: &unionstat::core::ingest::Workbook| {
            w.rows
                .iter()
                .map(|r| (r.code.clone(), r.name.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(codes(&wb), codes(&original), "{format}");
        assert_eq!(
            wb.cover.as_ref().unwrap().period.as_ref().unwrap().value,
            "2026-10",
            "{format}"
        );
        if format == "xlsx" {
            assert_eq!(
                notes(&saved, "基层工会情况").len(),
                unionstat::core::Catalog::builtin().unwrap().metrics.len(),
                "the header notes survive"
            );
        }
    }

    // Filled, saved by LibreOffice (xlsx, then ods), uploaded: accepted with the same totals.
    let filled = fill(&template);
    for format in ["xlsx", "ods"] {
        let saved = convert(&soffice, &filled, "filled.xlsx", format).await;
        let (status, body) = app.upload_as(Some(&app.admin_key), saved, "").await;
        assert!(status == 202 || status == 200, "{format}: {body}");
        let sub = app.wait(body["id"].as_i64().unwrap()).await;
        assert_eq!(sub["status"], "accepted", "{format}: {sub}");
        assert_county_totals(&app).await;
    }

    // The annotated workbook converts cleanly and keeps its notes naming the rule.
    let sub = app
        .submit(members_above_employees(), "330102001", "2026-10")
        .await;
    assert_eq!(sub["status"], "rejected");
    let (_, _, _, annotated) = download(
        &app,
        &app.admin_key,
        &format!("/api/v1/submissions/{}/annotated.xlsx", sub["id"]),
    )
    .await;
    let saved = convert(&soffice, &annotated, "annotated.xlsx", "xlsx").await;
    assert_eq!(sheet_names(&saved), [ISSUES_SHEET, "基层工会情况"]);
    assert_eq!(
        sheet(&saved, ISSUES_SHEET).len(),
        sub["issues"].as_array().unwrap().len() + 1
    );
    let f4 = notes(&saved, "基层工会情况");
    assert!(
        f4.iter()
            .any(|(c, n)| c == "F4" && n.contains("members_le_employees")),
        "{f4:?}"
    );
    let ods = convert(&soffice, &annotated, "annotated.xlsx", "ods").await;
    assert!(ods.starts_with(b"PK"));
    app.stop().await;
}

postgres_twins!(
    template_downloaded_filled_and_uploaded_is_accepted_with_exact_county_totals,
    blank_template_uploaded_as_is_reports_nothing_and_passes_its_total_row,
    template_answers_404_and_422_as_documented,
    dry_run_names_the_error_cell_and_stores_nothing,
    annotated_workbook_lists_issues_first_and_notes_the_rule_at_f4,
    template_dry_run_and_annotate_from_the_command_line,
    templates_and_annotated_workbooks_survive_libreoffice,
    formula_like_text_is_kept_as_text_in_template_and_annotated_copy,
);
