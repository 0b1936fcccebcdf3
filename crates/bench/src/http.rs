//! A minimal HTTP/1.1 client over a keep-alive TCP connection, enough to load the
//! indicators endpoint on loopback (reqwest is only a dev-dependency), and the
//! load loop that records request latencies.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One keep-alive connection.
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

/// What one GET answered.
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

impl Conn {
    pub async fn open(addr: SocketAddr) -> anyhow::Result<Conn> {
        let stream = TcpStream::connect(addr)
            .await
            .with_context(|| format!("cannot connect to {addr}"))?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            buf: Vec::with_capacity(64 * 1024),
        })
    }

    /// Reads more bytes into the buffer; Err at end of stream.
    async fn fill(&mut self) -> anyhow::Result<()> {
        let mut chunk = [0u8; 64 * 1024];
        let n = self.stream.read(&mut chunk).await?;
        if n == 0 {
            bail!("the server closed the connection");
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }

    /// `GET path` with a bearer key; the whole answer (Content-Length or chunked).
    pub async fn get(&mut self, path: &str, key: &str) -> anyhow::Result<Answer> {
        let req = format!(
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\nAccept: application/json\r\nConnection: keep-alive\r\n\r\n"
        );
        self.stream.write_all(req.as_bytes()).await?;
        let head_end = loop {
            if let Some(p) = find(&self.buf, b"\r\n\r\n") {
                break p;
            }
            self.fill().await?;
        };
        let head = std::str::from_utf8(&self.buf[..head_end])
            .context("response head is not UTF-8")?
            .to_string();
        self.buf.drain(..head_end + 4);
        let mut lines = head.split("\r\n");
        let status: u16 = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .context("no status line")?;
        let mut length = None;
        let mut chunked = false;
        for l in lines {
            let Some((name, value)) = l.split_once(':') else {
                continue;
            };
            let (name, value) = (name.trim(), value.trim());
            if name.eq_ignore_ascii_case("content-length") {
                length = Some(value.parse::<usize>().context("content-length")?);
            } else if name.eq_ignore_ascii_case("transfer-encoding")
                && value.eq_ignore_ascii_case("chunked")
            {
                chunked = true;
            }
        }
        let body = if chunked {
            let mut body = Vec::new();
            loop {
                let line_end = loop {
                    if let Some(p) = find(&self.buf, b"\r\n") {
                        break p;
                    }
                    self.fill().await?;
                };
                let size_text = std::str::from_utf8(&self.buf[..line_end])?.to_string();
                let size =
                    usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                        .context("chunk size")?;
                self.buf.drain(..line_end + 2);
                while self.buf.len() < size + 2 {
                    self.fill().await?;
                }
                body.extend_from_slice(&self.buf[..size]);
                self.buf.drain(..size + 2);
                if size == 0 {
                    break;
                }
            }
            body
        } else {
            let n = length.unwrap_or(0);
            while self.buf.len() < n {
                self.fill().await?;
            }
            self.buf.drain(..n).collect()
        };
        Ok(Answer { status, body })
    }
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
    let key = std::sync::Arc::new(key.to_string());
    let mut conns = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        conns.push(Conn::open(addr).await?);
    }
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::with_capacity(concurrency);
    for (t, mut conn) in conns.into_iter().enumerate() {
        let sent = sent.clone();
        let paths = paths.clone();
        let key = key.clone();
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
                match conn.get(path, &key).await {
                    Ok(a) if a.status == 200 => {
                        lat.push(t0.elapsed());
                        body_bytes.get_or_insert(a.body.len());
                    }
                    Ok(a) => {
                        errors += 1;
                        first_error.get_or_insert_with(|| {
                            format!(
                                "GET {path}: {} {}",
                                a.status,
                                String::from_utf8_lossy(&a.body)
                            )
                        });
                    }
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert_with(|| format!("GET {path}: {e:#}"));
                        // The connection is unusable after a broken answer.
                        match Conn::open(addr).await {
                            Ok(c) => conn = c,
                            Err(_) => break,
                        }
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
