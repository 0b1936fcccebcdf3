//! What the benchmark records about the machine and its own memory: the CPU,
//! RAM and rustc of the run, the load average, and peak resident memory of this
//! process (VmHWM, resettable). The reader children's peak comes from the
//! reader pool ([`unionstat::sandbox::ReaderPool::peak_resident_bytes`]).

/// The machine, as BENCHMARKS.md records it.
pub struct Machine {
    pub cpus: usize,
    pub model: String,
    pub mem_gib: f64,
    pub rustc: String,
}

impl Machine {
    /// Reads /proc and runs `rustc -V`.
    pub fn probe() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let model = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_else(|| "unknown CPU".into());
        let mem_kb: u64 = std::fs::read_to_string("/proc/meminfo")
            .unwrap_or_default()
            .lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let rustc = std::process::Command::new("rustc")
            .arg("-V")
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_else(|| "rustc not on PATH".into());
        Machine {
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            model,
            mem_gib: mem_kb as f64 / 1024.0 / 1024.0,
            rustc,
        }
    }
}

/// The 1, 5 and 15 minute load averages.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "?".into())
}

/// A field of /proc/self/status in kB (VmRSS, VmHWM, …).
pub fn proc_status_kb(field: &str) -> Option<u64> {
    unionstat::telemetry::proc_status_kb("self", field)
}

/// Resets this process's peak RSS (VmHWM) to its current RSS (Linux ≥ 4.0).
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Hands freed heap back to the OS, so the peak measured next starts low.
pub fn trim_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory of glibc's allocator.
    unsafe {
        libc::malloc_trim(0);
    }
}

pub fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}
