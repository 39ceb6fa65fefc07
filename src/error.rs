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
        SqlState::InternalError => PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
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

/// Raises a vector error worded for type `ty` (`vector`, `halfvec`).
pub fn raise_for_type(ty: &str, e: VectorError) -> ! {
    raise(code(e.sqlstate()), e.message(ty), e.detail())
}

impl<T> OrRaise<T> for Result<T, vectorcore::halfvec::HalfvecError> {
    fn or_raise(self) -> T {
        self.unwrap_or_else(|e| raise(code(e.sqlstate()), e.to_string(), e.detail()))
    }
}

impl<T> OrRaise<T> for Result<T, vectorcore::sparsevec::SparsevecError> {
    fn or_raise(self) -> T {
        self.unwrap_or_else(|e| raise(code(e.sqlstate()), e.to_string(), e.detail()))
    }
}

impl<T> OrRaise<T> for Result<T, VectorError> {
    fn or_raise(self) -> T {
        self.unwrap_or_else(|e| raise_vector(e))
    }
}

/// The Postgres error code of a five-character SQLSTATE such as "58P01"
/// (`MAKE_SQLSTATE`); an invalid one becomes XX000.
pub fn sqlstate(state: &str) -> PgSqlErrorCode {
    let b = state.as_bytes();
    if b.len() != 5
        || !b
            .iter()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
    {
        return PgSqlErrorCode::ERRCODE_INTERNAL_ERROR;
    }
    let six = |c: u8| (i32::from(c) - i32::from(b'0')) & 0x3f;
    let code = (0..5).fold(0, |acc, i| acc + (six(b[i]) << (6 * i)));
    PgSqlErrorCode::from(code)
}

/// Raises an image decoding error: 22P03 for empty or corrupt data, 0A000
/// for an unsupported format, 54000 for an image over the limits.
pub fn raise_image(e: imagepipe::Error, detail: Option<&str>) -> ! {
    use imagepipe::Error as E;
    let state = match &e {
        E::Empty | E::Corrupt(_) => "22P03",
        E::UnsupportedFormat(_) => "0A000",
        E::TooLarge(_) | E::OverBudget { .. } => "54000",
        E::Cancelled => "57014",
        E::InvalidParameters(_) => "F0000",
        _ => "XX000",
    };
    raise(sqlstate(state), e.to_string(), detail)
}

/// Raises an embedder (ONNX Runtime, model file) error with its SQLSTATE.
pub fn raise_embedder(e: embedder::Error) -> ! {
    raise(sqlstate(e.sqlstate()), e.to_string(), None)
}

/// Keeps Rust backtraces out of what clients see: pgrx puts a captured
/// backtrace into an ERROR's DETAIL, and `Backtrace::capture` captures
/// whenever the server was started with `RUST_BACKTRACE` set.
/// `RUST_LIB_BACKTRACE=0` overrides that for captures only (a panic on
/// another thread still prints its own to the server log). Called from
/// `_PG_init`, before this library captured anything and while the backend
/// runs no other thread of ours.
pub fn hide_rust_backtraces() {
    std::env::set_var("RUST_LIB_BACKTRACE", "0");
}
