//! The side-by-side leg: the analyst's script (`peer_polars.py`: polars +
//! fastexcel, calamine underneath, + SQLite in WAL mode with
//! `synchronous=FULL`, one transaction per file) run on the benchmark's own
//! workbooks of the ingested months, after unionstat has ingested them. Its
//! rows/s are what the service is compared with (target: unionstat ≥ 3× the
//! script's rate on SQLite).
//!
//! The script is the analysts' and lives outside this repository
//! (`--peer-script`, by default `../shared/bench/peer_polars.py`). When it, its
//! Python or its packages are missing, the leg is not run and the table says
//! what to install.
//!
//! The script reads the units sheet with its header in the first row and the
//! catalogue's canonical headers, so it rejects Template v1 as the benchmark
//! writes it (a title and a subtitle above the header, units in brackets after
//! the headers). It is therefore given the same reporters, units and figures
//! in that plainer layout ([`write_workbooks`]), written before it starts and
//! not timed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Context;
use rust_xlsxwriter::Workbook;
use unionstat_core::orgs::OrgRecord;
use unionstat_core::{Catalog, Period};
use unionstat_sample::{self as sample, Shape};

use super::fill::reporters_with_units;

/// What the script printed: `files= rows= rejected= ingest_s= rows_per_s= rollup_s=`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PeerRun {
    pub files: u64,
    pub rows: u64,
    pub rejected: u64,
    pub ingest_s: f64,
    pub rows_per_s: f64,
    pub rollup_s: f64,
    /// The whole run of the script, start-up and roll-up included.
    pub wall: Duration,
}

/// Why the leg has no figure.
#[derive(Debug, Clone, PartialEq)]
pub enum PeerMissing {
    /// Not run: the script or its packages are not there (the text says what to do).
    NotRun(String),
    /// The script ran and failed.
    Failed(String),
}

pub const INSTALL_HINT: &str = "install them with `python3 -m pip install polars fastexcel`";

/// Writes into `out` one workbook per report of `months` that the benchmark's
/// own workbooks hold (the deliberately missing one left out), with the same
/// units and figures ([`sample::unit_figures`]) in the layout the script reads:
/// sheet `封面` with 报送单位代码 and 报告期 in A/B; sheet `基层工会情况` with
/// the header in row 1 (单位代码, 单位名称, each metric's canonical header), one
/// row per unit, empty cells where a figure is not reported. Returns the files.
pub fn write_workbooks(
    catalog: &Catalog,
    shape: &Shape,
    orgs: &[OrgRecord],
    months: &[Period],
    out: &Path,
) -> anyhow::Result<usize> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let missing = sample::missing_report(shape, orgs);
    let mut files = 0;
    for &period in months {
        for (reporter, units) in reporters_with_units(orgs) {
            if missing.as_ref() == Some(&(reporter.code.clone(), period)) {
                continue;
            }
            let bytes = plain_workbook(catalog, shape.seed, &reporter.code, period, &units)
                .with_context(|| format!("writing the workbook of {} {period}", reporter.code))?;
            let path = out.join(format!("{}_{period}.xlsx", reporter.code));
            std::fs::write(&path, bytes)
                .with_context(|| format!("cannot write {}", path.display()))?;
            files += 1;
        }
    }
    Ok(files)
}

fn plain_workbook(
    catalog: &Catalog,
    seed: u64,
    reporter: &str,
    period: Period,
    units: &[&OrgRecord],
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut wb = Workbook::new();
    let cover = wb.add_worksheet().set_name("封面")?;
    cover.write_string(0, 0, "报送单位代码")?;
    cover.write_string(0, 1, reporter)?;
    cover.write_string(1, 0, "报告期")?;
    cover.write_string(1, 1, period.to_string())?;
    let sheet = wb.add_worksheet().set_name(sample::UNITS_SHEET)?;
    sheet.write_string(0, 0, "单位代码")?;
    sheet.write_string(0, 1, "单位名称")?;
    for (i, m) in catalog.metrics.iter().enumerate() {
        sheet.write_string(0, i as u16 + 2, &m.zh)?;
    }
    for (r, unit) in units.iter().enumerate() {
        let row = r as u32 + 1;
        sheet.write_string(row, 0, &unit.code)?;
        sheet.write_string(row, 1, &unit.name)?;
        for (code, scaled) in sample::unit_figures(catalog, &unit.code, period, seed) {
            if let Some(i) = catalog.metric_position(&code) {
                let value = scaled as f64 / catalog.metrics[i].scale() as f64;
                sheet.write_number(row, i as u16 + 2, value)?;
            }
        }
    }
    wb.save_to_buffer()
}

