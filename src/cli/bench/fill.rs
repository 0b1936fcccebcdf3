//! Filling the months the benchmark does not ingest end to end: the same figures
//! the sample workbooks would carry ([`sample::unit_figures`]) written straight
//! into `facts`, with one accepted submission row per reporter and month, in
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

/// Facts per INSERT statement (5 parameters each, well under SQLite's limit).
const ROWS_PER_INSERT: usize = 1_000;
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
/// reporter by reporter and, for each unit, all its months together: the order
/// of the facts' primary key (unit, month, metric), which keeps the inserts
/// local. `progress(reporters done, reporters)` is called after each transaction.
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
            let mut facts: Vec<(&str, &str, String, i64, i64)> = Vec::new();
            for u in units {
                for (&period, (per, id)) in months_of_units.iter().zip(&subs) {
                    for (metric, value) in
                        sample::unit_figures(catalog, &u.code, period, shape.seed)
                    {
                        facts.push((u.code.as_str(), per.as_str(), metric, value, *id));
                    }
                }
            }
            for rows in facts.chunks(ROWS_PER_INSERT) {
                let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
                    "INSERT INTO facts (unit_code, period, metric, value, submission_id) ",
                );
                qb.push_values(rows, |mut b, (unit, per, metric, value, id)| {
                    b.push_bind(*unit)
                        .push_bind(*per)
                        .push_bind(metric.as_str())
                        .push_bind(*value)
                        .push_bind(*id);
                });
                qb.build().execute(&mut *tx).await?;
            }
            stats.facts += facts.len();
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
