//! `unionstat template`: the blank Template v1 of a reporter for a month.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use super::{strict_period, CliResult};
use crate::context::AppContext;
use crate::flows::workbooks;
use crate::store::orgs::TreeAt;

pub async fn run(ctx: &AppContext, org: &str, period: &str, output: &Path) -> CliResult {
    let period = strict_period(period)?;
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
