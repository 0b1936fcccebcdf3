//! `unionstat indicators` and `unionstat completeness`: tables or JSON.

use std::process::ExitCode;

use unicode_width::UnicodeWidthStr;
use unionstat_core::period::ReportPeriod;

use super::table::Col::{self, L, R};
use super::table::{cut, row};
use super::{strict_period, CliResult};
use crate::context::AppContext;
use crate::flows::form_period::FormPeriod;
use crate::flows::views::compare::Comparison;
use crate::flows::views::series::{series_view, SeriesPoint, SeriesView};
use crate::flows::views::{form_completeness_view, indicators_view, Children, IndicatorsView};
use crate::store::orgs::TreeView;

fn pct(v: Option<f64>) -> String {
    v.map(|x| format!("{:.2}%", x * 100.0))
        .unwrap_or_else(|| "—".into())
}

/// A change in percentage points, signed.
fn points(v: Option<f64>) -> String {
    v.map_or_else(|| "—".to_string(), |p| format!("{p:+.2}"))
}

pub(super) fn num(v: Option<f64>) -> String {
    v.map(|x| {
        if x.fract() == 0.0 {
            format!("{x:.0}")
        } else {
            format!("{x:.2}")
        }
    })
    .unwrap_or_else(|| "—".into())
}

/// The roll-up table: code, name, three rates, employees, members, units.
const ROLLUP: &[Col] = &[L(14), L(18), R(9), R(9), R(9), R(14), R(12), R(11)];

/// One line of the roll-up table.
pub(super) fn table_row(v: &IndicatorsView) -> String {
    row(
        ROLLUP,
        &[
            &v.org,
            &cut(&v.name, 18),
            &pct(v.rate("unionisation_rate")),
            &pct(v.rate("membership_rate")),
            &pct(v.rate("reporting_rate")),
            &num(v.metrics.get("employees").copied().flatten()),
            &num(v.metrics.get("members").copied().flatten()),
            &format!(
                "{}/{}{}",
                v.coverage.reported_units,
                v.coverage.expected_units,
                if v.partial { "(部分)" } else { "" }
            ),
        ],
    )
}

pub(super) fn table_header() -> String {
    row(
        ROLLUP,
        &[
            "代码 code",
            "名称 name",
            "建会率",
            "入会率",
            "报送率",
            "职工 employees",
            "会员 members",
            "基层 units",
        ],
    )
}

