//! The checks themselves: header resolution (cover vs caller) and every per-cell,
//! per-row and per-sheet rule of the catalogue and of the code.
//!
//! Everything here is linear in rows × columns: master data, duplicates and last
//! month's figures are looked up in hash maps, never by scanning rows.

use std::collections::{HashMap, HashSet};

use super::{Context, Header};
use crate::catalog::{Catalog, Metric, MetricKind, RuleCheck};
use crate::ingest::{CoverValue, UnitRow, Workbook};
use crate::issue::{Issue, Message};
use crate::period::Period;
use crate::text::to_half_width;

/// Trimmed, full-width folded text, for comparing what a clerk typed.
fn fold(s: &str) -> String {
    to_half_width(s).trim().to_string()
}

/// A scaled integer (possibly a sum beyond i64) written with `decimals` places,
/// as [`Metric::format`] does.
fn format_scaled(v: i128, decimals: u32) -> String {
    if decimals == 0 {
        return v.to_string();
    }
    let scale = 10u128.pow(decimals);
    let sign = if v < 0 { "-" } else { "" };
    let abs = v.unsigned_abs();
    format!(
        "{sign}{}.{:0width$}",
        abs / scale,
        abs % scale,
        width = decimals as usize
    )
}

/// A share as a percentage: 0.5 → "50%", 0.125 → "12.5%".
fn percent(share: f64) -> String {
    let p = share * 100.0;
    if (p - p.round()).abs() < 1e-9 {
        format!("{}%", p.round() as i64)
    } else {
        let s = format!("{p:.2}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        format!("{s}%")
    }
}

// ------------------------------------------------------------------ header

const REPORTER_FIELD: (&str, &str) = ("报送单位代码", "reporter code");
const PERIOD_FIELD: (&str, &str) = ("报告期", "period");

fn cover_mismatch(
    catalog: &Catalog,
    sheet: &str,
    cover: &CoverValue,
    field: (&str, &str),
    expected: &str,
) -> Issue {
    let value = cover.value.trim();
    catalog.issue_per_language(
        "cover_mismatch",
        Some(sheet),
        Some(&cover.cell),
        Some(value),
        &[("field", field.0), ("expected", expected)],
        &[("field", field.1), ("expected", expected)],
    )
}

/// Decides reporter and period from the caller and the cover.
///
/// The caller's values win; a cover that gives a different value is an error
/// (`cover_mismatch`). Every problem is returned at once.
pub fn resolve_header(
    wb: &Workbook,
    catalog: &Catalog,
    caller_reporter: Option<&str>,
    caller_period: Option<Period>,
) -> Result<Header, Vec<Issue>> {
    let mut issues = Vec::new();
    let reporter = resolve_reporter(wb, catalog, caller_reporter, &mut issues);

    let period = resolve_period(
        wb,
        catalog,
        caller_period,
        |s| Period::parse_loose(s).ok(),
        &mut issues,
    );

    match (reporter, period) {
        (Some(reporter), Some(period)) if issues.is_empty() => Ok(Header { reporter, period }),
        _ => Err(issues),
    }
}

/// The period from the caller and the cover's 报告期 read by `parse` (the
/// caller's wins; a cover that differs is `cover_mismatch`, one that cannot
/// be read `period_invalid`; neither is `period_missing`).
pub(super) fn resolve_period<P: PartialEq + Copy + std::fmt::Display>(
    wb: &Workbook,
    catalog: &Catalog,
    caller_period: Option<P>,
    parse: impl Fn(&str) -> Option<P>,
    issues: &mut Vec<Issue>,
) -> Option<P> {
    let cover = wb.cover.as_ref();
    let cover_sheet = cover.map(|c| c.sheet.as_str());
    let cell = cover.and_then(|c| c.period.as_ref());
    let on_cover = cell
        .filter(|v| !v.value.trim().is_empty())
        .map(|v| (v, parse(&v.value)));
    match (caller_period, on_cover) {
        (Some(caller), Some((cv, Some(p)))) => {
            if p != caller {
                issues.push(cover_mismatch(
                    catalog,
                    cover_sheet.unwrap_or_default(),
                    cv,
                    PERIOD_FIELD,
                    &caller.to_string(),
                ));
            }
            Some(caller)
        }
        (_, Some((cv, None))) => {
            issues.push(catalog.issue(
                "period_invalid",
                cover_sheet,
                Some(&cv.cell),
                Some(cv.value.trim()),
                &[],
            ));
            caller_period
        }
        (Some(caller), None) => Some(caller),
        (None, Some((_, Some(p)))) => Some(p),
        (None, None) => {
            issues.push(catalog.issue(
                "period_missing",
                cover_sheet,
                cell.map(|v| v.cell.as_str()),
                None,
                &[],
            ));
            None
        }
    }
}

/// The reporter from the caller and the cover (the caller's wins; a cover
/// that differs is `cover_mismatch`; neither is `reporter_missing`).
pub(super) fn resolve_reporter(
    wb: &Workbook,
    catalog: &Catalog,
    caller_reporter: Option<&str>,
    issues: &mut Vec<Issue>,
) -> Option<String> {
    let cover = wb.cover.as_ref();
    let cover_sheet = cover.map(|c| c.sheet.as_str());
    let caller_r = caller_reporter.map(str::trim).filter(|s| !s.is_empty());
    let cover_r_cell = cover.and_then(|c| c.reporter_code.as_ref());
    let cover_r = cover_r_cell
        .map(|v| (fold(&v.value), v))
        .filter(|(s, _)| !s.is_empty());
    match (caller_r, cover_r) {
        (Some(caller), Some((on_cover, cv))) => {
            if fold(caller) != on_cover {
                issues.push(cover_mismatch(
                    catalog,
                    cover_sheet.unwrap_or_default(),
                    cv,
                    REPORTER_FIELD,
                    caller,
                ));
            }
            Some(caller.to_string())
        }
        (Some(caller), None) => Some(caller.to_string()),
        (None, Some((on_cover, _))) => Some(on_cover),
        (None, None) => {
            issues.push(catalog.issue(
                "reporter_missing",
                cover_sheet,
                cover_r_cell.map(|v| v.cell.as_str()),
                cover_r_cell.map(|v| v.value.trim()),
                &[],
            ));
            None
        }
    }
}

// ------------------------------------------------------------------ validate

/// A catalogue rule (le / sum_eq) whose columns are all present in the sheet.
struct RowRule<'a> {
    code: &'a str,
    eq: bool,
    left: (usize, &'a Metric),
    right: Vec<(usize, &'a Metric)>,
    /// Decimals common to all its metrics (the largest), for exact comparison.
    decimals: u32,
    right_zh: String,
    right_en: String,
}

impl RowRule<'_> {
    fn rescale(&self, v: i64, m: &Metric) -> i128 {
        v as i128 * 10i128.pow(self.decimals - m.decimals)
    }
}

/// The catalogue's row rules that apply to this sheet: a rule naming a metric the
/// sheet has no column for is not applied (an absent column is "not reported").
fn row_rules<'a>(catalog: &'a Catalog, col_of: &HashMap<&str, usize>) -> Vec<RowRule<'a>> {
    let mut out = Vec::new();
    for rule in &catalog.rules {
        let eq = match rule.check {
            RuleCheck::Le => false,
            RuleCheck::SumEq => true,
            RuleCheck::Builtin => continue,
        };
        let Some(left_code) = rule.left.as_deref() else {
            continue;
        };
        let locate = |code: &str| -> Option<(usize, &'a Metric)> {
            Some((*col_of.get(code)?, catalog.metric(code)?))
        };
        let Some(left) = locate(left_code) else {
            continue;
        };
        let Some(right) = rule
            .right
            .iter()
            .map(|c| locate(c))
            .collect::<Option<Vec<_>>>()
        else {
            continue;
        };
        if right.is_empty() {
            continue;
        }
        let decimals = std::iter::once(&left)
            .chain(right.iter())
            .map(|(_, m)| m.decimals)
            .max()
            .unwrap_or(0);
        let right_zh = right
            .iter()
            .map(|(_, m)| m.zh.as_str())
            .collect::<Vec<_>>()
            .join("+");
        let right_en = right
            .iter()
            .map(|(_, m)| m.en.as_str())
            .collect::<Vec<_>>()
            .join("+");
        out.push(RowRule {
            code: &rule.code,
            eq,
            left,
            right,
            decimals,
            right_zh,
            right_en,
        });
    }
    out
}

