//! The state of `avg(vector)`: a `double precision[]` of `[n, sum_1, ..., sum_dim]`.
//!
//! The support functions (`vector_accum`, `vector_combine`, `vector_avg`)
//! are callable from SQL with any `double precision[]`, so every state is
//! validated here before it is used, as pgvector 0.8 does: a state must be a
//! 1-D array of at least one element without NULLs (else `<caller>: expected
//! state array`), and the dimension count it implies (its length - 1) must
//! fit a vector before a vector or a combined state is made from it. The
//! initial state `{0}` has zero dimensions; it takes the dimensions of the
//! first vector (or state) added to it.

use crate::{check, Element, VectorError};

/// What the glue reads off a SQL array before handing its elements here.
#[derive(Debug, Clone, Copy)]
pub struct ArrayShape {
    /// Number of array dimensions (`ARR_NDIM`; 0 for an empty array).
    pub ndim: i32,
    /// Whether any element is NULL.
    pub has_nulls: bool,
}

/// Refuses a state array that is not 1-D, empty or has NULLs, naming `caller`.
pub fn check_state(
    caller: &'static str,
    shape: ArrayShape,
    values: &[f64],
) -> Result<(), VectorError> {
    if shape.ndim != 1 || values.is_empty() || shape.has_nulls {
        return Err(VectorError::ExpectedStateArray { caller });
    }
    Ok(())
}

/// Dimensions a checked state holds.
fn state_dims(state: &[f64]) -> usize {
    state.len() - 1
}

/// A sum, refusing an infinite result (pgvector's `float_overflow_error`).
fn checked_sum(a: f64, b: f64) -> Result<f64, VectorError> {
    let v = a + b;
    if v.is_infinite() {
        Err(VectorError::Overflow)
    } else {
        Ok(v)
    }
}

/// `vector_accum` (`halfvec_accum`): the state after adding `v` to the
/// checked `state`.
pub fn accum<E: Element>(state: &[f64], v: &[E]) -> Result<Vec<f64>, VectorError> {
    let dims = state_dims(state);
    let mut out = Vec::with_capacity(v.len() + 1);
    out.push(state[0] + 1.0);
    if dims == 0 {
        out.extend(v.iter().map(|&x| f64::from(x.to_f32())));
    } else {
        check::expected_dim(dims as i32, v.len())?;
        for (s, &x) in state[1..].iter().zip(v) {
            out.push(checked_sum(*s, f64::from(x.to_f32()))?);
        }
    }
    Ok(out)
}

/// `vector_combine`: two checked partial states merged into one.
pub fn combine(a: &[f64], b: &[f64]) -> Result<Vec<f64>, VectorError> {
    let (da, db) = (state_dims(a), state_dims(b));
    let mut out = Vec::with_capacity(da.max(db) + 1);
    out.push(a[0] + b[0]);
    match (da, db) {
        (0, 0) => {}
        (0, _) => {
            check::dim(db)?;
            out.extend_from_slice(&b[1..]);
        }
        (_, 0) => {
            check::dim(da)?;
            out.extend_from_slice(&a[1..]);
        }
        _ => {
            check::dim(da)?;
            check::expected_dim(da as i32, db)?;
            for (x, y) in a[1..].iter().zip(&b[1..]) {
                out.push(checked_sum(*x, *y)?);
            }
        }
    }
    Ok(out)
}

/// `vector_avg`: the mean of a checked state, None when it counted no rows.
pub fn finish(state: &[f64]) -> Result<Option<Vec<f32>>, VectorError> {
    finish_with(state, |mean| check::element(mean as f32))
}

