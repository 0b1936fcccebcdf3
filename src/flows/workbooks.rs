//! Workbooks for people, shared by the API and the CLI: a reporter's blank
//! Template v1 and the annotated copy of a submission. The writing is in
//! unionstat-core (`workbook_out`); this module loads what it needs and runs it
//! off the async runtime.

use std::time::Duration;

use anyhow::Context as _;
use unionstat_core::ingest::Workbook;
use unionstat_core::workbook_out;
use unionstat_core::{Issue, Period};

use crate::context::AppContext;
use crate::flows::intake;
use crate::sandbox::ReaderCrash;
use crate::store::orgs::{OrgRow, TreeAt};

/// Media type of an .xlsx file.
pub const XLSX_MEDIA_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The blank template of `reporter` (a federation) for `period`, listing the
/// grassroots units directly under it in that month's tree.
pub async fn template(
    ctx: &AppContext,
    reporter: &OrgRow,
    period: Period,
) -> anyhow::Result<Vec<u8>> {
    let units = units_of(ctx, reporter, period).await?;
    let catalog = ctx.catalog.clone();
    let (code, name) = (reporter.code.clone(), reporter.name.clone());
    tokio::task::spawn_blocking(move || {
        workbook_out::template(&catalog, &code, &name, period, &units)
    })
    .await
    .context("writing the template stopped")?
    .context("writing the template")
}

/// Why a form's blank workbook cannot be written, in Chinese and English.
#[derive(Debug, thiserror::Error)]
pub enum FormRefusal {
    #[error("报表 {0} 不存在（已有：{1}） / there is no form {0} (known: {1})")]
    UnknownForm(String, String),
    #[error("{0} / {1}")]
    WrongPeriod(String, String),
    #[error("报表 {0} 尚无存储位置 / form {0} has no storage slot")]
    NoSlot(String),
}

impl FormRefusal {
    /// `form` is not in the catalogue: the refusal names the forms that are.
    pub fn unknown(ctx: &AppContext, form: &str) -> FormRefusal {
        let known: Vec<String> = ctx.catalog.forms().iter().map(|f| f.code.clone()).collect();
        FormRefusal::UnknownForm(form.to_string(), known.join(", "))
    }
}

/// The catalogue's view of `form` when `period` is of its kind; else why not,
/// in Chinese and English.
pub fn form_view<'a>(
    ctx: &'a AppContext,
    form: &str,
    period: &unionstat_core::period::ReportPeriod,
) -> Result<&'a unionstat_core::Catalog, FormRefusal> {
    let Some(view) = ctx.catalog.form(form) else {
        return Err(FormRefusal::unknown(ctx, form));
    };
    if let Some((zh, en)) = view.form.period_refusal(period) {
        return Err(FormRefusal::WrongPeriod(zh, en));
    }
    Ok(view)
}

/// The blank workbook of `form` for `reporter` and `period`: for a form a
/// federation reports for its units, the grassroots units directly under it
/// in the tree of the period's last month; for one it reports about itself,
/// its own row. `monthly` is Template v1 ([`template`]).
pub async fn form_template(
    ctx: &AppContext,
    reporter: &OrgRow,
    form: &str,
    period: unionstat_core::period::ReportPeriod,
) -> anyhow::Result<Result<Vec<u8>, FormRefusal>> {
    use unionstat_core::form::ReporterKind;
    use unionstat_core::workbook_out::FormLine;
    let view = match form_view(ctx, form, &period) {
        Ok(v) => v,
        Err(e) => return Ok(Err(e)),
    };
    if let Some(month) = period
        .as_month()
        .filter(|_| view.form.code == unionstat_core::form::MONTHLY)
    {
        return template(ctx, reporter, month).await.map(Ok);
    }
    let lines: Vec<FormLine> = match view.form.reporter {
        ReporterKind::FederationForUnits => units_of(ctx, reporter, period.last())
            .await?
            .into_iter()
            .map(|(code, name)| FormLine {
                code,
                name,
                ..FormLine::default()
            })
            .collect(),
        ReporterKind::FederationSelf => vec![FormLine {
            code: reporter.code.clone(),
            name: reporter.name.clone(),
            ..FormLine::default()
        }],
    };
    let view = view.clone();
    let (code, name) = (reporter.code.clone(), reporter.name.clone());
    let bytes = tokio::task::spawn_blocking(move || {
        workbook_out::form_workbook(&view, (&code, &name), &period, &lines)
    })
    .await
    .context("writing the form stopped")?
    .context("writing the form")?;
    Ok(Ok(bytes))
}

/// The grassroots units directly under `reporter` in `period`'s tree (code,
/// name): the rows of its template.
pub async fn units_of(
    ctx: &AppContext,
    reporter: &OrgRow,
    period: Period,
) -> anyhow::Result<Vec<(String, String)>> {
    Ok(ctx
        .store
        .children(&reporter.code, TreeAt::Month(period))
        .await
        .context("loading the units of the reporter")?
        .into_iter()
        .filter(OrgRow::is_grassroots)
        .map(|o| (o.code, o.name))
        .collect())
}

/// The annotated copy of a workbook already read.
pub async fn annotate(
    ctx: &AppContext,
    workbook: Workbook,
    issues: Vec<Issue>,
) -> anyhow::Result<Vec<u8>> {
    let catalog = ctx.catalog.clone();
    tokio::task::spawn_blocking(move || workbook_out::annotated(&catalog, &workbook, &issues))
        .await
        .context("writing the annotated workbook stopped")?
        .context("writing the annotated workbook")
}

/// The annotated copy of an uploaded file with its report: the file is read
/// again as untrusted; one the reader cannot survive gives the issue list alone.
pub async fn annotate_file(
    ctx: &AppContext,
    bytes: Vec<u8>,
    issues: Vec<Issue>,
) -> anyhow::Result<Vec<u8>> {
    let wait = Duration::from_secs(ctx.settings.ingest.reader_wait_seconds);
    let workbook = match intake::read_untrusted(ctx, bytes, Some(wait)).await {
        Ok(wb) => wb,
        Err(e) if e.downcast_ref::<ReaderCrash>().is_some() => Workbook::default(),
        Err(e) => return Err(e),
    };
    annotate(ctx, workbook, issues).await
}

/// A file name safe in a Content-Disposition header and on any disk: letters,
/// digits, `.`, `-`, `_` kept, anything else `_`.
pub fn safe_file_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}
