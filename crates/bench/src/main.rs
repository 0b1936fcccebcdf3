//! `unionstat-bench`: one run of the unionstat service over a synthetic province
//! that prints one markdown table (BENCHMARKS.md explains each number). It is not
//! part of the product: it drives the service through its library's public
//! interfaces (settings, store, queue, the `submit` path, the HTTP server) and
//! runs the `unionstat` program it measures (`--unionstat`, by default the one
//! beside this program) as the reader child and as the PostgreSQL leg's
//! workers. In the order it runs:
//!
//! 5. peak memory while one large workbook (50,000 rows by default) is ingested —
//!    first, while the process is small and no other child has run (rss.rs);
//! -  the province imported and all months but the last (`--ingest-months`)
//!    filled straight into the warehouse (fill.rs): set-up, not timed;
//! 1. the parse floor: calamine reading the workbooks of the last month,
//!    nothing else (floor.rs);
//! 2. end-to-end ingest of the same workbooks through the path of `unionstat
//!    submit` (store + queue, apalis workers in this process, reader child,
//!    validation, the accept transaction) on SQLite with the warehouse's durable
//!    settings; then, with `--pg-url`, on PostgreSQL with separate worker
//!    processes (pg.rs), its warehouse filled with the same months before;
//!    then the analyst's script (polars + fastexcel + SQLite) on the same
//!    workbooks, side by side (peer.rs);
//! 4. a full `rollup rebuild` of the year, then `rollup verify`;
//! 3. indicators latency per level under concurrent keep-alive clients against
//!    `unionstat serve` on loopback, a process of its own (server.rs, http.rs).
//!
//! Everything goes under `--dir` (recreated); the workbooks are deleted once
//! ingested, the databases are kept for inspection.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use unionstat_core::orgs::OrgRecord;
use unionstat_core::Period;
use unionstat_sample::{self as sample, Shape, PROVINCE_CODE};

use unionstat::cli::submit::{progress, store_and_queue, wait_for_verdicts, Upload};
use unionstat::config::Settings;
use unionstat::context::AppContext;
use unionstat::store::keys::Role;
use unionstat::store::submissions::SubmissionRow;

mod fill;
mod floor;
mod http;
mod machine;
mod peer;
mod pg;
mod rss;
mod server;

use machine::{loadavg, mb, Machine};

/// What the benchmark was asked.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "unionstat-bench",
    version,
    about = "Benchmark of unionstat on a synthetic province; prints one markdown table (BENCHMARKS.md)"
)]
pub struct BenchArgs {
    /// Settings file layered over config/default.toml, as `unionstat --config`.
    #[arg(long, env = "UNIONSTAT_CONFIG")]
    pub config: Option<PathBuf>,
    /// The unionstat program measured; default: `unionstat` beside this program.
    #[arg(long, value_name = "PATH")]
    pub unionstat: Option<PathBuf>,
    /// Towns/streets (the expected reporters) of the synthetic province.
    #[arg(long, default_value_t = 1500)]
    pub towns: usize,
    /// Grassroots unions under each town (rows of each workbook; at most 998).
    #[arg(long, default_value_t = 100)]
    pub units_per_town: usize,
    /// Months of the year generated.
    #[arg(long, default_value_t = 12)]
    pub months: usize,
    /// The first month generated (YYYY-MM). Default: so that the last month is
    /// the one being reported now — last month, or this month once last month
    /// has closed for uploads (`reporting.lock_after_days`).
    #[arg(long)]
    pub first_month: Option<String>,
    /// Months ingested end to end: the last ones, after the months before them
    /// were filled straight into the warehouse. 0: all months.
    #[arg(long, default_value_t = 1)]
    pub ingest_months: usize,
    /// Where the benchmark databases and workbooks go (recreated).
    #[arg(long, default_value = "data/bench")]
    pub dir: PathBuf,
    /// Seconds of load per level and kind of indicators query.
    #[arg(long, default_value_t = 5.0, value_parser = seconds)]
    pub query_seconds: f64,
    /// Concurrent HTTP clients (keep-alive connections) of the query load.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// At most this many requests per level and kind.
    #[arg(long, default_value_t = 100_000)]
    pub query_max: usize,
    /// Rows of the one large workbook whose peak memory is measured; 0 skips it.
    #[arg(long, default_value_t = 50_000)]
    pub rss_rows: usize,
    /// Threads of the parse floor; 0: the ingest job's concurrency.
    #[arg(long, default_value_t = 0)]
    pub floor_threads: usize,
    /// Also ingest on PostgreSQL: an empty, disposable database (left filled).
    #[arg(long, value_name = "URL")]
    pub pg_url: Option<String>,
    /// `unionstat worker` processes of the PostgreSQL leg.
    #[arg(long, default_value_t = 2)]
    pub pg_workers: usize,
    /// The analyst's script run side by side on the same workbooks (polars +
    /// fastexcel + SQLite; needs `python3 -m pip install polars fastexcel`).
    #[arg(long, default_value = "../shared/bench/peer_polars.py")]
    pub peer_script: PathBuf,
    /// The Python that runs the script.
    #[arg(long, default_value = "python3")]
    pub peer_python: String,
}

impl BenchArgs {
    /// The command line that reproduces the run (the password of --pg-url hidden).
    fn command_line(&self) -> String {
        let mut s = format!(
            "unionstat-bench --towns {} --units-per-town {} --months {}{} --ingest-months {} --dir {} --query-seconds {} --concurrency {} --query-max {} --rss-rows {} --floor-threads {} --peer-script {} --peer-python {}",
            self.towns,
            self.units_per_town,
            self.months,
            self.first_month
                .as_ref()
                .map_or(String::new(), |m| format!(" --first-month {m}")),
            self.ingest_months,
            self.dir.display(),
            self.query_seconds,
            self.concurrency,
            self.query_max,
            self.rss_rows,
            self.floor_threads,
            self.peer_script.display(),
            self.peer_python
        );
        if let Some(url) = &self.pg_url {
            let _ = write!(
                s,
                " --pg-url {} --pg-workers {}",
                pg::redact(url),
                self.pg_workers
            );
        }
        s
    }
}

