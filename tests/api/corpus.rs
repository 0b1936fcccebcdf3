//! Workbooks as real writers produce them: a messy sheet written by
//! rust_xlsxwriter, the same sheet after LibreOffice converted it to .xls
//! (BIFF8, as old Excel and WPS save) and .ods, and written by Python's openpyxl
//! and XlsxWriter (tests/corpus/python_writers.py). Each is accepted with the
//! exact totals. Without LibreOffice or the Python packages those files are
//! skipped loudly, except under CI=true where they fail (.ci/run installs them).

use std::path::Path;
use std::process::Command;

use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

use crate::helpers::*;

/// Title rows with a merged title, a header with line breaks, full-width
/// brackets and units, shuffled columns, an unknown column, the number forms
/// clerks type, a blank row, a 合计 row and trailing notes; the period on the
/// cover as a date cell.
fn messy_workbook() -> Vec<u8> {
    let mut wb = Workbook::new();
    let cover = wb.add_worksheet().set_name("封面").unwrap();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    cover.write_string(0, 0, "报送单位代码：").unwrap();
    cover.write_string(0, 1, "330102001").unwrap();
    cover.write_string(1, 0, "报告期").unwrap();
    cover
        .write_datetime_with_format(1, 1, &ExcelDateTime::from_ymd(2026, 10, 31).unwrap(), &date)
        .unwrap();
    cover.write_string(2, 0, "填报人").unwrap();
    cover.write_string(2, 1, "李四").unwrap();

    let ws = wb.add_worksheet().set_name("基层工会情况").unwrap();
    ws.merge_range(0, 0, 0, 10, "2026年10月基层工会统计月报表", &Format::new())
        .unwrap();
    ws.write_string(1, 0, "填报单位：湖滨街道总工会").unwrap();
    let header = [
        "会员人数\n(人)",
        "单位名称",
        "单位代码",
        "职工人数（人）",
        "应建会单位数",
        "已建会\n单位数",
        "备注说明列",
        "在档困难职工人数",
        "全国级困难职工人数",
        "省级困难职工人数",
        "市县级困难职工人数",
    ];
    for (c, h) in header.iter().enumerate() {
        ws.write_string(2, c as u16, *h).unwrap();
    }
    enum V {
        S(&'static str),
        N(f64),
    }
    let rows: [[Option<V>; 11]; 3] = [
        [
            Some(V::S("99,000")),
            Some(V::S("甲公司工会")),
            Some(V::S("330102001001")),
            Some(V::S("100,000")),
            Some(V::N(20.0)),
            Some(V::N(19.0)),
            Some(V::S("无")),
            Some(V::N(38.0)),
            Some(V::N(8.0)),
            Some(V::N(16.0)),
            Some(V::N(14.0)),
        ],
        [
            Some(V::N(59_500.0)),
            Some(V::S("乙公司工会")),
            Some(V::S("330102001002")),
            Some(V::S("6万")),
            Some(V::S("15")),
            Some(V::N(14.0)),
            None,
            None,
            None,
            None,
            None,
        ],
        [
            Some(V::S("３７５００")),
            Some(V::S("丙公司工会")),
            Some(V::S("330102001003")),
            Some(V::S(" 38000 ")),
            Some(V::N(6.0)),
            Some(V::S("6")),
            None,
            None,
            None,
            None,
            None,
        ],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            let (r, c) = (r as u32 + 3, c as u16);
            match v {
                Some(V::S(s)) => {
                    ws.write_string(r, c, *s).unwrap();
                }
                Some(V::N(n)) => {
                    ws.write_number(r, c, *n).unwrap();
                }
                None => {}
            }
        }
    }
    // Row 7 blank; row 8 the total; row 10 the notes.
    let total = [
        196_000.0, 0.0, 0.0, 198_000.0, 41.0, 39.0, 0.0, 38.0, 8.0, 16.0, 14.0,
    ];
    ws.write_string(7, 2, "合计").unwrap();
    for (c, v) in total.iter().enumerate() {
        if ![1, 2, 6].contains(&c) {
            ws.write_number(7, c as u16, *v).unwrap();
        }
    }
    ws.write_string(9, 0, "填表说明：1. 本表按月报送；2. 人数填整数。")
        .unwrap();
    wb.save_to_buffer().unwrap()
}

