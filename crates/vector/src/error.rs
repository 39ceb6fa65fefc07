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
    /// A type modifier list of other than one element.
    InvalidTypmod,
    /// A type modifier that is not an integer.
    TypmodSyntax { input: String },
    /// A type modifier past int4.
    IntegerOutOfRange { input: String },
    /// A type modifier below 1.
    TypmodTooSmall,
    /// A type modifier above [`crate::MAX_DIM`].
    TypmodTooLarge,
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
            UnusedNotZero { .. } => SqlState::DataException,
            InsufficientData => SqlState::ProtocolViolation,
            ExpectedStateArray { .. } => SqlState::InternalError,
            InvalidTypmod | TypmodTooSmall | TypmodTooLarge => SqlState::InvalidParameterValue,
            TypmodSyntax { .. } => SqlState::InvalidTextRepresentation,
            IntegerOutOfRange { .. } => SqlState::NumericValueOutOfRange,
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

impl VectorError {
    /// The errmsg line, exactly as pgvector 0.8.6 words it for type `ty`
    /// (`vector`, `halfvec`).
    pub fn message(&self, ty: &str) -> String {
        use VectorError::*;
        let max = crate::MAX_DIM;
        match self {
            InvalidSyntax { input, .. } => {
                format!("invalid input syntax for type {ty}: \"{input}\"")
            }
            OutOfRange { token } => format!("\"{token}\" is out of range for type {ty}"),
            NaN => format!("NaN not allowed in {ty}"),
            Infinite => format!("infinite value not allowed in {ty}"),
            TooFewDimensions => format!("{ty} must have at least 1 dimension"),
            TooManyDimensions => format!("{ty} cannot have more than {max} dimensions"),
            ExpectedDimensions { expected, got } => {
                format!("expected {expected} dimensions, not {got}")
            }
            DifferentDimensions { a, b } => format!("different {ty} dimensions {a} and {b}"),
            UnusedNotZero { unused } => format!("expected unused to be 0, not {unused}"),
            InsufficientData => "insufficient data left in message".to_owned(),
            Overflow => "value out of range: overflow".to_owned(),
            Underflow => "value out of range: underflow".to_owned(),
            ExpectedStateArray { caller } => format!("{caller}: expected state array"),
            InvalidTypmod => "invalid type modifier".to_owned(),
            TypmodSyntax { input } => format!("invalid input syntax for type integer: \"{input}\""),
            IntegerOutOfRange { input } => {
                format!("value \"{input}\" is out of range for type integer")
            }
            TypmodTooSmall => format!("dimensions for type {ty} must be at least 1"),
            TypmodTooLarge => format!("dimensions for type {ty} cannot exceed {max}"),
        }
    }
}

impl fmt::Display for VectorError {
    /// The errmsg line for type `vector` ([`VectorError::message`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message("vector"))
    }
}

impl std::error::Error for VectorError {}
