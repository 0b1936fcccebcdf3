//! The roll-up workbook: its numbers equal the API's, read back with calamine;
//! formula-like text is never evaluated.

use std::io::Cursor;
use std::process::Command;

use calamine::{Data, Range, Reader, Xlsx};
use serde_json::Value;
use unionstat::core::workbook_out::export::{
    CHART_SHEET, COMPLETENESS_SHEET, FIRST_DATA_ROW, FIRST_INDICATOR_COL, INDICATORS_SHEET,
};
use unionstat::core::workbook_out::inspect::cell_number_formats;

use crate::helpers::*;

const EVIL: &str = "=HYPERLINK(\"http://example.invalid\",\"点我\")";

pub(crate) async fn download(app: &TestApp, path: &str) -> (u16, Vec<u8>) {
    let resp = app
        .client
        .get(format!("{}{path}", app.addr))
        .bearer_auth(&app.admin_key)
        .send()
        .await
        .unwrap();
    let s = resp.status().as_u16();
    (s, resp.bytes().await.unwrap().to_vec())
}

/// The cells of the sheet `name` of an .xlsx workbook.
pub(crate) fn sheet(bytes: &[u8], name: &str) -> Range<Data> {
    let mut x: Xlsx<_> = Xlsx::new(Cursor::new(bytes.to_vec())).unwrap();
    x.worksheet_range(name).unwrap()
}

fn cell_f64(r: &Range<Data>, row: u32, col: u32) -> Option<f64> {
    match r.get_value((row, col)) {
        Some(Data::Float(f)) => Some(*f),
        Some(Data::Int(i)) => Some(*i as f64),
        Some(Data::Empty) | None => None,
        Some(other) => panic!("({row},{col}) holds {other:?}"),
    }
}

fn cell_str(r: &Range<Data>, row: u32, col: u32) -> String {
    match r.get_value((row, col)) {
        Some(Data::String(s)) => s.clone(),
        other => panic!("({row},{col}) holds {other:?}"),
    }
}

