//! The roll-up workbook of a node for a period (`GET /api/v1/orgs/{code}/export.xlsx`
//! and `unionstat export`): the same indicator and completeness answers the API
//! gives, laid out by unionstat_core's export writer.

use anyhow::Context;
use unionstat_core::form::ReporterKind;
use unionstat_core::period::ReportPeriod;
use unionstat_core::rollup::MonthFigures;
use unionstat_core::rollup::Rate;
use unionstat_core::workbook_out::export::{
    export_workbook, form_export_workbook, ExportBook, ExportIndicator, ExportLevel, ExportNode,
    ExportReporter, FormExportBook, FormExportRow,
};

use crate::context::AppContext;
use crate::flows::views::compare::Comparison;
use crate::flows::views::form_figures::form_figures;
use crate::flows::views::{completeness_view, indicators_view, Children, IndicatorsView};
use crate::flows::workbooks::{form_view, FormRefusal};
use crate::store::orgs::{OrgRow, TreeAt, TreeView};

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

/// The workbook of `org`'s figures of `form` for `period` (a period of the
/// form's kind), as reported: the node's totals, its own row when it reports
/// the form about itself, each child's (a federation's roll-up, a grassroots
/// unit's own row) in the tree of the period's last month, and which expected
/// reporters below it have and have not reported. Else why not, in Chinese
/// and English.
pub async fn export_form(
    ctx: &AppContext,
    org: &OrgRow,
    form: &str,
    period: ReportPeriod,
) -> anyhow::Result<Result<Vec<u8>, FormRefusal>> {
    let figures = match form_figures(ctx, org, form, period).await? {
        Ok(f) => f,
        Err(e) => return Ok(Err(e)),
    };
    let view = match form_view(ctx, form, &period) {
        Ok(v) => v.clone(),
        Err(e) => return Ok(Err(e)),
    };
    let Some(key) = ctx.store.form_slots().await.key(form, &period) else {
        return Ok(Err(FormRefusal::NoSlot(form.to_string())));
    };
    let at = TreeAt::Month(period.last());
    let children = ctx.store.children(&org.code, at).await?;
    let child_figures = ctx.store.nodes_form_figures(&children, key, false).await?;
    let values = |totals: &dyn Fn(&str) -> Option<i64>| -> Vec<Option<i64>> {
        view.metrics.iter().map(|m| totals(&m.code)).collect()
    };
    let mut rows = vec![FormExportRow {
        code: figures.org.clone(),
        name: figures.name.clone(),
        reported_units: figures.reported_units,
        reported_reporters: figures.reported_reporters,
        values: values(&|m| figures.totals.get(m).map(|t| t.value)),
    }];
    let row_of = |o: &OrgRow, f: &MonthFigures, name: String| FormExportRow {
        code: o.code.clone(),
        name,
        reported_units: f.reported_units,
        reported_reporters: f.reported_reporters,
        values: values(&|m| f.totals.get(m).map(|t| t.value)),
    };
    let self_reported = view.form.reporter == ReporterKind::FederationSelf;
    if self_reported && !org.is_grassroots() {
        let own = ctx
            .store
            .nodes_form_figures(std::slice::from_ref(org), key, true)
            .await?;
        if let Some(f) = own.first() {
            rows.push(row_of(org, f, format!("{}（本级）", org.name)));
        }
    }
    rows.extend(
        children
            .iter()
            .zip(&child_figures)
            .map(|(c, f)| row_of(c, f, c.name.clone())),
    );
    let codes: Vec<String> = figures
        .reported
        .iter()
        .chain(&figures.not_reported)
        .cloned()
        .collect();
    let names = ctx.store.orgs_by_code(&codes, at).await?;
    let name = |c: &str| names.get(c).map(|o| o.name.clone()).unwrap_or_default();
    let mut reporters: Vec<(String, String, bool)> = figures
        .reported
        .iter()
        .map(|c| (c.clone(), name(c), true))
        .chain(
            figures
                .not_reported
                .iter()
                .map(|c| (c.clone(), name(c), false)),
        )
        .collect();
    reporters.sort();
    let book = FormExportBook {
        title: format!(
            "{} {} — {} {}",
            figures.org, figures.name, figures.period, view.form.zh
        ),
        note: format!(
            "{}：按当时的组织树，本级合计及各下级单位；已报 {r} 个，未报 {n} 个 / {}: as reported, the node's totals and each unit below it; {r} reported, {n} not reported",
            view.form.zh,
            view.form.en,
            r = figures.reported.len(),
            n = figures.not_reported.len()
        ),
        rows,
        reporters,
    };
    let bytes = tokio::task::spawn_blocking(move || form_export_workbook(&view, &book))
        .await
        .context("writing the workbook stopped")??;
    Ok(Ok(bytes))
}
