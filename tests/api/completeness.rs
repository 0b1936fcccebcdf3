//! Completeness and timeliness around the deadline, both 入会率 definitions,
//! and the outlier warnings against a unit's previous report.

use std::process::Command;

use serde_json::Value;

use crate::helpers::*;

fn one_unit(code: &'static str, emp: f64, mem: f64) -> Vec<u8> {
    workbook(
        None,
        BASIC,
        &[basic_row(code, "某工会", 2.0, 1.0, emp, mem)],
    )
}

fn status_of(v: &Value, code: &str) -> String {
    v["reporters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == code)
        .map(|r| r["status"].as_str().unwrap().to_string())
        .unwrap_or_default()
}

fn level<'a>(v: &'a Value, org: &str) -> &'a Value {
    v["levels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["org"] == org)
        .unwrap_or_else(|| panic!("no level {org} in {v}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completeness_sorts_reporters_around_the_deadline_at_every_level() {
    let app = spawn_app().await;
    // A fourth town, under county 330103, that reported in August only.
    app.add_orgs(&[
        fed("330103002", "天水街道总工会", Some("330103"), true),
        unit("330103002001", "庚公司工会", "330103002"),
    ])
    .await;
    let august = workbook_with_cover(
        Some(("330103002", "2026-08", "李四", Some("0571-88886666"))),
        BASIC,
        &[basic_row(
            "330103002001",
            "庚公司工会",
            2.0,
            1.0,
            50.0,
            40.0,
        )],
    );
    assert_eq!(
        app.submit(august, "330103002", "2026-08").await["status"],
        "accepted"
    );

    // 2026-09 is due on 2026-10-10, end of day in reporting.time_zone
    // (Asia/Shanghai): 16:00 UTC.
    let a = app
        .submit(
            one_unit("330102001001", 100.0, 90.0),
            "330102001",
            "2026-09",
        )
        .await;
    app.set_received_at(a["id"].as_i64().unwrap(), "2026-10-10T15:59:59.000Z")
        .await;
    // A correction after the deadline does not make town A late.
    let a2 = app
        .submit(
            one_unit("330102001001", 101.0, 90.0),
            "330102001",
            "2026-09",
        )
        .await;
    assert_eq!(a2["status"], "accepted");
    let b = app
        .submit(
            one_unit("330102002001", 100.0, 90.0),
            "330102002",
            "2026-09",
        )
        .await;
    app.set_received_at(b["id"].as_i64().unwrap(), "2026-10-10T16:00:00.500Z")
        .await;
    // Town C sent only a sheet with an error.
    let c = app
        .submit(
            one_unit("330103001001", 100.0, 101.0),
            "330103001",
            "2026-09",
        )
        .await;
    assert_eq!(c["status"], "rejected");

    let (s, v) = app
        .get(
            &app.admin_key,
            "/api/v1/orgs/330000/completeness?period=2026-09",
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["deadline"], "2026-10-10");
    let counts: Vec<i64> = [
        "expected_reporters",
        "reported",
        "on_time",
        "late",
        "pending",
        "rejected",
        "missing",
    ]
    .iter()
    .map(|k| v[*k].as_i64().unwrap())
    .collect();
    assert_eq!(counts, vec![4, 2, 1, 1, 0, 1, 1]);
    assert_eq!(status_of(&v, "330102001"), "on_time");
    assert_eq!(status_of(&v, "330102002"), "late");
    assert_eq!(status_of(&v, "330103001"), "rejected");
    assert_eq!(status_of(&v, "330103002"), "missing");
    assert_eq!(v["reporting_rate"]["value"].as_f64(), Some(0.5));
    assert_eq!(v["timeliness_rate"]["value"].as_f64(), Some(0.25));
    // The missing town's contact comes from its last cover sheet (August).
    let missing = v["reporters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "330103002")
        .unwrap();
    assert_eq!(missing["preparer"], "李四");
    assert_eq!(missing["phone"], "0571-88886666");
    // 报送率 and 及时率 at every level: province, city, both counties.
    let levels: Vec<(String, i64)> = v["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["org"].as_str().unwrap().to_string(),
                l["level"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        levels,
        vec![
            ("330000".into(), 0),
            ("330100".into(), 1),
            ("330102".into(), 2),
            ("330103".into(), 2)
        ]
    );
    let county = level(&v, "330102");
    assert_eq!(
        (
            county["expected_reporters"].as_i64(),
            county["reported"].as_i64(),
            county["on_time"].as_i64()
        ),
        (Some(2), Some(2), Some(1))
    );
    assert_eq!(county["reporting_rate"]["value"].as_f64(), Some(1.0));
    assert_eq!(county["timeliness_rate"]["value"].as_f64(), Some(0.5));
    let other = level(&v, "330103");
    assert_eq!(other["reporting_rate"]["value"].as_f64(), Some(0.0));
    assert_eq!(
        (other["rejected"].as_i64(), other["missing"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(
        level(&v, "330100")["timeliness_rate"]["value"].as_f64(),
        Some(0.25)
    );

    // The CLI lists who is not on time, with the contact.
    let out = Command::new(env!("CARGO_BIN_EXE_unionstat"))
        .args([
            "--database",
            &app.ctx.settings.database.url,
            "completeness",
            "--org",
            "330000",
            "--period",
            "2026-09",
        ])
        .env("UNIONSTAT_LOG__LEVEL", "warn")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    let line = text
        .lines()
        .find(|l| l.contains("330103002") && l.contains("missing"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        line.contains("李四") && line.contains("0571-88886666"),
        "{line}"
    );
    assert!(text.contains("及时率 25.00%"), "{text}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deadline_day_comes_from_the_config() {
    let app = spawn_app_with(|s| s.reporting.deadline_day = 12).await;
    let a = app
        .submit(
            one_unit("330102001001", 100.0, 90.0),
            "330102001",
            "2026-09",
        )
        .await;
    let id = a["id"].as_i64().unwrap();
    let status = |v: Value| status_of(&v, "330102001");
    // 23:00 in Asia/Shanghai.
    app.set_received_at(id, "2026-10-12T15:00:00.000Z").await;
    let (_, v) = app
        .get(
            &app.admin_key,
            "/api/v1/orgs/330102/completeness?period=2026-09",
        )
        .await;
    assert_eq!(v["deadline"], "2026-10-12");
    assert_eq!(status(v), "on_time");
    // 00:00:01 on the 13th in Asia/Shanghai.
    app.set_received_at(id, "2026-10-12T16:00:01.000Z").await;
    let (_, v) = app
        .get(
            &app.admin_key,
            "/api/v1/orgs/330102/completeness?period=2026-09",
        )
        .await;
    assert_eq!(status(v), "late");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_membership_rate_definitions_are_computed_and_documented() {
    let app = spawn_app().await;
    let header = &[
        "单位代码",
        "单位名称",
        "职工人数",
        "已建会单位职工人数",
        "会员人数",
    ];
    let row = |code: &'static str, emp: f64, unionised: f64, mem: f64| {
        vec![
            C::S(code),
            C::S("某工会"),
            C::N(emp),
            C::N(unionised),
            C::N(mem),
        ]
    };
    let sheet = workbook(
        None,
        header,
        &[
            row("330102001001", 100_000.0, 99_500.0, 99_000.0),
            row("330102001002", 60_000.0, 59_800.0, 59_500.0),
            row("330102001003", 38_000.0, 37_700.0, 37_500.0),
        ],
    );
    assert_eq!(
        app.submit(sheet, "330102001", "2026-10").await["status"],
        "accepted"
    );
    let v = app.indicators("330102", "2026-10").await;
    // All employees: 196,000 / 198,000 = 98.99 %.
    let all = &v["indicators"]["membership_rate"];
    assert_eq!(
        (all["numerator"].as_f64(), all["denominator"].as_f64()),
        (Some(196_000.0), Some(198_000.0))
    );
    assert!((all["value"].as_f64().unwrap() - 0.98990).abs() < 5e-6);
    // Employees of unionised units: 196,000 / 197,000 = 99.49 %.
    let unionised = &v["indicators"]["membership_rate_unionised"];
    assert_eq!(
        (
            unionised["numerator"].as_f64(),
            unionised["denominator"].as_f64()
        ),
        (Some(196_000.0), Some(197_000.0))
    );
    assert!((unionised["value"].as_f64().unwrap() - 196.0 / 197.0).abs() < 1e-12);

    // Members only exist in unionised units.
    let bad = workbook(None, header, &[row("330102001001", 1000.0, 800.0, 900.0)]);
    let sub = app.submit(bad, "330102001", "2026-10").await;
    assert_eq!(sub["status"], "rejected");
    assert!(
        issue(&sub, "members_le_unionised_employees").is_some(),
        "{sub}"
    );

    // The catalogue documents both.
    let (s, c) = app.get(&app.admin_key, "/api/v1/catalog").await;
    assert_eq!(s, 200);
    let ind = |code: &str| {
        c["indicators"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["code"] == code)
            .cloned()
            .unwrap()
    };
    assert_eq!(ind("membership_rate")["denominator"], "employees");
    assert_eq!(
        ind("membership_rate_unionised")["denominator"],
        "unionised_employees"
    );
    for code in ["membership_rate", "membership_rate_unionised"] {
        assert!(
            ind(code)["note_zh"]
                .as_str()
                .unwrap()
                .contains("会员人数 ÷"),
            "{code}"
        );
        assert!(!ind(code)["note_en"].as_str().unwrap().is_empty(), "{code}");
    }
    // And each rule's short title, the heading of its issues.
    let rule = c["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "members_le_unionised_employees")
        .cloned()
        .unwrap();
    assert_eq!(rule["title_zh"], "会员人数不超过已建会单位职工数");
    assert_eq!(rule["title_en"], "Members ≤ employees of unionised units");
    assert_eq!(rule["severity"], "error");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jump_against_the_previous_report_is_caught_even_across_a_gap() {
    let app = spawn_app().await;
    let july = app
        .submit(
            one_unit("330102001001", 2000.0, 1000.0),
            "330102001",
            "2026-07",
        )
        .await;
    assert_eq!(july["status"], "accepted");
    // No August report: September is compared with July, the previous report.
    // (monthly_change is an explain-severity rule: unexplained, the jump holds
    // the upload back; explain.rs pins the explanations.)
    let sept = app
        .submit(
            one_unit("330102001001", 2000.0, 1600.0),
            "330102001",
            "2026-09",
        )
        .await;
    assert_eq!(sept["status"], "rejected", "{sept}");
    assert_eq!(sept["error_count"], 1, "{sept}");
    let w = issue(&sept, "monthly_change").unwrap_or_else(|| panic!("{sept}"));
    assert_eq!(w["severity"], "explain");
    assert_eq!(w["cell"], "F3");
    assert!(
        w["message"]["zh"]
            .as_str()
            .unwrap()
            .contains("由上次报送的 1000 变为 1600"),
        "{w}"
    );
    app.stop().await;
}

/// Town 330102003's eight units.
const TOWN_C: &str = "330102003";
const TOWN_C_UNITS: [&str; 8] = [
    "330102003001",
    "330102003002",
    "330102003003",
    "330102003004",
    "330102003005",
    "330102003006",
    "330102003007",
    "330102003008",
];

/// Town C's sheet: unit i has `employees[i]` employees and `members[i]` members.
fn town_c_sheet(employees: &[f64; 8], members: &[f64; 8]) -> Vec<u8> {
    let rows: Vec<Vec<C>> = TOWN_C_UNITS
        .iter()
        .zip(employees.iter().zip(members))
        .map(|(code, (e, m))| basic_row(code, "", 1.0, 1.0, *e, *m))
        .collect();
    workbook(None, BASIC, &rows)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outlier_warning_is_quiet_on_a_smooth_trend_and_names_a_real_jump() {
    let app = spawn_app().await;
    let mut orgs = vec![fed(TOWN_C, "望江街道总工会", Some("330102"), true)];
    orgs.extend(TOWN_C_UNITS.iter().map(|c| unit(c, "某工会", TOWN_C)));
    app.add_orgs(&orgs).await;

    let members = [54.0, 120.0, 300.0, 75.0, 640.0, 210.0, 95.0, 1000.0];
    let employees = members.map(|m: f64| (m * 1.25).round());
    let april = app
        .submit(town_c_sheet(&employees, &members), TOWN_C, "2026-04")
        .await;
    assert_eq!(april["status"], "accepted", "{april}");
    // May: every unit +1 % to +3 % (54 → 55, 1000 → 1020).
    let grow = |v: &[f64; 8]| {
        let mut out = [0.0; 8];
        for (i, x) in v.iter().enumerate() {
            out[i] = (x * (1.01 + 0.01 * (i % 3) as f64)).round();
        }
        out
    };
    let (may_e, may_m) = (grow(&employees), grow(&members));
    assert_eq!((may_m[0], may_m[7]), (55.0, 1020.0));
    let may = app
        .submit(town_c_sheet(&may_e, &may_m), TOWN_C, "2026-05")
        .await;
    assert_eq!(may["status"], "accepted", "{may}");
    assert_eq!(may["issues"].as_array().unwrap().len(), 0, "{may}");

    // June: the same trend, but unit 6 reports 270 members (May 216, +25 %,
    // under the 50 % monthly-change threshold).
    let (june_e, mut june_m) = (grow(&may_e), grow(&may_m));
    assert_eq!(may_m[5], 216.0);
    june_m[5] = 270.0;
    let june = app
        .submit(town_c_sheet(&june_e, &june_m), TOWN_C, "2026-06")
        .await;
    assert_eq!(june["status"], "accepted", "{june}");
    let issues = june["issues"].as_array().unwrap();
    assert_eq!(issues.len(), 1, "{june}");
    let w = &issues[0];
    assert_eq!(
        (&w["rule"], &w["severity"], &w["cell"], &w["value"]),
        (
            &"outlier".into(),
            &"warning".into(),
            &"F8".into(),
            &"270".into()
        ),
        "{w}"
    );
    let total: f64 = june_m.iter().sum();
    let impact = format!("{:.1}%", (270.0 - may_m[5]) / total * 100.0);
    let zh = w["message"]["zh"].as_str().unwrap();
    assert!(
        zh.contains("由上次报送的 216 变为 270（+25.0%）")
            && zh.contains(&format!("占本表合计的 {impact}")),
        "{zh}"
    );
    assert!(
        w["message"]["en"]
            .as_str()
            .unwrap()
            .contains("far from the change common to this sheet's units"),
        "{w}"
    );
    app.stop().await;
}

postgres_twins!(
    completeness_sorts_reporters_around_the_deadline_at_every_level,
    the_deadline_day_comes_from_the_config,
    both_membership_rate_definitions_are_computed_and_documented,
    a_jump_against_the_previous_report_is_caught_even_across_a_gap,
    the_outlier_warning_is_quiet_on_a_smooth_trend_and_names_a_real_jump,
);
