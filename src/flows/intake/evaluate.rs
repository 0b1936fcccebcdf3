//! Reading and checking one workbook: read (in the reader sandbox) → decide
//! reporter and month → load master data → validate. Changes nothing.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use anyhow::Context as _;
use unionstat_core::catalog::MetricKind;
use unionstat_core::form::MONTHLY;
use unionstat_core::ingest::Workbook;
use unionstat_core::validate::{self, Context, Header, MasterUnit};
use unionstat_core::{Catalog, Issue, Message};

use super::Request;
use crate::context::AppContext;
use crate::sandbox::{ReadError, ReaderCrash};
use crate::store::orgs::{OrgRow, TreeAt};

/// Reader findings after which validation has nothing to work on.
pub(super) const FATAL_READ_RULES: &[&str] = &[
    "unreadable",
    "too_large",
    "sheet_missing",
    "header_missing",
    "not_template",
];

/// Everything found about a workbook, before anything is stored.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// Reporter and month, when they could be decided and the reporter is one
    /// the uploader may report for (a rejection without it belongs to the
    /// uploader's scope alone).
    pub header: Option<Header>,
    /// Reporter and period of a workbook of another form than `monthly`
    /// (checked, not stored).
    pub form_header: Option<validate::FormHeader>,
    /// The workbook as read (rows, columns, cover).
    pub workbook: Workbook,
    /// Every finding: the reader's, then the rules'.
    pub issues: Vec<Issue>,
    /// What locks the month, when it is locked for this reporter.
    pub locked: Option<String>,
    /// The same for a check-only upload, in both languages.
    pub lock_note: Option<Message>,
    /// Declared a nil report (零报告), by the upload or the cover.
    pub nil_report: bool,
}

impl Evaluation {
    /// A file that could not be read at all, with the reason.
    pub fn unreadable(ctx: &AppContext, reason: &Message) -> Evaluation {
        Evaluation {
            header: None,
            form_header: None,
            workbook: Workbook::default(),
            issues: Workbook::unreadable(&ctx.catalog, reason).issues,
            locked: None,
            lock_note: None,
            nil_report: false,
        }
    }

    pub fn has_errors(&self) -> bool {
        self.issues.iter().any(Issue::is_error)
    }

    pub fn cover_json(&self) -> Option<String> {
        self.workbook
            .cover
            .as_ref()
            .and_then(|c| serde_json::to_string(c).ok())
    }
}

/// Reads an untrusted workbook within the configured limits, by the shared pool
/// of readers (child processes, or this process's blocking threads for "inline"
/// isolation): waiting for a free reader as long as it takes (`wait` None) or at
/// most `wait`. A reader that dies gives an error downcastable to
/// [`ReaderCrash`]; no free reader in time, to [`crate::sandbox::ReadersBusy`].
pub async fn read_untrusted(
    ctx: &AppContext,
    bytes: Vec<u8>,
    wait: Option<Duration>,
) -> anyhow::Result<Workbook> {
    ctx.readers.read(bytes, wait).await.map_err(|e| match e {
        ReadError::Crash(c) => c.into(),
        ReadError::Busy(b) => b.into(),
    })
}

