//! A small W3C WebDriver client over reqwest: starts chromedriver on a free port,
//! opens one headless Chromium session, and offers what the page tests need.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use serde_json::{json, Value};

/// The key under which WebDriver returns an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Where Chromium and chromedriver are: Debian's packages, or the paths in
/// `UNIONSTAT_CHROMIUM` / `UNIONSTAT_CHROMEDRIVER`.
pub struct BrowserTools {
    pub chromium: PathBuf,
    pub chromedriver: PathBuf,
}

impl BrowserTools {
    /// `None` (after saying so loudly) when either is missing outside CI; under
    /// `CI=true` a missing browser fails the test instead of skipping it.
    pub fn find(test: &str) -> Option<BrowserTools> {
        let path = |var: &str, default: &str| {
            PathBuf::from(std::env::var(var).unwrap_or_else(|_| default.to_string()))
        };
        let tools = BrowserTools {
            chromium: path("UNIONSTAT_CHROMIUM", "/usr/bin/chromium"),
            chromedriver: path("UNIONSTAT_CHROMEDRIVER", "/usr/bin/chromedriver"),
        };
        let missing: Vec<String> = [&tools.chromium, &tools.chromedriver]
            .into_iter()
            .filter(|p| !p.is_file())
            .map(|p| p.display().to_string())
            .collect();
        if missing.is_empty() {
            return Some(tools);
        }
        let message = format!(
            "{test}: headless browser test needs {} (apt-get install chromium chromium-driver)",
            missing.join(" and ")
        );
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{message}; under CI=true it must run, not skip");
        }
        eprintln!("\n!!! SKIPPED {message}\n");
        None
    }
}

pub struct Browser {
    http: reqwest::Client,
    base: String,
    session: String,
    driver: Child,
}

