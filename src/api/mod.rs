//! The HTTP API under `/api/v1`, plus `/metrics`, `/healthz`, `/readyz`.
//! Handlers orchestrate only: authenticate, load, call the store or core, answer.

use std::net::SocketAddr;
use std::time::Instant;

use anyhow::Context;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tracing::Instrument;

use crate::context::AppContext;

mod approvals;
pub mod auth;
mod catalog;
mod contacts;
mod entry;
pub mod error;
mod health;
mod history;
mod keys;
mod me;
pub mod openapi;
mod orgs;
mod reminders;
mod reviews;
pub mod server;
mod session;
mod slow_body;
mod submission_list;
mod submissions;
mod templates;
mod tree;

pub use error::ApiError;

pub fn router(ctx: AppContext) -> Router {
    // Room for multipart framing around the largest accepted file.
    let body_limit = ctx.settings.server.max_upload_bytes + 64 * 1024;
    // Every API route comes with its OpenAPI description (see openapi.rs); the
    // web page's routes are not part of the API.
    ctx.metrics
        .start_routes_at_zero(&openapi::route_templates());
    let (routes, _) = openapi::routes().split_for_parts();
    routes
        .merge(crate::web::routes())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            ctx.clone(),
            slow_body::min_body_rate,
        ))
        // On every route and the fallback (route "unmatched"): every answer has an id.
        .layer(middleware::from_fn_with_state(ctx.clone(), observe))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(CatchPanicLayer::custom(|_| {
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                axum::Json(serde_json::json!({"error": "internal", "message": "internal error"})),
            )
                .into_response()
        }))
        .with_state(ctx)
}

/// `/metrics` and `/healthz` alone, for `unionstat worker` on
/// `worker.metrics_bind` (nothing when it is empty), so that Prometheus sees a
/// worker-only process's job runs and process metrics too. Returns the address
/// it listens on; it serves until the process ends.
pub async fn serve_worker_metrics(ctx: &AppContext) -> anyhow::Result<Option<SocketAddr>> {
    let bind = &ctx.settings.worker.metrics_bind;
    if bind.is_empty() {
        return Ok(None);
    }
    let listener = TcpListener::bind(bind)
        .await
        .with_context(|| format!("worker.metrics_bind: cannot listen on {bind}"))?;
    let addr = listener.local_addr()?;
    let router = Router::new()
        .route("/metrics", get(health::metrics))
        .route("/healthz", get(health::healthz))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(ctx.clone(), observe))
        .with_state(ctx.clone());
    let server = server::serve(
        listener,
        router,
        ctx.settings.server.clone(),
        ctx.metrics.clone(),
        std::future::pending(),
    );
    tokio::spawn(async move {
        if let Err(e) = server.await {
            tracing::error!(error = %e, "the worker's metrics listener failed");
        }
    });
    Ok(Some(addr))
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such route".into())
}

/// Request id (taken from `x-request-id` or made, and echoed), one log line per
/// request, and the HTTP metrics labelled by route template.
async fn observe(State(ctx): State<AppContext>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        })
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let span = tracing::info_span!("request", request_id = %request_id, method = %req.method(), route = %route);
    let started = Instant::now();
    let mut resp = next.run(req).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    let status = resp.status().as_u16();
    ctx.metrics.http(&route, status, elapsed.as_secs_f64());
    span.in_scope(|| tracing::info!(status, ms = elapsed.as_millis() as u64, "request"));
    resp
}
