//! `unionstat orgs …`: the federation tree over time — import master data,
//! move, close, merge and split units (each from a month on, audited as `cli`
//! with the OS user), and show a unit's history.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use unionstat_core::Period;

use super::{CliResult, Failure};
use crate::context::AppContext;
use crate::flows::tree_changes::{self, ChangeError, Changer};
use crate::store::actor::Actor;
use crate::store::orgs::{ImportReport, UnitChange, OPEN};

fn changer(reason: Option<String>) -> Changer {
    Changer {
        actor: Actor::cli().to_string(),
        reason,
    }
}

fn month(ctx: &AppContext, flag: &str, raw: Option<&str>) -> anyhow::Result<Period> {
    match raw {
        Some(r) => r.parse().with_context(|| format!("--{flag} {r}")),
        None => Ok(tree_changes::default_from(&ctx.settings.reporting)),
    }
}

/// `CODE=VALUE` pairs of a repeated flag.
fn pairs(flag: &str, raw: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    raw.iter()
        .map(|p| {
            p.split_once('=')
                .map(|(a, b)| (a.trim().to_string(), b.trim().to_string()))
                .filter(|(a, b)| !a.is_empty() && !b.is_empty())
                .with_context(|| format!("--{flag} {p}: use CODE=VALUE"))
        })
        .collect()
}

/// Prints what a change did; a refused change exits 1 with the reason.
fn report(what: &str, done: Result<(ImportReport, Vec<UnitChange>), ChangeError>) -> CliResult {
    match done {
        Ok((r, changes)) => {
            outln!(
                "{what}: {} inserted, {} updated, {} unchanged, {} moved, {} closed; {} unit version(s) written{}",
                r.inserted,
                r.updated,
                r.unchanged,
                r.moved,
                r.closed,
                r.versions_written,
                if r.versions_written > 0 {
                    " (roll-ups of the months concerned recomputed)"
                } else {
                    ""
                }
            );
            for c in changes.iter().take(50) {
                let parent = |o: &Option<crate::store::orgs::OrgRow>| {
                    o.as_ref()
                        .map(|o| {
                            format!(
                                "{} under {}",
                                o.name,
                                o.parent_code.as_deref().unwrap_or("—")
                            )
                        })
                        .unwrap_or_else(|| "—".into())
                };
                outln!(
                    "  {} {}: {} → {}",
                    c.what,
                    c.code,
                    parent(&c.from),
                    parent(&c.to)
                );
            }
            if changes.len() > 50 {
                outln!("  … and {} more (see the audit)", changes.len() - 50);
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) if e.is_callers() => Err(Failure {
            code: 1,
            error: anyhow::anyhow!("{what}: {e}"),
        }),
        Err(e) => Err(anyhow::anyhow!("{what}: {e}").into()),
    }
}

pub async fn import(
    ctx: &AppContext,
    file: &Path,
    from: Option<&str>,
    reason: Option<String>,
) -> CliResult {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let lines = unionstat_core::orgs::parse_org_lines(&bytes).map_err(|errs| {
        let lines: Vec<String> = errs.iter().take(20).map(|e| e.to_string()).collect();
        anyhow::anyhow!(
            "{}: {} problem(s):\n  {}",
            file.display(),
            errs.len(),
            lines.join("\n  ")
        )
    })?;
    let from = from
        .map(|f| f.parse::<Period>().with_context(|| format!("--from {f}")))
        .transpose()?;
    let done = tree_changes::import(ctx, &lines, from, &changer(reason)).await;
    report(&file.display().to_string(), done)
}

pub async fn move_unit(
    ctx: &AppContext,
    code: &str,
    to: &str,
    from: Option<&str>,
    reason: Option<String>,
) -> CliResult {
    let from = month(ctx, "from", from)?;
    let done = tree_changes::move_unit(ctx, code, to, from, &changer(reason)).await;
    report(&format!("move {code} under {to} from {from}"), done)
}

pub async fn close(
    ctx: &AppContext,
    code: &str,
    from: Option<&str>,
    reason: Option<String>,
) -> CliResult {
    let from = month(ctx, "from", from)?;
    let done = tree_changes::close(ctx, code, from, &changer(reason)).await;
    report(&format!("close {code} from {from}"), done)
}

pub async fn merge(
    ctx: &AppContext,
    sources: &[String],
    into: &str,
    name: Option<&str>,
    from: Option<&str>,
    reason: Option<String>,
) -> CliResult {
    let from = month(ctx, "from", from)?;
    let done = tree_changes::merge(ctx, sources, into, name, from, &changer(reason)).await;
    report(
        &format!("merge {} into {into} from {from}", sources.join(" ")),
        done,
    )
}

pub async fn split(
    ctx: &AppContext,
    code: &str,
    units: &[String],
    new: &[String],
    from: Option<&str>,
    reason: Option<String>,
) -> CliResult {
    let from = month(ctx, "from", from)?;
    let units = pairs("unit", units)?;
    let new = pairs("new", new)?;
    let done = tree_changes::split(ctx, code, &units, &new, from, &changer(reason)).await;
    report(&format!("split {code} from {from}"), done)
}

pub async fn show(ctx: &AppContext, code: &str, json: bool) -> CliResult {
    let Some(org) = ctx.store.org(code).await? else {
        return Err(anyhow::anyhow!("{code}: not in the master data").into());
    };
    let versions = ctx.store.org_versions(code).await?;
    let changes = ctx.store.org_changes(code).await?;
    if json {
        let v = crate::flows::views::OrgHistoryView::build(&org, &versions, &changes);
        outln!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return Ok(ExitCode::SUCCESS);
    }
    outln!("{} {} ({})", org.code, org.name, org.kind);
    for v in &versions {
        let to = if v.valid_to == OPEN {
            "now".to_string()
        } else {
            Period::from_key(v.valid_to).map_or(v.valid_to.to_string(), |p| p.to_string())
        };
        let from = Period::from_key(v.valid_from).map_or("the start".into(), |p| p.to_string());
        outln!(
            "  {from} … before {to}: {} under {}{}",
            v.org.name,
            v.org.parent_code.as_deref().unwrap_or("—"),
            if v.org.expected_to_report {
                ", reports"
            } else {
                ""
            }
        );
    }
    for c in &changes {
        outln!(
            "  {} {} by {} from {}: {}",
            c.at,
            c.action,
            c.actor,
            c.period.as_deref().unwrap_or("the start"),
            c.detail.as_deref().unwrap_or("")
        );
    }
    Ok(ExitCode::SUCCESS)
}