// ------------------------------------------------------------------ helpers

/// A duration in seconds: finite and not negative.
fn seconds(raw: &str) -> Result<f64, String> {
    match raw.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("{raw:?} is not a number of seconds")),
    }
}

fn say(started: Instant, msg: impl AsRef<str>) {
    eprintln!(
        "[bench {:>7.1}s] {}",
        started.elapsed().as_secs_f64(),
        msg.as_ref()
    );
}

/// 1234567.8 → "1,234,568".
fn thousands(v: f64) -> String {
    let n = v.round() as i64;
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// "1 city", "10 cities".
fn count(n: usize, one: &str, many: &str) -> String {
    format!(
        "{} {}",
        thousands(n as f64),
        if n == 1 { one } else { many }
    )
}

/// A rate: whole numbers with separators, one decimal below 100.
fn per_second(v: f64) -> String {
    if v < 100.0 {
        format!("{v:.1}")
    } else {
        thousands(v)
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn verdict(met: bool) -> &'static str {
    if met {
        "**met**"
    } else {
        "**missed**"
    }
}

/// The verdict of a measure that has no target of its own.
const NO_TARGET: &str = "n/a";

fn rate(rows: f64, d: Duration) -> f64 {
    rows / d.as_secs_f64().max(1e-9)
}

/// Removes the SQLite warehouse `DIR/NAME.db` and its queue `DIR/NAME-queue.db`,
/// with their WAL and shared-memory files.
fn remove_db(dir: &Path, name: &str) {
    let stem = name.trim_end_matches(".db");
    for file in [format!("{stem}.db"), format!("{stem}-queue.db")] {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(dir.join(format!("{file}{suffix}")));
        }
    }
}

/// The bench's settings with the warehouse at `db` (the queue beside it).
fn settings_for(settings: &Settings, db: &Path) -> Settings {
    let mut s = settings.clone();
    s.database.url = format!("sqlite://{}", db.display());
    s.database.queue_url = String::new();
    s
}

async fn close(ctx: &AppContext) {
    ctx.queue.close().await;
    ctx.store.close().await;
}

/// Figures in the bench's warehouse, of one month or all.
async fn count_facts(ctx: &AppContext, period: Option<Period>) -> anyhow::Result<i64> {
    Ok(ctx.store.count_figures(period).await?)
}

// ------------------------------------------------------------------ ingest

/// One leg of end-to-end ingest over the generated months.
#[derive(Debug, Default)]
struct Leg {
    workbooks: usize,
    accepted: usize,
    rows: i64,
    /// Storing and queuing the files.
    store: Duration,
    /// From the first file stored to the last verdict, summed over the months.
    total: Duration,
    /// Σ seconds and number of ingest job runs (from the job duration
    /// histogram; workers in this process only).
    job_seconds: f64,
    jobs: u64,
    /// The first few rejections, for the notes.
    rejected: Vec<String>,
}

impl Leg {
    /// Mean run time of one ingest job, when the jobs ran in this process.
    fn mean_job(&self) -> Option<Duration> {
        (self.jobs > 0).then(|| Duration::from_secs_f64(self.job_seconds / self.jobs as f64))
    }

    fn rate(&self) -> f64 {
        rate(self.rows as f64, self.total)
    }

    fn all_accepted(&self) -> bool {
        self.workbooks > 0 && self.accepted == self.workbooks
    }

    /// Adds one month's verdicts and times, and says so on stderr.
    fn month(
        &mut self,
        label: &str,
        verdicts: &[SubmissionRow],
        stored: Duration,
        total: Duration,
        started: Instant,
    ) {
        self.store += stored;
        self.total += total;
        let rows = self.count(verdicts);
        say(
            started,
            format!(
                "{label}: {} workbooks, {rows} rows in {:.1}s (stored and queued in {:.1}s) = {} rows/s",
                verdicts.len(),
                total.as_secs_f64(),
                stored.as_secs_f64(),
                thousands(rate(rows as f64, total))
            ),
        );
    }

    fn count(&mut self, verdicts: &[SubmissionRow]) -> i64 {
        let mut rows = 0;
        self.workbooks += verdicts.len();
        for v in verdicts {
            if v.status == "accepted" {
                self.accepted += 1;
                rows += v.rows_read;
            } else if self.rejected.len() < 5 {
                let first = v
                    .issues()
                    .iter()
                    .find(|i| i.is_error())
                    .map(|i| format!("{}: {}", i.rule, i.message.en))
                    .unwrap_or_default();
                self.rejected
                    .push(format!("{} {}: {first}", v.filename, v.status));
            }
        }
        self.rows += rows;
        rows
    }
}

/// Σ seconds and number of job runs so far in this process, from the
/// `unionstat_job_duration_seconds` histogram (the ingest job is the only job).
fn job_runs(ctx: &AppContext) -> (f64, u64) {
    ctx.metrics
        .registry
        .gather()
        .iter()
        .filter(|f| f.name() == "unionstat_job_duration_seconds")
        .flat_map(|f| f.get_metric().iter())
        .fold((0.0, 0), |(sum, n), m| {
            let h = m.get_histogram();
            (sum + h.get_sample_sum(), n + h.get_sample_count())
        })
}

/// Stores and queues one month's files as `unionstat submit` does. A file the
/// warehouse already holds is an error: it would not be processed again.
async fn store_month(ctx: &AppContext, files: &[PathBuf]) -> anyhow::Result<Vec<i64>> {
    let mut ids = Vec::with_capacity(files.len());
    for f in files {
        let bytes = std::fs::read(f).with_context(|| format!("cannot read {}", f.display()))?;
        let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let upload = Upload {
            filename: name,
            actor: "bench",
            ..Upload::default()
        };
        let row = store_and_queue(ctx, &bytes, &upload).await?;
        if row.status != "received" {
            anyhow::bail!(
                "{name} is already in the warehouse as submission {} ({}): use an empty database",
                row.id,
                row.status
            );
        }
        ids.push(row.id);
    }
    Ok(ids)
}

/// Month by month: store and queue, then run the workers here until every
/// verdict is in — what `unionstat submit FILES…` does.
async fn ingest_sqlite(
    ctx: &AppContext,
    months: &[(Period, Vec<PathBuf>)],
    started: Instant,
) -> anyhow::Result<Leg> {
    let mut leg = Leg::default();
    for (period, files) in months {
        let (sum_before, count_before) = job_runs(ctx);
        let t = Instant::now();
        let ids = store_month(ctx, files).await?;
        let stored = t.elapsed();
        let bar = progress(ids.len(), &format!("SQLite {period}"));
        let verdicts = wait_for_verdicts(ctx, &ids, Some(&bar)).await?;
        bar.finish_and_clear();
        let total = t.elapsed();
        let (sum_after, count_after) = job_runs(ctx);
        leg.job_seconds += sum_after - sum_before;
        leg.jobs += count_after - count_before;
        leg.month(
            &format!("SQLite {period}"),
            &verdicts,
            stored,
            total,
            started,
        );
    }
    Ok(leg)
}

/// What the PostgreSQL leg runs on.
struct PgLeg<'a> {
    /// The `unionstat` binary its worker processes run.
    product: &'a Path,
    config: Option<&'a Path>,
    url: &'a str,
    workers: usize,
    province: (&'a Shape, &'a [OrgRecord]),
    /// Filled before, not timed.
    filled_months: &'a [Period],
    /// Timed: each month's workbooks.
    months: &'a [(Period, Vec<PathBuf>)],
    /// Where the workers' logs go.
    log_dir: &'a Path,
}

