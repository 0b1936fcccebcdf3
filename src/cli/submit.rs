//! `unionstat submit`: store, queue, process here (unless --no-wait), report.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};
use tokio::sync::watch;
use unionstat_core::Issue;

use super::{strict_period, CliResult, Failure};
use crate::app::AppContext;
use crate::jobs::ingest::{self, IngestJob};
use crate::store::submissions::{NewSubmission, SubmissionRow};

/// Stores one file as a submission and queues it (unless it is a duplicate).
pub(super) async fn store_and_queue(
    ctx: &AppContext,
    bytes: &[u8],
    filename: &str,
    reporter: Option<&str>,
    period: Option<&str>,
    actor: &str,
) -> anyhow::Result<SubmissionRow> {
    let (row, created) = ctx
        .store
        .create_submission(&NewSubmission {
            sha256: hex::encode(Sha256::digest(bytes)),
            req_reporter: reporter,
            req_period: period,
            filename,
            bytes,
            uploaded_by: actor,
            scope_org: None,
        })
        .await?;
    if created {
        ctx.queue
            .push(
                ingest::NAME,
                &IngestJob {
                    submission_id: row.id,
                },
            )
            .await?;
    }
    Ok(row)
}

/// Runs workers in this process until every submission has a verdict.
pub(super) async fn wait_for_verdicts(
    ctx: &AppContext,
    ids: &[i64],
    bar: Option<&ProgressBar>,
) -> anyhow::Result<Vec<SubmissionRow>> {
    let (tx, mut rx) = watch::channel(false);
    let worker_ctx = ctx.clone();
    let workers = tokio::spawn(async move {
        crate::jobs::run_workers(worker_ctx, async move {
            let _ = rx.wait_for(|stop| *stop).await;
        })
        .await
    });
    let result = async {
        loop {
            let mut rows = Vec::with_capacity(ids.len());
            for id in ids {
                rows.push(
                    ctx.store
                        .submission(*id)
                        .await?
                        .context("submission vanished")?,
                );
            }
            let done = rows.iter().filter(|r| r.is_final()).count();
            if let Some(b) = bar {
                b.set_position(done as u64);
            }
            if done == rows.len() {
                return Ok::<_, anyhow::Error>(rows);
            }
            if workers.is_finished() {
                anyhow::bail!("the workers stopped before every submission had a verdict");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    .await;
    let _ = tx.send(true);
    workers.await.context("workers panicked")??;
    result
}

pub(super) fn progress(len: usize, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

pub(super) fn print_issue(i: &Issue) {
    let place = match (&i.sheet, &i.cell) {
        (Some(s), Some(c)) => format!("{s}!{c}"),
        (Some(s), None) => s.clone(),
        _ => "-".into(),
    };
    let sev = if i.is_error() { "error" } else { "warning" };
    println!("  {sev:<7} {place:<16} {:<28} {}", i.rule, i.message.zh);
    println!("  {:<7} {:<16} {:<28} {}", "", "", "", i.message.en);
}

pub async fn run(
    ctx: AppContext,
    files: Vec<PathBuf>,
    reporter: Option<String>,
    period: Option<String>,
    json: bool,
    no_wait: bool,
) -> CliResult {
    let period = period
        .map(|p| strict_period(&p))
        .transpose()?
        .map(|p| p.to_string());
    if let Some(r) = &reporter {
        match ctx.store.org(r).await? {
            Some(o) if !o.is_grassroots() => {}
            Some(_) => {
                return Err(anyhow::anyhow!(
                    "--as {r}: a grassroots union cannot report; name its federation"
                )
                .into())
            }
            None => return Err(anyhow::anyhow!("--as {r}: not in the master data").into()),
        }
    }
    let mut ids = Vec::with_capacity(files.len());
    for f in &files {
        let bytes = std::fs::read(f).with_context(|| format!("cannot read {}", f.display()))?;
        let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let row = store_and_queue(
            &ctx,
            &bytes,
            name,
            reporter.as_deref(),
            period.as_deref(),
            "cli",
        )
        .await?;
        ids.push(row.id);
    }
    if no_wait {
        for (f, id) in files.iter().zip(&ids) {
            println!("{}: queued as submission {id}", f.display());
        }
        return Ok(ExitCode::SUCCESS);
    }
    let bar = (files.len() > 1 && !json).then(|| progress(files.len(), "processing"));
    let rows = wait_for_verdicts(&ctx, &ids, bar.as_ref())
        .await
        .map_err(|e| Failure { code: 2, error: e })?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let all_accepted = rows.iter().all(|r| r.status == "accepted");
    if json {
        let out: Vec<serde_json::Value> = files
            .iter()
            .zip(&rows)
            .map(|(f, r)| {
                serde_json::json!({
                    "file": f.display().to_string(),
                    "id": r.id,
                    "status": r.status,
                    "reporter": r.reporter,
                    "period": r.period,
                    "sha256": r.sha256,
                    "issues": r.issues(),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    } else {
        for (f, r) in files.iter().zip(&rows) {
            let who = match (&r.reporter, &r.period) {
                (Some(rep), Some(p)) => format!(", {rep} {p}"),
                _ => String::new(),
            };
            println!(
                "{}: {} (submission {}{who}): {} error(s), {} warning(s)",
                f.display(),
                r.status,
                r.id,
                r.error_count,
                r.warning_count
            );
            let mut issues = r.issues();
            issues.sort_by_key(|i| !i.is_error());
            for i in &issues {
                print_issue(i);
            }
        }
    }
    Ok(if all_accepted {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
