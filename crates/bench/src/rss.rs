//! Peak memory while one large workbook is ingested through the `submit` path:
//! the service side (this process's VmHWM, reset just before) and the reader
//! child (its VmHWM, as the reader pool of a context of its own reads it after
//! the read). Runs first, while the process is small.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use unionstat_core::orgs::{OrgKind, OrgRecord};
use unionstat_core::Period;
use unionstat_sample::{self as sample, Shape};

use super::machine::{proc_status_kb, reset_peak_rss, trim_heap};
use super::{close, remove_db, say, settings_for};
use unionstat::cli::submit::{store_and_queue, wait_for_verdicts, Upload};
use unionstat::config::Settings;
use unionstat::context::AppContext;

pub struct RssResult {
    pub rows: usize,
    pub file_bytes: usize,
    pub status: String,
    pub rows_read: i64,
    pub first_errors: Vec<String>,
    pub elapsed: Duration,
    /// Service RSS just before the upload.
    pub baseline_kb: Option<u64>,
    /// Service peak RSS from just before the upload to its verdict.
    pub service_peak_kb: Option<u64>,
    /// Peak RSS of the reader child (None: no child, with "inline" isolation,
    /// or `/proc` could not tell).
    pub reader_peak_kb: Option<u64>,
    /// The workbook was read inside the service ("inline" isolation): no child.
    pub inline: bool,
    /// Whether the service's peak could be reset before the upload (otherwise
    /// `service_peak_kb` is the peak since the process started).
    pub reset: bool,
}

impl RssResult {
    /// Service and reader peaks added: an upper bound of the pair's footprint.
    pub fn total_mb(&self) -> Option<f64> {
        let reader = if self.inline { 0 } else { self.reader_peak_kb? };
        Some(super::machine::mb(self.service_peak_kb? + reader))
    }

    /// The reader's peak as the table shows it.
    pub fn reader_text(&self) -> String {
        match (self.inline, self.reader_peak_kb) {
            (true, _) => "none (read inside the service)".into(),
            (false, Some(kb)) => format!("{:.0} MB", super::machine::mb(kb)),
            (false, None) => "unknown (no VmHWM read)".into(),
        }
    }
}

/// One town with `rows` grassroots unions under a small tree of its own.
fn big_town(rows: usize) -> Vec<OrgRecord> {
    let fed = |code: &str, name: &str, parent: Option<&str>, expected: bool| OrgRecord {
        code: code.into(),
        name: name.into(),
        parent_code: parent.map(str::to_string),
        kind: OrgKind::Federation,
        expected_to_report: expected,
    };
    let mut orgs = vec![
        fed("990000", "大样本省总工会", None, false),
        fed("990100", "大样本市总工会", Some("990000"), false),
        fed("990102", "大样本区总工会", Some("990100"), false),
        fed("990102001", "大样本街道总工会", Some("990102"), true),
    ];
    for i in 0..rows {
        orgs.push(OrgRecord {
            code: format!("990102001{:05}", i + 1),
            name: format!("大样本街道第{}号基层工会", i + 1),
            parent_code: Some("990102001".into()),
            kind: OrgKind::Grassroots,
            expected_to_report: false,
        });
    }
    orgs
}

pub async fn run(
    settings: &Settings,
    dir: &Path,
    rows: usize,
    period: Period,
    started: Instant,
) -> anyhow::Result<RssResult> {
    remove_db(dir, "rss.db");
    let ctx = AppContext::build(settings_for(settings, &dir.join("rss.db"))).await?;
    let orgs = big_town(rows);
    ctx.store
        .import_orgs(&orgs)
        .await
        .context("importing the large town")?;
    let (town, units) = (&orgs[3], orgs[4..].iter().collect::<Vec<_>>());
    let seed = Shape::province(1, 1, vec![]).seed;
    let catalog = ctx.catalog.clone();
    let figures = move |u: &OrgRecord| -> Vec<(String, Option<i64>)> {
        sample::unit_figures(&catalog, &u.code, period, seed)
            .into_iter()
            .map(|(k, v)| (k, Some(v)))
            .collect()
    };
    let bytes = sample::workbook(&ctx.catalog, town, period, &units, &figures, true);
    drop(units);
    drop(orgs);
    let file_bytes = bytes.len();
    say(
        started,
        format!(
            "peak memory: a {rows}-row workbook of {:.1} MB; ingesting it",
            file_bytes as f64 / 1e6
        ),
    );
    trim_heap();
    let baseline_kb = proc_status_kb("VmRSS");
    let reset = reset_peak_rss();
    let t = Instant::now();
    let upload = Upload {
        filename: "large-town.xlsx",
        actor: "bench",
        ..Upload::default()
    };
    let row = store_and_queue(&ctx, &bytes, &upload).await?;
    drop(bytes);
    let done = wait_for_verdicts(&ctx, &[row.id], None).await?;
    let elapsed = t.elapsed();
    let service_peak_kb = proc_status_kb("VmHWM");
    // The context is this leg's own, so its pool's children read only this file.
    let reader_peak_kb = Some(ctx.readers.peak_resident_bytes() / 1024).filter(|&kb| kb > 0);
    let sub = done.into_iter().next().context("no verdict")?;
    let first_errors = sub
        .issues()
        .iter()
        .filter(|i| i.is_error())
        .take(3)
        .map(|i| format!("{}: {}", i.rule, i.message.en))
        .collect();
    close(&ctx).await;
    drop(ctx);
    remove_db(dir, "rss.db");
    Ok(RssResult {
        rows,
        file_bytes,
        status: sub.status,
        rows_read: sub.rows_read,
        first_errors,
        elapsed,
        baseline_kb,
        service_peak_kb,
        reader_peak_kb,
        inline: settings.ingest.isolation != "process",
        reset,
    })
}