/// The PostgreSQL leg: the province imported and the months before filled,
/// as for SQLite (so the ingest meets the same year of history), `workers`
/// worker processes started, then month by month store and queue here and
/// wait for verdicts.
async fn ingest_pg(leg: PgLeg<'_>, started: Instant) -> anyhow::Result<Leg> {
    let PgLeg {
        product,
        config,
        url,
        workers,
        province: (shape, orgs),
        filled_months,
        months,
        log_dir,
    } = leg;
    let ctx = AppContext::build(pg::settings(config, url)?)
        .await
        .with_context(|| format!("opening {}", pg::redact(url)))?;
    ctx.store
        .import_orgs(orgs)
        .await
        .context("importing the province into PostgreSQL")?;
    let filled = fill::fill(
        &ctx.store,
        &ctx.catalog,
        shape,
        orgs,
        filled_months,
        |_, _| {},
    )
    .await
    .context("filling the months before on PostgreSQL")?;
    say(
        started,
        format!(
            "PostgreSQL: {} months filled ({} facts) in {:.1}s",
            filled.months,
            thousands(filled.facts as f64),
            filled.elapsed.as_secs_f64()
        ),
    );
    let mut procs = pg::Workers::start(product, workers, config, url, log_dir)?;
    let result = async {
        let mut leg = Leg::default();
        for (period, files) in months {
            let t = Instant::now();
            let ids = store_month(&ctx, files).await?;
            let stored = t.elapsed();
            let bar = progress(ids.len(), &format!("PostgreSQL {period}"));
            let verdicts = pg::wait_for_verdicts(&ctx, &ids, &mut procs, &bar).await?;
            bar.finish_and_clear();
            let total = t.elapsed();
            leg.month(
                &format!("PostgreSQL {period}"),
                &verdicts,
                stored,
                total,
                started,
            );
        }
        Ok::<_, anyhow::Error>(leg)
    }
    .await;
    procs
        .stop(Duration::from_secs(
            ctx.settings.server.shutdown_grace_seconds + 5,
        ))
        .await;
    close(&ctx).await;
    result
}

// ------------------------------------------------------------------ queries

struct QueryRow {
    /// What was asked, e.g. "indicators of a county node with `children=true`".
    what: String,
    nodes: usize,
    result: http::LoadResult,
    /// Answers of the run served from the server's kept answers, of all
    /// (`unionstat_answer_cache_total`; None: not exported).
    kept: Option<(u64, u64)>,
}

/// The tree over time: one move from the queried month on (so every earlier
/// month is restated under the current tree), then both views verified.
struct TreeChangeRow {
    change_time: Duration,
    verify_time: Duration,
    verify_ok: bool,
    mismatches: usize,
}

