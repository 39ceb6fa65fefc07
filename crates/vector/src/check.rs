//! Dimension and element checks shared by every way a vector is made.

use crate::{VectorError, MAX_DIM};

/// Refuses NaN and infinite elements.
pub fn element(value: f32) -> Result<f32, VectorError> {
    if value.is_nan() {
        Err(VectorError::NaN)
    } else if value.is_infinite() {
        Err(VectorError::Infinite)
    } else {
        Ok(value)
    }
}

/// Refuses zero dimensions and more than [`MAX_DIM`].
pub fn dim(dim: usize) -> Result<(), VectorError> {
    if dim < 1 {
        Err(VectorError::TooFewDimensions)
    } else if dim > MAX_DIM {
        Err(VectorError::TooManyDimensions)
    } else {
        Ok(())
    }
}

/// Checks `dim` against a column typmod (-1 means unconstrained).
pub fn expected_dim(typmod: i32, dim: usize) -> Result<(), VectorError> {
    if typmod != -1 && typmod as i64 != dim as i64 {
        Err(VectorError::ExpectedDimensions {
            expected: typmod,
            got: dim,
        })
    } else {
        Ok(())
    }
}

/// Checks that two operands have the same number of dimensions.
pub fn same_dims(a: &[f32], b: &[f32]) -> Result<(), VectorError> {
    if a.len() != b.len() {
        Err(VectorError::DifferentDimensions {
            a: a.len(),
            b: b.len(),
        })
    } else {
        Ok(())
    }
}

/// The typmod of `type(n)` from its modifier list's texts (None for a
/// NULL element), as pgvector reads it: exactly one element, an int4 in
/// Postgres' syntax (`pg_strtoint32`: optional spaces and sign, decimal
/// digits), between 1 and [`MAX_DIM`].
pub fn typmod(list: &[Option<&str>]) -> Result<i32, VectorError> {
    let n = typmod_value(list)?;
    if n < 1 {
        Err(VectorError::TypmodTooSmall)
    } else if n as usize > MAX_DIM {
        Err(VectorError::TypmodTooLarge)
    } else {
        Ok(n)
    }
}

/// The integer of a one-element modifier list, unchecked against any
/// type's bounds (`sparsevec` has its own), with the syntax errors of
/// [`typmod`].
pub fn typmod_value(list: &[Option<&str>]) -> Result<i32, VectorError> {
    let [item] = list else {
        return Err(VectorError::InvalidTypmod);
    };
    let text = item.unwrap_or_default();
    let t = text.trim_matches(|c: char| matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c'));
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(VectorError::TypmodSyntax {
            input: text.to_owned(),
        });
    }
    t.parse().map_err(|_| VectorError::IntegerOutOfRange {
        input: text.to_owned(),
    })
}
