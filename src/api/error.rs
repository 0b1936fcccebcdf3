//! One error type for every handler, mapped to status codes and JSON bodies.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::sandbox::ReadersBusy;

/// The body of every error answer.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// `unauthorized`, `forbidden`, `not_found`, `conflict`, `invalid_request`,
    /// `too_large`, `timeout`, `busy` or `internal`.
    pub error: String,
    /// What is wrong and where.
    pub message: String,
    /// A machine-readable reason where the status alone is ambiguous:
    /// `session_expired` on a 401 whose session ended by time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("未登录或密钥无效 / sign in or send an API key: the credentials are missing, unknown, revoked or expired")]
    Unauthorized,
    /// A sign-in with an unknown login or a wrong password: one answer for both.
    #[error("登录名或密码错误 / wrong login or password")]
    LoginFailed,
    #[error("会话已过期，请重新登录 / the session expired: sign in again")]
    SessionExpired,
    #[error("缺少或错误的 X-CSRF-Token 请求头 / a write with a session cookie needs the X-CSRF-Token header the sign-in answered")]
    CsrfRequired,
    /// Too many failed sign-ins; retry after this many seconds.
    #[error("登录失败次数过多，请 {0} 秒后再试 / too many failed sign-ins: try again in {0} s")]
    TooManyRequests(u64),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("上传的文件超过 {0} 字节 / the upload is larger than {0} bytes")]
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
    /// An org unit this key may not read, or none at all: one status and one body
    /// for both, so an answer never tells whether a code exists elsewhere.
    pub fn no_such_org() -> ApiError {
        ApiError::NotFound(
            "本账号或密钥的范围内没有该组织单位 / no such org unit in this key's subtree".into(),
        )
    }

    /// A submission this key may not read, or none at all: answered alike.
    pub fn no_such_submission() -> ApiError {
        ApiError::NotFound(
            "没有该报送记录，或它不在本账号或密钥的范围内 / no such submission for this key".into(),
        )
    }

    /// A failure of the service rather than of the request.
    pub fn is_internal(&self) -> bool {
        matches!(self, ApiError::Internal(_))
    }

    /// Internal errors that are in fact the service at capacity become `Busy`.
    fn classify(self) -> ApiError {
        match self {
            ApiError::Internal(e) => match e.downcast_ref::<ReadersBusy>() {
                Some(b) => ApiError::Busy(
                    format!(
                        "工作簿读取进程都在忙（已等待 {} 秒），请稍后再试 / {b}: try again shortly",
                        b.waited_seconds
                    ),
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
            ApiError::Busy(_, secs) | ApiError::TooManyRequests(secs) => Some(*secs),
            _ => None,
        };
        let (status, code) = match &this {
            ApiError::Unauthorized | ApiError::LoginFailed => {
                (StatusCode::UNAUTHORIZED, "unauthorized")
            }
            ApiError::SessionExpired => (StatusCode::UNAUTHORIZED, "session expired"),
            ApiError::CsrfRequired => (StatusCode::FORBIDDEN, "csrf_token_required"),
            ApiError::TooManyRequests(_) => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests"),
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
                "服务内部错误，运维人员可在日志中查看详情 / internal error; the operators have the details in the log".to_string()
            }
            other => other.to_string(),
        };
        let body = match &this {
            ApiError::SessionExpired => {
                json!({"error": code, "code": "session_expired", "message": message})
            }
            _ => json!({"error": code, "message": message}),
        };
        let mut resp = (status, Json(body)).into_response();
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