/// Federations of each level of the sample tree (province, cities, counties,
/// towns), by code.
fn levels(orgs: &[OrgRecord]) -> Vec<(&'static str, Vec<&OrgRecord>)> {
    let mut depth: std::collections::HashMap<&str, usize> = Default::default();
    let mut out: Vec<(&'static str, Vec<&OrgRecord>)> = ["province", "city", "county", "town"]
        .into_iter()
        .map(|l| (l, Vec::new()))
        .collect();
    // org_tree lists parents before children.
    for o in orgs {
        let d = match o.parent_code.as_deref() {
            None => 0,
            Some(p) => depth.get(p).map_or(usize::MAX, |d| d + 1),
        };
        depth.insert(o.code.as_str(), d);
        if let Some((_, nodes)) = out.get_mut(d) {
            if o.kind == unionstat_core::orgs::OrgKind::Federation {
                nodes.push(o);
            }
        }
    }
    out
}

async fn query_load(
    ctx: &AppContext,
    product: &Path,
    orgs: &[OrgRecord],
    period: Period,
    args: &BenchArgs,
    started: Instant,
) -> anyhow::Result<(Vec<QueryRow>, TreeChangeRow)> {
    let server = server::Server::start(
        product,
        args.config.as_deref(),
        &ctx.settings.database.url,
        &args.dir,
    )
    .await?;
    let addr: SocketAddr = server.addr;
    let (_, key) = ctx
        .store
        .create_key(&unionstat::store::keys::NewKey {
            org_code: PROVINCE_CODE,
            role: Role::Viewer,
            label: "bench queries",
            expires_at: None,
            created_by: &unionstat::store::actor::Actor::cli(),
        })
        .await?;
    let mut rows = Vec::new();
    let mut tree = None;
    let result = async {
        for (level, nodes) in levels(orgs) {
            for children in [false, true] {
                let paths: Vec<String> = nodes
                    .iter()
                    .map(|o| {
                        format!(
                            "/api/v1/orgs/{}/indicators?period={period}{}",
                            o.code,
                            if children { "&children=true" } else { "" }
                        )
                    })
                    .collect();
                let what = format!(
                    "indicators of a {level} node{}",
                    if children { " with `children=true`" } else { "" }
                );
                let before = http::answer_cache_counts(addr).await;
                let result = measure(addr, &key, &paths, args, started, &what).await?;
                rows.push(QueryRow {
                    what,
                    nodes: nodes.len(),
                    result,
                    kept: kept_since(before, http::answer_cache_counts(addr).await),
                });
            }
        }
        // The tree over time: a unit moves to another town from the queried
        // month on; the month before reads restated under the current tree.
        let tree_row = move_and_verify(ctx, orgs, period, started).await?;
        let counties = levels(orgs)
            .into_iter()
            .find(|(l, _)| *l == "county")
            .map(|(_, n)| n)
            .unwrap_or_default();
        let before = period.previous();
        let from = (0..11).fold(period, |p, _| p.previous());
        for (what, paths) in [
            (
                format!("indicators of a county node with `children=true` and `tree=current`, {before} (restated)"),
                counties
                    .iter()
                    .map(|o| format!("/api/v1/orgs/{}/indicators?period={before}&children=true&tree=current", o.code))
                    .collect::<Vec<_>>(),
            ),
            (
                format!("12-month series ({from}..{period}) of a county, `tree=current`"),
                counties
                    .iter()
                    .map(|o| format!("/api/v1/orgs/{}/series?indicator=membership_rate&from={from}&to={period}&tree=current", o.code))
                    .collect(),
            ),
        ] {
            let before = http::answer_cache_counts(addr).await;
            let result = measure(addr, &key, &paths, args, started, &what).await?;
            rows.push(QueryRow {
                what,
                nodes: counties.len(),
                result,
                kept: kept_since(before, http::answer_cache_counts(addr).await),
            });
        }
        tree = Some(tree_row);
        Ok::<_, anyhow::Error>(())
    }
    .await;
    server
        .stop(Duration::from_secs(
            ctx.settings.server.shutdown_grace_seconds + 5,
        ))
        .await;
    result?;
    Ok((rows, tree.context("the tree change did not run")?))
}

/// The kept answers served between two scrapes, of all indicators answers.
fn kept_since(before: Option<(u64, u64)>, after: Option<(u64, u64)>) -> Option<(u64, u64)> {
    let ((h0, a0), (h1, a1)) = (before?, after?);
    Some((h1.saturating_sub(h0), a1.saturating_sub(a0)))
}

/// Loads the server with `paths` (round robin) from `args.concurrency`
/// clients and says how it went.
async fn measure(
    addr: SocketAddr,
    key: &str,
    paths: &[String],
    args: &BenchArgs,
    started: Instant,
    what: &str,
) -> anyhow::Result<http::LoadResult> {
    let result = http::load(
        addr,
        key,
        paths,
        args.concurrency,
        Duration::from_secs_f64(args.query_seconds),
        args.query_max,
    )
    .await?;
    say(
        started,
        format!(
            "{what}: {} requests in {:.1}s, p50 {} p99 {}, {} errors",
            result.latencies.len(),
            result.elapsed.as_secs_f64(),
            result.percentile(0.5).map_or("-".into(), ms),
            result.percentile(0.99).map_or("-".into(), ms),
            result.errors
        ),
    );
    if let Some(e) = &result.first_error {
        say(started, format!("{what}: first error: {e}"));
    }
    Ok(result)
}

/// Moves the first grassroots unit of the first town to the second town from
/// `period` on (a tree change as an admin makes it, reason given), then
/// verifies both views.
async fn move_and_verify(
    ctx: &AppContext,
    orgs: &[OrgRecord],
    period: Period,
    started: Instant,
) -> anyhow::Result<TreeChangeRow> {
    let towns = levels(orgs)
        .into_iter()
        .find(|(l, _)| *l == "town")
        .map(|(_, n)| n)
        .unwrap_or_default();
    let (Some(a), Some(b)) = (towns.first(), towns.get(1)) else {
        anyhow::bail!("the province has fewer than two towns");
    };
    let unit = orgs
        .iter()
        .find(|o| o.parent_code.as_deref() == Some(a.code.as_str()))
        .context("the first town has no unit")?;
    let t = Instant::now();
    unionstat::flows::tree_changes::move_unit(
        ctx,
        &unit.code,
        &b.code,
        period,
        &unionstat::flows::tree_changes::Changer {
            actor: "bench".into(),
            reason: Some("benchmark".into()),
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let change_time = t.elapsed();
    let t = Instant::now();
    let verify = ctx.store.verify_rollups(None).await?;
    let verify_time = t.elapsed();
    say(
        started,
        format!(
            "tree change: {} moved to {} from {period} in {:.1}s; verify of both views {} in {:.1}s",
            unit.code,
            b.code,
            change_time.as_secs_f64(),
            if verify.ok() { "equal" } else { "MISMATCH" },
            verify_time.as_secs_f64()
        ),
    );
    Ok(TreeChangeRow {
        change_time,
        verify_time,
        verify_ok: verify.ok(),
        mismatches: verify.mismatch_count,
    })
}

// ------------------------------------------------------------------ run

/// The first of `months` months ending with the month being reported now: last
/// month while it is open for uploads, else this month (a closed month would
/// only take uploads from an admin with a reason).
fn first_month_now(settings: &Settings, months: usize) -> Period {
    let today = settings.reporting.today(chrono::Utc::now());
    let this = Period::of_date(today);
    let last_month = this.previous();
    let r = &settings.reporting;
    let mut p = if r.lock_after_days > 0
        && last_month.is_closed(r.deadline_day, r.lock_after_days, today)
    {
        this
    } else {
        last_month
    };
    for _ in 1..months {
        p = p.previous();
    }
    p
}

async fn run(settings: Settings, product: PathBuf, args: BenchArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let first = match &args.first_month {
        Some(m) => m
            .parse::<Period>()
            .with_context(|| format!("--first-month {m}"))?,
        None => first_month_now(&settings, args.months.max(1)),
    };
    if args.units_per_town == 0 || args.units_per_town > 998 {
        return Err(anyhow::anyhow!("--units-per-town must be 1..=998").into());
    }
    let months = sample::month_range(first, args.months.max(1));
    let ingest_count = if args.ingest_months == 0 {
        months.len()
    } else {
        args.ingest_months.min(months.len())
    };
    // The first months are filled, the last ones arrive as workbooks.
    let (filled_months, ingest_months) = months.split_at(months.len() - ingest_count);
    let load_start = loadavg();
    let dir = args.dir.clone();
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    remove_db(&dir, "bench.db");
    let files_dir = dir.join("workbooks");
    let _ = std::fs::remove_dir_all(&files_dir);
    std::fs::create_dir_all(&files_dir)
        .with_context(|| format!("cannot create {}", files_dir.display()))?;
    say(started, args.command_line());

    // 5. Peak memory, first: the process is small and no child has run yet.
    let rss = if args.rss_rows > 0 {
        // The month being reported: an older one may be closed for uploads.
        let month = *months.last().context("no month")?;
        let r = rss::run(&settings, &dir, args.rss_rows, month, started).await?;
        say(
            started,
            format!(
                "peak memory: {} in {:.1}s; service {:.0} MB, reader {}",
                r.status,
                r.elapsed.as_secs_f64(),
                r.service_peak_kb.map_or(f64::NAN, mb),
                r.reader_text()
            ),
        );
        Some(r)
    } else {
        None
    };
    let machine = Machine::probe();

    // The province.
    let ctx = AppContext::build(settings_for(&settings, &dir.join("bench.db"))).await?;
    let shape = Shape::province(args.towns, args.units_per_town, months.clone());
    let orgs = sample::org_tree(&shape);
    let t = Instant::now();
    ctx.store
        .import_orgs(&orgs)
        .await
        .context("importing the province")?;
    let import_time = t.elapsed();
    say(
        started,
        format!(
            "province: {} cities × {} counties × {} towns × {} units = {} grassroots unions ({} org units imported in {:.1}s)",
            shape.cities,
            shape.counties_per_city,
            shape.towns_per_county,
            shape.units_per_town,
            shape.units(),
            orgs.len(),
            import_time.as_secs_f64()
        ),
    );
    let concurrency = ctx.queue.spec(unionstat::jobs::ingest::NAME).concurrency;
    let floor_threads = if args.floor_threads == 0 {
        concurrency
    } else {
        args.floor_threads
    };

    // The months before, straight into the warehouse: the ingest then meets a
    // warehouse holding the year so far, as a month's reports do.
    let mut next_note = 0;
    let filled = fill::fill(
        &ctx.store,
        &ctx.catalog,
        &shape,
        &orgs,
        filled_months,
        |done, all| {
            if done * 10 >= next_note * all {
                say(
                    started,
                    format!(
                        "filling {} months: {done} of {all} reporters",
                        filled_months.len()
                    ),
                );
                next_note = done * 10 / all.max(1) + 1;
            }
        },
    )
    .await?;

    // The workbooks of the months ingested end to end (the same bytes the
    // whole shape would give for those months).
    let t = Instant::now();
    let ingest_shape = Shape {
        months: ingest_months.to_vec(),
        ..shape.clone()
    };
    let mut month_files: Vec<(Period, Vec<PathBuf>)> =
        ingest_months.iter().map(|&p| (p, Vec::new())).collect();
    for s in sample::sheets_iter(&ctx.catalog, &ingest_shape, &orgs) {
        let Some((_, files)) = month_files.iter_mut().find(|(p, _)| *p == s.period) else {
            return Err(anyhow::anyhow!("a workbook for {} was not asked for", s.period).into());
        };
        let path = files_dir.join(&s.file_name);
        std::fs::write(&path, &s.bytes)
            .with_context(|| format!("cannot write {}", path.display()))?;
        files.push(path);
    }
    let all_files: Vec<PathBuf> = month_files
        .iter()
        .flat_map(|(_, f)| f.iter().cloned())
        .collect();
    let generate_time = t.elapsed();
    let unit_rows = (all_files.len() * shape.units_per_town) as f64;
    say(
        started,
        format!(
            "{} workbooks of {} months generated in {:.1}s",
            all_files.len(),
            ingest_count,
            generate_time.as_secs_f64()
        ),
    );

    // 1. The parse floor, on one thread and on as many as ingest runs jobs.
    let floor_1 = tokio::task::block_in_place(|| floor::run(&all_files, 1))?;
    let floor_n = tokio::task::block_in_place(|| floor::run(&all_files, floor_threads))?;
    say(
        started,
        format!(
            "parse floor: {:.2}s on 1 thread, {:.2}s on {floor_threads} ({} cells, {} rows with column A)",
            floor_1.elapsed.as_secs_f64(),
            floor_n.elapsed.as_secs_f64(),
            floor_n.cells,
            floor_n.rows
        ),
    );

    // 2a. Ingest on SQLite, then check what it wrote.
    let sqlite = ingest_sqlite(&ctx, &month_files, started).await?;
    let t = Instant::now();
    let mut facts_ok = true;
    let mut ingested_verified = true;
    for &period in ingest_months {
        let want = fill::expected_facts(&ctx.catalog, &shape, &orgs, period);
        let have = count_facts(&ctx, Some(period)).await?;
        facts_ok &= have as usize == want;
        let report = ctx.store.verify_rollups(Some(period)).await?;
        ingested_verified &= report.ok();
        if !report.ok() {
            say(
                started,
                format!("{period}: {} roll-up mismatches", report.mismatch_count),
            );
        }
    }
    let check_time = t.elapsed();
    say(
        started,
        format!(
            "ingested months: facts as generated: {facts_ok}; incremental roll-ups == full: {ingested_verified} ({:.1}s)",
            check_time.as_secs_f64()
        ),
    );

    // 2b. Ingest on PostgreSQL, when asked.
    let pg = match &args.pg_url {
        None => None,
        Some(url) => {
            let leg = PgLeg {
                product: &product,
                config: args.config.as_deref(),
                url,
                workers: args.pg_workers,
                province: (&shape, &orgs),
                filled_months,
                months: &month_files,
                log_dir: &dir,
            };
            let r = ingest_pg(leg, started)
                .await
                // The password must not reach the table.
                .map_err(|e| {
                    anyhow::anyhow!("{}", format!("{e:#}").replace(url, &pg::redact(url)))
                });
            if let Err(e) = &r {
                say(started, format!("PostgreSQL leg failed: {e}"));
            }
            Some(r)
        }
    };
    // 2c. The analyst's script on the same workbooks, after unionstat.
    say(
        started,
        format!(
            "the analyst's script {} on the same {} workbooks",
            args.peer_script.display(),
            all_files.len()
        ),
    );
    // The same reports in the layout the script reads (see peer.rs), not timed.
    let peer_dir = dir.join("peer-workbooks");
    let _ = std::fs::remove_dir_all(&peer_dir);
    peer::write_workbooks(&ctx.catalog, &shape, &orgs, ingest_months, &peer_dir)?;
    let peer = tokio::task::block_in_place(|| {
        peer::run(&args.peer_python, &args.peer_script, &peer_dir, &orgs, &dir)
    });
    let _ = std::fs::remove_dir_all(&peer_dir);
    match &peer {
        Ok(p) => say(
            started,
            format!(
                "the analyst's script: {} files, {} rows, {} rejected in {:.1}s = {} rows/s (roll-up {:.1}s)",
                p.files,
                p.rows,
                p.rejected,
                p.ingest_s,
                thousands(p.rows_per_s),
                p.rollup_s
            ),
        ),
        Err(peer::PeerMissing::NotRun(why) | peer::PeerMissing::Failed(why)) => {
            say(started, format!("the analyst's script: {why}"))
        }
    }
    drop(month_files);
    let _ = std::fs::remove_dir_all(&files_dir);

    let facts_total = count_facts(&ctx, None).await?;

    // 4. Full rebuild of the year, then verify.
    let t = Instant::now();
    let rebuilt_rows = ctx.store.rebuild_rollups(None).await?;
    let rebuild_time = t.elapsed();
    say(
        started,
        format!(
            "rollup rebuild: {rebuilt_rows} rows from {facts_total} facts in {:.1}s",
            rebuild_time.as_secs_f64()
        ),
    );
    let t = Instant::now();
    let verify = ctx.store.verify_rollups(None).await?;
    let verify_time = t.elapsed();
    say(
        started,
        format!(
            "rollup verify: {} in {:.1}s",
            if verify.ok() { "equal" } else { "MISMATCH" },
            verify_time.as_secs_f64()
        ),
    );

    // 3. Queries under concurrent load on loopback, against the real server.
    let query_period = *months.last().context("no month")?;
    let (queries, tree_change) =
        query_load(&ctx, &product, &orgs, query_period, &args, started).await?;
    let load_end = loadavg();
    let elapsed = started.elapsed();

    // The table.
    let mut out = String::new();
    let last = months.last().copied().unwrap_or(first);
    let _ = writeln!(out, "command: `{}`", args.command_line());
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "machine: {} CPUs ({}), {:.1} GiB RAM, {}; load average {} at start, {} at end; the run took {:.0} s",
        machine.cpus,
        machine.model,
        machine.mem_gib,
        machine.rustc,
        load_start,
        load_end,
        elapsed.as_secs_f64()
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "province: {} towns × {} units = {} grassroots unions under {} and {}; months {first}..{last}: {} filled straight into the warehouse first, then {} ingested end to end",
        thousands(shape.towns() as f64),
        shape.units_per_town,
        thousands(shape.units() as f64),
        count(shape.cities, "city", "cities"),
        count(shape.cities * shape.counties_per_city, "county", "counties"),
        filled_months.len(),
        ingest_months.len(),
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "settings: SQLite warehouse in WAL mode with synchronous=FULL, queue in its own file; ingest job concurrency {concurrency}; reader isolation \"{}\" (address space limit {} MB); worker poll {} ms",
        ctx.settings.ingest.isolation,
        ctx.settings.ingest.reader_memory_mb,
        ctx.settings.worker.poll_interval_ms
    );
    let _ = writeln!(out);
    let _ = writeln!(out, "| # | measurement | result | target | verdict |");
    let _ = writeln!(out, "|---|---|---|---|---|");

    let floor_rate = rate(unit_rows, floor_n.elapsed);
    let _ = writeln!(
        out,
        "| 1 | parse floor: calamine opens each workbook and streams its units sheet, nothing else ({} workbooks, {} unit rows, {} threads) | **{} rows/s** ({} rows/s on 1 thread) | none: the yardstick of 2a | {NO_TARGET} |",
        thousands(all_files.len() as f64),
        thousands(unit_rows),
        floor_threads,
        thousands(floor_rate),
        thousands(rate(unit_rows, floor_1.elapsed))
    );
    let share = sqlite.rate() / floor_rate.max(1e-9);
    let _ = writeln!(
        out,
        "| 2a | ingest on SQLite via the `submit` path: {} workbooks, {} rows, {} accepted in {:.1} s (storing and queuing {:.1} s; one ingest job {} on average, {concurrency} at a time) | **{} rows/s** = {:.1} % of the floor | ≥ 25 % of the floor (aim: 50 %) | {} |",
        thousands(sqlite.workbooks as f64),
        thousands(sqlite.rows as f64),
        thousands(sqlite.accepted as f64),
        sqlite.total.as_secs_f64(),
        sqlite.store.as_secs_f64(),
        sqlite.mean_job().map_or("-".into(), ms),
        thousands(sqlite.rate()),
        share * 100.0,
        verdict(share >= 0.25 && sqlite.all_accepted())
    );
    // The PostgreSQL warehouse is filled with the same months as SQLite's, so
    // 2b meets the same year of history as 2a.
    let (pg_row, pg_verdict) = match &pg {
        None => ("not run (no --pg-url)".to_string(), "not measured".to_string()),
        Some(Err(e)) => (
            format!("failed: {}", e.to_string().replace('|', "\\|")),
            verdict(false).to_string(),
        ),
        Some(Ok(leg)) => (
            format!(
                "**{} rows/s** = {:.1} % of the floor, {:.2}× 2a ({} workbooks, {} rows, {} accepted in {:.1} s)",
                thousands(leg.rate()),
                leg.rate() / floor_rate.max(1e-9) * 100.0,
                leg.rate() / sqlite.rate().max(1e-9),
                thousands(leg.workbooks as f64),
                thousands(leg.rows as f64),
                thousands(leg.accepted as f64),
                leg.total.as_secs_f64()
            ),
            verdict(leg.rate() >= sqlite.rate() && leg.all_accepted()).to_string(),
        ),
    };
    let _ = writeln!(
        out,
        "| 2b | ingest on PostgreSQL via the `submit` path, {} `unionstat worker` processes, the same workbooks into a warehouse holding the same months before (filled as for 2a) | {pg_row} | ≥ 2a's rows/s, with the same year of history | {pg_verdict} |",
        args.pg_workers
    );
    let (peer_row, peer_verdict) = match &peer {
        Ok(p) => {
            let ratio = sqlite.rate() / p.rows_per_s.max(1e-9);
            (
                format!(
                    "script **{} rows/s** ({} files, {} rows, {} rejected, {:.1} s; its roll-up {:.1} s more) → unionstat 2a is **{ratio:.2}×** the script",
                    thousands(p.rows_per_s),
                    thousands(p.files as f64),
                    thousands(p.rows as f64),
                    p.rejected,
                    p.ingest_s,
                    p.rollup_s
                ),
                verdict(ratio >= 3.0 && p.rejected == 0),
            )
        }
        Err(peer::PeerMissing::NotRun(why)) => (format!("not run: {why}"), "not measured"),
        Err(peer::PeerMissing::Failed(why)) => (format!("failed: {why}"), "not measured"),
    };
    let _ = writeln!(
        out,
        "| 2c | side by side: the analyst's script `{}` (polars + fastexcel + SQLite in WAL mode, `synchronous=FULL`, one transaction per file) on the same reports (units and figures; header in row 1, as the script reads them), after unionstat | {} | unionstat 2a ≥ 3× the script's rows/s | {peer_verdict} |",
        args.peer_script
            .file_name()
            .map_or(args.peer_script.display().to_string(), |n| n.to_string_lossy().into_owned()),
        peer_row.replace('|', "\\|")
    );
    for q in &queries {
        let p50 = q.result.percentile(0.5);
        let p99 = q.result.percentile(0.99);
        let met = p99.is_some_and(|p| p < Duration::from_millis(20)) && q.result.errors == 0;
        let _ = writeln!(
            out,
            "| 3 | {} ({}, {} B answer): {} clients, {} requests in {:.1} s = {} req/s, {} errors{} | p50 **{}**, p99 **{}** | p99 < 20 ms | {} |",
            q.what,
            count(q.nodes, "node", "nodes"),
            thousands(q.result.body_bytes as f64),
            args.concurrency,
            thousands(q.result.latencies.len() as f64),
            q.result.elapsed.as_secs_f64(),
            per_second(q.result.rate()),
            q.result.errors,
            match q.kept {
                Some((hits, all)) if all > 0 => format!(
                    "; {} of {} answers served from the kept answers ({:.0} %)",
                    thousands(hits as f64),
                    thousands(all as f64),
                    100.0 * hits as f64 / all as f64
                ),
                Some(_) => "; the series is not kept".into(),
                None => String::new(),
            },
            p50.map_or("-".into(), ms),
            p99.map_or("-".into(), ms),
            verdict(met)
        );
    }
    let _ = writeln!(
        out,
        "| 4a | `rollup rebuild` of the year: {} months, {} facts → {} roll-up rows | **{:.1} s** | < 10 s | {} |",
        months.len(),
        thousands(facts_total as f64),
        thousands(rebuilt_rows as f64),
        rebuild_time.as_secs_f64(),
        verdict(rebuild_time < Duration::from_secs(10))
    );
    let _ = writeln!(
        out,
        "| 4b | `rollup verify` of the year | **{:.1} s**, {} | < 10 s, equal | {} |",
        verify_time.as_secs_f64(),
        if verify.ok() {
            "equal".to_string()
        } else {
            format!("{} mismatches", verify.mismatch_count)
        },
        verdict(verify_time < Duration::from_secs(10) && verify.ok())
    );
    let _ = writeln!(
        out,
        "| 4c | the tree over time: one unit moves to another town from {query_period} (the roll-ups of that month recomputed under the new tree, every earlier month restated under the current tree), then `rollup verify` of both views | change **{:.1} s**, verify **{:.1} s**, {} | verify < 10 s, equal | {} |",
        tree_change.change_time.as_secs_f64(),
        tree_change.verify_time.as_secs_f64(),
        if tree_change.verify_ok {
            "equal".to_string()
        } else {
            format!("{} mismatches", tree_change.mismatches)
        },
        verdict(tree_change.verify_time < Duration::from_secs(10) && tree_change.verify_ok)
    );
    match &rss {
        Some(r) => {
            let total = r.total_mb();
            let met = r.status == "accepted" && r.reset && total.is_some_and(|t| t < 256.0);
            let _ = writeln!(
                out,
                "| 5 | peak RSS ingesting one {}-row workbook ({:.1} MB .xlsx, {} in {:.1} s): service VmHWM{} + reader child VmHWM (read by the reader pool) | service **{:.0} MB** (of which {:.0} MB before the upload) + reader **{}** = **{:.0} MB** | < 256 MB | {} |",
                thousands(r.rows as f64),
                r.file_bytes as f64 / 1e6,
                r.status,
                r.elapsed.as_secs_f64(),
                if r.reset { "" } else { " (could not be reset: peak since start)" },
                r.service_peak_kb.map_or(f64::NAN, mb),
                r.baseline_kb.map_or(f64::NAN, mb),
                r.reader_text(),
                total.unwrap_or(f64::NAN),
                verdict(met)
            );
        }
        None => {
            let _ = writeln!(
                out,
                "| 5 | peak RSS ingesting one large workbook | not run (--rss-rows 0) | < 256 MB | not measured |"
            );
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "checks: every ingested workbook accepted: {}; ingested facts equal the generated figures: {facts_ok}; incremental roll-ups of the ingested months equal a full recomputation: {ingested_verified}; after the rebuild: {}",
        sqlite.all_accepted(),
        verify.ok()
    );
    if let Some(r) = rss.as_ref().filter(|r| r.status != "accepted") {
        let _ = writeln!(
            out,
            "the large workbook was {} ({} rows read): {}",
            r.status,
            r.rows_read,
            r.first_errors.join("; ")
        );
    }
    let _ = writeln!(
        out,
        "not timed: generating {} workbooks {:.1} s; org import {:.1} s; filling {} months ({} facts) {:.1} s; checking the ingested months {:.1} s",
        thousands(all_files.len() as f64),
        generate_time.as_secs_f64(),
        import_time.as_secs_f64(),
        filled.months,
        thousands(filled.facts as f64),
        filled.elapsed.as_secs_f64(),
        check_time.as_secs_f64()
    );
    for r in sqlite
        .rejected
        .iter()
        .chain(pg.iter().flatten().flat_map(|l| &l.rejected))
    {
        let _ = writeln!(out, "rejected: {r}");
    }
    print!("{out}");
    close(&ctx).await;
    let pg_ok = match &pg {
        None => true,
        Some(Ok(leg)) => leg.all_accepted(),
        Some(Err(_)) => false,
    };
    let rss_ok = rss.as_ref().is_none_or(|r| r.status == "accepted");
    let ok =
        verify.ok() && ingested_verified && facts_ok && sqlite.all_accepted() && pg_ok && rss_ok;
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The `unionstat` program beside this one (both are built into the same
/// `target/<profile>/`).
fn product_beside_me() -> anyhow::Result<PathBuf> {
    let me = std::env::current_exe().context("cannot find this program")?;
    let exe = me.with_file_name(format!("unionstat{}", std::env::consts::EXE_SUFFIX));
    if !exe.is_file() {
        anyhow::bail!(
            "{} is missing: build it (`cargo build --release -p unionstat`) or name the program with --unionstat",
            exe.display()
        );
    }
    Ok(exe)
}

#[global_allocator]
static GLOBAL: unionstat::allocator::Allocator = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // The service runs in this process as it runs in its own.
    unionstat::allocator::tune();
    let args = <BenchArgs as clap::Parser>::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let result = runtime.block_on(async {
        let product = match &args.unionstat {
            Some(p) => p.clone(),
            None => product_beside_me()?,
        };
        let mut settings = Settings::load(args.config.as_deref(), None)?;
        // The reader child is the measured program, not this one.
        settings.ingest.reader_exe = product.display().to_string();
        // The benchmark times slow statements itself; sqlx's warnings would bury
        // its progress lines.
        let mut log = settings.log.clone();
        log.level = "warn,sqlx::query=error".into();
        unionstat::telemetry::init_tracing(&log);
        run(settings, product, args).await
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
