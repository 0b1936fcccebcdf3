//! The service under query load: `unionstat serve --no-workers` of the program
//! measured, a process of its own on a free loopback port, against the
//! benchmark's warehouse — so the clients' work is not counted in the server's
//! threads, and the server is the binary that is deployed.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use tokio::process::{Child, Command};

/// How long the server may take to answer `/healthz` after it starts.
const START_TIMEOUT: Duration = Duration::from_secs(60);

pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    log: PathBuf,
}

/// Starts `exe ARGS` against the warehouse `url` (in the environment, not on
/// the command line, so a password does not show in `ps`), with the settings
/// file if any, logging warnings to `log`; killed if dropped.
pub fn spawn(
    exe: &Path,
    config: Option<&Path>,
    url: &str,
    args: &[&str],
    log: &Path,
) -> anyhow::Result<Child> {
    let file =
        std::fs::File::create(log).with_context(|| format!("cannot create {}", log.display()))?;
    let mut cmd = Command::new(exe);
    if let Some(c) = config {
        cmd.arg("--config").arg(c);
    }
    cmd.args(args)
        .env("UNIONSTAT_DATABASE_URL", url)
        .env("UNIONSTAT_LOG__LEVEL", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(file))
        .kill_on_drop(true);
    cmd.spawn()
        .with_context(|| format!("cannot start {} {}", exe.display(), args.join(" ")))
}

impl Server {
    /// Starts the server against `url` (in the environment, not on the command
    /// line) with the benchmark's settings file, and waits until it answers.
    pub async fn start(
        exe: &Path,
        config: Option<&Path>,
        url: &str,
        log_dir: &Path,
    ) -> anyhow::Result<Server> {
        // A free port: bound, read and released; the server binds it next.
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .context("cannot find a free loopback port")?;
        let log = log_dir.join("query-server.log");
        let child = spawn(
            exe,
            config,
            url,
            &["serve", "--no-workers", "--bind", &addr.to_string()],
            &log,
        )?;
        let mut server = Server { child, addr, log };
        server.wait_ready().await?;
        Ok(server)
    }

    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let client = reqwest::Client::new();
        let url = format!("http://{}/healthz", self.addr);
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait()? {
                let text = std::fs::read_to_string(&self.log).unwrap_or_default();
                bail!("the query server stopped with {status}: {}", text.trim());
            }
            if let Ok(r) = client.get(&url).send().await {
                if r.status().is_success() {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                bail!(
                    "the query server did not answer {url} within {} s",
                    START_TIMEOUT.as_secs()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGTERM, then killed after `grace`.
    pub async fn stop(mut self, grace: Duration) {
        if let Some(pid) = self.child.id() {
            // SAFETY: kill(2) on the id of a child we started and have not reaped.
            unsafe {
                libc::kill(pid as libc::pid_t, libc::SIGTERM);
            }
        }
        if tokio::time::timeout(grace, self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}
