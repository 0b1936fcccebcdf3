//! Validation tests: workbooks are built directly (no xlsx), checked against the
//! built-in catalogue.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;

use super::*;
use crate::catalog::Catalog;
use crate::ingest::{Cover, CoverValue, MetricColumn, UnitRow, Workbook};
use crate::issue::{Issue, IssueUnit, Severity};
use crate::period::Period;
use crate::validate::{Context, MasterUnit, OutlierTest};

const SHEET: &str = "基层工会情况";
const REPORTER: &str = "330102001";

fn catalog() -> Catalog {
    Catalog::builtin().unwrap()
}

fn p(s: &str) -> Period {
    s.parse().unwrap()
}

/// A units sheet: header on row 3, unit code in A, name in B, metrics from C on
/// (or at the letters given).
fn workbook(columns: &[(&str, &str)], rows: &[(u32, &str, &str, &[Option<i64>])]) -> Workbook {
    Workbook {
        form: String::new(),
        rates: Vec::new(),
        notes: Vec::new(),
        cover: None,
        units_sheet: SHEET.to_string(),
        header_row: 3,
        code_letter: "A".to_string(),
        columns: columns
            .iter()
            .map(|(metric, letter)| MetricColumn {
                metric: metric.to_string(),
                col: letter
                    .bytes()
                    .fold(0u32, |a, b| a * 26 + (b - b'A' + 1) as u32)
                    - 1,
                letter: letter.to_string(),
            })
            .collect(),
        rows: rows
            .iter()
            .map(|(row, code, name, values)| UnitRow {
                row: *row,
                code: code.to_string(),
                name: name.to_string(),
                values: values.to_vec(),
            })
            .collect(),
        total: None,
        layout: Default::default(),
        name_letter: String::new(),
        issues: Vec::new(),
    }
}

fn total_row(row: u32, values: &[Option<i64>]) -> Option<UnitRow> {
    Some(UnitRow {
        row,
        code: "合计".to_string(),
        name: String::new(),
        values: values.to_vec(),
    })
}

/// Master data: the reporter 330102001 (a town) with grassroots units 001..003;
/// a grassroots unit under another town; the other town itself.
struct Fixture {
    catalog: Catalog,
    known: HashMap<String, MasterUnit>,
    expected: BTreeMap<String, String>,
    previous: HashMap<(String, String), i64>,
    period: Period,
    today: NaiveDate,
    locked: bool,
    nil_report: bool,
}

impl Fixture {
    /// A nameless grassroots unit under the reporter, known to master data.
    fn add_unit(&mut self, code: &str) {
        self.known.insert(
            code.to_string(),
            MasterUnit {
                code: code.to_string(),
                name: String::new(),
                parent_code: Some(REPORTER.into()),
                grassroots: true,
            },
        );
    }

    fn new() -> Fixture {
        let mut known = HashMap::new();
        let mut add = |code: &str, name: &str, parent: &str, grassroots: bool| {
            known.insert(
                code.to_string(),
                MasterUnit {
                    code: code.to_string(),
                    name: name.to_string(),
                    parent_code: Some(parent.to_string()),
                    grassroots,
                },
            );
        };
        add(REPORTER, "西湖街道总工会", "330102", false);
        add("330102001001", "甲公司工会", REPORTER, true);
        add("330102001002", "乙公司工会", REPORTER, true);
        add("330102001003", "丙公司工会", REPORTER, true);
        add("330102002", "东湖街道总工会", "330102", false);
        add("330102002001", "丁公司工会", "330102002", true);
        let expected = ["330102001001", "330102001002", "330102001003"]
            .iter()
            .map(|c| (c.to_string(), known[*c].name.clone()))
            .collect();
        Fixture {
            catalog: catalog(),
            known,
            expected,
            previous: HashMap::new(),
            period: p("2026-10"),
            today: NaiveDate::from_ymd_opt(2026, 11, 5).unwrap(),
            locked: false,
            nil_report: false,
        }
    }

    /// Only unit 001 is expected (most tests use one row).
    fn expecting_one(mut self) -> Fixture {
        self.expected.retain(|c, _| c == "330102001001");
        self
    }

    fn ctx(&self) -> Context<'_> {
        Context {
            catalog: &self.catalog,
            reporter: REPORTER,
            period: self.period,
            today: self.today,
            locked: self.locked,
            known_units: &self.known,
            expected_units: &self.expected,
            previous: &self.previous,
            max_monthly_change: 0.5,
            min_change_base: 20,
            outliers: OutlierTest {
                fence: 4.0,
                min_change: 0.1,
                min_units: 5,
            },
            nil_report: self.nil_report,
            explanations: &[],
            form_period: None,
        }
    }

    fn run(&self, wb: &Workbook) -> Vec<Issue> {
        validate(wb, &self.ctx())
    }
}

fn rules(issues: &[Issue]) -> Vec<&str> {
    issues.iter().map(|i| i.rule.as_str()).collect()
}

fn only<'a>(issues: &'a [Issue], rule: &str) -> &'a Issue {
    let found: Vec<&Issue> = issues.iter().filter(|i| i.rule == rule).collect();
    assert_eq!(found.len(), 1, "exactly one {rule} in {issues:#?}");
    found[0]
}

const U1: &str = "330102001001";
const U2: &str = "330102001002";
const U3: &str = "330102001003";

// ------------------------------------------------------------------ row rules

