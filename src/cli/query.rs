//! `unionstat indicators` and `unionstat completeness`: tables or JSON.

use std::process::ExitCode;

use unionstat_core::period::ReportPeriod;

use super::{strict_period, CliResult};
use crate::app::AppContext;
use crate::store::orgs::TreeView;
use crate::views::series::series_view;
use crate::views::{completeness_view, indicators_view, IndicatorsView};

fn pct(v: Option<f64>) -> String {
    v.map(|x| format!("{:.2}%", x * 100.0))
        .unwrap_or_else(|| "—".into())
}

fn num(v: Option<f64>) -> String {
    v.map(|x| {
        if x.fract() == 0.0 {
            format!("{x:.0}")
        } else {
            format!("{x:.2}")
        }
    })
    .unwrap_or_else(|| "—".into())
}

/// One line of the roll-up table.
pub(super) fn table_row(v: &IndicatorsView) -> String {
    format!(
        "{:<14} {:<18} {:>9} {:>9} {:>9} {:>10} {:>10} {:>11}",
        v.org,
        truncate(&v.name, 16),
        pct(v.rate("unionisation_rate")),
        pct(v.rate("membership_rate")),
        pct(v.rate("reporting_rate")),
        num(v.metrics.get("employees").copied().flatten()),
        num(v.metrics.get("members").copied().flatten()),
        format!(
            "{}/{}",
            v.coverage.reported_units, v.coverage.expected_units
        ),
    )
}

pub(super) fn table_header() -> String {
    format!(
        "{:<14} {:<18} {:>9} {:>9} {:>9} {:>10} {:>10} {:>11}",
        "code", "name", "建会率", "入会率", "报送率", "employees", "members", "units"
    )
}

fn truncate(s: &str, n: usize) -> String {
    let mut out: String = s.chars().take(n).collect();
    if s.chars().count() > n {
        out.push('…');
    }
    out
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
    let view = indicators_view(ctx, &node, period, children, tree).await?;
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
    outln!("{}", table_header());
    outln!("{}", table_row(&view));
    for c in view.children.iter().flatten() {
        outln!("{}", table_row(c));
    }
    outln!();
    outln!(
        "{:<28} {:>10} {:>14} {:>14}",
        "indicator",
        "value",
        "numerator",
        "denominator"
    );
    for ind in &ctx.catalog.indicators {
        if let Some(r) = view.indicators.get(&ind.code) {
            outln!(
                "{:<28} {:>10} {:>14} {:>14}",
                format!("{} {}", ind.zh, ind.code),
                pct(r.value),
                num(r.numerator),
                num(r.denominator)
            );
        }
    }
    if let Some(r) = view.indicators.get("reporting_rate") {
        outln!(
            "{:<28} {:>10} {:>14} {:>14}",
            "报送率 reporting_rate",
            pct(r.value),
            num(r.numerator),
            num(r.denominator)
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn completeness(
    ctx: &AppContext,
    org: &str,
    period: &str,
    tree: TreeView,
    json: bool,
) -> CliResult {
    let period = strict_period(period)?;
    let Some(node) = ctx.store.org(org).await? else {
        return Err(anyhow::anyhow!("--org {org}: not in the master data").into());
    };
    let view = completeness_view(ctx, &node, period, tree).await?;
    if json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&view).unwrap_or_default()
        );
        return Ok(ExitCode::SUCCESS);
    }
    outln!(
        "{} {} — {} (due {}): {} expected, {} reported ({} on time, {} late), {} pending, {} rejected, {} missing; 报送率 {}, 及时率 {}",
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
        view.missing,
        pct(view.reporting_rate.value),
        pct(view.timeliness_rate.value)
    );
    if view.levels.len() > 1 {
        outln!();
        outln!(
            "{:<14} {:<18} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9}",
            "level",
            "name",
            "expected",
            "reported",
            "on time",
            "missing",
            "报送率",
            "及时率"
        );
        for l in &view.levels {
            outln!(
                "{:<14} {:<18} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9}",
                format!("{}{}", "  ".repeat(l.level.clamp(0, 6) as usize), l.org),
                truncate(&l.name, 16),
                l.expected_reporters,
                l.reported,
                l.on_time,
                l.missing,
                pct(l.reporting_rate.value),
                pct(l.timeliness_rate.value)
            );
        }
    }
    let chase: Vec<_> = view
        .reporters
        .iter()
        .filter(|r| r.status != "on_time")
        .collect();
    if !chase.is_empty() {
        outln!();
        outln!("not on time (contact from the last cover sheet):");
        outln!(
            "  {:<9} {:<14} {:<20} {:<10} 联系电话",
            "status",
            "code",
            "name",
            "填报人"
        );
    }
    for r in chase {
        outln!(
            "  {:<9} {:<14} {:<20} {:<10} {}",
            r.status,
            r.code,
            truncate(&r.name, 18),
            r.preparer.as_deref().unwrap_or("—"),
            r.phone.as_deref().unwrap_or("—")
        );
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
    outln!(
        "{} {} — {} {} ({} / {})",
        view.org,
        view.name,
        view.zh,
        view.indicator,
        view.numerator,
        view.denominator
    );
    outln!(
        "{:<8} {:>10} {:>14} {:>14} {:>7}",
        "month",
        "value",
        "numerator",
        "denominator",
        "units"
    );
    for p in &view.points {
        outln!(
            "{:<8} {:>10} {:>14} {:>14} {:>7}",
            p.period,
            pct(p.value),
            num(p.numerator),
            num(p.denominator),
            p.reported_units
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn export(
    ctx: &AppContext,
    org: &str,
    period: &str,
    output: &std::path::Path,
    tree: TreeView,
) -> CliResult {
    let period: ReportPeriod = period
        .parse()
        .map_err(|e| anyhow::anyhow!("--period {period}: {e}"))?;
    let Some(node) = ctx.store.org(org).await? else {
        return Err(anyhow::anyhow!("--org {org}: not in the master data").into());
    };
    let bytes = crate::export::export(ctx, &node, period, tree).await?;
    std::fs::write(output, &bytes)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", output.display()))?;
    outln!(
        "{}: roll-up workbook of {} {} for {period}",
        output.display(),
        node.code,
        node.name
    );
    Ok(ExitCode::SUCCESS)
}
