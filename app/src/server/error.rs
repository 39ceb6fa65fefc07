//! Error answers of the service: JSON bodies with a code and a message,
//! 4xx for the client's mistakes (bad images included), and internals only
//! in the server's log, never in a response.

use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::api::ErrorBody;
use crate::sqlstate::ImageProblem;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code for the JSON body.
    pub code: &'static str,
    /// Message for the client.
    pub message: String,
    /// Extra response headers (`Retry-After`, `WWW-Authenticate`).
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl ApiError {
    /// A 400 with `message`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// An error with the given status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            headers: Vec::new(),
        }
    }

    /// The same error with one more response header.
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// The same error asking the client to retry after `seconds`.
    pub fn retry_after(self, seconds: u32) -> Self {
        self.with_header(header::RETRY_AFTER, HeaderValue::from(seconds))
    }

    /// A 500 whose details go to the log only.
    pub fn internal(context: &str, detail: &dyn std::fmt::Display) -> Self {
        eprintln!("pgvision serve: {context}: {detail}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "internal error",
        )
    }

    /// Maps a database error: the image's fault (22P03, 0A000, 54000) is a 4xx,
    /// a statement cancelled by `statement_timeout` (57014) a logged 503, anything else a logged 500.
    pub fn from_db(context: &str, e: &tokio_postgres::Error) -> Self {
        if let Some(db) = e.as_db_error() {
            if let Some(p) = ImageProblem::from_sqlstate(db.code().code()) {
                let status = StatusCode::from_u16(p.http_status()).expect("4xx status");
                return ApiError::new(status, p.code(), db.message());
            }
            if db.code() == &tokio_postgres::error::SqlState::QUERY_CANCELED {
                eprintln!("pgvision serve: {context}: {}", crate::db::describe(e));
                return ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "database_timeout",
                    "the database did not answer in time; try again later",
                )
                .retry_after(1);
            }
        }
        ApiError::internal(context, &crate::db::describe(e))
    }

    /// Maps a pool error: the database cannot be reached (503, logged).
    pub fn unavailable(e: &deadpool_postgres::PoolError) -> Self {
        eprintln!("pgvision serve: database pool: {e}");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unavailable",
            "the database is unavailable",
        )
        .retry_after(1)
    }
}

impl IntoResponse for ApiError {
    /// The JSON body `{"error": {"code", "message"}}` with the status and extra headers.
    fn into_response(self) -> Response {
        let mut r = (self.status, Json(ErrorBody::new(self.code, self.message))).into_response();
        r.headers_mut().extend(self.headers);
        r
    }
}