/// Column letter and row number of an A1 reference: `F12` → ("F", 12).
fn split_cell(cell: &str) -> Option<(&str, u32)> {
    let at = cell.find(|c: char| c.is_ascii_digit())?;
    let (letters, digits) = cell.split_at(at);
    if letters.is_empty() || !letters.chars().all(|c| c.is_ascii_uppercase()) {
        return None;
    }
    Some((letters, digits.parse().ok()?))
}

/// A warning about a figure's change since the unit's previous report, with
/// what it moves: ordered by that share of the column's total.
struct Change<'a> {
    col: usize,
    metric: &'a Metric,
    cell: String,
    now: i64,
    before: i64,
    /// The sheet's common ratio, for an outlier; None: a large monthly change.
    typical: Option<f64>,
}

/// A change as a signed percentage with one decimal: `+2.0%`, `-25.0%`.
fn signed_percent(change: f64) -> String {
    format!("{:+.1}%", change * 100.0)
}

/// A share as a percentage with one decimal: `3.4%`.
fn percent_1(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

fn value_at(row: &UnitRow, col: usize) -> Option<i64> {
    row.values.get(col).copied().flatten()
}

/// A sheet without a single figure is a report only when the submitter says
/// it is a nil report (零报告); a nil report holds no figure. Names what was
/// found and how to declare one.
fn check_nil_report(wb: &Workbook, ctx: &Context<'_>, sheet: Option<&str>, out: &mut Vec<Issue>) {
    let cat = ctx.catalog;
    let filled = wb.rows.iter().flat_map(|r| {
        r.values
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_some())
            .map(move |(i, _)| (r, i))
    });
    let (count, first) = filled.fold((0usize, None), |(n, first), (r, i)| {
        (n + 1, first.or_else(|| Some(wb.cell_of(r, i))))
    });
    let units = wb.rows.len().to_string();
    match (ctx.nil_report, first) {
        (false, None) => {
            if wb.rows.is_empty() {
                out.push(cat.issue("no_units", sheet, None, None, &[]));
            }
            out.push(cat.issue("no_figures", sheet, None, None, &[("units", &units)]));
        }
        (true, Some(first)) => out.push(cat.issue(
            "nil_report_has_figures",
            sheet,
            Some(&first),
            None,
            &[("count", &count.to_string()), ("first", &first)],
        )),
        _ => {}
    }
}