/// Reads and checks a workbook against master data and last month's figures.
/// Bad input is data: it ends in `issues`, never in Err (Err is the database).
pub async fn evaluate(
    ctx: &AppContext,
    bytes: Vec<u8>,
    req: &Request,
) -> anyhow::Result<Evaluation> {
    let store = &ctx.store;
    let wb = read_untrusted(ctx, bytes, req.reader_wait).await?;
    ctx.metrics.rows_read(wb.rows.len());
    let mut eval = Evaluation {
        header: None,
        form_header: None,
        issues: wb.issues.clone(),
        workbook: wb,
        locked: None,
        lock_note: None,
        nil_report: false,
    };

    // The form: recognised by the reader; one the uploader named must be it.
    let form = match eval.workbook.form.as_str() {
        "" => MONTHLY.to_string(),
        f => f.to_string(),
    };
    let view = ctx.catalog.form(&form).unwrap_or(&ctx.catalog);
    if let Some(asked) = req.form.as_deref().filter(|f| *f != form) {
        let name = |c: &Catalog| Message {
            zh: format!("{}（{}）", c.form.zh, c.form.code),
            en: format!("{} ({})", c.form.en, c.form.code),
        };
        let asked_name = ctx.catalog.form(asked).map_or_else(
            || Message {
                zh: asked.to_string(),
                en: asked.to_string(),
            },
            name,
        );
        eval.issues.push(ctx.catalog.bilingual_issue(
            "form_mismatch",
            None,
            None,
            Some(asked),
            &[],
            &[("asked", &asked_name), ("found", &name(view))],
        ));
        return Ok(eval);
    }
    if view.form.code != MONTHLY {
        super::forms::evaluate_form(ctx, view, &mut eval, req).await?;
        return Ok(eval);
    }

    let header = match validate::resolve_header(
        &eval.workbook,
        &ctx.catalog,
        req.reporter.as_deref(),
        req.period,
    ) {
        Ok(h) => h,
        Err(found) => {
            eval.issues.extend(found);
            return Ok(eval);
        }
    };
    // The workbook is checked against the tree of its month: who reports, the
    // units under it, and the uploader's subtree as they were in that month.
    let month = TreeAt::Month(header.period);
    let scope = Scope::of(ctx, req, month).await?;
    let reporter = match scope.reporter(ctx, &header.reporter, month).await? {
        Ok(r) => r,
        Err(rule) => {
            // Not a reporter the uploader may report for: the submission keeps no
            // reporter or month, so it stays in the uploader's scope alone.
            eval.issues.push(
                ctx.catalog
                    .issue(rule, None, None, Some(&header.reporter), &[]),
            );
            return Ok(eval);
        }
    };
    eval.header = Some(header.clone());
    if eval
        .issues
        .iter()
        .any(|i| i.is_error() && FATAL_READ_RULES.contains(&i.rule.as_str()))
    {
        return Ok(eval);
    }

    // Master data and last month's figures for exactly the units concerned.
    let (known, expected) = sheet_units(ctx, &eval.workbook, &reporter, &scope, month).await?;
    // Past figures of the reporter's own units only (grassroots, directly under it).
    let own: Vec<String> = known
        .values()
        .filter(|u| u.grassroots && u.parent_code.as_deref() == Some(reporter.code.as_str()))
        .map(|u| u.code.clone())
        .collect();
    let stock: Vec<&str> = ctx
        .catalog
        .metrics
        .iter()
        .filter(|m| m.kind == MetricKind::Stock)
        .map(|m| m.code.as_str())
        .collect();
    // Each unit's latest report within 12 months: the baseline of the
    // monthly-change and outlier warnings.
    let past = store.unit_history(&own, header.period, 12, &stock).await?;

    // A locked month (closed by time, or approved here or above) takes the
    // upload only with an admin's reason.
    let lock = crate::flows::locking::lock_state(ctx, &reporter, header.period).await?;
    if lock.locked() {
        let why = lock.describe(header.period);
        eval.locked = Some(format!("{} / {}", why.zh, why.en));
        eval.lock_note = Some(lock.check_only_note(header.period));
    }
    let locked = lock.locked() && !req.lock_override;
    eval.nil_report = req.nil_report
        || eval
            .workbook
            .cover
            .as_ref()
            .is_some_and(|c| c.declares_nil_report());
    let nil_report = eval.nil_report;

    let catalog = ctx.catalog.clone();
    let settings = ctx.settings.clone();
    let wb = std::mem::take(&mut eval.workbook);
    let period = header.period;
    let reporter_code = reporter.code;
    let explanations = req.explanations.clone();
    let mut issues = std::mem::take(&mut eval.issues);
    let (wb, issues) = tokio::task::spawn_blocking(move || {
        let vctx = Context {
            catalog: &catalog,
            reporter: &reporter_code,
            period,
            today: settings.reporting.today(chrono::Utc::now()),
            locked,
            known_units: &known,
            expected_units: &expected,
            previous: &past.previous,
            max_monthly_change: settings.validation.max_monthly_change,
            min_change_base: settings.validation.min_change_base,
            outliers: settings.validation.outlier_test(),
            nil_report,
            explanations: &explanations,
            form_period: None,
        };
        issues.extend(validate::validate(&wb, &vctx));
        // The reader's findings about a unit row's cells name its unit too.
        wb.name_units(&mut issues, |code| expected.contains_key(code));
        (wb, issues)
    })
    .await
    .context("validation stopped")?;
    eval.workbook = wb;
    eval.issues = issues;
    Ok(eval)
}

