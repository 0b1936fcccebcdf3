//! `unionstat template`: the blank Template v1 of a reporter for a month, or
//! the blank workbook of another form (`--form annual_survey --period 2026SY`).

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use unionstat_core::form::MONTHLY;
use unionstat_core::period::ReportPeriod;

use super::{strict_period, CliResult};
use crate::context::AppContext;
use crate::flows::workbooks;
use crate::store::orgs::TreeAt;

pub async fn run(
    ctx: &AppContext,
    org: &str,
    period: &str,
    form: &str,
    output: &Path,
) -> CliResult {
    let reporter = ctx
        .store
        .org(org)
        .await?
        .with_context(|| format!("--org {org}: not in the master data"))?;
    if reporter.is_grassroots() {
        return Err(anyhow::anyhow!(
            "--org {org}: a grassroots union does not report; name its federation"
        )
        .into());
    }
    if form != MONTHLY {
        let period: ReportPeriod = period.parse().map_err(|_| {
            anyhow::anyhow!(
                "--period {period}: 报告期无法识别（如 2026SY、2026H1） / not a valid period (e.g. 2026SY, 2026H1)"
            )
        })?;
        let bytes = workbooks::form_template(ctx, &reporter, form, period)
            .await?
            .map_err(|refusal| anyhow::anyhow!("{refusal}"))?;
        std::fs::write(output, &bytes)
            .with_context(|| format!("cannot write {}", output.display()))?;
        outln!(
            "{}: form {form} of {} {} for {period}",
            output.display(),
            reporter.code,
            reporter.name
        );
        return Ok(ExitCode::SUCCESS);
    }
    let period = strict_period(period)?;
    let bytes = workbooks::template(ctx, &reporter, period).await?;
    std::fs::write(output, &bytes).with_context(|| format!("cannot write {}", output.display()))?;
    let units = ctx
        .store
        .children(&reporter.code, TreeAt::Month(period))
        .await?
        .iter()
        .filter(|o| o.is_grassroots())
        .count();
    outln!(
        "{}: template of {} {} for {period}, {units} grassroots unit(s)",
        output.display(),
        reporter.code,
        reporter.name
    );
    Ok(ExitCode::SUCCESS)
}
