//! The query load: concurrent keep-alive HTTP clients (reqwest) GETting the
//! indicators endpoint on loopback, recording request latencies.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

/// One keep-alive connection: a client with a pool of one idle connection.
struct Conn {
    client: reqwest::Client,
    base: String,
    auth: String,
}

impl Conn {
    fn open(addr: SocketAddr, key: &str) -> anyhow::Result<Conn> {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .tcp_nodelay(true)
            .build()
            .context("cannot build an HTTP client")?;
        Ok(Conn {
            client,
            base: format!("http://{addr}"),
            auth: format!("Bearer {key}"),
        })
    }

    /// `GET path`: the status and the whole body.
    async fn get(&self, path: &str) -> anyhow::Result<(u16, Vec<u8>)> {
        let resp = self
            .client
            .get(format!("{}{path}", self.base))
            .header("Authorization", &self.auth)
            .header("Accept", "application/json")
            .send()
            .await?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await?.to_vec();
        Ok((status, body))
    }
}

/// The server's `unionstat_answer_cache_total{outcome="hit"}` and the sum
/// over every outcome, from its /metrics (None: not exported or unreadable).
pub async fn answer_cache_counts(addr: SocketAddr) -> Option<(u64, u64)> {
    let text = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    let (mut hits, mut all) = (0.0, 0.0);
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("unionstat_answer_cache_total{") else {
            continue;
        };
        let value: f64 = rest.rsplit(' ').next()?.parse().ok()?;
        all += value;
        if rest.starts_with("outcome=\"hit\"") {
            hits += value;
        }
    }
    Some((hits as u64, all as u64))
}

/// Latencies of one load run.
#[derive(Debug, Default, Clone)]
pub struct LoadResult {
    /// Successful (200) request latencies, sorted.
    pub latencies: Vec<Duration>,
    pub errors: usize,
    pub first_error: Option<String>,
    pub elapsed: Duration,
    /// Bytes of the first successful answer's body, to show what one weighs.
    pub body_bytes: usize,
}

impl LoadResult {
    /// Nearest-rank percentile (q in 0..=1) of the successful requests.
    pub fn percentile(&self, q: f64) -> Option<Duration> {
        if self.latencies.is_empty() {
            return None;
        }
        let n = self.latencies.len();
        let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
        Some(self.latencies[rank - 1])
    }

    pub fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// `concurrency` tasks, each on its own keep-alive connection, GET the `paths`
/// round-robin (each task starting at a different place) until `duration` has
/// passed or `max_requests` were sent in all; requests in flight at the deadline
/// finish and count. There is no warm-up: a slow query must not hold the run up
/// before it starts, and first requests are part of what users see.
pub async fn load(
    addr: SocketAddr,
    key: &str,
    paths: &[String],
    concurrency: usize,
    duration: Duration,
    max_requests: usize,
) -> anyhow::Result<LoadResult> {
    if paths.is_empty() {
        bail!("no path to load");
    }
    let concurrency = concurrency.max(1);
    let sent = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let paths = std::sync::Arc::new(paths.to_vec());
    let mut conns = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        conns.push(Conn::open(addr, key)?);
    }
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::with_capacity(concurrency);
    for (t, conn) in conns.into_iter().enumerate() {
        let sent = sent.clone();
        let paths = paths.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0usize;
            let mut first_error = None;
            let mut body_bytes = None;
            let mut i = t * paths.len() / concurrency;
            while Instant::now() < deadline
                && sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < max_requests
            {
                let path = &paths[i % paths.len()];
                i += 1;
                let t0 = Instant::now();
                match conn.get(path).await {
                    Ok((200, body)) => {
                        lat.push(t0.elapsed());
                        body_bytes.get_or_insert(body.len());
                    }
                    Ok((status, body)) => {
                        errors += 1;
                        first_error.get_or_insert_with(|| {
                            format!("GET {path}: {status} {}", String::from_utf8_lossy(&body))
                        });
                    }
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert_with(|| format!("GET {path}: {e:#}"));
                    }
                }
            }
            (lat, errors, first_error, body_bytes)
        }));
    }
    let mut out = LoadResult::default();
    for t in tasks {
        let (lat, errors, first_error, body_bytes) = t.await.context("a load task panicked")?;
        out.latencies.extend(lat);
        out.errors += errors;
        if out.first_error.is_none() {
            out.first_error = first_error;
        }
        if out.body_bytes == 0 {
            out.body_bytes = body_bytes.unwrap_or(0);
        }
    }
    out.elapsed = started.elapsed();
    out.latencies.sort_unstable();
    Ok(out)
}
