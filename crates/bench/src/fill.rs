//! Filling the months the benchmark does not ingest end to end: the same figures
//! the sample workbooks would carry ([`sample::unit_figures`]) loaded through the
//! store's bulk load ([`Store::load_reports`]): one accepted submission per
//! reporter and month, one row per unit, in large transactions. No workbook is
//! generated or read and no roll-up is written: the measured `rollup rebuild`
//! computes the roll-ups of every month afterwards. The fill is set-up, not a
//! measurement.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use unionstat::store::load::LoadedReport;
use unionstat::store::Store;
use unionstat_core::orgs::{OrgKind, OrgRecord};
use unionstat_core::{Catalog, Period};
use unionstat_sample::{self as sample, Shape};

/// Reporters per load (all their months), so each transaction stays bounded.
const REPORTERS_PER_TX: usize = 25;

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

/// Loads the figures of `months` into the warehouse, reporter by reporter, each
/// with all its months. `progress(reporters done, reporters)` is called after
/// each transaction.
pub async fn fill(
    store: &Store,
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
    let reporters = reporters_with_units(orgs);
    let missing = sample::missing_report(shape, orgs);
    let mut done = 0;
    for chunk in reporters.chunks(REPORTERS_PER_TX) {
        let mut reports = Vec::with_capacity(chunk.len() * months.len());
        for (reporter, units) in chunk {
            for &period in months {
                if missing.as_ref() == Some(&(reporter.code.clone(), period)) {
                    continue;
                }
                reports.push(LoadedReport {
                    reporter: reporter.code.clone(),
                    period,
                    units: units
                        .iter()
                        .map(|u| {
                            let figures =
                                sample::unit_figures(catalog, &u.code, period, shape.seed);
                            (u.code.clone(), figures)
                        })
                        .collect(),
                });
            }
        }
        let loaded = store.load_reports(&reports, "bench-fill").await?;
        stats.submissions += loaded.submissions;
        stats.facts += loaded.figures;
        done += chunk.len();
        progress(done, reporters.len());
    }
    stats.elapsed = started.elapsed();
    Ok(stats)
}
