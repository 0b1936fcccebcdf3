//! `unionstat contacts …`: the contacts (联系人) of reporters — show, list a
//! subtree's, set — on the server's command line (audited as `cli`).

use std::process::ExitCode;

use super::table::row;
use super::table::Col::L;
use super::{CliResult, Failure};
use crate::context::AppContext;
use crate::flows::contacts::{self, ContactView};
use crate::store::actor::Actor;
use crate::store::contacts::ContactChange;
use crate::store::orgs::OrgRow;

async fn org(ctx: &AppContext, code: &str) -> Result<OrgRow, Failure> {
    match ctx.store.org(code).await? {
        Some(o) => Ok(o),
        None => Err(Failure {
            code: 1,
            error: anyhow::anyhow!("{code}: not in the master data"),
        }),
    }
}

fn print(views: &[ContactView], json: bool) {
    if json {
        outln!(
            "{}",
            serde_json::to_string_pretty(views).unwrap_or_default()
        );
        return;
    }
    let cols = [L(12), L(20), L(10), L(16), L(28), L(0)];
    outln!(
        "{}",
        row(
            &cols,
            &["code", "name", "填报人", "联系电话", "email", "updated"]
        )
    );
    for v in views {
        let updated = match (&v.updated_at, &v.source) {
            (Some(at), Some(src)) => format!("{at} ({src})"),
            _ => "—".into(),
        };
        outln!(
            "{}",
            row(
                &cols,
                &[
                    &v.org,
                    &v.org_name,
                    v.name.as_deref().unwrap_or("—"),
                    v.phone.as_deref().unwrap_or("—"),
                    v.email.as_deref().unwrap_or("—"),
                    &updated,
                ]
            )
        );
    }
}

/// `contacts show CODE`: one reporter's contact.
pub async fn show(ctx: &AppContext, code: &str, json: bool) -> CliResult {
    let org = org(ctx, code).await?;
    let row = ctx.store.contact(&org.code).await?;
    let view = ContactView::of(&org, row.as_ref());
    if json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&view).unwrap_or_default()
        );
    } else {
        print(&[view], false);
    }
    Ok(ExitCode::SUCCESS)
}

/// `contacts list --org CODE`: every expected reporter of the subtree.
pub async fn list(ctx: &AppContext, code: &str, json: bool) -> CliResult {
    let org = org(ctx, code).await?;
    print(&contacts::contacts_under(ctx, &org).await?, json);
    Ok(ExitCode::SUCCESS)
}

/// `contacts set CODE [--name] [--phone] [--email]`: an empty value clears a field.
pub async fn set(ctx: &AppContext, code: &str, change: ContactChange<'_>) -> CliResult {
    let org = org(ctx, code).await?;
    if org.is_grassroots() {
        return Err(Failure {
            code: 1,
            error: anyhow::anyhow!(
                "{code} is a grassroots union; contacts belong to reporting federations"
            ),
        });
    }
    contacts::check_change(&change).map_err(|e| Failure {
        code: 2,
        error: anyhow::anyhow!(e),
    })?;
    let row = ctx
        .store
        .edit_contact(&org.code, &change, &Actor::cli().to_string())
        .await?;
    print(&[ContactView::of(&org, Some(&row))], false);
    Ok(ExitCode::SUCCESS)
}

/// `reminders run`: the reminders (催报) of a month, now — for one subtree, or
/// for every root of the tree.
pub async fn remind(
    ctx: &AppContext,
    code: Option<&str>,
    period: Option<&str>,
    kind: Option<&str>,
    json: bool,
) -> CliResult {
    use crate::flows::reminders::{run_for, Kind};
    let reporting = &ctx.settings.reporting;
    let now = chrono::Utc::now();
    let period = match period {
        Some(p) => super::strict_period(p)?,
        None => reporting.reporting_period(now),
    };
    let kind = match kind {
        Some(k) => Kind::parse(k).ok_or_else(|| Failure {
            code: 2,
            error: anyhow::anyhow!("--kind {k}: use due_soon or overdue"),
        })?,
        None => Kind::on(
            reporting.today(now),
            period.deadline(reporting.deadline_day),
        ),
    };
    let codes = match code {
        Some(c) => vec![org(ctx, c).await?.code],
        None => ctx.store.root_orgs().await?,
    };
    let mailer = crate::mail::Mailer::new(&ctx.settings.mail);
    let mut reports = Vec::new();
    for c in codes {
        let at = crate::store::orgs::TreeAt::Month(period);
        let Some(root) = ctx.store.org_at(&c, at).await? else {
            return Err(Failure {
                code: 1,
                error: anyhow::anyhow!("{c} is not in the tree of {period}"),
            });
        };
        reports.push(run_for(ctx, &mailer, &root, period, kind).await?);
    }
    if json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&reports).unwrap_or_default()
        );
    } else {
        for r in &reports {
            outln!(
                "{} {} {} (due {}): {} sent, {} failed, {} unreachable (no email), {} sent before",
                r.org,
                r.period,
                r.kind.as_str(),
                r.deadline,
                r.sent.len(),
                r.failed.len(),
                r.unreachable.len(),
                r.already_sent.len()
            );
            for d in &r.sent {
                outln!("  sent        {} {} <{}>", d.org, d.name, d.address);
            }
            for d in &r.failed {
                let why = d.error.as_deref().unwrap_or("");
                outln!("  failed      {} {} <{}>: {why}", d.org, d.name, d.address);
            }
            for d in &r.unreachable {
                outln!("  unreachable {} {}", d.org, d.name);
            }
        }
    }
    let failed = reports.iter().any(|r| !r.failed.is_empty());
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `reminders log`: what was sent for a month in a subtree.
pub async fn reminders_log(
    ctx: &AppContext,
    code: &str,
    period: Option<&str>,
    json: bool,
) -> CliResult {
    let org = org(ctx, code).await?;
    let period = match period {
        Some(p) => super::strict_period(p)?,
        None => ctx.settings.reporting.reporting_period(chrono::Utc::now()),
    };
    let rows = ctx.store.reminders_log(&org, &period.to_string()).await?;
    if json {
        let list: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "org": r.org_code, "kind": r.kind, "address": r.address,
                    "status": r.status, "attempts": r.attempts, "error": r.error,
                    "attempted_at": r.claimed_at, "sent_at": r.sent_at,
                })
            })
            .collect();
        outln!(
            "{}",
            serde_json::to_string_pretty(&list).unwrap_or_default()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let cols = [L(12), L(10), L(12), L(28), L(9), L(0)];
    outln!(
        "{}",
        row(
            &cols,
            &["code", "notice", "status", "address", "attempts", "when"]
        )
    );
    for r in &rows {
        let when = r.sent_at.as_deref().unwrap_or(&r.claimed_at);
        outln!(
            "{}",
            row(
                &cols,
                &[
                    &r.org_code,
                    &r.kind,
                    &r.status,
                    &r.address,
                    &r.attempts.to_string(),
                    when,
                ]
            )
        );
    }
    Ok(ExitCode::SUCCESS)
}
