//! The request timeout (`--request-timeout`): a request not answered in time
//! is dropped (its database statement cancelled, see `pool::Conn`) and answered
//! `408 request_timeout` when its body had not fully arrived (a slow client),
//! `503 timeout` otherwise (a slow database).

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ApiError;

/// A request body that notes when its last byte has been read.
struct Tracked {
    inner: Body,
    pending: Arc<AtomicBool>,
}

impl HttpBody for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    /// The inner body's next frame; the end of the body clears `pending`.
    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) || self.inner.is_end_stream() {
            self.pending.store(false, Ordering::Relaxed);
        }
        polled
    }

    /// Whether the inner body is done.
    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    /// The inner body's size hint.
    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Middleware: runs the request with at most `limit` to answer.
pub async fn deadline(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    let pending = Arc::new(AtomicBool::new(!req.body().is_end_stream()));
    let tracked = pending.clone();
    let req = req.map(|inner| {
        Body::new(Tracked {
            inner,
            pending: tracked,
        })
    });
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) if pending.load(Ordering::Relaxed) => {
            let mut r = ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                format!(
                    "the request body did not arrive within {} s",
                    limit.as_secs_f64()
                ),
            )
            .into_response();
            r.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            r
        }
        Err(_) => {
            eprintln!(
                "pgvision serve: a request took over {} s (--request-timeout); abandoned",
                limit.as_secs_f64()
            );
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "timeout",
                "the request took too long; try again later",
            )
            .retry_after(1)
            .into_response()
        }
    }
}