#[test]
fn validate_members_above_employees_is_an_error_at_the_members_cell() {
    let f = Fixture::new().expecting_one();
    let wb = workbook(
        &[("employees", "E"), ("members", "F")],
        &[(4, U1, "甲公司工会", &[Some(1200), Some(1205)])],
    );
    let issues = f.run(&wb);
    assert_eq!(rules(&issues), ["members_le_employees"], "{issues:#?}");
    let i = &issues[0];
    assert_eq!(i.severity, Severity::Error);
    assert_eq!(i.sheet.as_deref(), Some(SHEET));
    assert_eq!(i.cell.as_deref(), Some("F4"));
    assert_eq!(i.value.as_deref(), Some("1205"));
    assert!(
        i.message
            .zh
            .starts_with("基层工会情况!F4（330102001001 甲公司工会）："),
        "{}",
        i.message.zh
    );
    assert!(
        i.message
            .zh
            .contains("会员人数（1205）不能大于职工人数（1200）"),
        "{}",
        i.message.zh
    );
    assert!(
        i.message
            .en
            .contains("Members (1205) cannot exceed Employees (1200)"),
        "{}",
        i.message.en
    );
    assert!(!i.message.zh.contains('{') && !i.message.en.contains('{'));

    // Equal is fine.
    let ok = workbook(
        &[("employees", "E"), ("members", "F")],
        &[(4, U1, "甲公司工会", &[Some(1200), Some(1200)])],
    );
    assert!(f.run(&ok).is_empty());
}

#[test]
fn validate_needy_workers_must_equal_the_sum_of_their_parts() {
    let f = Fixture::new().expecting_one();
    let cols = [
        ("needy_workers", "G"),
        ("needy_national", "H"),
        ("needy_provincial", "I"),
        ("needy_local", "J"),
    ];
    let bad = workbook(
        &cols,
        &[(5, U1, "", &[Some(38), Some(8), Some(16), Some(15)])],
    );
    let issues = f.run(&bad);
    assert_eq!(rules(&issues), ["needy_parts_sum"], "{issues:#?}");
    let i = &issues[0];
    assert_eq!(i.severity, Severity::Error);
    assert_eq!(i.cell.as_deref(), Some("G5"));
    assert_eq!(i.value.as_deref(), Some("38"));
    assert!(
        i.message.zh.contains("在档困难职工人数（38）应等于全国级困难职工人数+省级困难职工人数+市县级困难职工人数之和（39）"),
        "{}",
        i.message.zh
    );
    assert!(
        i.message.en.contains("(39)") && i.message.en.contains("+"),
        "{}",
        i.message.en
    );

    // The real district: 38 = 8 + 16 + 14.
    let good = workbook(
        &cols,
        &[(5, U1, "", &[Some(38), Some(8), Some(16), Some(14)])],
    );
    assert!(f.run(&good).is_empty());

    // A part not reported: the rule does not apply.
    let partial = workbook(&cols, &[(5, U1, "", &[Some(38), Some(8), None, Some(15)])]);
    assert!(f.run(&partial).is_empty());
}

#[test]
fn validate_an_absent_column_means_the_rule_is_not_applied() {
    let f = Fixture::new().expecting_one();
    // Members without employees, needy without its parts: nothing to compare.
    let wb = workbook(
        &[
            ("members", "C"),
            ("needy_workers", "D"),
            ("needy_national", "E"),
        ],
        &[(4, U1, "", &[Some(1205), Some(38), Some(8)])],
    );
    assert!(f.run(&wb).is_empty());
    // An empty cell ("not reported") likewise.
    let wb = workbook(
        &[("employees", "C"), ("members", "D")],
        &[(4, U1, "", &[None, Some(1205)])],
    );
    assert!(f.run(&wb).is_empty());
}

#[test]
fn validate_disputes_closed_above_received_stays_a_warning() {
    let f = Fixture::new().expecting_one();
    let wb = workbook(
        &[("disputes_received", "X"), ("disputes_closed", "Y")],
        &[(7, U1, "", &[Some(3), Some(5)])],
    );
    let issues = f.run(&wb);
    assert_eq!(rules(&issues), ["disputes_closed_le_received"]);
    assert_eq!(issues[0].severity, Severity::Warning);
    assert_eq!(issues[0].cell.as_deref(), Some("Y7"));
    assert_eq!(issues[0].value.as_deref(), Some("5"));
    assert!(issues[0]
        .message
        .zh
        .contains("劳动争议结案数（5）大于受理劳动争议案件数（3）"));
}

#[test]
fn validate_every_row_and_rule_is_reported_at_once() {
    let f = Fixture::new();
    let wb = workbook(
        &[
            ("enterprises_required", "C"),
            ("unions_established", "D"),
            ("employees", "E"),
            ("members", "F"),
        ],
        &[
            (4, U1, "", &[Some(41), Some(42), Some(100), Some(101)]),
            (5, U2, "", &[Some(41), Some(39), Some(100), Some(99)]),
            (6, U3, "", &[Some(1), Some(2), Some(10), Some(10)]),
        ],
    );
    let issues = f.run(&wb);
    let found: Vec<(&str, &str)> = issues
        .iter()
        .map(|i| (i.rule.as_str(), i.cell.as_deref().unwrap()))
        .collect();
    assert_eq!(
        found,
        [
            ("unions_le_required", "D4"),
            ("members_le_employees", "F4"),
            ("unions_le_required", "D6"),
        ]
    );
}

// ------------------------------------------------------------------ total row

