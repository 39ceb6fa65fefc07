//! Every user-facing error of the extension, raised with an explicit SQLSTATE.

use pgrx::pg_sys::panic::ErrorReport;
use pgrx::{PgLogLevel, PgSqlErrorCode};
use vectorcore::{SqlState, VectorError};

/// The Postgres error code for a pure-crate SQLSTATE class.
fn code(state: SqlState) -> PgSqlErrorCode {
    match state {
        SqlState::InvalidTextRepresentation => PgSqlErrorCode::ERRCODE_INVALID_TEXT_REPRESENTATION,
        SqlState::DataException => PgSqlErrorCode::ERRCODE_DATA_EXCEPTION,
        SqlState::ProgramLimitExceeded => PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
        SqlState::NumericValueOutOfRange => PgSqlErrorCode::ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
        SqlState::InvalidParameterValue => PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
        SqlState::InvalidBinaryRepresentation => {
            PgSqlErrorCode::ERRCODE_INVALID_BINARY_REPRESENTATION
        }
        SqlState::ProtocolViolation => PgSqlErrorCode::ERRCODE_PROTOCOL_VIOLATION,
    }
}

/// Raises an ERROR with `code`, `message` and an optional detail line.
pub fn raise(code: PgSqlErrorCode, message: impl Into<String>, detail: Option<&str>) -> ! {
    let message: String = message.into();
    let mut report = ErrorReport::new(code, message, "");
    if let Some(d) = detail {
        report = report.set_detail(d);
    }
    report.report(PgLogLevel::ERROR);
    unreachable!("ERROR does not return")
}

/// Raises a vector error with pgvector's message, detail and SQLSTATE.
pub fn raise_vector(e: VectorError) -> ! {
    raise(code(e.sqlstate()), e.to_string(), e.detail())
}

/// Unwraps a pure-crate result or raises its error as a Postgres ERROR.
pub trait OrRaise<T> {
    /// The value, or an ERROR that never returns.
    fn or_raise(self) -> T;
}

impl<T> OrRaise<T> for Result<T, VectorError> {
    fn or_raise(self) -> T {
        self.unwrap_or_else(|e| raise_vector(e))
    }
}
