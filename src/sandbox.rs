//! Reading untrusted workbooks in a small pool of long-lived child processes.
//!
//! A spreadsheet parser can be made to reserve absurd amounts of memory and abort
//! the whole process, which no panic handler catches. So uploads are read by
//! `unionstat read-workbook` — this same program — under an address-space limit
//! (RLIMIT_AS) and a per-workbook timeout. A child reads one workbook after
//! another: a frame on stdin (the byte count as 8 bytes big-endian, then the
//! bytes) is answered by a frame on stdout (the read workbook as JSON). Whatever
//! happens in a child, the service only sees a [`ReaderCrash`] and decides to
//! retry or reject; the child is thrown away and a new one started when needed.
//!
//! [`ReaderPool`] bounds the reads running at once to `ingest.readers`, for
//! background jobs and dry runs alike (and for "inline" isolation, where reads
//! run on the blocking threads of this process). A caller that gives a wait
//! gets [`ReadersBusy`] when no reader is free within it.
//!
//! The children outlive the reads, so their memory cannot be taken from an exit
//! status: after each read the pool reads the child's peak resident memory
//! (VmHWM in `/proc/<pid>/status`) and keeps the highest of any child
//! ([`ReaderPool::peak_resident_bytes`], the metric
//! `unionstat_reader_peak_resident_bytes`).

use std::io::{BufReader, BufWriter, Read, Write};
use std::process::{ExitCode, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, ChildStdin, ChildStdout};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use unionstat_core::ingest::{read_workbook, ReadLimits, Workbook};
use unionstat_core::Catalog;

use crate::config::Settings;
use crate::telemetry::Metrics;

/// The hidden subcommand the child runs.
pub const CHILD_COMMAND: &str = "read-workbook";

/// The largest answer a child may give (the JSON of a workbook within the
/// limits is far smaller); a bigger length means the stream is garbage.
const MAX_ANSWER_BYTES: u64 = 4 << 30;

/// Characters of a child's last stderr output kept for the crash message.
const STDERR_TAIL: usize = 300;

/// The reader child failed: it died (a signal, an abort, out of memory), timed
/// out, or answered something that is not a workbook.
#[derive(Debug, thiserror::Error)]
#[error("the workbook reader failed: {0}")]
pub struct ReaderCrash(pub String);

/// Every reader stayed busy for the caller's whole wait.
#[derive(Debug, thiserror::Error)]
#[error("every workbook reader is busy; waited {waited_seconds} s")]
pub struct ReadersBusy {
    pub waited_seconds: u64,
}

/// How a read ended without a workbook.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Crash(#[from] ReaderCrash),
    #[error(transparent)]
    Busy(#[from] ReadersBusy),
}

/// The bounded pool of workbook readers.
pub struct ReaderPool {
    settings: Arc<Settings>,
    catalog: Arc<Catalog>,
    metrics: Arc<Metrics>,
    slots: Semaphore,
    idle: Mutex<Vec<Reader>>,
    /// The highest VmHWM of any child so far, in bytes.
    peak: AtomicU64,
}

impl std::fmt::Debug for ReaderPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReaderPool")
            .field("readers", &self.settings.ingest.readers)
            .field("free", &self.slots.available_permits())
            .finish()
    }
}

impl ReaderPool {
    /// A pool of `settings.ingest.readers`; children start when first needed.
    pub fn new(settings: Arc<Settings>, catalog: Arc<Catalog>, metrics: Arc<Metrics>) -> Self {
        ReaderPool {
            slots: Semaphore::new(settings.ingest.readers),
            settings,
            catalog,
            metrics,
            idle: Mutex::new(Vec::new()),
            peak: AtomicU64::new(0),
        }
    }

    /// The highest peak resident memory (VmHWM) of any reader child this pool
    /// has run, in bytes, as read after each read; 0 before the first, with
    /// "inline" isolation, or where `/proc` cannot tell.
    pub fn peak_resident_bytes(&self) -> u64 {
        self.peak.load(Ordering::Relaxed)
    }

    /// Takes the child's peak so far into the pool's.
    fn note_peak(&self, reader: &Reader) {
        if let Some(bytes) = reader.peak_resident_bytes() {
            let peak = self.peak.fetch_max(bytes, Ordering::Relaxed).max(bytes);
            self.metrics
                .reader_peak_resident
                .set(i64::try_from(peak).unwrap_or(i64::MAX));
        }
    }

    /// Reads `bytes` within the configured limits, once a reader is free:
    /// waiting as long as it takes (`wait` None: background jobs) or at most
    /// `wait` (requests someone is waiting for).
    pub async fn read(
        &self,
        bytes: Vec<u8>,
        wait: Option<Duration>,
    ) -> Result<Workbook, ReadError> {
        let _slot = match wait {
            None => self.slots.acquire().await,
            Some(w) => match tokio::time::timeout(w, self.slots.acquire()).await {
                Ok(slot) => slot,
                Err(_) => {
                    self.metrics.reader_busy.inc();
                    return Err(ReadersBusy {
                        waited_seconds: w.as_secs(),
                    }
                    .into());
                }
            },
        }
        .map_err(|_| ReaderCrash("the reader pool is closed".into()))?;
        if self.settings.ingest.isolation != "process" {
            let catalog = self.catalog.clone();
            let limits = self.settings.ingest.limits();
            return tokio::task::spawn_blocking(move || read_workbook(&bytes, &catalog, &limits))
                .await
                .map_err(|e| ReaderCrash(format!("the reader panicked: {e}")).into());
        }
        let idle = self.idle.lock().map(|mut v| v.pop()).unwrap_or(None);
        let mut reader = match idle {
            Some(r) => r,
            None => {
                let r = Reader::spawn(&self.settings)?;
                self.metrics.reader_children_started.inc();
                r
            }
        };
        // The reader is owned by this future: if the caller gives up half-way
        // (a timeout, a client gone), it is dropped and its child killed, so a
        // reader in the middle of an exchange never goes back to the pool.
        let timeout = Duration::from_secs(self.settings.ingest.reader_timeout_seconds);
        let max = self.settings.ingest.max_bytes;
        let answer = tokio::time::timeout(timeout, reader.exchange(&bytes, max)).await;
        self.note_peak(&reader);
        match answer {
            Ok(Ok(wb)) => {
                if let Ok(mut idle) = self.idle.lock() {
                    idle.push(reader);
                }
                Ok(wb)
            }
            Ok(Err(why)) => Err(reader.fail(&why).await.into()),
            Err(_) => {
                let why = format!("no answer within {} s", timeout.as_secs());
                Err(reader.fail(&why).await.into())
            }
        }
    }
}

