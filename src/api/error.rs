//! One error type for every handler, mapped to status codes and JSON bodies.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::reader::ReadersBusy;

/// The body of every error answer.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// `unauthorized`, `forbidden`, `not_found`, `conflict`, `invalid_request`,
    /// `too_large`, `timeout`, `busy` or `internal`.
    pub error: String,
    /// What is wrong and where.
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("missing or unknown API key")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("the upload is larger than {0} bytes")]
    TooLarge(usize),
    /// The request's body came too slowly.
    #[error("{0}")]
    Timeout(String),
    /// The service is at capacity for this request; try again after the seconds.
    #[error("{0}")]
    Busy(String, u64),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        ApiError::Internal(e.into())
    }
}

impl ApiError {
    /// A failure of the service rather than of the request.
    pub fn is_internal(&self) -> bool {
        matches!(self, ApiError::Internal(_))
    }

    /// Internal errors that are in fact the service at capacity become `Busy`.
    fn classify(self) -> ApiError {
        match self {
            ApiError::Internal(e) => match e.downcast_ref::<ReadersBusy>() {
                Some(b) => ApiError::Busy(
                    format!("{b}; 工作簿读取进程都在忙，请稍后再试 / all workbook readers are busy, try again shortly"),
                    b.waited_seconds.max(1),
                ),
                None => ApiError::Internal(e),
            },
            other => other,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let this = self.classify();
        let retry_after = match &this {
            ApiError::Busy(_, secs) => Some(*secs),
            _ => None,
        };
        let (status, code) = match &this {
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::BadRequest(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_request"),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            ApiError::Timeout(_) => (StatusCode::REQUEST_TIMEOUT, "timeout"),
            ApiError::Busy(..) => (StatusCode::SERVICE_UNAVAILABLE, "busy"),
            ApiError::Internal(e) => {
                tracing::error!(error = %format!("{e:#}"), "request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        };
        let message = match &this {
            ApiError::Internal(_) => {
                "internal error; the operators have the details in the log".to_string()
            }
            other => other.to_string(),
        };
        let mut resp = (status, Json(json!({"error": code, "message": message}))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        if let Some(secs) = retry_after {
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        if status == StatusCode::PAYLOAD_TOO_LARGE || status == StatusCode::REQUEST_TIMEOUT {
            // The rest of the body is not read: the connection cannot be reused.
            resp.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
        }
        resp
    }
}
