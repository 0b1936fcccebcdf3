//! Processing one submission: load → read (off the async runtime) → decide
//! reporter and month → load master data → validate → accept or reject.
//! Handlers only orchestrate; the reading and the rules live in unionstat-core.

use std::collections::{BTreeMap, HashMap, HashSet};

use anyhow::Context as _;
use unionstat_core::catalog::MetricKind;
use unionstat_core::ingest::{read_workbook, Workbook};
use unionstat_core::validate::{self, Context, Header, MasterUnit};
use unionstat_core::{Issue, Period};

use crate::app::AppContext;
use crate::store::accept::Acceptance;

/// How processing a submission ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Accepted {
        superseded: Option<i64>,
    },
    Rejected {
        errors: usize,
    },
    /// Already final: a repeated delivery of the job.
    AlreadyDone,
}

/// Reader findings after which validation has nothing to work on.
const FATAL_READ_RULES: &[&str] = &["unreadable", "too_large", "sheet_missing", "header_missing"];

/// Processes submission `id` once. Bad input ends as a rejection (Ok); an Err is
/// a transient failure (database) and the job is retried.
pub async fn process(ctx: &AppContext, id: i64, max_attempts: i64) -> anyhow::Result<Verdict> {
    let store = &ctx.store;
    let Some(claim) = store.claim(id).await.context("claiming the submission")? else {
        return Ok(Verdict::AlreadyDone);
    };
    let reject = |issues: Vec<Issue>,
                  header: Option<Header>,
                  rows: usize,
                  cover: Option<String>| async move {
        let errors = issues.iter().filter(|i| i.is_error()).count();
        let period = header.as_ref().map(|h| h.period.to_string());
        store
            .reject(
                id,
                header.as_ref().map(|h| h.reporter.as_str()),
                period.as_deref(),
                &issues,
                rows,
                cover.as_deref(),
            )
            .await
            .context("recording the rejection")?;
        ctx.metrics.submission_outcome("rejected");
        for i in &issues {
            ctx.metrics.issue(&i.rule);
        }
        Ok::<_, anyhow::Error>(Verdict::Rejected { errors })
    };
    if claim.attempts > max_attempts {
        let issue = ctx.catalog.issue(
            "unreadable",
            None,
            None,
            None,
            &[(
                "reason",
                &format!(
                    "processing failed {} times; the file could not be read",
                    claim.attempts - 1
                ),
            )],
        );
        return reject(vec![issue], None, 0, None).await;
    }

    let bytes = store
        .submission_bytes(id)
        .await
        .context("loading the file")?;
    let catalog = ctx.catalog.clone();
    let limits = ctx.settings.ingest.clone();
    let wb: Workbook =
        tokio::task::spawn_blocking(move || read_workbook(&bytes, &catalog, &limits))
            .await
            .context("the reader stopped")?;
    ctx.metrics.rows_read(wb.rows.len());
    let cover = wb
        .cover
        .as_ref()
        .and_then(|c| serde_json::to_string(c).ok());
    let mut issues = wb.issues.clone();
    let rows = wb.rows.len();

    let req_period = match claim.req_period.as_deref().map(str::parse::<Period>) {
        Some(Ok(p)) => Some(p),
        _ => None,
    };
    let header = match validate::resolve_header(
        &wb,
        &ctx.catalog,
        claim.req_reporter.as_deref(),
        req_period,
    ) {
        Ok(h) => h,
        Err(found) => {
            issues.extend(found);
            return reject(issues, None, rows, cover).await;
        }
    };
    let reporter = store.org(&header.reporter).await?;
    let reporter = match reporter {
        Some(r) if !r.is_grassroots() => r,
        _ => {
            issues.push(ctx.catalog.issue(
                "reporter_unknown",
                None,
                None,
                Some(&header.reporter),
                &[],
            ));
            return reject(issues, Some(header), rows, cover).await;
        }
    };
    if let Some(scope) = &claim.scope_org {
        let allowed = match store.org(scope).await? {
            Some(s) => s.contains(&reporter),
            None => false,
        };
        if !allowed {
            issues.push(ctx.catalog.issue(
                "reporter_out_of_scope",
                None,
                None,
                Some(&header.reporter),
                &[],
            ));
            return reject(issues, Some(header), rows, cover).await;
        }
    }
    if issues
        .iter()
        .any(|i| i.is_error() && FATAL_READ_RULES.contains(&i.rule.as_str()))
    {
        return reject(issues, Some(header), rows, cover).await;
    }

    // Master data and last month's figures for exactly the units concerned.
    let codes: Vec<String> = wb
        .rows
        .iter()
        .map(|r| r.code.clone())
        .filter(|c| !c.is_empty())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let known: HashMap<String, MasterUnit> = store
        .orgs_by_code(&codes)
        .await?
        .into_values()
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
    let expected: BTreeMap<String, String> = store
        .children(&reporter.code)
        .await?
        .into_iter()
        .filter(|c| c.is_grassroots())
        .map(|c| (c.code, c.name))
        .collect();
    let stock: HashSet<&str> = ctx
        .catalog
        .metrics
        .iter()
        .filter(|m| m.kind == MetricKind::Stock)
        .map(|m| m.code.as_str())
        .collect();
    let mut previous = store
        .facts_of_units(&header.period.previous().to_string(), &codes)
        .await?;
    previous.retain(|(_, m), _| stock.contains(m.as_str()));

    let catalog = ctx.catalog.clone();
    let settings = ctx.settings.clone();
    let reporter_code = reporter.code.clone();
    let period = header.period;
    let (wb, found) = tokio::task::spawn_blocking(move || {
        let vctx = Context {
            catalog: &catalog,
            reporter: &reporter_code,
            period,
            today: chrono::Local::now().date_naive(),
            locked: false,
            known_units: &known,
            expected_units: &expected,
            previous: &previous,
            max_monthly_change: settings.validation.max_monthly_change,
            min_change_base: settings.validation.min_change_base,
        };
        let found = validate::validate(&wb, &vctx);
        (wb, found)
    })
    .await
    .context("validation stopped")?;
    issues.extend(found);
    if issues.iter().any(Issue::is_error) {
        return reject(issues, Some(header), rows, cover).await;
    }

    let facts = validate::facts(&wb);
    let units: Vec<String> = wb.rows.iter().map(|r| r.code.clone()).collect();
    let period = header.period.to_string();
    let outcome = store
        .accept(&Acceptance {
            submission_id: id,
            reporter: &header.reporter,
            period: &period,
            facts: &facts,
            units: &units,
            issues: &issues,
            rows_read: rows,
            cover: cover.as_deref(),
            actor: &claim.uploaded_by,
        })
        .await
        .context("writing the accepted figures")?;
    match outcome {
        Some(o) => {
            ctx.metrics.submission_outcome("accepted");
            for i in &issues {
                ctx.metrics.issue(&i.rule);
            }
            tracing::info!(
                submission_id = id,
                reporter = %header.reporter,
                period = %period,
                facts = o.facts_written,
                changed = o.facts_changed,
                superseded = ?o.superseded,
                "submission accepted"
            );
            Ok(Verdict::Accepted {
                superseded: o.superseded,
            })
        }
        None => Ok(Verdict::AlreadyDone),
    }
}