/// The units a sheet's rows name that the uploader may know of (a code
/// outside its subtree is answered as one that does not exist), and the
/// grassroots units directly under `reporter` (code → name), in the tree `at`.
pub(super) async fn sheet_units(
    ctx: &AppContext,
    workbook: &Workbook,
    reporter: &OrgRow,
    scope: &Scope,
    at: TreeAt,
) -> anyhow::Result<(HashMap<String, MasterUnit>, BTreeMap<String, String>)> {
    // The reporter's children first: they are usually every unit the sheet
    // names, so the others (a code of another town, a mistyped one) are
    // looked up only when there are any.
    let children = ctx.store.children(&reporter.code, at).await?;
    let listed: HashSet<&str> = children.iter().map(|c| c.code.as_str()).collect();
    let others: Vec<String> = workbook
        .rows
        .iter()
        .map(|r| r.code.as_str())
        .filter(|c| !c.is_empty() && !listed.contains(c))
        .collect::<HashSet<_>>()
        .into_iter()
        .map(str::to_string)
        .collect();
    let others = if others.is_empty() {
        Vec::new()
    } else {
        ctx.store
            .orgs_by_code(&others, at)
            .await?
            .into_values()
            .collect()
    };
    let expected = children
        .iter()
        .filter(|c| c.is_grassroots())
        .map(|c| (c.code.clone(), c.name.clone()))
        .collect();
    let named: HashSet<&str> = workbook.rows.iter().map(|r| r.code.as_str()).collect();
    let known = children
        .into_iter()
        .filter(|c| named.contains(c.code.as_str()))
        .chain(others)
        .filter(|o| scope.contains(o))
        .map(|o| {
            let grassroots = o.is_grassroots();
            (
                o.code.clone(),
                MasterUnit {
                    code: o.code,
                    name: o.name,
                    parent_code: o.parent_code,
                    grassroots,
                },
            )
        })
        .collect();
    Ok((known, expected))
}

/// The uploader's org, which bounds what it may report for and what it may
/// learn: a reporter outside it is answered alike whether it exists or not.
pub(super) struct Scope(Option<Option<OrgRow>>);

impl Scope {
    /// The uploader's org as the tree `at` has it (none: any org).
    pub(super) async fn of(ctx: &AppContext, req: &Request, at: TreeAt) -> anyhow::Result<Scope> {
        Ok(Scope(match &req.scope_org {
            Some(code) => Some(ctx.store.org_at(code, at).await?),
            None => None,
        }))
    }

    pub(super) fn contains(&self, org: &OrgRow) -> bool {
        match &self.0 {
            None => true,
            Some(s) => s.as_ref().is_some_and(|s| s.contains(org)),
        }
    }

    /// The federation `code` in the tree `at` when the uploader may report for
    /// it; else the rule that refuses it.
    pub(super) async fn reporter(
        &self,
        ctx: &AppContext,
        code: &str,
        at: TreeAt,
    ) -> anyhow::Result<Result<OrgRow, &'static str>> {
        Ok(match ctx.store.org_at(code, at).await? {
            Some(r) if self.contains(&r) && !r.is_grassroots() => Ok(r),
            Some(r) if self.contains(&r) => Err("reporter_unknown"),
            _ if self.0.is_some() => Err("reporter_out_of_scope"),
            _ => Err("reporter_unknown"),
        })
    }
}

/// Why a file whose reader died (out of its memory or time, or a crash) is
/// refused, with what the clerk can do; `attempts` when it was tried more than once.
pub(super) fn reader_gave_up(attempts: Option<i64>) -> Message {
    let (zh_times, en_times) = match attempts {
        Some(n) if n > 1 => (format!("（已尝试 {n} 次）"), format!(" (tried {n} times)")),
        _ => (String::new(), String::new()),
    };
    Message {
        zh: format!(
            "读取该文件所需的内存或时间超过了允许的上限{zh_times}；旧版 .xls 等格式读取时占用内存很多，另存为 .xlsx 通常即可解决，文件本身很大时请把数据拆分为几个较小的文件"
        ),
        en: format!(
            "reading it needs more memory or time than the reader allows{en_times}; older formats such as .xls take far more memory to read, so saving it as .xlsx usually solves this, and a file that is itself large should be split into smaller files"
        ),
    }
}

/// Evaluates a file once, for a dry run: there is no retry, so a reader that dies
/// is the verdict (unreadable), not an error.
pub async fn evaluate_once(
    ctx: &AppContext,
    bytes: Vec<u8>,
    req: &Request,
) -> anyhow::Result<Evaluation> {
    match evaluate(ctx, bytes, req).await {
        Err(e) if e.downcast_ref::<ReaderCrash>().is_some() => {
            tracing::warn!(error = %format!("{e:#}"), "the reader failed on a dry run");
            Ok(Evaluation::unreadable(ctx, &reader_gave_up(None)))
        }
        other => other,
    }
}
