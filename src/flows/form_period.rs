//! One form's period (the monthly return's `2026-10`, the annual survey's
//! `2026SY`, the service form's `2026H1`): what completeness, review,
//! approval and locking ask of it — its expected reporters, its deadline
//! and lock by the form's own rule, and the month whose tree places it (the
//! period's last month).

use chrono::{DateTime, NaiveDate, Utc};
use unionstat_core::form::{Form, MONTHLY};
use unionstat_core::period::ReportPeriod;
use unionstat_core::Period;

use crate::config::ReportingSettings;
use crate::context::AppContext;
use crate::store::completeness::Reporters;

/// A form and one of its periods.
#[derive(Debug, Clone)]
pub struct FormPeriod {
    pub form: Form,
    pub period: ReportPeriod,
}

impl FormPeriod {
    /// The monthly return's `month`.
    pub fn monthly(ctx: &AppContext, month: Period) -> FormPeriod {
        FormPeriod {
            form: ctx
                .catalog
                .form(MONTHLY)
                .map_or_else(Form::monthly, |v| v.form.clone()),
            period: month.into(),
        }
    }

    /// `form` (absent or empty: `monthly`) and `period` as a request names
    /// them; why not, in Chinese and English.
    pub fn parse(
        ctx: &AppContext,
        form: Option<&str>,
        period: Option<&str>,
    ) -> Result<FormPeriod, String> {
        let code = form.map(str::trim).filter(|f| !f.is_empty());
        let view = match code {
            None => ctx.catalog.form(MONTHLY),
            Some(c) => ctx.catalog.form(c),
        };
        let Some(view) = view else {
            let f = code.unwrap_or_default();
            return Err(crate::flows::workbooks::FormRefusal::unknown(ctx, f).to_string());
        };
        let form = view.form.clone();
        let raw = period.map(str::trim).filter(|p| !p.is_empty());
        let Some(raw) = raw else {
            return Err(format!(
                "缺少报告期，例如 period={0} / period is required, e.g. period={0}",
                form.periodicity.example()
            ));
        };
        let period: ReportPeriod = raw.parse().map_err(|e| {
            format!(
                "报告期 {raw:?} 无法识别（如 {0}） / period {raw:?} is not valid (e.g. {0}): {e}",
                form.periodicity.example()
            )
        })?;
        if let Some((zh, en)) = form.period_refusal(&period) {
            return Err(format!("{zh} / {en}"));
        }
        Ok(FormPeriod { form, period })
    }

    /// A stored report's form and period (None: the catalogue no longer has
    /// the form, or the period does not read).
    pub fn of_report(ctx: &AppContext, form: &str, period: &str) -> Option<FormPeriod> {
        Some(FormPeriod {
            form: ctx.catalog.form(form)?.form.clone(),
            period: period.parse().ok()?,
        })
    }

    pub fn code(&self) -> &str {
        &self.form.code
    }

    pub fn is_monthly(&self) -> bool {
        self.form.code == MONTHLY
    }

    /// The period as written (`2026SY`), as submissions and approvals keep it.
    pub fn text(&self) -> String {
        self.period.to_string()
    }

    /// The period's last month: its tree places the reporters.
    pub fn month(&self) -> Period {
        self.period.last()
    }

    /// The form's expected reporters and submissions.
    pub fn reporters(&self) -> Reporters<'_> {
        Reporters::of(&self.form)
    }

    /// The day the period's report is due (the form's `deadline_day` of its
    /// `deadline_months_after`-th month after the period; the monthly
    /// return: `reporting.deadline_day` of the next month).
    pub fn deadline(&self, r: &ReportingSettings) -> NaiveDate {
        self.form.deadline(&self.period, r.deadline_day)
    }

    /// The last day the period is open (None: never closes by time).
    pub fn closes_on(&self, r: &ReportingSettings) -> Option<NaiveDate> {
        self.form
            .closes_on(&self.period, r.deadline_day, r.lock_after_days)
    }

    /// Whether the period is closed by time at `now`.
    pub fn is_closed(&self, r: &ReportingSettings, now: DateTime<Utc>) -> bool {
        self.closes_on(r).is_some_and(|c| r.today(now) > c)
    }

    /// Whether a report received at `received` is late.
    pub fn is_late(&self, r: &ReportingSettings, received: DateTime<Utc>) -> bool {
        r.today(received) > self.deadline(r)
    }
}

impl std::fmt::Display for FormPeriod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.period.fmt(f)
    }
}
