//! Start-up: the shared context's HTTP server and workers on a bound
//! listener, until a signal, with a clean shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::cli::{self, Cli, Outcome};
use crate::context::AppContext;
use crate::jobs;

/// Runs a parsed command line to its end: a one-shot command, or `serve` and
/// `worker` until a signal.
pub async fn run(cli: Cli) -> std::process::ExitCode {
    let ended = match cli::run(cli).await {
        Outcome::Exit(code) => return code,
        Outcome::Serve { ctx, workers } => serve(ctx, workers).await,
        Outcome::Work { ctx } => work(ctx).await,
    };
    match ended {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => cli::fail(e.into()),
    }
}

async fn work(ctx: AppContext) -> anyhow::Result<()> {
    if let Some(addr) = crate::api::serve_worker_metrics(&ctx).await? {
        eprintln!("unionstat worker metrics on http://{addr}/metrics");
    }
    jobs::run_workers(ctx, shutdown_signal()).await
}

async fn serve(ctx: AppContext, workers: bool) -> anyhow::Result<()> {
    let app = Application::build(ctx, None, workers).await?;
    // The signal handlers are in place before anyone is told where to connect.
    let shutdown = shutdown_signal();
    eprintln!("unionstat listening on http://{}", app.local_addr());
    app.run_until(shutdown).await
}

/// The HTTP API (and, unless disabled, the workers) on a bound listener.
pub struct Application {
    listener: TcpListener,
    ctx: AppContext,
    workers: bool,
}

impl Application {
    /// Binds `settings.server.bind` unless a listener is given (tests pass port 0).
    pub async fn build(
        ctx: AppContext,
        listener: Option<TcpListener>,
        workers: bool,
    ) -> anyhow::Result<Application> {
        let listener = match listener {
            Some(l) => l,
            None => TcpListener::bind(&ctx.settings.server.bind)
                .await
                .with_context(|| format!("cannot listen on {}", ctx.settings.server.bind))?,
        };
        Ok(Application {
            listener,
            ctx,
            workers,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    pub fn context(&self) -> &AppContext {
        &self.ctx
    }

    /// Serves until `shutdown` completes, then stops accepting, lets requests and
    /// jobs in flight finish, and returns.
    pub async fn run_until<S>(self, shutdown: S) -> anyhow::Result<()>
    where
        S: Future<Output = ()> + Send + 'static,
    {
        let (tx, rx) = watch::channel(false);
        let tx = Arc::new(tx);
        let wait = |mut rx: watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|stop| *stop).await;
        };
        let router = crate::api::router(self.ctx.clone());
        tracing::info!(addr = %self.local_addr(), workers = self.workers, "unionstat serving");
        // The peer address reaches handlers (sign-in throttling per client address).
        let server = tokio::spawn(crate::api::server::serve(
            self.listener,
            router,
            self.ctx.settings.server.clone(),
            self.ctx.metrics.clone(),
            wait(rx.clone()),
        ));
        let workers = if self.workers {
            let ctx = self.ctx.clone();
            let rx = rx.clone();
            Some(tokio::spawn(async move {
                jobs::run_workers(ctx, wait(rx)).await
            }))
        } else {
            None
        };
        let stop = tx.clone();
        tokio::spawn(async move {
            shutdown.await;
            let _ = stop.send(true);
        });
        // Workers end at the shutdown, or earlier when they give up on an
        // unreachable database: then the server stops too, and the process
        // exits non-zero.
        let workers = match workers {
            Some(w) => {
                let result = w.await;
                let _ = tx.send(true);
                Some(result)
            }
            None => None,
        };
        server
            .await
            .context("HTTP server panicked")?
            .context("HTTP server failed")?;
        if let Some(w) = workers {
            w.context("workers panicked")??;
        }
        tracing::info!("unionstat stopped");
        Ok(())
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    // The handlers are installed now, not when the future is first polled: a
    // SIGTERM that arrives right after start-up must not hit the default action.
    #[cfg(unix)]
    let (term, int) = {
        use tokio::signal::unix::{signal, SignalKind};
        (
            signal(SignalKind::terminate()).ok(),
            signal(SignalKind::interrupt()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = wait(term) => {},
                _ = wait(int) => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("shutdown requested");
    }
}