/// Checks every rule; returns the findings (the reader's own issues not included).
pub fn validate(wb: &Workbook, ctx: &Context<'_>) -> Vec<Issue> {
    let cat = ctx.catalog;
    let mut out = Vec::new();
    let sheet = (!wb.units_sheet.is_empty()).then_some(wb.units_sheet.as_str());

    check_period(wb, ctx, &mut out);

    check_nil_report(wb, ctx, sheet, &mut out);

    // Per-column facts: the metric, and where each metric sits (first column wins;
    // a duplicated column is the reader's error already).
    let metrics: Vec<Option<&Metric>> = wb.columns.iter().map(|c| cat.metric(&c.metric)).collect();
    let mut col_of: HashMap<&str, usize> = HashMap::with_capacity(wb.columns.len());
    for (i, c) in wb.columns.iter().enumerate() {
        col_of.entry(c.metric.as_str()).or_insert(i);
    }
    let rules = row_rules(cat, &col_of);

    // Last month's figures, indexed without allocating a key per cell.
    let previous: HashMap<(&str, &str), i64> = ctx
        .previous
        .iter()
        .map(|((u, m), v)| ((u.as_str(), m.as_str()), *v))
        .collect();
    let threshold = percent(ctx.max_monthly_change);

    let ncols = wb.columns.len();
    let mut sums = vec![0i128; ncols];
    let mut seen: HashMap<&str, String> = HashMap::with_capacity(wb.rows.len());
    let mut typos = Typos {
        listed: wb.rows.iter().map(|r| r.code.as_str()).collect(),
        suggested: HashMap::new(),
    };
    // Warnings about a figure's change since the unit's previous report, and
    // per stock column the (row, this month, previous) the outlier test weighs.
    let mut changes: Vec<Change> = Vec::new();
    let mut pairs: Vec<Vec<(&UnitRow, i64, i64)>> = vec![Vec::new(); ncols];

    for row in &wb.rows {
        let own = check_unit(wb, ctx, row, sheet, &mut typos, &mut seen, &mut out);

        for (i, sum) in sums.iter_mut().enumerate() {
            if let Some(v) = value_at(row, i) {
                *sum += v as i128;
            }
        }

        for rule in &rules {
            check_row_rule(wb, cat, rule, row, sheet, &mut out);
        }

        // Past figures are compared for the reporter's own units only: a unit
        // elsewhere is an error that quotes nothing of it.
        if own && !previous.is_empty() {
            for (i, metric) in metrics.iter().enumerate() {
                let Some(metric) = metric else { continue };
                if metric.kind != MetricKind::Stock {
                    continue;
                }
                let Some(v) = value_at(row, i) else { continue };
                let Some(&prev) = previous.get(&(row.code.as_str(), metric.code.as_str())) else {
                    continue;
                };
                let base = ctx.min_change_base.saturating_mul(metric.scale());
                if prev <= 0 || prev < base {
                    continue;
                }
                pairs[i].push((row, v, prev));
                let diff = (v as i128 - prev as i128).unsigned_abs() as f64;
                if diff > ctx.max_monthly_change * prev as f64 {
                    changes.push(Change {
                        col: i,
                        metric,
                        cell: wb.cell_of(row, i),
                        now: v,
                        before: prev,
                        typical: None,
                    });
                }
            }
        }
    }

    // The robust outlier test, column by column, on the units' changes since
    // their previous reports; a figure already warned as a large monthly
    // change is not warned twice.
    for (i, column) in pairs.iter().enumerate() {
        let Some(metric) = metrics[i] else { continue };
        let tested: Vec<(i64, i64)> = column.iter().map(|(_, v, p)| (*v, *p)).collect();
        let Some(verdict) = super::hidiroglou_berthelot(&tested, &ctx.outliers) else {
            continue;
        };
        for at in verdict.outliers {
            let (row, v, prev) = column[at];
            let cell = wb.cell_of(row, i);
            if changes.iter().any(|c| c.cell == cell) {
                continue;
            }
            changes.push(Change {
                col: i,
                metric,
                cell,
                now: v,
                before: prev,
                typical: Some(verdict.median_ratio),
            });
        }
    }
    // Largest first: by the share of the sheet's total (the reporter's figure,
    // whose rates the parent's are made of) that the change moves.
    let share = |c: &Change| {
        (c.now as i128 - c.before as i128).unsigned_abs() as f64
            / sums[c.col].unsigned_abs().max(1) as f64
    };
    changes.sort_by(|a, b| share(b).total_cmp(&share(a)));
    for c in &changes {
        let (value, previous, impact) = (
            c.metric.format(c.now),
            c.metric.format(c.before),
            percent_1(share(c)),
        );
        let issue = match c.typical {
            None => cat.metric_issue(
                "monthly_change",
                c.metric,
                sheet,
                Some(&c.cell),
                Some(&value),
                &[
                    ("previous", &previous),
                    ("threshold", &threshold),
                    ("impact", &impact),
                ],
            ),
            Some(typical) => cat.metric_issue(
                "outlier",
                c.metric,
                sheet,
                Some(&c.cell),
                Some(&value),
                &[
                    ("previous", &previous),
                    (
                        "change",
                        &signed_percent(c.now as f64 / c.before as f64 - 1.0),
                    ),
                    ("typical", &signed_percent(typical - 1.0)),
                    ("impact", &impact),
                ],
            ),
        };
        out.push(issue);
    }

    check_rates(wb, cat, &col_of, sheet, &mut out);

    if let Some(total) = &wb.total {
        // Columns with an unreadable cell (the reader named it) have no known sum.
        let mut unreadable: HashSet<&str> = HashSet::new();
        for issue in &wb.issues {
            if issue.sheet.as_deref() != sheet {
                continue;
            }
            if let Some((letters, r)) = issue.cell.as_deref().and_then(split_cell) {
                if r > wb.header_row && r != total.row {
                    unreadable.insert(letters);
                }
            }
        }
        for (i, column) in wb.columns.iter().enumerate() {
            let Some(t) = value_at(total, i) else {
                continue;
            };
            let Some(metric) = metrics[i] else { continue };
            if unreadable.contains(column.letter.as_str()) || t as i128 == sums[i] {
                continue;
            }
            let cell = wb.cell_of(total, i);
            let expected = format_scaled(sums[i], metric.decimals);
            out.push(cat.metric_issue(
                "total_mismatch",
                metric,
                sheet,
                Some(&cell),
                Some(&metric.format(t)),
                &[("expected", &expected)],
            ));
        }
    }

    for (code, name) in ctx.expected_units {
        if !seen.contains_key(code.as_str()) {
            // The typo that probably stands for it, when one was suggested.
            let hint = match typos.suggested.get(code) {
                Some((cell, typed)) => Message {
                    zh: format!("{cell} 的单位代码 {typed} 是否就是它？"),
                    en: format!(" Is the unit code {typed} at {cell} this unit?"),
                },
                None => Message::default(),
            };
            out.push(cat.bilingual_issue(
                "expected_unit_missing",
                sheet,
                None,
                None,
                &[("code", code), ("name", name)],
                &[("hint", &hint)],
            ));
        }
    }

    // Findings of explain-severity rules take their explanations; one left
    // without blocks acceptance and says how to give one.
    super::explain(&mut out, wb, ctx.explanations, cat);
    wb.name_units(&mut out, |code| ctx.expected_units.contains_key(code));
    out
}