/// The mean of a checked state with each element made by `element` (the
/// type's rounding and checks), None when it counted no rows.
pub fn finish_with<T, E: From<VectorError>>(
    state: &[f64],
    element: impl Fn(f64) -> Result<T, E>,
) -> Result<Option<Vec<T>>, E> {
    let n = state[0];
    if n == 0.0 {
        return Ok(None);
    }
    check::dim(state_dims(state))?;
    let mut out = Vec::with_capacity(state_dims(state));
    for s in &state[1..] {
        out.push(element(s / n)?);
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MAX_DIM;

    const ONE_D: ArrayShape = ArrayShape {
        ndim: 1,
        has_nulls: false,
    };

    /// Malformed states are refused with the caller's name.
    #[test]
    fn malformed_states_are_refused() {
        let err = |shape, values: &[f64]| check_state("vector_avg", shape, values).unwrap_err();
        let expected = VectorError::ExpectedStateArray {
            caller: "vector_avg",
        };
        assert_eq!(err(ONE_D, &[]), expected);
        let two_d = ArrayShape { ndim: 2, ..ONE_D };
        assert_eq!(err(two_d, &[1.0, 2.0]), expected);
        let nulls = ArrayShape {
            has_nulls: true,
            ..ONE_D
        };
        assert_eq!(err(nulls, &[1.0]), expected);
        assert_eq!(expected.to_string(), "vector_avg: expected state array");
        assert!(check_state("vector_avg", ONE_D, &[0.0]).is_ok());
    }

    /// Accumulating, combining and finishing give the mean.
    #[test]
    fn mean_of_rows() {
        let s = accum(&[0.0], &[1.0, 2.0]).unwrap();
        let s = accum(&s, &[3.0, 6.0]).unwrap();
        assert_eq!(s, vec![2.0, 4.0, 8.0]);
        let t = accum(&[0.0], &[5.0, 1.0]).unwrap();
        let c = combine(&s, &t).unwrap();
        assert_eq!(finish(&c).unwrap(), Some(vec![3.0, 3.0]));
        assert_eq!(combine(&[0.0], &t).unwrap(), t);
        assert_eq!(combine(&t, &[0.0]).unwrap(), t);
        assert_eq!(combine(&[0.0], &[0.0]).unwrap(), vec![0.0]);
        assert_eq!(finish(&[0.0]).unwrap(), None);
    }

    /// A state's dimension count is checked before a vector is made of it,
    /// never narrowed (40,000 once wrapped to a negative i16).
    #[test]
    fn dimension_bounds() {
        assert_eq!(finish(&[1.0]), Err(VectorError::TooFewDimensions));
        let mut big = vec![1.0; 40_001];
        assert_eq!(finish(&big), Err(VectorError::TooManyDimensions));
        big.truncate(MAX_DIM + 1);
        assert_eq!(finish(&big).unwrap().unwrap().len(), MAX_DIM);
        let huge = vec![1.0; MAX_DIM + 2];
        assert_eq!(combine(&[0.0], &huge), Err(VectorError::TooManyDimensions));
        assert_eq!(combine(&huge, &[0.0]), Err(VectorError::TooManyDimensions));
        assert_eq!(combine(&huge, &huge), Err(VectorError::TooManyDimensions));
        assert_eq!(
            combine(&[1.0, 1.0], &[1.0, 1.0, 1.0]),
            Err(VectorError::ExpectedDimensions {
                expected: 1,
                got: 2
            })
        );
        assert_eq!(
            accum(&[1.0, 1.0], &[1.0, 1.0]),
            Err(VectorError::ExpectedDimensions {
                expected: 1,
                got: 2
            })
        );
    }

    /// Overflowing sums and non-finite means are errors, not infinities.
    #[test]
    fn overflow_and_non_finite() {
        assert_eq!(
            accum(&[1.0, f64::INFINITY], &[1.0]),
            Err(VectorError::Overflow)
        );
        assert_eq!(
            combine(&[1.0, f64::MAX], &[1.0, f64::MAX]),
            Err(VectorError::Overflow)
        );
        assert_eq!(finish(&[1.0, 1e300]), Err(VectorError::Infinite));
        assert_eq!(finish(&[1.0, f64::NAN]), Err(VectorError::NaN));
        assert_eq!(finish(&[f64::NAN, 1.0]), Err(VectorError::NaN));
    }
}
