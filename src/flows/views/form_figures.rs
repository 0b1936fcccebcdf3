//! A node's figures of a form other than `monthly` for one of its periods
//! (the annual survey's 2026SY): a federation's roll-up of what its
//! reporters sent, a grassroots unit's own row, and which of the expected
//! reporters below it have and have not reported the period.

use std::collections::BTreeMap;

use serde::Serialize;
use unionstat_core::period::ReportPeriod;
use unionstat_core::rollup::Total;

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
        reported,
        not_reported,
    }))
}
