//! Reading untrusted workbooks in a child process.
//!
//! A spreadsheet parser can be made to reserve absurd amounts of memory and abort
//! the whole process, which no panic handler catches. So each upload is read by
//! `unionstat read-workbook` — this same program — under an address-space limit
//! (RLIMIT_AS) and a timeout; it gets the bytes on stdin and answers the read
//! workbook as JSON on stdout. Whatever happens in the child, the service only
//! sees a [`ReaderCrash`] and decides to retry or reject.

use std::io::{Read, Write};
use std::process::{ExitCode, Stdio};
use std::time::Duration;

use anyhow::Context;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use unionstat_core::ingest::{read_workbook, ReadLimits, Workbook};
use unionstat_core::Catalog;

use crate::config::Settings;

/// The hidden subcommand the child runs.
pub const CHILD_COMMAND: &str = "read-workbook";

/// The reader child failed: it died (a signal, an abort, out of memory), timed
/// out, or answered something that is not a workbook.
#[derive(Debug, thiserror::Error)]
#[error("the workbook reader failed: {0}")]
pub struct ReaderCrash(pub String);

/// Reads `bytes` in a child process under the configured limits.
pub async fn read_in_child(settings: &Settings, bytes: Vec<u8>) -> Result<Workbook, ReaderCrash> {
    let crash = |m: String| ReaderCrash(m);
    let exe = if settings.ingest.reader_exe.is_empty() {
        std::env::current_exe().map_err(|e| crash(format!("cannot find this program: {e}")))?
    } else {
        settings.ingest.reader_exe.clone().into()
    };
    let limits = serde_json::to_string(&settings.ingest.limits()).unwrap_or_default();
    let memory = settings.ingest.reader_memory_mb.saturating_mul(1024 * 1024);
    let mut cmd = tokio::process::Command::new(&exe);
    cmd.arg(CHILD_COMMAND)
        .arg("--catalog")
        .arg(&settings.catalog.path)
        .arg("--limits")
        .arg(limits)
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    // SAFETY: only async-signal-safe calls (setrlimit) between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            let limit = libc::rlimit {
                rlim_cur: memory as libc::rlim_t,
                rlim_max: memory as libc::rlim_t,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            let none = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            libc::setrlimit(libc::RLIMIT_CORE, &none);
            Ok(())
        });
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| crash(format!("cannot start {}: {e}", exe.display())))?;
    let mut stdin = child.stdin.take().ok_or_else(|| crash("no stdin".into()))?;
    let mut stdout = child
        .stdout
        .take()
        .ok_or_else(|| crash("no stdout".into()))?;
    let mut stderr = child
        .stderr
        .take()
        .ok_or_else(|| crash("no stderr".into()))?;
    let feed = tokio::spawn(async move {
        // A child that dies early closes the pipe: that shows in its exit status.
        let _ = stdin.write_all(&bytes).await;
    });
    let run = async {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let (r1, r2) = tokio::join!(stdout.read_to_end(&mut out), stderr.read_to_end(&mut err));
        r1.map_err(|e| crash(format!("reading its answer: {e}")))?;
        let _ = r2;
        let status = child
            .wait()
            .await
            .map_err(|e| crash(format!("waiting for it: {e}")))?;
        Ok::<_, ReaderCrash>((status, out, err))
    };
    let timeout = Duration::from_secs(settings.ingest.reader_timeout_seconds);
    let result = tokio::time::timeout(timeout, run).await;
    feed.abort();
    let (status, out, err) = match result {
        Ok(r) => r?,
        Err(_) => return Err(crash(format!("no answer within {} s", timeout.as_secs()))),
    };
    if !status.success() {
        let tail: String = String::from_utf8_lossy(&err)
            .chars()
            .rev()
            .take(300)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        return Err(crash(format!("it stopped with {status}: {}", tail.trim())));
    }
    serde_json::from_slice(&out).map_err(|e| crash(format!("its answer is not a workbook: {e}")))
}

/// The child: stdin → read_workbook → JSON on stdout.
pub fn child_main(catalog_path: &str, limits: &str) -> ExitCode {
    match child(catalog_path, limits) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("read-workbook: {e:#}");
            ExitCode::from(3)
        }
    }
}

fn child(catalog_path: &str, limits: &str) -> anyhow::Result<()> {
    let limits: ReadLimits = serde_json::from_str(limits).context("--limits")?;
    let catalog = if catalog_path.is_empty() {
        Catalog::builtin()?
    } else {
        Catalog::from_toml(
            &std::fs::read_to_string(catalog_path).with_context(|| catalog_path.to_string())?,
        )?
    };
    let mut bytes = Vec::new();
    // One byte more than the limit is enough for the reader to say "too large".
    std::io::stdin()
        .take(limits.max_bytes as u64 + 1)
        .read_to_end(&mut bytes)
        .context("reading stdin")?;
    let wb = read_workbook(&bytes, &catalog, &limits);
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, &wb).context("writing the answer")?;
    out.flush()?;
    Ok(())
}