#[test]
fn validate_total_row_must_equal_the_column_sums() {
    let f = Fixture::new();
    let mut wb = workbook(
        &[("employees", "C"), ("members", "D")],
        &[
            (4, U1, "", &[Some(100), Some(90)]),
            (5, U2, "", &[Some(200), None]),
            (6, U3, "", &[Some(300), Some(280)]),
        ],
    );
    wb.total = total_row(7, &[Some(600), Some(371)]);
    let issues = f.run(&wb);
    assert_eq!(rules(&issues), ["total_mismatch"], "{issues:#?}");
    let i = &issues[0];
    assert_eq!(i.severity, Severity::Error);
    assert_eq!(i.cell.as_deref(), Some("D7"));
    assert_eq!(i.value.as_deref(), Some("371"));
    assert!(
        i.message
            .zh
            .contains("合计行的会员人数（371）与各行之和（370）不一致"),
        "{}",
        i.message.zh
    );
    assert!(
        i.message.en.contains("Members (371)") && i.message.en.contains("(370)"),
        "{}",
        i.message.en
    );

    wb.total = total_row(7, &[Some(600), Some(370)]);
    assert!(f.run(&wb).is_empty());
    // A total cell left empty is not checked.
    wb.total = total_row(7, &[None, Some(370)]);
    assert!(f.run(&wb).is_empty());
}

#[test]
fn validate_total_of_a_column_no_row_reported() {
    let mut f = Fixture::new().expecting_one();
    // No row holds a figure: a report only when declared a nil report.
    f.nil_report = true;
    let mut wb = workbook(&[("members", "C")], &[(4, U1, "", &[None])]);
    wb.total = total_row(5, &[Some(0)]);
    assert!(f.run(&wb).is_empty());
    wb.total = total_row(5, &[Some(5)]);
    let issues = f.run(&wb);
    let i = only(&issues, "total_mismatch");
    assert_eq!(i.cell.as_deref(), Some("C5"));
    assert!(i.message.en.contains("(0)"), "{}", i.message.en);
}

#[test]
fn validate_total_skips_a_column_with_an_unreadable_cell() {
    let f = Fixture::new();
    let c = catalog();
    let mut wb = workbook(
        &[("employees", "C"), ("members", "D")],
        &[
            (4, U1, "", &[Some(100), None]),
            (5, U2, "", &[Some(200), Some(50)]),
            (6, U3, "", &[Some(1), Some(1)]),
        ],
    );
    // D4 was unreadable: the reader said so; its sum is unknown.
    wb.issues
        .push(c.issue("excel_error", Some(SHEET), Some("D4"), Some("#DIV/0!"), &[]));
    wb.total = total_row(7, &[Some(301), Some(91)]);
    let issues = f.run(&wb);
    assert!(issues.is_empty(), "{issues:#?}");
    // The employees column is still checked.
    wb.total = total_row(7, &[Some(300), Some(91)]);
    assert_eq!(
        only(&f.run(&wb), "total_mismatch").cell.as_deref(),
        Some("C7")
    );
}

#[test]
fn validate_yuan_values_format_with_two_decimals() {
    let f = Fixture::new();
    let mut wb = workbook(
        &[("relief_yuan", "AB")],
        &[
            (4, U1, "", &[Some(100_000)]),
            (5, U2, "", &[Some(23_400)]),
            (6, U3, "", &[None]),
        ],
    );
    wb.total = total_row(8, &[Some(123_405)]);
    let issues = f.run(&wb);
    let i = only(&issues, "total_mismatch");
    assert_eq!(i.cell.as_deref(), Some("AB8"));
    assert_eq!(i.value.as_deref(), Some("1234.05"));
    assert!(
        i.message.zh.contains("（1234.05）") && i.message.zh.contains("（1234.00）"),
        "{}",
        i.message.zh
    );
    assert!(i.message.zh.contains("帮扶慰问金额(元)") || i.message.zh.contains("帮扶慰问金额"));
}

// ------------------------------------------------------------------ units

