//! The limit on uploads in flight (`--max-in-flight`): a request to a route
//! with a body takes a slot before its body is read, and is answered
//! `503 busy` with `Retry-After` at once when none is free, so at most that
//! many bodies are held in memory however many clients send.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use super::ApiError;

/// Seconds a client is asked to wait before retrying a refused upload.
pub const RETRY_AFTER_S: u32 = 1;

/// Middleware: runs the request holding one of `slots`, or refuses it unread.
pub async fn admit(State(slots): State<Arc<Semaphore>>, req: Request, next: Next) -> Response {
    match slots.try_acquire_owned() {
        Ok(slot) => {
            let response = next.run(req).await;
            drop(slot);
            response
        }
        Err(_) => {
            let mut r = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "too many uploads in progress; try again shortly",
            )
            .retry_after(RETRY_AFTER_S)
            .into_response();
            // The body is never read: the connection cannot be reused.
            r.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            r
        }
    }
}
