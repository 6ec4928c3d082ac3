//! The HTTP shell around the pure pipeline.
//!
//! Public paths (status page, Statuspage v2 JSON) are served from bytes
//! pre-rendered on every state change: no database access on any public path,
//! so the page keeps answering while the store is down. [`live`] runs the
//! twin-fed pipeline, persists incidents, and re-renders.

mod console;
mod error;
mod history;
pub mod live;
mod published;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

pub use error::ApiError;
pub use history::History;
pub use published::{Published, Rendered};

/// Largest request body any route accepts.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Longest any request may take.
pub const REQUEST_TIMEOUT_SECS: u64 = 10;

/// What every handler shares.
#[derive(Clone, Debug)]
pub struct AppState {
    pub published: Arc<Published>,
}

/// The whole HTTP application; tests drive it in-process with `oneshot`.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/", get(status_page))
        .route("/api/v2/{*file}", get(public_json))
        .route("/console", get(console_page))
        .route("/healthz", get(|| async { "ok" }))
        .fallback(|| async { ApiError::NotFound("no such page".into()) })
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(REQUEST_TIMEOUT_SECS),
        ))
        .with_state(state)
}

/// Serves pre-rendered bytes with an ETag and short public caching that lets
/// caches keep serving a stale copy if we fail.
fn cached(
    headers: &HeaderMap,
    etag: &str,
    content_type: &'static str,
    body: bytes_of::Bytes,
) -> Response {
    let etag_value = HeaderValue::from_str(etag).unwrap_or(HeaderValue::from_static("\"0\""));
    let cache = HeaderValue::from_static("public, max-age=10, stale-if-error=300");
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        return (
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag_value), (header::CACHE_CONTROL, cache)],
        )
            .into_response();
    }
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::ETAG, etag_value),
            (header::CACHE_CONTROL, cache),
        ],
        body,
    )
        .into_response()
}

mod bytes_of {
    pub use axum::body::Bytes;
}

const JSON: &str = "application/json";
const HTML: &str = "text/html; charset=utf-8";

async fn status_page(State(s): State<AppState>, headers: HeaderMap) -> Response {
    let r = s.published.current();
    cached(&headers, &r.etag, HTML, r.status_html.clone())
}

/// Every Statuspage v2 document, by its path under `/api/v2/`.
async fn public_json(
    State(s): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let r = s.published.current();
    let body = match file.as_str() {
        "summary.json" => &r.summary_json,
        "status.json" => &r.status_json,
        "components.json" => &r.components_json,
        "incidents.json" => &r.incidents_json,
        "incidents/unresolved.json" => &r.unresolved_json,
        "scheduled-maintenances.json"
        | "scheduled-maintenances/upcoming.json"
        | "scheduled-maintenances/active.json" => &r.maintenances_json,
        _ => return Err(ApiError::NotFound(format!("no such file /api/v2/{file}"))),
    };
    Ok(cached(&headers, &r.etag, JSON, body.clone()))
}

async fn console_page(State(s): State<AppState>) -> Response {
    let r = s.published.current();
    (
        [
            (header::CONTENT_TYPE, HTML),
            (header::CACHE_CONTROL, "no-store"),
        ],
        r.console_html.clone(),
    )
        .into_response()
}