/// The period must have begun and must not be locked.
fn check_period(wb: &Workbook, ctx: &Context<'_>, out: &mut Vec<Issue>) {
    // Name the cover's period cell when there is one.
    let place = wb.cover.as_ref().and_then(|c| {
        c.period
            .as_ref()
            .map(|p| (c.sheet.as_str(), p.cell.as_str()))
    });
    let (sheet, cell) = match place {
        Some((s, c)) => (Some(s), Some(c)),
        None => (None, None),
    };
    let value = ctx
        .form_period
        .map_or_else(|| ctx.period.to_string(), |p| p.to_string());
    if ctx.period > Period::of_date(ctx.today) {
        out.push(
            ctx.catalog
                .issue("period_future", sheet, cell, Some(&value), &[]),
        );
    }
    if ctx.locked {
        out.push(
            ctx.catalog
                .issue("period_locked", sheet, cell, Some(&value), &[]),
        );
    }
}

/// Master data checks of one row's unit: known, under the reporter, not repeated,
/// named as in master data. Returns whether the unit is one of the reporter's
/// own (a grassroots union directly under it): only those are compared with
/// master data and past figures, so a unit elsewhere is named by nothing but
/// the code the clerk typed.
fn check_unit<'w>(
    wb: &'w Workbook,
    ctx: &Context<'_>,
    row: &'w UnitRow,
    sheet: Option<&str>,
    typos: &mut Typos<'_>,
    seen: &mut HashMap<&'w str, String>,
    out: &mut Vec<Issue>,
) -> bool {
    let cat = ctx.catalog;
    let code = row.code.as_str();
    if code.is_empty() {
        return false; // the reader reports unit_code_missing
    }
    let cell = wb.code_cell(row);
    let own = match ctx.known_units.get(code) {
        None => {
            let hint = match did_you_mean(row, ctx, &typos.listed) {
                Some((unit, name)) => {
                    // The first typo taken for a unit is the one named with it.
                    typos
                        .suggested
                        .entry(unit.to_string())
                        .or_insert_with(|| (cell.clone(), code.to_string()));
                    Message {
                        zh: format!("是否应为 {unit}（{name}）？"),
                        en: format!(" Did you mean {unit} ({name})?"),
                    }
                }
                None => Message::default(),
            };
            out.push(cat.bilingual_issue(
                "unit_unknown",
                sheet,
                Some(&cell),
                Some(code),
                &[],
                &[("hint", &hint)],
            ));
            false
        }
        Some(unit) if !unit.grassroots || unit.parent_code.as_deref() != Some(ctx.reporter) => {
            out.push(cat.issue(
                "unit_not_under_reporter",
                sheet,
                Some(&cell),
                Some(code),
                &[("reporter", ctx.reporter)],
            ));
            false
        }
        Some(unit) => {
            let name = fold(&row.name);
            if !name.is_empty() && name != fold(&unit.name) {
                out.push(cat.issue(
                    "name_mismatch",
                    sheet,
                    Some(&cell),
                    Some(row.name.trim()),
                    &[("code", code), ("expected", &unit.name)],
                ));
            }
            true
        }
    };
    match seen.get(code) {
        Some(first) => out.push(cat.issue(
            "duplicate_unit",
            sheet,
            Some(&cell),
            Some(code),
            &[("other_cell", first)],
        )),
        None => {
            seen.insert(code, cell);
        }
    }
    own
}

