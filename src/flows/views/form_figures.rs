//! A node's figures of a form other than `monthly` for one of its periods
//! (the annual survey's 2026SY): a federation's roll-up of what its
//! reporters sent, a grassroots unit's own row, and which of the expected
//! reporters below it have and have not reported the period.

use std::collections::BTreeMap;

use serde::Serialize;
use unionstat_core::period::ReportPeriod;
use unionstat_core::rollup::{indicator, Rate, Total, Totals};

use crate::context::AppContext;
use crate::flows::workbooks::{form_view, FormRefusal};
use crate::store::completeness::Reporters;
use crate::store::orgs::{OrgRow, TreeAt};

/// What `GET /api/v1/orgs/{code}/forms/{form}?period=P` answers.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FormFiguresView {
    pub org: String,
    pub name: String,
    pub form: String,
    pub period: String,
    /// Grassroots units with at least one figure (a unit itself: 0 or 1).
    pub reported_units: i64,
    /// Reporters whose upload of the form is accepted.
    pub reported_reporters: i64,
    /// Each reported metric of the form: its sum and the units reporting it.
    /// A sum is scaled as stored: divide by 10^`decimals` (see `metrics`).
    #[schema(value_type = Object)]
    pub totals: BTreeMap<String, Total>,
    /// The form's metrics in catalogue order: code, names and decimals.
    pub metrics: Vec<FormMetric>,
    /// Every indicator of the form, by code: a ratio of the sums in
    /// `totals` (in natural units, yuan not fen), or, for an indicator that
    /// reads its denominator from a month (`denominator_month = "last"`),
    /// over the node's monthly roll-up of that month (`denominator_period`).
    /// A figure nobody reported is null, and so is the value then.
    pub indicators: BTreeMap<String, FormIndicator>,
    /// The form's expected reporters of the subtree (in the tree of the
    /// period's last month; a form a federation reports about itself: every
    /// federation taking part, the node included) with an accepted upload of
    /// the form for the period, by code.
    pub reported: Vec<String>,
    /// The expected reporters of the subtree without one, by code.
    pub not_reported: Vec<String>,
}

/// A metric of a form as the figures' reader needs it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FormMetric {
    pub code: String,
    pub zh: String,
    pub en: String,
    /// Decimal places: 2 for amounts in yuan, 0 for counts.
    pub decimals: u32,
}

/// An indicator of a form: its names, the rate with what it was computed
/// from, and the month its denominator was read from when it spans forms.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FormIndicator {
    pub zh: String,
    pub en: String,
    /// Numerator ÷ denominator; null when either is unreported or the
    /// denominator is 0.
    pub value: Option<f64>,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
    /// The monthly period the denominator was read from (`2026-09` for
    /// 2026SY); absent when both come from the form's own totals.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub denominator_period: Option<String>,
}

/// `org`'s figures of `form` for `period` (a period of the form's kind; else
/// the refusal, in Chinese and English).
pub async fn form_figures(
    ctx: &AppContext,
    org: &OrgRow,
    form: &str,
    period: ReportPeriod,
) -> anyhow::Result<Result<FormFiguresView, FormRefusal>> {
    let view = match form_view(ctx, form, &period) {
        Ok(v) => v,
        Err(e) => return Ok(Err(e)),
    };
    let slots = ctx.store.form_slots().await;
    let Some(key) = slots.key(form, &period) else {
        return Ok(Err(FormRefusal::NoSlot(form.to_string())));
    };
    let figures = ctx.store.node_form_figures(org, key).await?;
    let indicators = form_indicators(ctx, view, org, &period, &figures.totals).await?;
    // Who has and has not reported: the form's expected reporters of the
    // subtree (a form a federation reports about itself: every federation
    // taking part, the node included) and their accepted uploads of the form.
    let at = TreeAt::Month(period.last());
    let who = Reporters::of(&view.form);
    let expected = ctx.store.reporter_paths(org, who, at).await?;
    let accepted = ctx
        .store
        .first_accepted_at(org, who, &period.to_string(), at)
        .await?;
    let (mut reported, mut not_reported): (Vec<String>, Vec<String>) = expected
        .into_keys()
        .partition(|code| accepted.contains_key(code));
    reported.sort();
    not_reported.sort();
    let own: std::collections::HashSet<&str> =
        view.metrics.iter().map(|m| m.code.as_str()).collect();
    Ok(Ok(FormFiguresView {
        org: org.code.clone(),
        name: org.name.clone(),
        form: form.to_string(),
        period: period.to_string(),
        reported_units: figures.reported_units,
        reported_reporters: figures.reported_reporters,
        totals: figures
            .totals
            .into_iter()
            .filter(|(m, _)| own.contains(m.as_str()))
            .collect(),
        metrics: view
            .metrics
            .iter()
            .map(|m| FormMetric {
                code: m.code.clone(),
                zh: m.zh.clone(),
                en: m.en.clone(),
                decimals: m.decimals,
            })
            .collect(),
        indicators,
        reported,
        not_reported,
    }))
}

/// Every indicator of the form `view` for `org`'s `totals` of `period`, by
/// the same ratio of sums as the monthly indicators; an indicator that
/// spans forms reads its denominator from the node's monthly figures of the
/// period's last month (its roll-up, or a unit's own row).
async fn form_indicators(
    ctx: &AppContext,
    view: &unionstat_core::Catalog,
    org: &OrgRow,
    period: &ReportPeriod,
    totals: &Totals,
) -> anyhow::Result<BTreeMap<String, FormIndicator>> {
    let month = period.last();
    // The node's figures of `month`, by monthly form (read once each).
    let mut monthly: std::collections::HashMap<&str, Totals> = Default::default();
    let mut out = BTreeMap::new();
    for ind in &view.indicators {
        let denominator_period = ind.spans_forms().then(|| month.to_string());
        let rate: Rate = if ind.spans_forms() {
            // The monthly form the denominator belongs to (the catalogue
            // refuses a `denominator_month` of any other kind).
            let den_form = ctx
                .catalog
                .forms()
                .into_iter()
                .find(|f| {
                    ctx.catalog
                        .form(&f.code)
                        .is_some_and(|v| v.metric(&ind.denominator).is_some())
                })
                .map_or(ctx.catalog.form.code.as_str(), |f| f.code.as_str());
            if !monthly.contains_key(den_form) {
                let key = ctx
                    .store
                    .form_slots()
                    .await
                    .key(den_form, &ReportPeriod::Month(month));
                let totals = match key {
                    Some(key) => ctx.store.node_form_figures(org, key).await?.totals,
                    None => Default::default(),
                };
                monthly.insert(den_form, totals);
            }
            let month_totals = &monthly[den_form];
            indicator(&ctx.catalog, ind, |c| {
                if c == ind.denominator {
                    month_totals.get(c).copied()
                } else {
                    totals.get(c).copied()
                }
            })
        } else {
            indicator(&ctx.catalog, ind, |c| totals.get(c).copied())
        };
        out.insert(
            ind.code.clone(),
            FormIndicator {
                zh: ind.zh.clone(),
                en: ind.en.clone(),
                value: rate.value,
                numerator: rate.numerator,
                denominator: rate.denominator,
                denominator_period,
            },
        );
    }
    Ok(out)
}
