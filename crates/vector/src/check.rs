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
