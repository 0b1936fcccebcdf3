use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;

use crate::context::AppContext;

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", security(()), responses((status = 200, description = "The process is up", body = String, content_type = "text/plain")))]
pub async fn healthz() -> &'static str {
    "ok"
}

/// The warehouse and the queue answer, each within `server.readiness_timeout_ms`.
#[utoipa::path(get, path = "/readyz", tag = "operations", security(()), responses(
    (status = 200, description = "Warehouse and queue answer", body = String, content_type = "text/plain"),
    (status = 503, description = "One of them is down or slow, named", body = String, content_type = "text/plain"),
))]
pub async fn readyz(State(ctx): State<AppContext>) -> impl IntoResponse {
    let bound = Duration::from_millis(ctx.settings.server.readiness_timeout_ms);
    // Both probes at once, each bounded: an unreachable database must not hold
    // the answer (a connection attempt can hang far longer than a probe waits).
    let probe = |r: Result<anyhow::Result<()>, tokio::time::error::Elapsed>| match r {
        Ok(Ok(())) => "ok".to_string(),
        Ok(Err(e)) => {
            tracing::warn!(error = %format!("{e:#}"), "readiness probe failed");
            "down".to_string()
        }
        Err(_) => format!("down (no answer within {} ms)", bound.as_millis()),
    };
    let (db, queue) = tokio::join!(
        tokio::time::timeout(bound, async {
            ctx.store.ping().await.map_err(anyhow::Error::from)
        }),
        tokio::time::timeout(bound, ctx.queue.ping()),
    );
    let (db, queue) = (probe(db), probe(queue));
    if db == "ok" && queue == "ok" {
        (StatusCode::OK, "ready".to_string())
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: warehouse {db}, queue {queue}"),
        )
    }
}

/// Prometheus text; queue gauges are read from the database at scrape time.
#[utoipa::path(get, path = "/metrics", tag = "operations", security(()), responses((status = 200, description = "Prometheus text", body = String, content_type = "text/plain")))]
pub async fn metrics(State(ctx): State<AppContext>) -> impl IntoResponse {
    for (job, spec) in &ctx.queue.jobs {
        let queue = &spec.queue;
        if let Ok((depth, age)) = ctx.queue.depth(job).await {
            ctx.metrics
                .queue_depth
                .with_label_values(&[queue])
                .set(depth);
            ctx.metrics
                .queue_oldest_age
                .with_label_values(&[queue])
                .set(age);
        }
    }
    report_gauges(&ctx).await;
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        ctx.metrics.render(),
    )
}

/// Reports expected / received / late for the period being reported now (last
/// month), per depth of the tree down to `telemetry.report_depth`.
async fn report_gauges(ctx: &AppContext) {
    let reporting = &ctx.settings.reporting;
    let period = reporting.reporting_period(chrono::Utc::now());
    let late_from = reporting.late_from(period);
    ctx.metrics.reports_deadline(late_from);
    let late_from = late_from.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let levels = ctx
        .store
        .report_levels(
            &period.to_string(),
            &late_from,
            i64::from(ctx.settings.telemetry.report_depth),
        )
        .await;
    match levels {
        Ok(levels) => {
            for l in levels {
                ctx.metrics.reports(l.depth, l.expected, l.received, l.late);
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot read the reporting gauges"),
    }
}
