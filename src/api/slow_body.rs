//! A minimum rate for request bodies: an upload trickling in slower than
//! `server.body_min_bytes_per_second` on average (after `server.body_grace_seconds`)
//! is answered 408 and its connection closed, instead of holding a connection
//! and a handler for as long as the client likes. The header has its own
//! deadline in the connection (`server.header_read_timeout_seconds`).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::{Frame, SizeHint};
use tokio::sync::oneshot;
use tokio::time::{Instant, Sleep};

use super::ApiError;
use crate::context::AppContext;

/// The body came slower than the minimum rate.
#[derive(Debug, thiserror::Error)]
#[error("the request body arrived slower than {min_rate} bytes per second ({received} bytes in {seconds} s)")]
pub struct BodyTooSlow {
    min_rate: u64,
    received: u64,
    seconds: u64,
}

/// Middleware: gives the request's body a deadline that moves with each byte
/// received, and answers 408 in place of the handler when it passes.
pub async fn min_body_rate(State(ctx): State<AppContext>, req: Request, next: Next) -> Response {
    use http_body::Body as _;
    if req.body().is_end_stream() {
        return next.run(req).await;
    }
    let server = &ctx.settings.server;
    let (tx, mut rx) = oneshot::channel();
    let grace = Duration::from_secs(server.body_grace_seconds);
    let min_rate = server.body_min_bytes_per_second;
    let req = req.map(|body| Body::new(MinRateBody::new(body, grace, min_rate, tx)));
    let handler = next.run(req);
    tokio::pin!(handler);
    // The handler may answer first, with its own reading of the body's error.
    tokio::select! {
        resp = &mut handler => match rx.try_recv() {
            Ok(slow) => too_slow(slow),
            Err(_) => resp,
        },
        Ok(slow) = &mut rx => too_slow(slow),
    }
}

fn too_slow(slow: BodyTooSlow) -> Response {
    tracing::info!(error = %slow, "request body too slow; closing the connection");
    ApiError::Timeout(format!(
        "{slow}; 上传太慢，连接已关闭 / the upload was too slow and the connection is closed"
    ))
    .into_response()
}

/// A body that fails once it falls behind its deadline: started + grace +
/// received / min_rate.
struct MinRateBody {
    inner: Body,
    started: Instant,
    grace: Duration,
    min_rate: u64,
    received: u64,
    deadline: Pin<Box<Sleep>>,
    /// Tells the middleware, once.
    late: Option<oneshot::Sender<BodyTooSlow>>,
}

impl MinRateBody {
    fn new(
        inner: Body,
        grace: Duration,
        min_rate: u64,
        late: oneshot::Sender<BodyTooSlow>,
    ) -> Self {
        let started = Instant::now();
        MinRateBody {
            inner,
            started,
            grace,
            min_rate: min_rate.max(1),
            received: 0,
            deadline: Box::pin(tokio::time::sleep_until(started + grace)),
            late: Some(late),
        }
    }

    fn due(&self) -> Instant {
        self.started
            + self.grace
            + Duration::from_secs_f64(self.received as f64 / self.min_rate as f64)
    }
}

impl http_body::Body for MinRateBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.received += data.len() as u64;
                    let due = this.due();
                    this.deadline.as_mut().reset(due);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Pending => {
                if this.deadline.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                let slow = || BodyTooSlow {
                    min_rate: this.min_rate,
                    received: this.received,
                    seconds: this.started.elapsed().as_secs(),
                };
                if let Some(tx) = this.late.take() {
                    let _ = tx.send(slow());
                }
                Poll::Ready(Some(Err(axum::Error::new(slow()))))
            }
            other => other,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