/// For a unit code not known: the reporter's own unit the clerk probably meant,
/// one whose name is the one typed, else one whose code is one edit away (a
/// digit changed, added or dropped), else one whose code has two digits changed;
/// None when there is none or more than one at the nearest distance.
/// Only the reporter's own units missing from the sheet (`listed`: the codes it
/// has) are looked at, so nothing outside its subtree is ever quoted.
fn did_you_mean<'c>(
    row: &UnitRow,
    ctx: &Context<'c>,
    listed: &HashSet<&str>,
) -> Option<(&'c str, &'c str)> {
    let name = fold(&row.name);
    let missing = || {
        ctx.expected_units
            .iter()
            .filter(|(c, _)| !listed.contains(c.as_str()))
    };
    let by_name: Vec<_> = missing()
        .filter(|(_, n)| !name.is_empty() && fold(n) == name)
        .collect();
    let by_code = |distance: usize| -> Vec<_> {
        missing()
            .filter(|(c, _)| code_distance(c, &row.code) == Some(distance))
            .collect()
    };
    let found = match by_name.as_slice() {
        [one] => Some(*one),
        [] => match (by_code(1).as_slice(), by_code(2).as_slice()) {
            ([one], _) | ([], [one]) => Some(*one),
            _ => None,
        },
        _ => None,
    };
    found.map(|(code, name)| (code.as_str(), name.as_str()))
}