/// One child process and its pipes.
struct Reader {
    child: Child,
    stdin: ChildStdin,
    stdout: ChildStdout,
    /// Collects the end of what the child writes to stderr; ends with it.
    stderr: JoinHandle<String>,
}

impl Reader {
    fn spawn(settings: &Settings) -> Result<Reader, ReaderCrash> {
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
        let stdin = child.stdin.take().ok_or_else(|| crash("no stdin".into()))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| crash("no stdout".into()))?;
        let mut err = child
            .stderr
            .take()
            .ok_or_else(|| crash("no stderr".into()))?;
        let stderr = tokio::spawn(async move {
            let mut tail = String::new();
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                tail.push_str(&String::from_utf8_lossy(&buf[..n]));
                let extra = tail.chars().count().saturating_sub(STDERR_TAIL);
                if extra > 0 {
                    tail = tail.chars().skip(extra).collect();
                }
            }
            tail
        });
        Ok(Reader {
            child,
            stdin,
            stdout,
            stderr,
        })
    }

    /// The child's peak resident memory so far (VmHWM), in bytes; None once it
    /// has exited or off Linux.
    fn peak_resident_bytes(&self) -> Option<u64> {
        let pid = self.child.id()?;
        crate::telemetry::proc_status_kb(&pid.to_string(), "VmHWM").map(|kb| kb * 1024)
    }

    /// Sends one workbook (at most one byte over the limit: enough for the
    /// reader to say "too large") and reads the answer.
    async fn exchange(&mut self, bytes: &[u8], max_bytes: usize) -> Result<Workbook, String> {
        let sent = &bytes[..bytes.len().min(max_bytes.saturating_add(1))];
        let io = |what: &str, e: std::io::Error| format!("{what}: {e}");
        self.stdin
            .write_all(&(sent.len() as u64).to_be_bytes())
            .await
            .map_err(|e| io("sending the file", e))?;
        self.stdin
            .write_all(sent)
            .await
            .map_err(|e| io("sending the file", e))?;
        self.stdin
            .flush()
            .await
            .map_err(|e| io("sending the file", e))?;
        let len = self
            .stdout
            .read_u64()
            .await
            .map_err(|e| io("reading its answer", e))?;
        if len > MAX_ANSWER_BYTES {
            return Err(format!("its answer claims {len} bytes"));
        }
        let mut answer = vec![0u8; len as usize];
        self.stdout
            .read_exact(&mut answer)
            .await
            .map_err(|e| io("reading its answer", e))?;
        serde_json::from_slice(&answer).map_err(|e| format!("its answer is not a workbook: {e}"))
    }

    /// Ends a reader that failed, with what is known of why.
    async fn fail(mut self, why: &str) -> ReaderCrash {
        // A child that died on its own has an exit status; one still running
        // (a timeout, a garbled answer) is killed.
        let status = match tokio::time::timeout(Duration::from_millis(500), self.child.wait()).await
        {
            Ok(Ok(s)) => Some(s),
            _ => {
                let _ = self.child.start_kill();
                self.child.wait().await.ok()
            }
        };
        drop(self.stdin);
        let tail = tokio::time::timeout(Duration::from_millis(500), self.stderr)
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        match status {
            Some(s) if !s.success() => {
                ReaderCrash(format!("it stopped with {s} ({why}): {}", tail.trim()))
            }
            _ => ReaderCrash(format!("{why}: {}", tail.trim())),
        }
    }
}

/// The child: frames of workbook bytes on stdin, each answered by a frame of
/// the read workbook as JSON on stdout, until stdin closes.
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
    let mut input = BufReader::new(std::io::stdin().lock());
    let mut output = BufWriter::new(std::io::stdout().lock());
    loop {
        let mut len = [0u8; 8];
        match input.read_exact(&mut len) {
            Ok(()) => {}
            // The service closed the pipe: no more work.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e).context("reading stdin"),
        }
        let len = u64::from_be_bytes(len);
        if len > limits.max_bytes as u64 + 1 {
            anyhow::bail!("a frame of {len} bytes is over the limit");
        }
        let mut bytes = vec![0u8; len as usize];
        input.read_exact(&mut bytes).context("reading stdin")?;
        let wb = read_workbook(&bytes, &catalog, &limits);
        drop(bytes);
        let answer = serde_json::to_vec(&wb).context("writing the answer")?;
        drop(wb);
        output.write_all(&(answer.len() as u64).to_be_bytes())?;
        output.write_all(&answer)?;
        output.flush()?;
        drop(answer);
        // Give the memory of a large workbook back before waiting for the next.
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        // SAFETY: malloc_trim only returns free heap pages to the system.
        unsafe {
            libc::malloc_trim(0);
        }
    }
}
