//! Errors a vector operation can raise, in pgvector 0.8's words.

use std::fmt;

/// The SQLSTATE classes these errors map to (names as in Postgres' errcodes.h).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlState {
    /// 22P02 invalid_text_representation
    InvalidTextRepresentation,
    /// 22000 data_exception
    DataException,
    /// 54000 program_limit_exceeded
    ProgramLimitExceeded,
    /// 22003 numeric_value_out_of_range
    NumericValueOutOfRange,
    /// 22023 invalid_parameter_value
    InvalidParameterValue,
    /// 22P03 invalid_binary_representation
    InvalidBinaryRepresentation,
    /// 08P01 protocol_violation
    ProtocolViolation,
    /// XX000 internal_error (pgvector's `elog(ERROR)`)
    InternalError,
}

/// A user-facing error about a vector value.
#[derive(Debug, Clone, PartialEq)]
pub enum VectorError {
    /// Text that is not a vector literal; `detail` as pgvector gives it.
    InvalidSyntax {
        input: String,
        detail: Option<&'static str>,
    },
    /// A literal number that overflows float4.
    OutOfRange { token: String },
    /// A NaN element.
    NaN,
    /// An infinite element.
    Infinite,
    /// Zero dimensions.
    TooFewDimensions,
    /// More than [`crate::MAX_DIM`] dimensions.
    TooManyDimensions,
    /// Dimensions differ from the column's typmod.
    ExpectedDimensions { expected: i32, got: usize },
    /// Two operands of different dimensions.
    DifferentDimensions { a: usize, b: usize },
    /// Binary input whose unused field is not zero.
    UnusedNotZero { unused: i32 },
    /// Binary input that ends early.
    InsufficientData,
    /// Element-wise arithmetic overflowed float4.
    Overflow,
    /// Element-wise multiplication underflowed float4.
    Underflow,
    /// An aggregate support function given something other than its state.
    ExpectedStateArray { caller: &'static str },
}

impl VectorError {
    /// The SQLSTATE pgvector raises this error with.
    pub fn sqlstate(&self) -> SqlState {
        use VectorError::*;
        match self {
            InvalidSyntax { .. } => SqlState::InvalidTextRepresentation,
            OutOfRange { .. } | Overflow | Underflow => SqlState::NumericValueOutOfRange,
            NaN | Infinite | TooFewDimensions | ExpectedDimensions { .. } => {
                SqlState::DataException
            }
            DifferentDimensions { .. } => SqlState::DataException,
            TooManyDimensions => SqlState::ProgramLimitExceeded,
            UnusedNotZero { .. } => SqlState::InvalidParameterValue,
            InsufficientData => SqlState::ProtocolViolation,
            ExpectedStateArray { .. } => SqlState::InternalError,
        }
    }

    /// The errdetail line, where pgvector gives one.
    pub fn detail(&self) -> Option<&'static str> {
        match self {
            VectorError::InvalidSyntax { detail, .. } => *detail,
            _ => None,
        }
    }
}

impl fmt::Display for VectorError {
    /// The errmsg line, exactly as pgvector 0.8.6 words it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use VectorError::*;
        match self {
            InvalidSyntax { input, .. } => {
                write!(f, "invalid input syntax for type vector: \"{input}\"")
            }
            OutOfRange { token } => write!(f, "\"{token}\" is out of range for type vector"),
            NaN => write!(f, "NaN not allowed in vector"),
            Infinite => write!(f, "infinite value not allowed in vector"),
            TooFewDimensions => write!(f, "vector must have at least 1 dimension"),
            TooManyDimensions => {
                write!(
                    f,
                    "vector cannot have more than {} dimensions",
                    crate::MAX_DIM
                )
            }
            ExpectedDimensions { expected, got } => {
                write!(f, "expected {expected} dimensions, not {got}")
            }
            DifferentDimensions { a, b } => write!(f, "different vector dimensions {a} and {b}"),
            UnusedNotZero { unused } => write!(f, "expected unused to be 0, not {unused}"),
            InsufficientData => write!(f, "insufficient data left in message"),
            Overflow => write!(f, "value out of range: overflow"),
            Underflow => write!(f, "value out of range: underflow"),
            ExpectedStateArray { caller } => write!(f, "{caller}: expected state array"),
        }
    }
}

impl std::error::Error for VectorError {}
