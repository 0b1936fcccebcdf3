//! Filling the months the benchmark does not ingest end to end: the same figures
//! the sample workbooks would carry ([`sample::unit_figures`]) written straight
//! into `unit_figures` (one row per unit and month, in the store's metric
//! columns), with one accepted submission row per reporter and month, in
//! large transactions. No workbook is generated or read, no audit row and no
//! roll-up is written: the measured `rollup rebuild` computes the roll-ups of
//! every month afterwards. Benchmark-only; never used by the service.
//!
//! The fill is set-up, not a measurement: it writes on a connection of its own
//! with `synchronous=OFF` and a large page cache (both per connection), closed
//! afterwards, so the warehouse pool the measured steps use keeps its durable
//! settings.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::{Duration, Instant};

use anyhow::Context;

use sha2::{Digest, Sha256};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteSynchronous};
use sqlx::{Connection, QueryBuilder, Row, Sqlite};
use unionstat_core::orgs::{OrgKind, OrgRecord};
use unionstat_core::sample::{self, Shape};
use unionstat_core::{Catalog, Period};

use crate::store::now;

/// Bound parameters per INSERT statement, well under SQLite's limit.
const PARAMS_PER_INSERT: usize = 30_000;
/// Reporters per transaction (all their months), so the WAL stays bounded.
const REPORTERS_PER_TX: usize = 25;
/// Page cache of the fill's connection, in KiB.
const FILL_CACHE_KIB: i64 = 256 * 1024;

#[derive(Debug, Default, Clone)]
pub struct FillStats {
    pub months: usize,
    pub submissions: usize,
    pub facts: usize,
    pub elapsed: Duration,
}

/// The expected reporters of `orgs` with the grassroots units directly under each.
pub fn reporters_with_units(orgs: &[OrgRecord]) -> Vec<(&OrgRecord, Vec<&OrgRecord>)> {
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut out: Vec<(&OrgRecord, Vec<&OrgRecord>)> = Vec::new();
    for o in orgs.iter().filter(|o| o.expected_to_report) {
        index.insert(o.code.as_str(), out.len());
        out.push((o, Vec::new()));
    }
    for o in orgs.iter().filter(|o| o.kind == OrgKind::Grassroots) {
        if let Some(&i) = o.parent_code.as_deref().and_then(|p| index.get(p)) {
            out[i].1.push(o);
        }
    }
    out
}

/// Facts the sample workbooks of `period` carry (the deliberately missing
/// reporter excluded), for checking ingested months.
pub fn expected_facts(
    catalog: &Catalog,
    shape: &Shape,
    orgs: &[OrgRecord],
    period: Period,
) -> usize {
    let missing = sample::missing_report(shape, orgs);
    reporters_with_units(orgs)
        .iter()
        .filter(|(r, _)| missing.as_ref() != Some(&(r.code.clone(), period)))
        .flat_map(|(_, units)| units.iter())
        .map(|u| sample::unit_figures(catalog, &u.code, period, shape.seed).len())
        .sum()
}