impl Browser {
    /// chromedriver on a free port and a headless Chromium session at `width`×`height`.
    pub async fn start(tools: &BrowserTools, width: u32, height: u32) -> anyhow::Result<Browser> {
        let mut driver = Command::new(&tools.chromedriver)
            .arg("--port=0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {}", tools.chromedriver.display()))?;
        let stdout = driver.stdout.take().context("chromedriver stdout")?;
        // chromedriver prints "… started successfully on port N."; read it off a thread.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("successfully on port ").nth(1) {
                    let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
                    let _ = tx.send(port);
                }
            }
        });
        let port = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(p) if !p.is_empty() && p != "0" => p,
            other => {
                let _ = driver.kill();
                bail!("chromedriver did not say its port: {other:?}");
            }
        };
        let mut browser = Browser {
            http: reqwest::Client::new(),
            base: format!("http://127.0.0.1:{port}"),
            session: String::new(),
            driver,
        };
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": tools.chromium.display().to_string(),
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu",
                    "--disable-dev-shm-usage", "--no-first-run", "--lang=zh-CN",
                    format!("--window-size={width},{height}"),
                ],
            },
            "goog:loggingPrefs": {"browser": "ALL"},
        }}});
        let started = Instant::now();
        let answer = loop {
            match browser
                .http
                .post(format!("{}/session", browser.base))
                .json(&caps)
                .send()
                .await
            {
                Ok(resp) => break resp.json::<Value>().await?,
                Err(_) if started.elapsed() < Duration::from_secs(20) => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => return Err(e).context("chromedriver does not answer"),
            }
        };
        browser.session = answer["value"]["sessionId"]
            .as_str()
            .ok_or_else(|| anyhow!("no session: {answer}"))?
            .to_string();
        Ok(browser)
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut req = self.http.request(method, &url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.with_context(|| url.clone())?;
        let status = resp.status();
        let v: Value = resp.json().await.with_context(|| url.clone())?;
        if !status.is_success() {
            bail!("{path}: {} {}", v["value"]["error"], v["value"]["message"]);
        }
        Ok(v["value"].clone())
    }

    async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.call(reqwest::Method::GET, path, None).await
    }

    pub async fn goto(&self, url: &str) -> anyhow::Result<()> {
        self.post("/url", json!({ "url": url })).await.map(drop)
    }

    /// All elements matching a CSS selector, as WebDriver element ids.
    pub async fn find_all(&self, css: &str) -> anyhow::Result<Vec<String>> {
        let v = self
            .post("/elements", json!({"using": "css selector", "value": css}))
            .await?;
        Ok(v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e[ELEMENT].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Polls until `css` matches an element, or fails naming the selector.
    pub async fn wait(&self, css: &str, within: Duration) -> anyhow::Result<String> {
        let started = Instant::now();
        loop {
            if let Some(e) = self.find_all(css).await?.into_iter().next() {
                return Ok(e);
            }
            if started.elapsed() > within {
                bail!("nothing matched {css} within {within:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn click(&self, element: &str) -> anyhow::Result<()> {
        self.post(&format!("/element/{element}/click"), json!({}))
            .await
            .map(drop)
    }

    pub async fn clear(&self, element: &str) -> anyhow::Result<()> {
        self.post(&format!("/element/{element}/clear"), json!({}))
            .await
            .map(drop)
    }

    /// Types into an element; for a file input, `text` is the file's absolute path.
    pub async fn send_keys(&self, element: &str, text: &str) -> anyhow::Result<()> {
        self.post(
            &format!("/element/{element}/value"),
            json!({ "text": text }),
        )
        .await
        .map(drop)
    }

    /// The element's rendered text.
    pub async fn text(&self, element: &str) -> anyhow::Result<String> {
        Ok(self
            .get(&format!("/element/{element}/text"))
            .await?
            .as_str()
            .unwrap_or_default()
            .to_string())
    }

    pub async fn attribute(&self, element: &str, name: &str) -> anyhow::Result<Option<String>> {
        Ok(self
            .get(&format!("/element/{element}/attribute/{name}"))
            .await?
            .as_str()
            .map(str::to_string))
    }

    /// Runs a script in the page and returns its value.
    pub async fn execute(&self, script: &str) -> anyhow::Result<Value> {
        self.post("/execute/sync", json!({"script": script, "args": []}))
            .await
    }

    pub async fn set_window(&self, width: u32, height: u32) -> anyhow::Result<()> {
        self.post("/window/rect", json!({"width": width, "height": height}))
            .await
            .map(drop)
    }

    /// The cookie `name` of the current page as WebDriver describes it (`value`,
    /// `httpOnly`, `sameSite`, …), HttpOnly ones included: WebDriver sees what the
    /// page's script cannot.
    pub async fn cookie(&self, name: &str) -> anyhow::Result<Option<Value>> {
        let v = self.get("/cookie").await?;
        Ok(v.as_array()
            .and_then(|all| all.iter().find(|c| c["name"] == name).cloned()))
    }

    /// The browser console since the last call (chromedriver's log extension).
    pub async fn console(&self) -> anyhow::Result<Vec<Value>> {
        let v = self.post("/se/log", json!({"type": "browser"})).await?;
        Ok(v.as_array().cloned().unwrap_or_default())
    }

    /// Saves a PNG of the viewport.
    pub async fn screenshot(&self, path: &Path) -> anyhow::Result<()> {
        let v = self.get("/screenshot").await?;
        let b64 = v.as_str().ok_or_else(|| anyhow!("no screenshot data"))?;
        std::fs::write(path, base64_decode(b64)?)
            .with_context(|| format!("cannot write {}", path.display()))
    }

    pub async fn quit(mut self) {
        let _ = self
            .http
            .delete(format!("{}/session/{}", self.base, self.session))
            .send()
            .await;
        self.session.clear();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    /// A failed test still closes its Chromium: a plain DELETE of the session, then
    /// chromedriver is ended.
    fn drop(&mut self) {
        if !self.session.is_empty() {
            if let Some(addr) = self.base.strip_prefix("http://") {
                if let Ok(mut s) = std::net::TcpStream::connect(addr) {
                    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
                    let _ = write!(
                        s,
                        "DELETE /session/{} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                        self.session
                    );
                    let _ = std::io::Read::read(&mut s, &mut [0u8; 512]);
                }
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Standard base64 (the screenshot encoding), without a crate for it.
fn base64_decode(s: &str) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' | b'\n' | b'\r' => continue,
            other => bail!("not base64: {:?}", other as char),
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Ok(out)
}