/// Runs `python script WORKBOOKS DB --orgs ORGS.csv --sync full`, with the
/// province's master data written to `dir/peer-orgs.csv`, the script's
/// database at `dir/peer.db` (replaced) and its stderr in `dir/peer-stderr.log`.
pub fn run(
    python: &str,
    script: &Path,
    workbooks: &Path,
    orgs: &[OrgRecord],
    dir: &Path,
) -> Result<PeerRun, PeerMissing> {
    if !script.is_file() {
        return Err(PeerMissing::NotRun(format!(
            "the analyst's script {} is not there (give it with --peer-script)",
            script.display()
        )));
    }
    let probe = Command::new(python)
        .args(["-c", "import polars, fastexcel"])
        .output();
    match probe {
        Err(e) => {
            return Err(PeerMissing::NotRun(format!(
                "cannot run {python} ({e}); the script needs Python 3 with polars and fastexcel: {INSTALL_HINT}"
            )))
        }
        Ok(o) if !o.status.success() => {
            let why = String::from_utf8_lossy(&o.stderr);
            let last = why.lines().last().unwrap_or("").trim();
            return Err(PeerMissing::NotRun(format!(
                "{python} cannot import polars and fastexcel ({last}): {INSTALL_HINT}"
            )));
        }
        Ok(_) => {}
    }
    let orgs_csv = dir.join("peer-orgs.csv");
    std::fs::write(&orgs_csv, sample::orgs_csv(orgs))
        .map_err(|e| PeerMissing::Failed(format!("cannot write {}: {e}", orgs_csv.display())))?;
    let db: PathBuf = dir.join("peer.db");
    let t = Instant::now();
    let out = Command::new(python)
        .arg(script)
        .arg(workbooks)
        .arg(&db)
        .arg("--orgs")
        .arg(&orgs_csv)
        .args(["--sync", "full"])
        .output()
        .map_err(|e| PeerMissing::Failed(format!("cannot run {}: {e}", script.display())))?;
    let wall = t.elapsed();
    // What the script said on stderr stays beside its database.
    let _ = std::fs::write(dir.join("peer-stderr.log"), &out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(3).collect();
        return Err(PeerMissing::Failed(format!(
            "{} stopped with {}: {}",
            script.display(),
            out.status,
            tail.into_iter().rev().collect::<Vec<_>>().join(" / ")
        )));
    }
    let mut run = parse(&stdout).ok_or_else(|| {
        PeerMissing::Failed(format!(
            "{} printed no result line: {:?}",
            script.display(),
            stdout.trim()
        ))
    })?;
    run.wall = wall;
    Ok(run)
}

/// The script's result line (the last line holding `rows_per_s=`).
fn parse(stdout: &str) -> Option<PeerRun> {
    let line = stdout.lines().rev().find(|l| l.contains("rows_per_s="))?;
    let field = |name: &str| -> Option<f64> {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))?
            .parse()
            .ok()
    };
    Some(PeerRun {
        files: field("files")? as u64,
        rows: field("rows")? as u64,
        rejected: field("rejected")? as u64,
        ingest_s: field("ingest_s")?,
        rows_per_s: field("rows_per_s")?,
        rollup_s: field("rollup_s")?,
        wall: Duration::ZERO,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_result_line_of_the_script() {
        let out = "some warning\nfiles=29 rows=2900 rejected=0 ingest_s=0.21 rows_per_s=13810 rollup_s=0.05\n";
        let run = parse(out).expect("a result");
        assert_eq!(run.files, 29);
        assert_eq!(run.rows, 2900);
        assert_eq!(run.rejected, 0);
        assert_eq!(run.rows_per_s, 13810.0);
        assert_eq!(run.ingest_s, 0.21);
        assert_eq!(run.rollup_s, 0.05);
        assert_eq!(parse("files=1 rows=2\n"), None);
    }

    #[test]
    fn a_missing_script_says_how_to_give_it() {
        let dir = tempfile::tempdir().expect("dir");
        let err = run(
            "python3",
            &dir.path().join("nope.py"),
            dir.path(),
            &[],
            dir.path(),
        );
        assert!(
            matches!(&err, Err(PeerMissing::NotRun(m)) if m.contains("--peer-script")),
            "{err:?}"
        );
    }

    #[test]
    fn missing_packages_say_how_to_install_them() {
        let dir = tempfile::tempdir().expect("dir");
        let script = dir.path().join("peer.py");
        std::fs::write(&script, "print('files=0')\n").expect("write");
        // A "python" that can import nothing.
        let err = run("false", &script, dir.path(), &[], dir.path());
        assert!(
            matches!(&err, Err(PeerMissing::NotRun(m)) if m.contains("pip install polars fastexcel")),
            "{err:?}"
        );
    }
}
