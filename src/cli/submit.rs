//! `unionstat submit`: store, queue, process here (unless --no-wait), report —
//! or, with --dry-run, read and check here and store nothing; --annotate writes
//! each file's annotated workbook after its verdict.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};
use tokio::sync::watch;
use unionstat_core::form::MONTHLY;
use unionstat_core::issue::cap_per_rule;
use unionstat_core::period::ReportPeriod;
use unionstat_core::validate::{check_given, GivenExplanation};
use unionstat_core::Issue;

use super::table::row;
use super::table::Col::L;
use super::{strict_period, CliResult, Failure};
use crate::context::AppContext;
use crate::flows::intake;
use crate::flows::workbooks;
use crate::store::submissions::{NewSubmission, SubmissionRow};

/// What an upload from the command line says besides its bytes.
#[derive(Debug, Default, Clone, Copy)]
pub struct Upload<'a> {
    pub filename: &'a str,
    /// The reporter and month named on the command line (else from the cover).
    pub reporter: Option<&'a str>,
    pub period: Option<&'a str>,
    /// Who uploads, as the audit names them.
    pub actor: &'a str,
    /// An admin's reason to change a locked month.
    pub lock_reason: Option<&'a str>,
    pub nil_report: bool,
    pub explanations: &'a [GivenExplanation],
    /// The form named on the command line (None: the workbook's own).
    pub form: Option<&'a str>,
}

/// Stores one file as a submission and queues it (unless it is a duplicate).
pub async fn store_and_queue(
    ctx: &AppContext,
    bytes: &[u8],
    upload: &Upload<'_>,
) -> anyhow::Result<SubmissionRow> {
    let Upload {
        filename,
        reporter,
        period,
        actor,
        lock_reason,
        nil_report,
        explanations,
        form,
    } = *upload;
    let (row, _) = crate::jobs::ingest::submit(
        ctx,
        &NewSubmission {
            sha256: hex::encode(Sha256::digest(bytes)),
            req_reporter: reporter,
            req_period: period,
            filename,
            bytes,
            uploaded_by: actor,
            scope_org: None,
            lock_reason,
            nil_report,
            explanations,
            req_form: form,
        },
    )
    .await?;
    Ok(row)
}

/// Follows the verdicts of some submissions, re-reading only those still
/// pending: jobs are taken roughly in order, so each poll reads from the first
/// pending submission on and stops at the next one still pending. (Re-reading
/// every submission each time would cost the warehouse more than the jobs for a
/// few thousand files.)
pub struct Verdicts<'a> {
    ids: &'a [i64],
    rows: Vec<Option<SubmissionRow>>,
    next: usize,
}

