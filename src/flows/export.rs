//! The roll-up workbook of a node for a period (`GET /api/v1/orgs/{code}/export.xlsx`
//! and `unionstat export`): the same indicator and completeness answers the API
//! gives, laid out by unionstat_core's export writer.

use anyhow::Context;
use unionstat_core::period::ReportPeriod;
use unionstat_core::rollup::Rate;
use unionstat_core::workbook_out::export::{
    export_workbook, ExportBook, ExportIndicator, ExportLevel, ExportNode, ExportReporter,
};

use crate::context::AppContext;
use crate::flows::views::compare::Comparison;
use crate::flows::views::{completeness_view, indicators_view, Children, IndicatorsView};
use crate::store::orgs::{OrgRow, TreeView};

/// The indicator charted by child.
const CHART_INDICATOR: &str = "membership_rate";

fn node(v: &IndicatorsView, indicators: &[ExportIndicator]) -> ExportNode {
    ExportNode {
        code: v.org.clone(),
        name: v.name.clone(),
        expected_units: v.coverage.expected_units,
        reported_units: v.coverage.reported_units,
        expected_reporters: v.coverage.expected_reporters,
        reported_reporters: v.coverage.reported_reporters,
        rates: indicators
            .iter()
            .map(|i| {
                v.indicators
                    .get(&i.code)
                    .copied()
                    .unwrap_or_else(|| Rate::of(None, None))
            })
            .collect(),
        changes: match &v.comparisons {
            Some(c) => indicators
                .iter()
                .map(|i| {
                    let points = |c: &Comparison| c.indicators.get(&i.code).and_then(|x| x.change);
                    (points(&c.mom), points(&c.yoy))
                })
                .collect(),
            None => Vec::new(),
        },
        partial: v.partial,
    }
}

/// Which periods the comparison columns compare with, and where the earlier
/// coverage differs, in words.
fn comparison_note(v: &IndicatorsView) -> String {
    let Some(c) = &v.comparisons else {
        return String::new();
    };
    format!(
        "{}；{}",
        c.mom.described("环比 MoM"),
        c.yoy.described("同比 YoY")
    )
}

fn tree_note(tree: TreeView) -> &'static str {
    match tree {
        TreeView::AsReported => "按当时的组织树 tree as reported (each month under its own tree)",
        TreeView::Current => "按现行组织树重述 tree current (history restated under today's tree)",
    }
}

/// The workbook's bytes. Completeness is of the period's last month.
pub async fn export(
    ctx: &AppContext,
    org: &OrgRow,
    period: ReportPeriod,
    tree: TreeView,
) -> anyhow::Result<Vec<u8>> {
    let view = indicators_view(ctx, org, period, Children::Figures, tree)
        .await
        .context("loading the indicators")?;
    let month = period.last();
    let completeness = completeness_view(ctx, org, month, tree)
        .await
        .context("loading completeness")?;
    let mut indicators: Vec<ExportIndicator> = ctx
        .catalog
        .indicators
        .iter()
        .map(|i| {
            let decimals = |code: &str| ctx.catalog.metric(code).map_or(0, |m| m.decimals);
            ExportIndicator {
                code: i.code.clone(),
                zh: i.zh.clone(),
                en: i.en.clone(),
                numerator_decimals: decimals(&i.numerator),
                denominator_decimals: decimals(&i.denominator),
            }
        })
        .collect();
    indicators.push(ExportIndicator {
        code: "reporting_rate".into(),
        zh: "报送率".into(),
        en: "Reporting rate".into(),
        numerator_decimals: 0,
        denominator_decimals: 0,
    });
    let partial_notes: String = view
        .partial_notes
        .iter()
        .map(|n| format!("{} {}", n.zh, n.en))
        .collect::<Vec<_>>()
        .join(" ");
    let months_note = format!(
        "{} {}: 存量指标取期末数（{}），流量指标为累计数；有数据的月份 months present: {}；{}；{}{}",
        view.period,
        view.period_kind,
        view.months.stock_month.as_deref().unwrap_or("—"),
        if view.months.present.is_empty() {
            "—".to_string()
        } else {
            view.months.present.join(", ")
        },
        tree_note(tree),
        comparison_note(&view),
        if partial_notes.is_empty() {
            String::new()
        } else {
            format!("；{partial_notes}")
        },
    );
    let book = ExportBook {
        title: format!("{} {} — {}", view.org, view.name, view.period),
        months_note,
        chart_indicator: indicators.iter().position(|i| i.code == CHART_INDICATOR),
        node: node(&view, &indicators),
        children: view
            .children
            .iter()
            .flatten()
            .map(|c| node(c, &indicators))
            .collect(),
        completeness_title: format!(
            "报送情况 Completeness {}（截止 due {}）",
            completeness.period, completeness.deadline
        ),
        levels: completeness
            .levels
            .iter()
            .map(|l| ExportLevel {
                code: l.org.clone(),
                name: l.name.clone(),
                level: l.level,
                expected: l.expected_reporters as i64,
                reported: l.reported as i64,
                on_time: l.on_time as i64,
                late: l.late as i64,
                pending: l.pending as i64,
                rejected: l.rejected as i64,
                missing: l.missing as i64,
                returned: l.returned as i64,
                reporting_rate: l.reporting_rate.value,
                timeliness_rate: l.timeliness_rate.value,
                approved: l.approved,
            })
            .collect(),
        reporters: completeness
            .reporters
            .iter()
            .map(|r| ExportReporter {
                code: r.code.clone(),
                name: r.name.clone(),
                status: r.status.clone(),
                received_at: r
                    .first_accepted_at
                    .clone()
                    .or_else(|| r.received_at.clone())
                    .unwrap_or_default(),
                preparer: r.preparer.clone().unwrap_or_default(),
                phone: r.phone.clone().unwrap_or_default(),
                approved: r.approved,
            })
            .collect(),
        indicators,
    };
    let bytes = tokio::task::spawn_blocking(move || export_workbook(&book))
        .await
        .context("writing the workbook stopped")??;
    Ok(bytes)
}