#[test]
fn validate_unknown_foreign_and_duplicate_units() {
    let f = Fixture::new();
    let wb = workbook(
        &[("members", "C")],
        &[
            (4, U1, "", &[Some(1)]),
            (5, "999999999999", "", &[Some(1)]),
            (6, "330102002001", "丁公司工会", &[Some(1)]),
            (7, REPORTER, "", &[Some(1)]),
            (8, U2, "", &[Some(1)]),
            (9, U1, "", &[Some(1)]),
            (10, U3, "", &[Some(1)]),
        ],
    );
    let issues = f.run(&wb);
    let found: Vec<(&str, &str, &str, Severity)> = issues
        .iter()
        .map(|i| {
            (
                i.rule.as_str(),
                i.cell.as_deref().unwrap(),
                i.value.as_deref().unwrap(),
                i.severity,
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("unit_unknown", "A5", "999999999999", Severity::Error),
            (
                "unit_not_under_reporter",
                "A6",
                "330102002001",
                Severity::Error
            ),
            ("unit_not_under_reporter", "A7", REPORTER, Severity::Error),
            ("duplicate_unit", "A9", U1, Severity::Error),
        ],
        "{issues:#?}"
    );
    assert!(
        issues[1].message.zh.contains("不属于报送单位 330102001"),
        "{}",
        issues[1].message.zh
    );
    assert!(issues[1].message.en.contains("under reporter 330102001"));
    assert!(
        issues[3].message.zh.contains("另见 A4"),
        "{}",
        issues[3].message.zh
    );
    assert!(issues[3].message.en.contains("see also A4"));
}

#[test]
fn validate_a_unit_elsewhere_quotes_neither_its_name_nor_its_figures() {
    let mut f = Fixture::new().expecting_one();
    let other = "330102002001";
    f.previous
        .insert((other.to_string(), "members".into()), 677);
    // Named otherwise than in master data (丁公司工会), and far from its past.
    let wb = workbook(
        &[("members", "C")],
        &[(4, U1, "", &[Some(1)]), (5, other, "别的名字", &[Some(0)])],
    );
    let issues = f.run(&wb);
    assert_eq!(rules(&issues), ["unit_not_under_reporter"], "{issues:#?}");
    let i = &issues[0];
    assert_eq!(
        (i.cell.as_deref(), i.value.as_deref()),
        (Some("A5"), Some(other))
    );
    for text in [&i.message.zh, &i.message.en] {
        assert!(
            !text.contains("丁公司工会") && !text.contains("677"),
            "{text}"
        );
    }
}

#[test]
fn validate_code_cell_follows_the_code_column() {
    let f = Fixture::new().expecting_one();
    let mut wb = workbook(&[("members", "D")], &[(4, "nope", "", &[Some(1)])]);
    wb.code_letter = "B".to_string();
    let issues = f.run(&wb);
    assert_eq!(only(&issues, "unit_unknown").cell.as_deref(), Some("B4"));
}

#[test]
fn validate_expected_unit_missing_is_one_warning_each() {
    let f = Fixture::new();
    let wb = workbook(&[("members", "C")], &[(4, U2, "", &[Some(1)])]);
    let issues = f.run(&wb);
    assert_eq!(
        rules(&issues),
        ["expected_unit_missing", "expected_unit_missing"]
    );
    for i in &issues {
        assert_eq!(i.severity, Severity::Warning);
        assert_eq!(i.sheet.as_deref(), Some(SHEET));
        assert_eq!(i.cell, None);
    }
    assert!(
        issues[0].message.zh.contains("330102001001（甲公司工会）"),
        "{}",
        issues[0].message.zh
    );
    assert!(
        issues[1].message.en.contains("330102001003 (丙公司工会)"),
        "{}",
        issues[1].message.en
    );
}

#[test]
fn validate_name_differing_from_master_data_is_a_warning() {
    let f = Fixture::new();
    let wb = workbook(
        &[("members", "C")],
        &[
            (4, U1, "甲公司 工会", &[Some(1)]),
            (5, U2, " 乙公司工会　", &[Some(1)]),
            (6, U3, "", &[Some(1)]),
        ],
    );
    let issues = f.run(&wb);
    assert_eq!(rules(&issues), ["name_mismatch"], "{issues:#?}");
    let i = &issues[0];
    assert_eq!(i.severity, Severity::Warning);
    assert_eq!(i.cell.as_deref(), Some("A4"));
    assert_eq!(i.value.as_deref(), Some("甲公司 工会"));
    assert!(i.message.zh.contains("“甲公司工会”"), "{}", i.message.zh);
    assert!(
        i.message.en.contains("Unit 330102001001"),
        "{}",
        i.message.en
    );

    // Full-width letters fold to half-width before comparing.
    let mut g = Fixture::new().expecting_one();
    g.known.get_mut(U1).unwrap().name = "ABC工会".to_string();
    let wb = workbook(&[("members", "C")], &[(4, U1, "ＡＢＣ工会", &[Some(1)])]);
    assert!(g.run(&wb).is_empty());
}

#[test]
fn a_sheet_without_figures_is_no_report_unless_declared_nil() {
    let mut f = Fixture::new();
    let blank = workbook(
        &[("members", "C"), ("employees", "D")],
        &[
            (4, U1, "甲公司工会", &[None, None]),
            (5, U2, "乙公司工会", &[None, None]),
        ],
    );
    let issues = f.run(&blank);
    let i = only(&issues, "no_figures");
    assert_eq!(i.severity, Severity::Error);
    assert!(
        i.message.zh.contains("列出 2 个单位，但没有填写任何数字"),
        "{}",
        i.message.zh
    );
    assert!(i.message.zh.contains("零报告"), "{}", i.message.zh);
    assert!(
        i.message
            .en
            .contains("lists 2 units but holds no figure at all"),
        "{}",
        i.message.en
    );
    assert!(i.message.en.contains("nil_report=true"), "{}", i.message.en);

    f.nil_report = true;
    let issues = f.run(&blank);
    assert_eq!(crate::issue::error_count(&issues), 0, "{issues:?}");

    let filled = workbook(
        &[("members", "C"), ("employees", "D")],
        &[
            (4, U1, "甲公司工会", &[None, Some(12)]),
            (5, U2, "乙公司工会", &[Some(3), Some(4)]),
        ],
    );
    let issues = f.run(&filled);
    let i = only(&issues, "nil_report_has_figures");
    assert_eq!(i.cell.as_deref(), Some("D4"));
    assert!(
        i.message.zh.contains("填写了 3 个数字（第一个在 D4）"),
        "{}",
        i.message.zh
    );
    assert!(
        i.message.en.contains("holds 3 figures (the first at D4)"),
        "{}",
        i.message.en
    );

    // A nil report of a sheet that lists no unit at all is a report too.
    let issues = f.run(&workbook(&[("members", "C")], &[]));
    assert_eq!(crate::issue::error_count(&issues), 0, "{issues:?}");
}

#[test]
fn validate_an_empty_sheet_has_no_units() {
    let f = Fixture::new();
    let wb = workbook(&[("members", "C")], &[]);
    let issues = f.run(&wb);
    let i = only(&issues, "no_units");
    assert_eq!(i.severity, Severity::Error);
    assert_eq!(i.sheet.as_deref(), Some(SHEET));
    assert_eq!(
        rules(&issues)
            .iter()
            .filter(|r| **r == "expected_unit_missing")
            .count(),
        3
    );
}

// ------------------------------------------------------------------ period

#[test]
fn validate_period_in_the_future_or_locked() {
    let mut f = Fixture::new().expecting_one();
    let wb = workbook(&[("members", "C")], &[(4, U1, "", &[Some(1)])]);
    // The current month may be reported.
    f.period = p("2026-11");
    assert!(f.run(&wb).is_empty());
    f.period = p("2026-12");
    let issues = f.run(&wb);
    let i = only(&issues, "period_future");
    assert_eq!(i.severity, Severity::Error);
    assert_eq!(i.value.as_deref(), Some("2026-12"));
    assert!(i.message.en.contains("2026-12 is in the future"));

    f.period = p("2026-10");
    f.locked = true;
    let issues = f.run(&wb);
    assert_eq!(rules(&issues), ["period_locked"]);
    assert_eq!(issues[0].value.as_deref(), Some("2026-10"));

    // With a cover, the period cell is named.
    let mut wb = wb;
    wb.cover = Some(Cover {
        sheet: "封面".into(),
        period: Some(CoverValue {
            value: "2026年10月".into(),
            cell: "B3".into(),
        }),
        ..Cover::default()
    });
    let issues = f.run(&wb);
    assert_eq!(issues[0].sheet.as_deref(), Some("封面"));
    assert_eq!(issues[0].cell.as_deref(), Some("B3"));
}

// ------------------------------------------------------------------ monthly change

#[test]
fn validate_monthly_change_warns_above_the_threshold_only() {
    let mut f = Fixture::new();
    for (unit, metric, v) in [
        (U1, "members", 100),
        (U2, "members", 100),
        (U3, "members", 10),
        (U1, "new_members", 10),
        (U2, "employees", 100),
    ] {
        f.previous.insert((unit.to_string(), metric.to_string()), v);
    }
    let wb = workbook(
        &[("employees", "C"), ("members", "D"), ("new_members", "E")],
        &[
            // +51 %: warned.
            (4, U1, "", &[None, Some(151), Some(90)]),
            // exactly 50 % down: not warned; employees 100 → 150 exactly 50 %.
            (5, U2, "", &[Some(150), Some(50), None]),
            // last month below the base (10 < 20): exempt.
            (6, U3, "", &[None, Some(100), None]),
        ],
    );
    let issues = f.run(&wb);
    assert_eq!(rules(&issues), ["monthly_change"], "{issues:#?}");
    let i = &issues[0];
    // An explained exception: held back until the clerk explains it.
    assert_eq!(i.severity, Severity::Explain);
    assert!(i.is_error() && i.needs_explanation());
    assert_eq!(i.cell.as_deref(), Some("D4"));
    assert_eq!(i.value.as_deref(), Some("151"));
    assert!(
        i.message
            .zh
            .contains("会员人数由上次报送的 100 变为 151，变动超过 50%"),
        "{}",
        i.message.zh
    );
    assert!(i
        .message
        .en
        .contains("Members moved from 100 in the previous report to 151, more than 50%"));

    // A drop beyond the threshold is warned too.
    let wb = workbook(
        &[("members", "D")],
        &[
            (4, U1, "", &[Some(49)]),
            (5, U2, "", &[Some(100)]),
            (6, U3, "", &[Some(10)]),
        ],
    );
    assert_eq!(
        only(&f.run(&wb), "monthly_change").value.as_deref(),
        Some("49")
    );
}

/// A reporter with twelve grassroots units under it (for the outlier test,
/// which needs a sheet of units to compare), members before as given.
fn twelve_units(before: &[i64; 12]) -> (Fixture, Vec<String>) {
    let mut f = Fixture::new();
    f.expected.clear();
    let codes: Vec<String> = (1..=12).map(|i| format!("3301020017{i:02}")).collect();
    for (c, b) in codes.iter().zip(before) {
        f.add_unit(c);
        f.previous.insert((c.clone(), "members".into()), *b);
    }
    (f, codes)
}

#[test]
fn validate_outlier_quiet_on_a_smooth_trend_and_warns_on_a_real_jump() {
    let before = [54, 120, 300, 75, 640, 210, 95, 1000, 66, 380, 150, 820];
    let (f, codes) = twelve_units(&before);
    // Every unit +1 % to +3 %: a stable series that a 3-sigma rule on its own
    // history called an outlier (56 against a mean of 54.8, sd 0.4).
    let now: Vec<i64> = before
        .iter()
        .enumerate()
        .map(|(i, b)| (*b as f64 * (1.01 + 0.01 * (i % 3) as f64)).round() as i64)
        .collect();
    assert_eq!(now[0], 55);
    let sheet = |now: &[i64]| {
        let rows: Vec<(u32, &str, &str, Vec<Option<i64>>)> = codes
            .iter()
            .zip(now)
            .enumerate()
            .map(|(i, (c, v))| (4 + i as u32, c.as_str(), "", vec![Some(*v)]))
            .collect();
        let rows: Vec<(u32, &str, &str, &[Option<i64>])> = rows
            .iter()
            .map(|(r, c, n, v)| (*r, *c, *n, v.as_slice()))
            .collect();
        workbook(&[("members", "D")], &rows)
    };
    let issues = f.run(&sheet(&now));
    assert_eq!(rules(&issues), Vec::<&str>::new(), "{issues:#?}");

    // Unit 10 (380 before) reports 456: +20 % where the others moved +2 %;
    // unit 6 (210) reports 300: +43 %, under the 50 % monthly-change threshold.
    let mut jumped = now.clone();
    jumped[9] = 456;
    jumped[5] = 300;
    let issues = f.run(&sheet(&jumped));
    assert_eq!(rules(&issues), ["outlier", "outlier"], "{issues:#?}");
    // Largest share of the sheet's total first: unit 6 moves 90 members,
    // unit 10 moves 76.
    assert_eq!(issues[0].cell.as_deref(), Some("D9"));
    assert_eq!(issues[1].cell.as_deref(), Some("D13"));
    let total: i64 = jumped.iter().sum();
    let i = &issues[1];
    assert_eq!(i.severity, Severity::Warning);
    assert_eq!(i.value.as_deref(), Some("456"));
    let impact = format!("{:.1}%", 76.0 / total as f64 * 100.0);
    assert!(
        i.message.zh.contains("由上次报送的 380 变为 456（+20.0%）")
            && i.message.zh.contains("普遍变动（+2.0%）")
            && i.message.zh.contains(&format!("占本表合计的 {impact}")),
        "{}",
        i.message.zh
    );
    assert!(
        i.message
            .en
            .contains("moved from 380 in the previous report to 456 (+20.0%)")
            && i.message
                .en
                .contains(&format!("a change of {impact} of the sheet's total")),
        "{}",
        i.message.en
    );
}

#[test]
fn validate_a_large_monthly_change_is_not_warned_again_as_an_outlier() {
    let before = [100; 12];
    let (f, codes) = twelve_units(&before);
    let rows: Vec<(u32, &str, &str, Vec<Option<i64>>)> = codes
        .iter()
        .enumerate()
        .map(|(i, c)| {
            (
                4 + i as u32,
                c.as_str(),
                "",
                vec![Some(if i == 2 { 180 } else { 102 })],
            )
        })
        .collect();
    let rows: Vec<(u32, &str, &str, &[Option<i64>])> = rows
        .iter()
        .map(|(r, c, n, v)| (*r, *c, *n, v.as_slice()))
        .collect();
    let issues = f.run(&workbook(&[("members", "D")], &rows));
    assert_eq!(rules(&issues), ["monthly_change"], "{issues:#?}");
    assert_eq!(issues[0].cell.as_deref(), Some("D6"));
}

#[test]
fn validate_percent_threshold_text() {
    assert_eq!(super::percent(0.5), "50%");
    assert_eq!(super::percent(1.0), "100%");
    assert_eq!(super::percent(0.125), "12.5%");
    assert_eq!(super::format_scaled(123_405, 2), "1234.05");
    assert_eq!(super::format_scaled(-5, 2), "-0.05");
    assert_eq!(super::format_scaled(42, 0), "42");
}

#[test]
fn validate_is_linear_on_a_large_sheet() {
    // 100k rows × 4 columns with a rule, a total and last month's figures: a
    // quadratic scan would not finish.
    let mut f = Fixture::new();
    f.expected.clear();
    let n = 100_000u32;
    let codes: Vec<String> = (0..n).map(|i| format!("3301020019{i:06}")).collect();
    for c in &codes {
        f.add_unit(c);
        f.previous.insert((c.clone(), "members".into()), 100);
    }
    let rows: Vec<UnitRow> = codes
        .iter()
        .enumerate()
        .map(|(i, c)| UnitRow {
            row: 4 + i as u32,
            code: c.clone(),
            name: String::new(),
            values: vec![Some(120), Some(110), Some(1), Some(0)],
        })
        .collect();
    let mut wb = workbook(
        &[
            ("employees", "C"),
            ("members", "D"),
            ("new_members", "E"),
            ("skill_contests", "F"),
        ],
        &[],
    );
    wb.rows = rows;
    wb.total = total_row(
        4 + n,
        &[
            Some(120 * n as i64),
            Some(110 * n as i64),
            Some(n as i64),
            Some(0),
        ],
    );
    let start = std::time::Instant::now();
    let issues = f.run(&wb);
    assert!(issues.is_empty(), "{:?}", issues.first());
    assert!(start.elapsed().as_secs() < 20);
}

// ------------------------------------------------------------------ header

fn cover(reporter: Option<&str>, period: Option<&str>) -> Option<Cover> {
    Some(Cover {
        sheet: "封面".into(),
        reporter_code: reporter.map(|v| CoverValue {
            value: v.into(),
            cell: "B2".into(),
        }),
        period: period.map(|v| CoverValue {
            value: v.into(),
            cell: "B4".into(),
        }),
        ..Cover::default()
    })
}

#[test]
fn validate_header_from_caller_or_cover() {
    let c = catalog();
    let mut wb = Workbook::default();
    // The caller alone: no cover needed.
    let h = resolve_header(&wb, &c, Some(REPORTER), Some(p("2026-10"))).unwrap();
    assert_eq!(
        h,
        Header {
            reporter: REPORTER.into(),
            period: p("2026-10")
        }
    );
    // The cover alone, in the forms clerks type.
    wb.cover = cover(Some(" ３３０１０２００１ "), Some("2026年10月"));
    let h = resolve_header(&wb, &c, None, None).unwrap();
    assert_eq!(
        h,
        Header {
            reporter: REPORTER.into(),
            period: p("2026-10")
        }
    );
    // Both, agreeing.
    let h = resolve_header(&wb, &c, Some(REPORTER), Some(p("2026-10"))).unwrap();
    assert_eq!(h.reporter, REPORTER);
}

#[test]
fn validate_header_cover_disagreeing_with_caller_is_an_error() {
    let c = catalog();
    let wb = Workbook {
        cover: cover(Some("330102002"), Some("202609")),
        ..Workbook::default()
    };
    let issues = resolve_header(&wb, &c, Some(REPORTER), Some(p("2026-10"))).unwrap_err();
    assert_eq!(rules(&issues), ["cover_mismatch", "cover_mismatch"]);
    let r = &issues[0];
    assert_eq!(r.severity, Severity::Error);
    assert_eq!(r.sheet.as_deref(), Some("封面"));
    assert_eq!(r.cell.as_deref(), Some("B2"));
    assert_eq!(r.value.as_deref(), Some("330102002"));
    assert!(
        r.message
            .zh
            .contains("封面上的报送单位代码（330102002）与上传时指定的（330102001）不一致"),
        "{}",
        r.message.zh
    );
    assert!(
        r.message.en.contains("The cover's reporter code (330102002) differs from the one given when uploading (330102001)"),
        "{}",
        r.message.en
    );
    let q = &issues[1];
    assert_eq!(q.cell.as_deref(), Some("B4"));
    assert_eq!(q.value.as_deref(), Some("202609"));
    assert!(
        q.message.zh.contains("封面上的报告期（202609）") && q.message.zh.contains("（2026-10）")
    );
    assert!(
        q.message.en.contains("The cover's period (202609)"),
        "{}",
        q.message.en
    );
}

#[test]
fn validate_header_problems_all_at_once() {
    let c = catalog();
    // Nothing anywhere.
    let issues = resolve_header(&Workbook::default(), &c, None, None).unwrap_err();
    assert_eq!(rules(&issues), ["reporter_missing", "period_missing"]);
    assert!(issues.iter().all(|i| i.is_error()));
    assert_eq!(issues[1].value.as_deref(), None);
    assert!(
        issues[1].message.zh.starts_with("未填写报告期。"),
        "{}",
        issues[1].message.zh
    );
    assert!(
        issues[1].message.en.starts_with("The period is missing."),
        "{}",
        issues[1].message.en
    );

    // An unreadable cover period names its cell and raw value.
    let wb = Workbook {
        cover: cover(None, Some("十月")),
        ..Workbook::default()
    };
    let issues = resolve_header(&wb, &c, None, None).unwrap_err();
    assert_eq!(rules(&issues), ["reporter_missing", "period_invalid"]);
    assert_eq!(issues[1].sheet.as_deref(), Some("封面"));
    assert_eq!(issues[1].cell.as_deref(), Some("B4"));
    assert_eq!(issues[1].value.as_deref(), Some("十月"));
    assert!(issues[1].message.zh.contains("报告期“十月”无法识别"));

    // The caller's period wins, but a garbled cover period is still wrong.
    let issues = resolve_header(&wb, &c, Some(REPORTER), Some(p("2026-10"))).unwrap_err();
    assert_eq!(rules(&issues), ["period_invalid"]);

    // Blank cover values count as absent.
    let wb = Workbook {
        cover: cover(Some("  "), Some(" ")),
        ..Workbook::default()
    };
    let h = resolve_header(&wb, &c, Some(REPORTER), Some(p("2026-10"))).unwrap();
    assert_eq!(h.period, p("2026-10"));
    let issues = resolve_header(&wb, &c, None, None).unwrap_err();
    assert_eq!(rules(&issues), ["reporter_missing", "period_missing"]);
    assert_eq!(issues[0].cell.as_deref(), Some("B2"));
}

#[test]
fn validate_an_unknown_code_suggests_the_reporters_own_unit_it_resembles() {
    let f = Fixture::new();
    // (code typed, name typed, the unit suggested).
    let cases: [(&str, &str, Option<(&str, &str)>); 6] = [
        // The name is 乙公司工会's: the code is a typo of U2.
        ("330102001050", "乙公司工会", Some((U2, "乙公司工会"))),
        // One digit too many in U3's code, no name.
        ("3301020019003", "", Some((U3, "丙公司工会"))),
        // Two digits off U2, three off U1 and U3.
        ("330102001122", "", Some((U2, "乙公司工会"))),
        // Two digits off each of the reporter's units; the unit of another town
        // (丁公司工会, 330102002001) is never offered.
        ("330102002009", "丁公司工会", None),
        // Dropping the last digit fits U1, U2 and U3 alike: no guess.
        ("33010200100", "", None),
        // Two digits off U1, U2 and U3 alike.
        ("330102001055", "", None),
    ];
    let rows: Vec<(u32, &str, &str, &[Option<i64>])> = cases
        .iter()
        .zip(4..)
        .map(|((code, name, _), row)| (row, *code, *name, &[Some(1)][..]))
        .collect();
    let issues = f.run(&workbook(&[("members", "C")], &rows));
    let unknown: Vec<&Issue> = issues.iter().filter(|i| i.rule == "unit_unknown").collect();
    assert_eq!(unknown.len(), cases.len(), "{issues:#?}");
    for ((code, _, suggested), issue) in cases.iter().zip(&unknown) {
        let m = &issue.message;
        match suggested {
            Some((unit, name)) => {
                assert!(
                    m.zh.contains(&format!("。是否应为 {unit}（{name}）？请核对代码")),
                    "{}",
                    m.zh
                );
                assert!(
                    m.en.contains(&format!(
                        "organisation). Did you mean {unit} ({name})? Check"
                    )),
                    "{}",
                    m.en
                );
            }
            None => {
                assert!(!m.zh.contains("是否应为"), "{code}: {}", m.zh);
                assert!(!m.en.contains("Did you mean"), "{code}: {}", m.en);
            }
        }
        assert!(!m.zh.contains("330102002001") && !m.en.contains("330102002001"));
    }
    assert_eq!(
        unknown[2].message.zh,
        format!(
            "{SHEET}!A6（330102001122）：单位代码 330102001122 不在组织机构库中（或不在您所属单位的范围内）。\
             是否应为 330102001002（乙公司工会）？请核对代码，或先登记该基层工会。"
        )
    );
    assert_eq!(
        unknown[2].message.en,
        format!(
            "{SHEET}!A6 (330102001122): Unit code 330102001122 is not in the master data (or not \
             within your organisation). Did you mean 330102001002 (乙公司工会)? Check the code or \
             register the union first."
        )
    );

    // Each unit reported missing names the first typo taken for it.
    let missing: Vec<(&str, &str)> = issues
        .iter()
        .filter(|i| i.rule == "expected_unit_missing")
        .map(|i| (i.message.zh.as_str(), i.message.en.as_str()))
        .collect();
    assert_eq!(
        missing,
        [
            (
                "基层工会情况：应报单位 330102001001（甲公司工会）没有出现在报表中。",
                "基层工会情况: Expected unit 330102001001 (甲公司工会) is missing from the sheet."
            ),
            (
                "基层工会情况：应报单位 330102001002（乙公司工会）没有出现在报表中。\
                 A4 的单位代码 330102001050 是否就是它？",
                "基层工会情况: Expected unit 330102001002 (乙公司工会) is missing from the sheet. \
                 Is the unit code 330102001050 at A4 this unit?"
            ),
            (
                "基层工会情况：应报单位 330102001003（丙公司工会）没有出现在报表中。\
                 A5 的单位代码 3301020019003 是否就是它？",
                "基层工会情况: Expected unit 330102001003 (丙公司工会) is missing from the sheet. \
                 Is the unit code 3301020019003 at A5 this unit?"
            ),
        ]
    );

    // A unit the sheet already lists is never suggested: 甲公司工会's name and a
    // code one digit off U1, but U1 is on row 4.
    let wb = workbook(
        &[("members", "C")],
        &[
            (4, U1, "甲公司工会", &[Some(1)]),
            (5, "330102001011", "甲公司工会", &[Some(1)]),
        ],
    );
    let issues = f.run(&wb);
    let unknown = only(&issues, "unit_unknown");
    assert!(
        !unknown.message.zh.contains("是否应为"),
        "{}",
        unknown.message.zh
    );
    assert!(
        !unknown.message.en.contains("Did you mean"),
        "{}",
        unknown.message.en
    );
}

#[test]
fn validate_each_issue_of_a_unit_row_names_the_unit_as_typed() {
    let f = Fixture::new();
    let wb = workbook(
        &[("employees", "C"), ("members", "D")],
        &[
            (4, U1, " 甲公司工会 ", &[Some(10), Some(12)]),
            (5, U2, "", &[Some(10), Some(12)]),
        ],
    );
    let issues = f.run(&wb);
    let over: Vec<&Issue> = issues
        .iter()
        .filter(|i| i.rule == "members_le_employees")
        .collect();
    assert_eq!(over.len(), 2, "{issues:#?}");
    let unit = |code: &str, name: Option<&str>| {
        Some(IssueUnit {
            code: code.into(),
            name: name.map(Into::into),
        })
    };
    assert_eq!(over[0].unit, unit(U1, Some("甲公司工会")));
    assert_eq!(over[1].unit, unit(U2, None));
    assert!(
        over[0]
            .message
            .zh
            .starts_with(&format!("{SHEET}!D4（330102001001 甲公司工会）：")),
        "{}",
        over[0].message.zh
    );
    assert!(
        over[0]
            .message
            .en
            .starts_with(&format!("{SHEET}!D4 (330102001001 甲公司工会): ")),
        "{}",
        over[0].message.en
    );
    assert!(
        over[1]
            .message
            .zh
            .starts_with(&format!("{SHEET}!D5（330102001002）：")),
        "{}",
        over[1].message.zh
    );
    // A unit elsewhere is named by its code alone, as a code that exists nowhere.
    let elsewhere = workbook(
        &[("employees", "C"), ("members", "D")],
        &[(4, "330102002001", "丁公司工会", &[Some(10), Some(12)])],
    );
    let elsewhere = f.run(&elsewhere);
    assert_eq!(
        only(&elsewhere, "members_le_employees").unit,
        unit("330102002001", None)
    );
    assert!(
        elsewhere
            .iter()
            .all(|i| !i.message.zh.contains("丁公司工会")),
        "{elsewhere:#?}"
    );
    // A sheet-wide finding names no unit.
    let missing = only(&issues, "expected_unit_missing");
    assert_eq!(missing.unit, None);
    assert!(
        !missing.message.zh.contains("（330102001001"),
        "{}",
        missing.message.zh
    );
}
