//! The one HTTP error type: every failure of a request maps to a status code
//! here, malformed paths, queries and bodies included (`extract.rs`). The
//! HTML pages that answer a browser's sign-in or subscription link with a
//! page of their own (a form to try again) set their status beside it. One
//! answer comes from the middleware, before any handler, as plain text: 503
//! for a request out of time.

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dialtone_engine::ActionError;
use dialtone_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    /// No credentials, or credentials that are not valid.
    #[error("{0}")]
    Unauthorized(String),
    /// Valid credentials without the needed role, or a missing CSRF token.
    #[error("{0}")]
    Forbidden(String),
    /// The request contradicts the current state (e.g. acting on a resolved incident).
    #[error("{0}")]
    Conflict(String),
    #[error("the body is larger than {0} bytes: send less")]
    PayloadTooLarge(usize),
    /// A route that exists, asked with a method it does not take.
    #[error("this address does not take {0} requests: the Allow header lists the methods it does")]
    MethodNotAllowed(String),
    #[error("too many requests from your address: wait {retry_after_secs} s and try again")]
    TooManyRequests { retry_after_secs: u64 },
    /// A dependency (the database) failed; the request may succeed later.
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<ActionError> for ApiError {
    fn from(e: ActionError) -> Self {
        match e {
            ActionError::NotFound(_) => ApiError::NotFound(e.to_string()),
            ActionError::Closed { .. }
            | ActionError::Merged { .. }
            | ActionError::Transition { .. }
            | ActionError::AlreadyAcknowledged(..)
            | ActionError::AlreadyPublic(_)
            | ActionError::MergeIntoDraft { .. } => ApiError::Conflict(e.to_string()),
            ActionError::Empty(_)
            | ActionError::TooLong { .. }
            | ActionError::SelfMerge(_)
            | ActionError::UnknownRegion { .. } => ApiError::BadRequest(e.to_string()),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(msg) => ApiError::Conflict(msg),
            e => {
                tracing::error!(error = %e, "database failure on an operator path");
                ApiError::Unavailable(
                    "the database is unavailable; the public status page is unaffected. Try again shortly".into(),
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut resp = (
            status,
            Json(serde_json::json!({ "error": self.to_string() })),
        )
            .into_response();
        self.add_headers(resp.headers_mut());
        resp
    }
}

impl ApiError {
    /// The headers that go with this error's status, for any response that
    /// answers it (the JSON error, or a form shown again with the message).
    pub(crate) fn add_headers(&self, headers: &mut HeaderMap) {
        match self {
            ApiError::Unauthorized(_) => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            ApiError::TooManyRequests { retry_after_secs } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            _ => {}
        }
    }
}