/// How far apart two different codes are: 1 for one character changed, added
/// or dropped, 2 for two characters changed (same length); None for anything
/// further or for equal codes.
fn code_distance(a: &str, b: &str) -> Option<usize> {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if long.len() - short.len() > 1 || a == b {
        return None;
    }
    if short.len() == long.len() {
        let changed = short.iter().zip(long).filter(|(x, y)| x != y).count();
        return (changed <= 2).then_some(changed);
    }
    let prefix = short.iter().zip(long).take_while(|(x, y)| x == y).count();
    (short[prefix..] == long[prefix + 1..]).then_some(1)
}

/// The sheet's codes and the typos read as units: a unit the sheet lists is
/// never the one a typo meant (`listed`), and a unit suggested for a typo
/// (`suggested`: unit code → the typo's cell and code) is named again where it is
/// reported missing.
struct Typos<'w> {
    listed: HashSet<&'w str>,
    suggested: HashMap<String, (String, String)>,
}

/// One le / sum_eq rule on one row, when all its figures are reported.
fn check_row_rule(
    wb: &Workbook,
    cat: &Catalog,
    rule: &RowRule<'_>,
    row: &UnitRow,
    sheet: Option<&str>,
    out: &mut Vec<Issue>,
) {
    let (left_col, left_metric) = rule.left;
    let Some(left) = value_at(row, left_col) else {
        return;
    };
    let mut sum = 0i128;
    for &(col, m) in &rule.right {
        let Some(v) = value_at(row, col) else { return };
        sum += rule.rescale(v, m);
    }
    let l = rule.rescale(left, left_metric);
    let broken = if rule.eq { l != sum } else { l > sum };
    if !broken {
        return;
    }
    let cell = wb.cell_of(row, left_col);
    let left_value = left_metric.format(left);
    let right_value = format_scaled(sum, rule.decimals);
    out.push(cat.issue_per_language(
        rule.code,
        sheet,
        Some(&cell),
        Some(&left_value),
        &[
            ("left", &left_metric.zh),
            ("right", &rule.right_zh),
            ("left_value", &left_value),
            ("right_value", &right_value),
        ],
        &[
            ("left", &left_metric.en),
            ("right", &rule.right_en),
            ("left_value", &left_value),
            ("right_value", &right_value),
        ],
    ));
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;

/// A rate the clerk wrote (e.g. 入会率 98.9%) against the ratio of the row's own
/// figures: a warning when they differ by more than 0.1 percentage point.
fn check_rates(
    wb: &Workbook,
    cat: &Catalog,
    col_of: &HashMap<&str, usize>,
    sheet: Option<&str>,
    out: &mut Vec<Issue>,
) {
    if wb.rates.is_empty() {
        return;
    }
    let rows: HashMap<u32, &crate::ingest::UnitRow> = wb.rows.iter().map(|r| (r.row, r)).collect();
    for rate in &wb.rates {
        let Some(ind) = cat.indicators.iter().find(|i| i.code == rate.indicator) else {
            continue;
        };
        let Some(row) = rows.get(&rate.row) else {
            continue;
        };
        let value = |code: &str| {
            let col = *col_of.get(code)?;
            let metric = cat.metric(code)?;
            Some(metric.to_f64(value_at(row, col)?))
        };
        let (Some(num), Some(den)) = (value(&ind.numerator), value(&ind.denominator)) else {
            continue;
        };
        if den <= 0.0 {
            continue;
        }
        let ours = num / den;
        if (ours - rate.ppm as f64 / 1_000_000.0).abs() <= 0.001 + 1e-9 {
            continue;
        }
        let expected = format!("{:.2}%", ours * 100.0);
        let mut issue = cat.issue(
            "rate_mismatch",
            sheet,
            Some(&rate.cell),
            Some(&rate.raw),
            &[("indicator", &ind.zh), ("expected", &expected)],
        );
        issue.message.en = cat
            .issue(
                "rate_mismatch",
                sheet,
                Some(&rate.cell),
                Some(&rate.raw),
                &[("indicator", &ind.en), ("expected", &expected)],
            )
            .message
            .en;
        out.push(issue);
    }
}

#[cfg(test)]
mod rate_tests {
    use super::*;
    use crate::ingest::{MetricColumn, RateCell, UnitRow};

    #[test]
    fn a_clerks_rate_is_checked_against_the_row() {
        let cat = Catalog::builtin().unwrap();
        let wb = Workbook {
            units_sheet: "基层工会情况".into(),
            columns: vec![
                MetricColumn {
                    metric: "employees".into(),
                    col: 2,
                    letter: "C".into(),
                },
                MetricColumn {
                    metric: "members".into(),
                    col: 3,
                    letter: "D".into(),
                },
            ],
            rows: vec![
                UnitRow {
                    row: 4,
                    code: "1".into(),
                    name: String::new(),
                    values: vec![Some(198_000), Some(196_000)],
                },
                UnitRow {
                    row: 5,
                    code: "2".into(),
                    name: String::new(),
                    values: vec![Some(1000), Some(900)],
                },
            ],
            rates: vec![
                RateCell {
                    indicator: "membership_rate".into(),
                    row: 4,
                    cell: "E4".into(),
                    raw: "98.9%".into(),
                    ppm: 989_000,
                },
                RateCell {
                    indicator: "membership_rate".into(),
                    row: 5,
                    cell: "E5".into(),
                    raw: "92%".into(),
                    ppm: 920_000,
                },
            ],
            ..Workbook::default()
        };
        let mut out = Vec::new();
        let col_of: HashMap<&str, usize> = [("employees", 0), ("members", 1)].into_iter().collect();
        check_rates(&wb, &cat, &col_of, Some("基层工会情况"), &mut out);
        // 196000/198000 = 98.99%: within 0.1 point of 98.9%. 900/1000 = 90% vs 92%: off.
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].rule, "rate_mismatch");
        assert_eq!(out[0].severity, crate::issue::Severity::Warning);
        assert_eq!(out[0].cell.as_deref(), Some("E5"));
        assert!(
            out[0].message.zh.contains("入会率") && out[0].message.zh.contains("90.00%"),
            "{}",
            out[0].message.zh
        );
        assert!(
            out[0].message.en.contains("Membership rate"),
            "{}",
            out[0].message.en
        );
    }
}