/// Writes the figures of `months` into the warehouse at `url` (a sqlite:// URL),
/// reporter by reporter, each unit with all its months. The store has opened
/// the warehouse before (its metric columns exist). `progress(reporters done, reporters)` is called after each transaction.
pub async fn fill(
    url: &str,
    catalog: &Catalog,
    shape: &Shape,
    orgs: &[OrgRecord],
    months: &[Period],
    mut progress: impl FnMut(usize, usize),
) -> anyhow::Result<FillStats> {
    let started = Instant::now();
    let mut stats = FillStats {
        months: months.len(),
        ..FillStats::default()
    };
    if months.is_empty() {
        return Ok(stats);
    }
    let options = SqliteConnectOptions::from_str(url)
        .with_context(|| format!("{url} is not a SQLite URL"))?
        .synchronous(SqliteSynchronous::Off)
        .pragma("cache_size", format!("-{FILL_CACHE_KIB}"));
    let mut conn = SqliteConnection::connect_with(&options)
        .await
        .with_context(|| format!("cannot open {url} to fill it"))?;
    let metrics: Vec<String> =
        sqlx::query_scalar("SELECT metric FROM metric_columns ORDER BY slot")
            .fetch_all(&mut conn)
            .await?;
    let slots: HashMap<&str, usize> = metrics
        .iter()
        .enumerate()
        .map(|(i, m)| (m.as_str(), i))
        .collect();
    let column_list = metrics
        .iter()
        .map(|m| format!("m_{m}"))
        .collect::<Vec<_>>()
        .join(", ");
    let ids: HashMap<String, i64> = sqlx::query("SELECT code, id FROM org_ids")
        .fetch_all(&mut conn)
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let reporters = reporters_with_units(orgs);
    let missing = sample::missing_report(shape, orgs);
    let stamp = now();
    for (batch, chunk) in reporters.chunks(REPORTERS_PER_TX).enumerate() {
        let mut tx = conn.begin().await?;
        for (reporter, units) in chunk {
            // This reporter's accepted submission of each month it reports.
            let mut subs: Vec<(String, i64)> = Vec::with_capacity(months.len());
            for &period in months {
                if missing.as_ref() == Some(&(reporter.code.clone(), period)) {
                    continue;
                }
                let per = period.to_string();
                let sha = hex::encode(Sha256::digest(
                    format!("bench-fill/{}/{per}", reporter.code).as_bytes(),
                ));
                let id: i64 = sqlx::query(
                    "INSERT INTO submissions (sha256, req_reporter, req_period, reporter, period, filename, size_bytes, status, attempts, uploaded_by, received_at, started_at, finished_at, rows_read) VALUES (?, '', '', ?, ?, ?, 0, 'accepted', 1, 'bench-fill', ?, ?, ?, ?) RETURNING id",
                )
                .bind(&sha)
                .bind(&reporter.code)
                .bind(&per)
                .bind(format!("{}_{per}.xlsx", reporter.code))
                .bind(&stamp)
                .bind(&stamp)
                .bind(&stamp)
                .bind(units.len() as i64)
                .fetch_one(&mut *tx)
                .await?
                .get(0);
                subs.push((per, id));
                stats.submissions += 1;
            }
            let months_of_units: Vec<Period> = months
                .iter()
                .copied()
                .filter(|&p| missing.as_ref() != Some(&(reporter.code.clone(), p)))
                .collect();
            let mut rows: Vec<(i64, i64, i64, Vec<Option<i64>>)> = Vec::new();
            for u in units {
                let Some(&unit_id) = ids.get(&u.code) else {
                    anyhow::bail!("unit {} has no id in the warehouse", u.code);
                };
                for (&period, (_, id)) in months_of_units.iter().zip(&subs) {
                    let mut figures = vec![None; metrics.len()];
                    for (metric, value) in
                        sample::unit_figures(catalog, &u.code, period, shape.seed)
                    {
                        if let Some(&slot) = slots.get(metric.as_str()) {
                            figures[slot] = Some(value);
                            stats.facts += 1;
                        }
                    }
                    rows.push((period.key(), unit_id, *id, figures));
                }
            }
            for chunk in rows.chunks((PARAMS_PER_INSERT / (metrics.len() + 3)).max(1)) {
                let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
                    "INSERT INTO unit_figures (period, unit_id, submission_id, {}) ",
                    column_list
                ));
                qb.push_values(chunk, |mut b, (period, unit, id, figures)| {
                    b.push_bind(*period).push_bind(*unit).push_bind(*id);
                    for v in figures {
                        b.push_bind(*v);
                    }
                });
                qb.build().execute(&mut *tx).await?;
            }
        }
        tx.commit().await?;
        progress(
            (batch * REPORTERS_PER_TX + chunk.len()).min(reporters.len()),
            reporters.len(),
        );
    }
    conn.close().await?;
    stats.elapsed = started.elapsed();
    Ok(stats)
}