pub async fn indicators(
    ctx: &AppContext,
    org: &str,
    period: &str,
    children: bool,
    tree: TreeView,
    json: bool,
) -> CliResult {
    let period: ReportPeriod = period
        .parse()
        .map_err(|e| anyhow::anyhow!("--period {period}: {e}"))?;
    let Some(node) = ctx.store.org(org).await? else {
        return Err(anyhow::anyhow!("--org {org}: not in the master data").into());
    };
    let view = indicators_view(ctx, &node, period, Children::of(children), tree).await?;
    if json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&view).unwrap_or_default()
        );
        return Ok(ExitCode::SUCCESS);
    }
    outln!("{} {} — {}", view.org, view.name, view.period);
    if view.months.expected.len() > 1 {
        outln!(
            "months present: {} of {} ({}); stock figures (期末数) as of {}, flows summed (累计数)",
            view.months.present.len(),
            view.months.expected.len(),
            if view.months.missing.is_empty() {
                "none missing".to_string()
            } else {
                format!("missing {}", view.months.missing.join(", "))
            },
            view.months.stock_month.as_deref().unwrap_or("—")
        );
    }
    if let Some(t) = &view.tree {
        let used = match t.used {
            TreeView::AsReported => "组织树：按当月 tree as reported",
            TreeView::Current => "组织树：按现行组织树重述 tree current (restated)",
        };
        match &t.differs {
            Some(d) => outln!(
                "{used}; {} 以来调入 {} 个、调出 {} 个基层工会 / since {}: {} grassroots unit(s) moved in, {} out",
                d.month, d.units_moved_in, d.units_moved_out, d.month, d.units_moved_in, d.units_moved_out
            ),
            None => outln!("{used}"),
        }
    }
    for n in &view.partial_notes {
        outln!("部分报送 partial: {} {}", n.zh, n.en);
    }
    outln!("{}", table_header());
    outln!("{}", table_row(&view));
    for c in view.children.iter().flatten() {
        outln!("{}", table_row(c));
    }
    outln!();
    // Indicator (as wide as the widest name), value, numerator, denominator.
    let mut codes: Vec<&str> = Vec::new();
    let mut rows: Vec<(String, &unionstat_core::rollup::Rate)> = ctx
        .catalog
        .indicators
        .iter()
        .filter_map(|ind| {
            let r = view.indicators.get(&ind.code)?;
            codes.push(&ind.code);
            Some((format!("{} {}", ind.zh, ind.code), r))
        })
        .collect();
    if let Some(r) = view.indicators.get("reporting_rate") {
        codes.push("reporting_rate");
        rows.push(("报送率 reporting_rate".to_string(), r));
    }
    let name_width = rows.iter().map(|(n, _)| n.width()).max().unwrap_or(0);
    let cols = [L(name_width.max(28)), R(10), R(14), R(14), R(10), R(10)];
    let header = [
        "indicator",
        "value",
        "numerator",
        "denominator",
        "环比(pts)",
        "同比(pts)",
    ];
    outln!("{}", row(&cols, &header));
    let change =
        |c: Option<&Comparison>, code: &str| points(c.and_then(|c| c.indicators.get(code)?.change));
    let (mom, yoy) = match &view.comparisons {
        Some(c) => (Some(&c.mom), Some(&c.yoy)),
        None => (None, None),
    };
    for (code, (name, r)) in codes.iter().zip(&rows) {
        let cells = [
            name.as_str(),
            &pct(r.value),
            &num(r.numerator),
            &num(r.denominator),
            &change(mom, code),
            &change(yoy, code),
        ];
        outln!("{}", row(&cols, &cells));
    }
    if let Some(c) = &view.comparisons {
        outln!();
        outln!("{}", c.mom.described("环比 against"));
        outln!("{}", c.yoy.described("同比 against"));
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn completeness(
    ctx: &AppContext,
    org: &str,
    fp: &FormPeriod,
    tree: TreeView,
    json: bool,
) -> CliResult {
    let Some(node) = ctx.store.org(org).await? else {
        return Err(anyhow::anyhow!("--org {org}: not in the master data").into());
    };
    let view = form_completeness_view(ctx, &node, fp, tree).await?;
    if json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&view).unwrap_or_default()
        );
        return Ok(ExitCode::SUCCESS);
    }
    outln!(
        "{} {} — {} (due {}): {} expected, {} reported ({} on time, {} late), {} pending, {} rejected, {} returned, {} missing; 报送率 {}, 及时率 {}",
        view.org,
        view.name,
        view.period,
        view.deadline,
        view.expected_reporters,
        view.reported,
        view.on_time,
        view.late,
        view.pending,
        view.rejected,
        view.returned,
        view.missing,
        pct(view.reporting_rate.value),
        pct(view.timeliness_rate.value)
    );
    if view.nil_reports > 0 {
        let nil: Vec<&str> = view
            .reporters
            .iter()
            .filter(|r| r.nil_report)
            .map(|r| r.code.as_str())
            .collect();
        outln!(
            "{} of the reported are nil reports (零报告): {}",
            view.nil_reports,
            nil.join(" ")
        );
    }
    if view.levels.len() > 1 {
        outln!();
        // Every state of the level's expected reporters, in both languages.
        let cols = [
            L(14),
            L(18),
            R(8),
            R(8),
            R(8),
            R(8),
            R(8),
            R(8),
            R(8),
            R(8),
            R(9),
            R(9),
        ];
        outln!(
            "{}",
            row(
                &cols,
                &[
                    "层级",
                    "名称",
                    "应报",
                    "已报",
                    "按时",
                    "迟报",
                    "处理中",
                    "审核退回",
                    "被拒收",
                    "未报",
                    "报送率",
                    "及时率",
                ]
            )
        );
        outln!(
            "{}",
            row(
                &cols,
                &[
                    "level",
                    "name",
                    "expected",
                    "reported",
                    "on time",
                    "late",
                    "pending",
                    "returned",
                    "rejected",
                    "missing",
                    "reporting",
                    "timely",
                ]
            )
        );
        for l in &view.levels {
            let counts = [
                l.expected_reporters,
                l.reported,
                l.on_time,
                l.late,
                l.pending,
                l.returned,
                l.rejected,
                l.missing,
            ]
            .map(|n| n.to_string());
            let mut cells: Vec<&str> = Vec::with_capacity(cols.len());
            let code = format!("{}{}", "  ".repeat(l.level.clamp(0, 6) as usize), l.org);
            let name = cut(&l.name, 18);
            let rates = [pct(l.reporting_rate.value), pct(l.timeliness_rate.value)];
            cells.extend([code.as_str(), name.as_str()]);
            cells.extend(counts.iter().map(String::as_str));
            cells.extend(rates.iter().map(String::as_str));
            outln!("{}", row(&cols, &cells));
        }
    }
    let chase: Vec<_> = view
        .reporters
        .iter()
        .filter(|r| r.status != "on_time")
        .collect();
    let cols = [L(9), L(14), L(20), L(10), L(0)];
    if !chase.is_empty() {
        outln!();
        outln!("not on time (contact: 联系人 master data):");
        let header = ["status", "code", "name", "填报人", "联系电话"];
        outln!("  {}", row(&cols, &header));
    }
    for r in chase {
        let cells = [
            r.status.as_str(),
            &r.code,
            &cut(&r.name, 20),
            &cut(r.preparer.as_deref().unwrap_or("—"), 10),
            r.phone.as_deref().unwrap_or("—"),
        ];
        outln!("  {}", row(&cols, &cells));
        if let Some(c) = r.review.as_ref().and_then(|v| v.comment.as_deref()) {
            if r.status == "returned" {
                outln!(
                    "    退回 returned by {}: {c}",
                    r.review.as_ref().map_or("", |v| v.reviewed_by.as_str())
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn series(
    ctx: &AppContext,
    org: &str,
    indicator: &str,
    from: &str,
    to: &str,
    tree: TreeView,
    json: bool,
) -> CliResult {
    let from = strict_period(from).map_err(|e| e.context("--from"))?;
    let to = strict_period(to).map_err(|e| e.context("--to"))?;
    let Some(node) = ctx.store.org(org).await? else {
        return Err(anyhow::anyhow!("--org {org}: not in the master data").into());
    };
    let view = series_view(ctx, &node, indicator, from, to, tree)
        .await
        .map_err(anyhow::Error::from)?;
    if json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&view).unwrap_or_default()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let Some((numerator, denominator)) = view.numerator.as_ref().zip(view.denominator.as_ref())
    else {
        return print_metric_series(&view);
    };
    outln!(
        "{} {} — {} {} ({numerator} / {denominator})",
        view.org,
        view.name,
        view.zh,
        view.indicator,
    );
    // A month reported by too few units is marked (部分), partial, in `units`.
    let cols = [L(8), R(10), R(14), R(14), R(10), R(10), R(10)];
    let header = [
        "month",
        "value",
        "numerator",
        "denominator",
        "units",
        "环比(pts)",
        "同比(pts)",
    ];
    outln!("{}", row(&cols, &header));
    for p in &view.points {
        let cells = [
            p.period.as_str(),
            &pct(p.value),
            &num(p.numerator),
            &num(p.denominator),
            &units_cell(p),
            &points(p.mom_change),
            &points(p.yoy_change),
        ];
        outln!("{}", row(&cols, &cells));
    }
    Ok(ExitCode::SUCCESS)
}

/// Reported units of a series point, marked (部分) when partial.
fn units_cell(p: &SeriesPoint) -> String {
    if p.partial {
        format!("{}(部分)", p.reported_units)
    } else {
        p.reported_units.to_string()
    }
}

/// A metric's series: its total per month, the units that reported it, and
/// 环比/同比 in percent of the earlier total.
fn print_metric_series(view: &SeriesView) -> CliResult {
    let kind = if view.kind == "flow" {
        "当月数 monthly figure (flow)"
    } else {
        "月末数 month-end figure (stock)"
    };
    outln!(
        "{} {} — {} {} {}: {kind}",
        view.org,
        view.name,
        view.zh,
        view.en,
        view.indicator
    );
    let cols = [L(8), R(16), R(10), R(10), R(10), R(10)];
    let header = ["month", "total", "reported", "units", "环比(%)", "同比(%)"];
    outln!("{}", row(&cols, &header));
    for p in &view.points {
        let cells = [
            p.period.as_str(),
            &num(p.value),
            &p.value_units
                .map_or_else(|| "—".to_string(), |u| u.to_string()),
            &units_cell(p),
            &points(p.mom_change),
            &points(p.yoy_change),
        ];
        outln!("{}", row(&cols, &cells));
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn export(
    ctx: &AppContext,
    org: &str,
    period: &str,
    output: &std::path::Path,
    tree: TreeView,
    form: Option<&str>,
) -> CliResult {
    let period: ReportPeriod = period
        .parse()
        .map_err(|e| anyhow::anyhow!("--period {period}: {e}"))?;
    let Some(node) = ctx.store.org(org).await? else {
        return Err(anyhow::anyhow!("--org {org}: not in the master data").into());
    };
    let form = form.filter(|f| *f != unionstat_core::form::MONTHLY);
    let bytes = match form {
        Some(_) if tree != TreeView::AsReported => {
            return Err(anyhow::anyhow!(
                "--tree current: 报表数据只按当时的组织树导出 / a form's figures are exported as reported only"
            )
            .into())
        }
        Some(f) => crate::flows::export::export_form(ctx, &node, f, period)
            .await?
            .map_err(|refusal| anyhow::anyhow!("--form {f}: {refusal}"))?,
        None => crate::flows::export::export(ctx, &node, period, tree).await?,
    };
    std::fs::write(output, &bytes)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", output.display()))?;
    outln!(
        "{}: {} {} {} for {period}",
        output.display(),
        form.map_or("roll-up workbook of".to_string(), |f| format!(
            "form {f} of"
        )),
        node.code,
        node.name
    );
    Ok(ExitCode::SUCCESS)
}