impl<'a> Verdicts<'a> {
    pub fn new(ids: &'a [i64]) -> Verdicts<'a> {
        Verdicts {
            ids,
            rows: vec![None; ids.len()],
            next: 0,
        }
    }

    /// Reads what changed; returns how many submissions, from the first on,
    /// have their verdict.
    pub async fn poll(&mut self, ctx: &AppContext) -> anyhow::Result<usize> {
        while self.next < self.ids.len() {
            let id = self.ids[self.next];
            let row = ctx
                .store
                .submission(id)
                .await?
                .with_context(|| format!("submission {id} vanished"))?;
            if !row.is_final() {
                break;
            }
            self.rows[self.next] = Some(row);
            self.next += 1;
        }
        Ok(self.next)
    }

    pub fn is_done(&self) -> bool {
        self.next == self.ids.len()
    }

    /// The verdicts, in the order of the ids (all of them once [`Self::is_done`]).
    pub fn rows(self) -> Vec<SubmissionRow> {
        self.rows.into_iter().flatten().collect()
    }
}

/// Runs workers in this process until every submission has a verdict.
pub async fn wait_for_verdicts(
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
        let mut verdicts = Verdicts::new(ids);
        loop {
            let done = verdicts.poll(ctx).await?;
            if let Some(b) = bar {
                b.set_position(done as u64);
            }
            if verdicts.is_done() {
                return Ok::<_, anyhow::Error>(verdicts.rows());
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

pub fn progress(len: usize, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

/// Issues of one rule the text output lists; `--json` lists every one.
const ISSUES_PER_RULE: usize = 20;

/// A submission's status in Chinese, for the clerk reading the verdict.
fn status_zh(status: &str) -> &'static str {
    match status {
        "accepted" => "已接受",
        "rejected" => "已退回",
        "superseded" => "已被替代",
        "processing" => "正在检查",
        _ => "已接收",
    }
}

pub(super) fn print_issue(i: &Issue) {
    let place = match (&i.sheet, &i.cell) {
        (Some(s), Some(c)) => format!("{s}!{c}"),
        (Some(s), None) => s.clone(),
        _ => "-".into(),
    };
    let sev = match i.severity {
        unionstat_core::Severity::Explain => "说明 explain",
        _ if i.is_error() => "错误 error",
        _ => "提醒 warning",
    };
    let cols = [L(12), L(16), L(28), L(0)];
    outln!("  {}", row(&cols, &[sev, &place, &i.rule, &i.message.zh]));
    outln!("  {}", row(&cols, &["", "", "", &i.message.en]));
    if let Some(e) = &i.explanation {
        outln!("  {}", row(&cols, &["", "", "说明", &e.text]));
    }
}

/// What `unionstat submit` was asked.
#[derive(Debug)]
pub struct SubmitArgs {
    pub files: Vec<PathBuf>,
    pub reporter: Option<String>,
    pub period: Option<String>,
    pub json: bool,
    pub no_wait: bool,
    /// Read and check only; store nothing.
    pub dry_run: bool,
    /// Where the annotated workbooks go: the file itself for one input (or a
    /// directory), a directory for several.
    pub annotate: Option<PathBuf>,
    /// Why a locked month must change (audited with each accepted file).
    pub reason: Option<String>,
    /// Each file is a nil report (零报告): no figures on purpose.
    pub nil_report: bool,
    /// Explanations (说明) of findings, by rule and cell, for every file.
    pub explanations: Vec<GivenExplanation>,
    /// The form the files are (none: each file's own); a file of another
    /// form is rejected (`form_mismatch`).
    pub form: Option<String>,
}

/// `--explain RULE:CELL=TEXT` values as explanations, checked as the API
/// checks them; a malformed one is a usage error naming it.
pub fn explanations(given: &[String]) -> Result<Vec<GivenExplanation>, Failure> {
    let parsed = given
        .iter()
        .map(|g| {
            let (key, text) = g.split_once('=').unwrap_or((g.as_str(), ""));
            match key.split_once(':') {
                Some((rule, cell)) if !text.trim().is_empty() => Ok(GivenExplanation {
                    rule: rule.to_string(),
                    cell: cell.to_string(),
                    text: text.to_string(),
                }),
                _ => Err(anyhow::anyhow!(
                    "--explain {g:?}: write RULE:CELL=TEXT, e.g. monthly_change:E3=两厂合并"
                )),
            }
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    check_given(parsed).map_err(|m| anyhow::anyhow!("--explain: {} / {}", m.zh, m.en).into())
}

/// The verdict of one file, stored or dry.
struct Outcome {
    file: PathBuf,
    /// The submission (None in a dry run).
    id: Option<i64>,
    status: String,
    reporter: Option<String>,
    period: Option<String>,
    sha256: String,
    issues: Vec<Issue>,
}

pub async fn run(ctx: AppContext, args: SubmitArgs) -> CliResult {
    let SubmitArgs {
        files,
        reporter,
        period,
        json,
        no_wait,
        dry_run,
        annotate,
        reason,
        nil_report,
        explanations,
        form,
    } = args;
    let reason = reason
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    if no_wait && (dry_run || annotate.is_some()) {
        return Err(anyhow::anyhow!(
            "--no-wait cannot be combined with --dry-run or --annotate: both need the verdict"
        )
        .into());
    }
    // Another form than Template v1: its period is of its kind.
    let other_form = form.as_deref().filter(|f| *f != MONTHLY);
    if let Some(f) = other_form.filter(|f| ctx.catalog.form(f).is_none()) {
        let refusal = crate::flows::workbooks::FormRefusal::unknown(&ctx, f);
        return Err(anyhow::anyhow!("--form {f}: {refusal}").into());
    }
    let period = match (other_form, period) {
        (Some(_), Some(p)) => Some(
            p.parse::<ReportPeriod>()
                .map_err(|_| {
                    anyhow::anyhow!(
                        "--period {p}: 报告期无法识别（如 2026SY、2026H1） / not a valid period (e.g. 2026SY, 2026H1)"
                    )
                })?
                .to_string(),
        ),
        (_, period) => period
            .map(|p| strict_period(&p))
            .transpose()?
            .map(|p| p.to_string()),
    };
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
    let targets = match &annotate {
        Some(out) => Some(annotation_targets(&files, out)?),
        None => None,
    };
    let outcomes = if dry_run {
        let req = intake::Request {
            reporter: reporter.clone(),
            period: period.as_deref().and_then(|p| p.parse().ok()),
            nil_report,
            explanations: explanations.clone(),
            form: form.clone(),
            form_period: period.as_deref().and_then(|p| p.parse().ok()),
            check_only: true,
            ..intake::Request::default()
        };
        dry_runs(
            &ctx,
            &files,
            &req,
            period.as_deref(),
            json,
            targets.as_deref(),
        )
        .await?
    } else {
        let actor = crate::store::actor::Actor::cli().to_string();
        let mut ids = Vec::with_capacity(files.len());
        for f in &files {
            let bytes = std::fs::read(f).with_context(|| format!("cannot read {}", f.display()))?;
            let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let upload = Upload {
                filename: name,
                reporter: reporter.as_deref(),
                period: period.as_deref(),
                actor: &actor,
                lock_reason: reason.as_deref(),
                nil_report,
                explanations: &explanations,
                form: form.as_deref(),
            };
            let row = store_and_queue(&ctx, &bytes, &upload).await?;
            ids.push(row.id);
        }
        if no_wait {
            for (f, id) in files.iter().zip(&ids) {
                outln!(
                    "{}: 已排队检查，报送记录 {id} / queued as submission {id}",
                    f.display()
                );
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
        let outcomes: Vec<Outcome> = files
            .iter()
            .zip(rows)
            .map(|(f, r)| Outcome {
                file: f.clone(),
                id: Some(r.id),
                issues: r.issues(),
                status: r.status,
                reporter: r.reporter,
                period: r.period,
                sha256: r.sha256,
            })
            .collect();
        if let Some(targets) = &targets {
            for (o, target) in outcomes.iter().zip(targets) {
                let bytes = std::fs::read(&o.file)
                    .with_context(|| format!("cannot read {}", o.file.display()))?;
                let out = workbooks::annotate_file(&ctx, bytes, o.issues.clone()).await?;
                write_annotated(target, &out)?;
            }
        }
        outcomes
    };
    let all_accepted = outcomes.iter().all(|o| o.status == "accepted");
    if json {
        let out: Vec<serde_json::Value> = outcomes
            .iter()
            .enumerate()
            .map(|(k, o)| {
                let mut v = serde_json::json!({
                    "file": o.file.display().to_string(),
                    "id": o.id,
                    "status": o.status,
                    "reporter": o.reporter,
                    "period": o.period,
                    "sha256": o.sha256,
                    "issues": o.issues,
                });
                if dry_run {
                    v["dry_run"] = true.into();
                }
                if let Some(t) = targets.as_ref().and_then(|t| t.get(k)) {
                    v["annotated"] = t.display().to_string().into();
                }
                v
            })
            .collect();
        outln!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    } else {
        for (k, o) in outcomes.iter().enumerate() {
            let who = match (&o.reporter, &o.period) {
                (Some(rep), Some(p)) => format!(", {rep} {p}"),
                _ => String::new(),
            };
            let errors = unionstat_core::issue::error_count(&o.issues);
            let warnings = o.issues.len() - errors;
            let verdict = match o.id {
                Some(id) => format!(
                    "{} {} (submission {id}{who})",
                    status_zh(&o.status),
                    o.status
                ),
                None => format!(
                    "仅检查，未保存：上报后{} would be {} (dry run, nothing stored{who})",
                    if o.status == "accepted" {
                        "会被接受"
                    } else {
                        "会被退回"
                    },
                    o.status
                ),
            };
            outln!(
                "{}: {verdict}: {errors} 个错误，{warnings} 个提醒 / {errors} error(s), {warnings} warning(s)",
                o.file.display(),
            );
            // A person reads this: the first issues of each rule, and how many
            // more (the annotated workbook and --json carry them all).
            let (listed, rules) = cap_per_rule(&o.issues, ISSUES_PER_RULE, |rule| {
                ctx.catalog.rule_title(rule)
            });
            let mut issues: Vec<&Issue> = listed.iter().collect();
            issues.sort_by_key(|i| !i.is_error());
            for i in issues {
                print_issue(i);
            }
            for r in &rules {
                if let Some(more) = &r.more {
                    outln!("  {}（{}）：{}", r.title.zh, r.rule, more.zh);
                    outln!("  {} ({}): {}", r.title.en, r.rule, more.en);
                }
            }
            if let Some(t) = targets.as_ref().and_then(|t| t.get(k)) {
                outln!("  标注问题的工作簿 annotated workbook: {}", t.display());
            }
        }
    }
    Ok(if all_accepted {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Reads and checks each file as an upload would be, storing nothing; writes the
/// annotated workbooks when asked.
async fn dry_runs(
    ctx: &AppContext,
    files: &[PathBuf],
    req: &intake::Request,
    period: Option<&str>,
    json: bool,
    targets: Option<&[PathBuf]>,
) -> anyhow::Result<Vec<Outcome>> {
    let reporter = req.reporter.as_deref();
    let bar = (files.len() > 1 && !json).then(|| progress(files.len(), "checking"));
    let mut out = Vec::with_capacity(files.len());
    for (k, f) in files.iter().enumerate() {
        let bytes = std::fs::read(f).with_context(|| format!("cannot read {}", f.display()))?;
        let sha256 = hex::encode(Sha256::digest(&bytes));
        let check = intake::check(ctx, bytes, req, reporter, period).await?;
        if let Some(target) = targets.and_then(|t| t.get(k)) {
            let bytes = workbooks::annotate(ctx, check.workbook, check.issues.clone()).await?;
            write_annotated(target, &bytes)?;
        }
        out.push(Outcome {
            file: f.clone(),
            id: None,
            status: check.status.to_string(),
            reporter: check.reporter,
            period: check.period,
            sha256,
            issues: check.issues,
        });
        if let Some(b) = &bar {
            b.inc(1);
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(out)
}

/// Where each file's annotated workbook goes. One file: `out` itself, or
/// `out/NAME.annotated.xlsx` when `out` is a directory. Several files: `out` is a
/// directory (made when missing) holding `NAME.annotated.xlsx` for each.
fn annotation_targets(files: &[PathBuf], out: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if files.len() == 1 && !out.is_dir() {
        return Ok(vec![out.to_path_buf()]);
    }
    if out.exists() && !out.is_dir() {
        anyhow::bail!(
            "--annotate {}: with several files this must be a directory",
            out.display()
        );
    }
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut seen = std::collections::HashSet::new();
    Ok(files
        .iter()
        .map(|f| {
            let stem = f
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "workbook".into());
            let mut name = format!("{stem}.annotated.xlsx");
            let mut n = 1;
            while !seen.insert(name.clone()) {
                n += 1;
                name = format!("{stem}-{n}.annotated.xlsx");
            }
            out.join(name)
        })
        .collect())
}

fn write_annotated(target: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(target, bytes).with_context(|| format!("cannot write {}", target.display()))
}
