//! The benchmark binary end to end, against the `unionstat` program built
//! beside it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The `unionstat` program beside the benchmark: `cargo test --workspace` has
/// built it; a test of this package alone builds it first.
fn product() -> PathBuf {
    let bench = PathBuf::from(env!("CARGO_BIN_EXE_unionstat-bench"));
    let exe = bench.with_file_name(format!("unionstat{}", std::env::consts::EXE_SUFFIX));
    if !exe.is_file() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-p", "unionstat", "--bin", "unionstat"])
            .status()
            .expect("run cargo build");
        assert!(status.success(), "cargo build -p unionstat: {status}");
    }
    assert!(exe.is_file(), "{} is missing", exe.display());
    exe
}

/// Runs the benchmark in `dir` with `args`, the product named explicitly.
fn bench(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_unionstat-bench"))
        .current_dir(dir)
        .arg("--unionstat")
        .arg(product())
        .args(args)
        .env_remove("UNIONSTAT_DATABASE_URL")
        .env_remove("UNIONSTAT_CONFIG")
        .env("UNIONSTAT_LOG__LEVEL", "warn")
        .output()
        .expect("run unionstat-bench")
}

/// The benchmark on a tiny province runs every step and prints its one
/// table (no timings are checked: numbers belong in BENCHMARKS.md, not tests).
#[test]
fn bench_runs_a_tiny_province_and_prints_its_table() {
    let dir = tempfile::tempdir().unwrap();
    let out = bench(
        dir.path(),
        &[
            "--towns",
            "3",
            "--units-per-town",
            "5",
            "--months",
            "2",
            "--rss-rows",
            "200",
            "--query-seconds",
            "0.2",
            "--dir",
            "bench",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("| # | measurement | result | target | verdict |"),
        "{table}"
    );
    for row in [
        "| 1 |", "| 2a |", "| 2b |", "| 2c |", "| 3 |", "| 4a |", "| 4b |", "| 5 |",
    ] {
        assert!(table.contains(row), "no row {row}: {table}");
    }
    assert!(table.contains("not run (no --pg-url)"), "{table}");
    // Every measure says its target and whether it was met.
    for line in table
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| #"))
    {
        let cells: Vec<&str> = line.split(" | ").collect();
        let verdict = cells.last().unwrap_or(&"").trim_end_matches(" |");
        assert!(
            ["**met**", "**missed**", "n/a", "not measured"]
                .iter()
                .any(|v| verdict.starts_with(v)),
            "no verdict in {line}"
        );
        assert!(
            cells.len() >= 5 && !cells[3].trim().is_empty(),
            "no target in {line}"
        );
    }
    assert!(
        table.contains("load average") && table.contains("at start") && table.contains("at end"),
        "{table}"
    );
    // The reader children are long-lived: their peak comes from the pool, not
    // from the exit status of a child.
    let rss = table.lines().find(|l| l.starts_with("| 5 |")).unwrap_or("");
    assert!(
        !rss.contains("reader **0 MB**") && !rss.contains("unknown"),
        "{rss}"
    );
}
