//! Error answers of the service: JSON bodies with a code and a message,
//! 4xx for the client's mistakes (bad images included), and internals only
//! in the server's log, never in a response.

use axum::http::StatusCode;
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
        }
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

    /// Maps a database error: the image's fault (22P03, 0A000, 54000) is a 4xx, anything else a logged 500.
    pub fn from_db(context: &str, e: &tokio_postgres::Error) -> Self {
        if let Some(db) = e.as_db_error() {
            if let Some(p) = ImageProblem::from_sqlstate(db.code().code()) {
                let status = StatusCode::from_u16(p.http_status()).expect("4xx status");
                return ApiError::new(status, p.code(), db.message());
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
    }
}

impl IntoResponse for ApiError {
    /// The JSON body `{"error": {"code", "message"}}` with the status.
    fn into_response(self) -> Response {
        (self.status, Json(ErrorBody::new(self.code, self.message))).into_response()
    }
}
