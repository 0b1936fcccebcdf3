//! Checking a workbook of a form other than Template v1 (the annual survey,
//! the half-yearly service form, a form the catalogue adds): the form's
//! header, its rules against master data of the tree of the period's last
//! month, its lock, and its reconciliation with the monthly return.
//!
//! An accepted upload of one is then stored like the monthly sheet
//! ([`super::accept`]): a federation's own row (a form it reports about
//! itself) counts in its own roll-up and its ancestors'.

use std::collections::{BTreeMap, HashMap};

use anyhow::Context as _;
use unionstat_core::form::ReporterKind;
use unionstat_core::reconcile::{reconcile, Sides};
use unionstat_core::validate::{self, resolve_form_header, Context, MasterUnit};
use unionstat_core::Catalog;

use super::evaluate::{sheet_units, Evaluation, Scope, FATAL_READ_RULES};
use super::Request;
use crate::context::AppContext;
use crate::flows::form_period::FormPeriod;
use crate::flows::locking::form_lock_state;
use crate::store::orgs::{OrgRow, TreeAt, TreeView};
use crate::store::periods::Spans;

/// Checks `eval`'s workbook as form `view` (its view of the catalogue).
pub(super) async fn evaluate_form(
    ctx: &AppContext,
    view: &Catalog,
    eval: &mut Evaluation,
    req: &Request,
) -> anyhow::Result<()> {
    let header = match resolve_form_header(
        &eval.workbook,
        view,
        req.reporter.as_deref(),
        req.form_period,
    ) {
        Ok(h) => h,
        Err(found) => {
            eval.issues.extend(found);
            return Ok(());
        }
    };
    // The tree of the period's last month: who reports and the units under it.
    let month = header.period.last();
    let at = TreeAt::Month(month);
    let scope = Scope::of(ctx, req, at).await?;
    let reporter = match scope.reporter(ctx, &header.reporter, at).await? {
        Ok(r) => r,
        Err(rule) => {
            eval.issues
                .push(view.issue(rule, None, None, Some(&header.reporter), &[]));
            return Ok(());
        }
    };
    eval.form_header = Some(header.clone());
    if eval
        .issues
        .iter()
        .any(|i| i.is_error() && FATAL_READ_RULES.contains(&i.rule.as_str()))
    {
        return Ok(());
    }
    let (known, expected) = units(ctx, view, &reporter, eval, &scope, at).await?;
    let settings = ctx.settings.clone();
    let today = settings.reporting.today(chrono::Utc::now());
    // A locked period of the form (closed by the form's own time rule, or
    // its approval here or above) takes the upload only with an admin's
    // reason; the monthly return's approvals do not lock it.
    let fp = FormPeriod {
        form: view.form.clone(),
        period: header.period,
    };
    let lock = form_lock_state(ctx, &reporter, &fp).await?;
    if lock.locked() {
        let why = lock.describe(&fp);
        eval.locked = Some(format!("{} / {}", why.zh, why.en));
        eval.lock_note = Some(lock.check_only_note(&fp));
    }
    let locked = lock.locked() && !req.lock_override;
    let monthly = month_totals(ctx, &reporter, month).await?;

    let view = view.clone();
    let catalog = ctx.catalog.clone();
    let wb = std::mem::take(&mut eval.workbook);
    let mut issues = std::mem::take(&mut eval.issues);
    let reporter_code = reporter.code.clone();
    let period = header.period;
    let (wb, issues) = tokio::task::spawn_blocking(move || {
        let previous = HashMap::new();
        let vctx = Context {
            catalog: &view,
            reporter: &reporter_code,
            period: month,
            today,
            locked,
            known_units: &known,
            expected_units: &expected,
            previous: &previous,
            max_monthly_change: settings.validation.max_monthly_change,
            min_change_base: settings.validation.min_change_base,
            outliers: settings.validation.outlier_test(),
            nil_report: false,
            explanations: &[],
            form_period: Some(period),
        };
        issues.extend(validate::validate(&wb, &vctx));
        wb.name_units(&mut issues, |code| expected.contains_key(code));
        let mut totals: HashMap<String, i64> = HashMap::new();
        for (i, col) in wb.columns.iter().enumerate() {
            let sum: i64 = wb
                .rows
                .iter()
                .filter_map(|r| r.values.get(i).copied().flatten())
                .sum();
            if wb
                .rows
                .iter()
                .any(|r| r.values.get(i).copied().flatten().is_some())
            {
                totals.insert(col.metric.clone(), sum);
            }
        }
        let sides = Sides {
            form_totals: &totals,
            rows: wb.rows.len() as i64,
            monthly: &monthly,
        };
        issues.extend(reconcile(
            &view,
            &catalog,
            &sides,
            month,
            settings.reporting.reconcile_share,
        ));
        (wb, issues)
    })
    .await
    .context("validation stopped")?;
    eval.workbook = wb;
    eval.issues = issues;
    Ok(())
}

/// The units a form's rows may name and must cover: for a form a federation
/// reports for its units, the grassroots units of the sheet in the
/// uploader's scope and those directly under the reporter; for one it
/// reports about itself, the reporter alone (its own row stands where a
/// unit's would).
async fn units(
    ctx: &AppContext,
    view: &Catalog,
    reporter: &OrgRow,
    eval: &Evaluation,
    scope: &Scope,
    at: TreeAt,
) -> anyhow::Result<(HashMap<String, MasterUnit>, BTreeMap<String, String>)> {
    if view.form.reporter == ReporterKind::FederationSelf {
        let me = MasterUnit {
            code: reporter.code.clone(),
            name: reporter.name.clone(),
            parent_code: Some(reporter.code.clone()),
            grassroots: true,
        };
        let expected = BTreeMap::from([(reporter.code.clone(), reporter.name.clone())]);
        return Ok((HashMap::from([(reporter.code.clone(), me)]), expected));
    }
    sheet_units(ctx, &eval.workbook, reporter, scope, at).await
}

/// The reporter's monthly roll-up of `month` (its units' figures as
/// reported), by metric code; a metric nobody reported is absent.
async fn month_totals(
    ctx: &AppContext,
    reporter: &OrgRow,
    month: unionstat_core::Period,
) -> anyhow::Result<HashMap<String, i64>> {
    let months = ctx
        .store
        .node_months(reporter, &Spans::range(month, month), TreeView::AsReported)
        .await?;
    Ok(months
        .get(&month)
        .map(|f| {
            f.totals
                .iter()
                .map(|(code, t)| (code.clone(), t.value))
                .collect()
        })
        .unwrap_or_default())
}