/// Converts with LibreOffice headless; None (with a loud note) when it is not
/// installed and CI is not set.
fn convert(src: &Path, to: &str, out: &Path) -> Option<Vec<u8>> {
    let soffice = ["soffice", "libreoffice"].into_iter().find(|b| {
        Command::new(b)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    let Some(soffice) = soffice else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!(
                "LibreOffice (soffice) is required under CI=true: apt-get install libreoffice-calc"
            );
        }
        eprintln!("SKIPPED: LibreOffice is not installed; the .{to} conversion is not tested");
        return None;
    };
    let profile = out.join(format!("lo-profile-{to}"));
    let status = Command::new(soffice)
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.display()
        ))
        .args(["--headless", "--norestore", "--convert-to", to, "--outdir"])
        .arg(out)
        .arg(src)
        .output()
        .expect("run soffice");
    assert!(
        status.status.success(),
        "soffice failed: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    let stem = src.file_stem().unwrap().to_str().unwrap();
    Some(std::fs::read(out.join(format!("{stem}.{to}"))).expect("converted file"))
}

/// Uploads one rendering of the messy sheet (reporter and period from its
/// cover) and checks the verdict and the town's exact figures.
async fn assert_messy_sheet_accepted(app: &TestApp, kind: &str, bytes: Vec<u8>) {
    // The cover names reporter and period (a date cell); the caller does not.
    let (status, body) = app.upload_as(Some(&app.admin_key), bytes, "").await;
    assert_eq!(status, 202, "{kind}: {body}");
    let sub = app.wait(body["id"].as_i64().unwrap()).await;
    assert_eq!(sub["status"], "accepted", "{kind}: {sub}");
    assert_eq!(
        (sub["reporter"].as_str(), sub["period"].as_str()),
        (Some("330102001"), Some("2026-10")),
        "{kind}"
    );
    let unknown = issue(&sub, "unknown_column").unwrap_or_else(|| panic!("{kind}: {sub}"));
    assert_eq!(unknown["cell"], "G3", "{kind}");
    let town = app.indicators("330102001", "2026-10").await;
    for (metric_code, want) in [
        ("employees", 198_000.0),
        ("members", 196_000.0),
        ("enterprises_required", 41.0),
        ("unions_established", 39.0),
        ("needy_workers", 38.0),
        ("needy_local", 14.0),
    ] {
        assert_eq!(
            metric(&town, metric_code),
            Some(want),
            "{kind}: {metric_code}"
        );
    }
    assert_eq!(
        town["metric_coverage"]["needy_workers"]["reported_units"], 1,
        "{kind}"
    );
    assert_eq!(
        format!("{:.5}", rate(&town, "membership_rate").unwrap()),
        "0.98990",
        "{kind}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messy_sheets_from_real_writers_are_accepted_with_exact_totals() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let xlsx = dir.path().join("messy.xlsx");
    std::fs::write(&xlsx, messy_workbook()).unwrap();
    let mut files = vec![("xlsx", std::fs::read(&xlsx).unwrap())];
    for to in ["xls", "ods"] {
        if let Some(bytes) = convert(&xlsx, to, dir.path()) {
            files.push((to, bytes));
        }
    }
    for (kind, bytes) in files {
        assert_messy_sheet_accepted(&app, kind, bytes).await;
    }
    assert!(app.verify().await.ok());
    app.stop().await;
}

/// The same sheet written by Python's openpyxl and XlsxWriter (the latter with
/// SUM formulas and their cached values in the 合计 row), where Python has them;
/// skipped loudly otherwise (.ci/run installs them with pip).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_messy_sheet_from_openpyxl_and_xlsxwriter_is_accepted_with_exact_totals() {
    let present = Command::new("python3")
        .args(["-c", "import openpyxl, xlsxwriter"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !present {
        let why =
            "python3 with openpyxl and XlsxWriter is missing (pip install openpyxl XlsxWriter)";
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{why}");
        eprintln!("SKIPPED the Python writers' corpus: {why}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/corpus/python_writers.py"
    );
    let out = Command::new("python3")
        .arg(script)
        .arg(dir.path())
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let app = spawn_app().await;
    for kind in ["openpyxl", "xlsxwriter"] {
        let bytes = std::fs::read(dir.path().join(format!("{kind}.xlsx"))).unwrap();
        assert_messy_sheet_accepted(&app, kind, bytes).await;
    }
    assert!(app.verify().await.ok());
    app.stop().await;
}

postgres_twins!(
    messy_sheets_from_real_writers_are_accepted_with_exact_totals,
    the_messy_sheet_from_openpyxl_and_xlsxwriter_is_accepted_with_exact_totals,
);