/// Compares every indicator row of the workbook with the API's answer.
fn assert_matches_api(bytes: &[u8], api: &Value, indicators: &[String]) {
    let r = sheet(bytes, INDICATORS_SHEET);
    let mut nodes = vec![api.clone()];
    nodes.extend(api["children"].as_array().unwrap().iter().cloned());
    for (i, n) in nodes.iter().enumerate() {
        let row = FIRST_DATA_ROW + i as u32;
        assert_eq!(cell_str(&r, row, 0), n["org"].as_str().unwrap());
        assert_eq!(cell_str(&r, row, 1), n["name"].as_str().unwrap());
        for (c, key) in [
            "expected_units",
            "reported_units",
            "expected_reporters",
            "reported_reporters",
        ]
        .iter()
        .enumerate()
        {
            assert_eq!(
                cell_f64(&r, row, 2 + c as u32),
                n["coverage"][*key].as_f64(),
                "{} {key}",
                n["org"]
            );
        }
        for (k, code) in indicators.iter().enumerate() {
            let col = FIRST_INDICATOR_COL as u32 + 3 * k as u32;
            let rate = &n["indicators"][code];
            for (d, part) in ["value", "numerator", "denominator"].iter().enumerate() {
                let (got, want) = (cell_f64(&r, row, col + d as u32), rate[*part].as_f64());
                // Numerators and denominators are exact; a rate may differ in its
                // last bit (a spreadsheet keeps 15-17 significant digits).
                let same = match (got, want) {
                    (Some(g), Some(w)) => (g - w).abs() <= 1e-15 * w.abs().max(1.0),
                    (g, w) => g == w,
                };
                assert!(
                    same,
                    "{} {code} {part}: {got:?} in the workbook, {want:?} from the API",
                    n["org"]
                );
                if d > 0 {
                    assert_eq!(got, want, "{} {code} {part}", n["org"]);
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_export_holds_the_apis_numbers_and_never_a_formula() {
    let app = spawn_app().await;
    app.add_orgs(&[fed("330102003", EVIL, Some("330102"), true)])
        .await;
    app.submit(town_a_sheet(), "330102001", "2026-10").await;
    let town_b = workbook_with_cover(
        Some(("330102002", "2026-10", "@王五", Some("+86 571 8888"))),
        BASIC,
        &[
            basic_row("330102002001", "丁公司工会", 3.0, 2.0, 500.0, 450.0),
            basic_row("330102002002", "戊公司工会", 1.0, 1.0, 70.0, 70.0),
        ],
    );
    assert_eq!(
        app.submit(town_b, "330102002", "2026-10").await["status"],
        "accepted"
    );
    let mut indicators: Vec<String> = app
        .ctx
        .catalog
        .indicators
        .iter()
        .map(|i| i.code.clone())
        .collect();
    indicators.push("reporting_rate".into());

    for period in ["2026-10", "2026Q4"] {
        let (s, bytes) = download(
            &app,
            &format!("/api/v1/orgs/330102/export.xlsx?period={period}"),
        )
        .await;
        assert_eq!(s, 200, "{}", String::from_utf8_lossy(&bytes));
        let (_, api) = app
            .get(
                &app.admin_key,
                &format!("/api/v1/orgs/330102/indicators?period={period}&children=true"),
            )
            .await;
        assert_eq!(api["children"].as_array().unwrap().len(), 3);
        assert_matches_api(&bytes, &api, &indicators);
    }
    let (_, bytes) = download(&app, "/api/v1/orgs/330102/export.xlsx?period=2026-10").await;

    // The chart sheet lists 入会率 by child: 196,000/198,000 and 520/570.
    let chart = sheet(&bytes, CHART_SHEET);
    assert_eq!(cell_str(&chart, 2, 0), "330102001");
    let close = |v: Option<f64>, w: f64| v.is_some_and(|v| (v - w).abs() < 1e-15);
    assert!(close(cell_f64(&chart, 2, 2), 196_000.0 / 198_000.0));
    assert!(close(cell_f64(&chart, 3, 2), 520.0 / 570.0));
    assert_eq!(cell_f64(&chart, 4, 2), None);
    assert_eq!(cell_str(&chart, 4, 1), EVIL);
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes.clone())).unwrap();
    assert!(
        zip.by_name("xl/charts/chart1.xml").is_ok(),
        "a chart is in the workbook"
    );

    // The completeness sheet: the county and each town's status, as the API says.
    let (_, comp) = app
        .get(
            &app.admin_key,
            "/api/v1/orgs/330102/completeness?period=2026-10",
        )
        .await;
    let c = sheet(&bytes, COMPLETENESS_SHEET);
    assert_eq!(cell_str(&c, 2, 0), "330102");
    assert_eq!(cell_f64(&c, 2, 3), comp["expected_reporters"].as_f64());
    assert_eq!(cell_f64(&c, 2, 4), comp["reported"].as_f64());
    assert_eq!(
        cell_f64(&c, 2, 10),
        comp["reporting_rate"]["value"].as_f64()
    );
    let statuses: Vec<(String, String)> = c
        .rows()
        .filter(|row| matches!(&row[0], Data::String(s) if s.starts_with("330102") && s.len() == 9))
        .map(|row| (row[0].to_string(), row[2].to_string()))
        .collect();
    let api_statuses: Vec<(String, String)> = comp["reporters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["code"].as_str().unwrap().to_string(),
                r["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(statuses, api_statuses);
    // Text a spreadsheet could take for a formula stays text.
    let contact: Vec<String> = c
        .rows()
        .find(|row| row[0] == Data::String("330102002".into()))
        .unwrap()
        .iter()
        .map(|d| d.to_string())
        .collect();
    assert_eq!(
        (contact[4].as_str(), contact[5].as_str()),
        ("@王五", "+86 571 8888")
    );
    let mut x: Xlsx<_> = Xlsx::new(Cursor::new(bytes.clone())).unwrap();
    for name in [INDICATORS_SHEET, CHART_SHEET, COMPLETENESS_SHEET] {
        let formulas = x.worksheet_formula(name).unwrap();
        assert!(
            formulas.cells().all(|(_, _, f)| f.is_empty()),
            "{name} has a formula"
        );
    }
    let mut styles = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("xl/styles.xml").unwrap(), &mut styles).unwrap();
    assert!(styles.contains("quotePrefix=\"1\""));

    // Counts show as `63,805`, rates as percentages: never `#,##0.##`,
    // which Excel shows as `63,805.`.
    let formats = cell_number_formats(&bytes, 0).unwrap();
    let at = |cell: &str| formats.get(cell).map(String::as_str);
    // Row 5 is the county: units expected and reported (C, D), and
    // 建会率's value, numerator and denominator (the first indicator: G, H, I).
    assert_eq!((at("C5"), at("D5")), (Some("#,##0"), Some("#,##0")));
    assert_eq!(at("G5"), Some("0.00%"));
    assert_eq!((at("H5"), at("I5")), (Some("#,##0"), Some("#,##0")));
    assert!(formats.values().all(|f| !f.contains(".##")), "{formats:?}");
    let formats = cell_number_formats(&bytes, 2).unwrap();
    let at = |cell: &str| formats.get(cell).map(String::as_str);
    // The county's completeness row: expected (D), missing (J), 报送率 (K).
    assert_eq!((at("D3"), at("J3")), (Some("#,##0"), Some("#,##0")));
    assert_eq!(at("K3"), Some("0.00%"));

    // `unionstat export` writes the same numbers.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("county.xlsx");
    let run = Command::new(env!("CARGO_BIN_EXE_unionstat"))
        .args([
            "--database",
            &app.ctx.settings.database.url,
            "export",
            "--org",
            "330102",
            "--period",
            "2026-10",
            "-o",
        ])
        .arg(&out)
        .env("UNIONSTAT_LOG__LEVEL", "warn")
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let cli_bytes = std::fs::read(&out).unwrap();
    assert_eq!(
        sheet(&cli_bytes, INDICATORS_SHEET),
        sheet(&bytes, INDICATORS_SHEET)
    );

    let (s, _) = download(&app, "/api/v1/orgs/330102/export.xlsx?period=2026Q9").await;
    assert_eq!(s, 422);
    let (s, _) = download(&app, "/api/v1/orgs/nope/export.xlsx?period=2026-10").await;
    assert_eq!(s, 404);
    app.stop().await;
}

postgres_twins!(the_export_holds_the_apis_numbers_and_never_a_formula,);
