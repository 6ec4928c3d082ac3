//! Extractors whose rejections are [`ApiError`]s: a malformed path, query
//! or body gets the JSON error (and status) every other failure gets, with
//! axum's explanation of what was wrong, where axum's own extractors answer
//! in plain text.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::{ApiError, MAX_BODY_BYTES, read_body_up_to};

/// The request body, at most `LIMIT` bytes, [`crate::MAX_BODY_BYTES`] unless
/// the route says (413 beyond).
pub(crate) struct Body<const LIMIT: usize = MAX_BODY_BYTES>(pub Bytes);

impl<const LIMIT: usize, S: Send + Sync> FromRequest<S> for Body<LIMIT> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &S) -> Result<Self, ApiError> {
        read_body_up_to(req.into_body(), LIMIT).await.map(Body)
    }
}

/// Path parameters, e.g. an incident id.
pub(crate) struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        use axum::extract::rejection::PathRejection;
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Path(p.0))
            .map_err(|e| match e {
                PathRejection::FailedToDeserializePathParams(_) => {
                    ApiError::BadRequest(e.body_text())
                }
                // A route without the parameters its handler reads: ours to fix.
                other => ApiError::Internal(other.body_text()),
            })
    }
}

/// The query string's parameters.
pub(crate) struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(|e| ApiError::BadRequest(e.body_text()))
    }
}
