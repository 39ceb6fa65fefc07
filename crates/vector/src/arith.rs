//! Element-wise arithmetic, concatenation, subvector, normalisation and
//! the btree order of the dense types, with pgvector's overflow and
//! underflow rules: each result is computed in float4 and rounded to the
//! element type ([`Element`]), and an infinite result is an overflow.

use crate::element::{self, Element};
use crate::{VectorError, MAX_DIM};
use std::cmp::Ordering;

/// Refuses operands of different lengths.
fn same_dims<E>(a: &[E], b: &[E]) -> Result<(), VectorError> {
    if a.len() != b.len() {
        return Err(VectorError::DifferentDimensions {
            a: a.len(),
            b: b.len(),
        });
    }
    Ok(())
}

/// Applies `op` element-wise and refuses infinite results as overflow.
fn elementwise<E: Element>(
    a: &[E],
    b: &[E],
    op: impl Fn(f32, f32) -> f32,
) -> Result<Vec<E>, VectorError> {
    same_dims(a, b)?;
    a.iter()
        .zip(b)
        .map(|(&x, &y)| {
            let r = E::from_f32(op(x.to_f32(), y.to_f32()));
            if r.to_f32().is_infinite() {
                Err(VectorError::Overflow)
            } else {
                Ok(r)
            }
        })
        .collect()
}

/// `a + b`.
pub fn add<E: Element>(a: &[E], b: &[E]) -> Result<Vec<E>, VectorError> {
    elementwise(a, b, |x, y| x + y)
}

/// `a - b`.
pub fn sub<E: Element>(a: &[E], b: &[E]) -> Result<Vec<E>, VectorError> {
    elementwise(a, b, |x, y| x - y)
}

/// `a * b` element-wise; a zero product of non-zero factors is an underflow.
pub fn mul<E: Element>(a: &[E], b: &[E]) -> Result<Vec<E>, VectorError> {
    let r = elementwise(a, b, |x, y| x * y)?;
    for ((&x, &y), &z) in a.iter().zip(b).zip(&r) {
        if z.to_f32() == 0.0 && x.to_f32() != 0.0 && y.to_f32() != 0.0 {
            return Err(VectorError::Underflow);
        }
    }
    Ok(r)
}

/// `a || b`.
pub fn concat<E: Element>(a: &[E], b: &[E]) -> Result<Vec<E>, VectorError> {
    if a.len() + b.len() > MAX_DIM {
        return Err(VectorError::TooManyDimensions);
    }
    Ok([a, b].concat())
}

/// `subvector(a, start, count)`: 1-based like substring, clamped at both ends.
pub fn subvector<E: Element>(a: &[E], start: i32, count: i32) -> Result<Vec<E>, VectorError> {
    let dim = a.len() as i64;
    let mut start = start as i64;
    let mut end = start + count as i64;
    if start < 1 {
        start = 1;
    } else if start > dim {
        return Err(VectorError::TooFewDimensions);
    }
    if end > dim {
        end = dim + 1;
    } else if end <= start {
        return Err(VectorError::TooFewDimensions);
    }
    Ok(a[(start - 1) as usize..(end - 1) as usize].to_vec())
}

/// `l2_normalize(a)`: a / |a| (|a| in float8), or a copy when |a| is zero;
/// an element that rounds to infinity is an overflow.
pub fn l2_normalize<E: Element>(a: &[E]) -> Result<Vec<E>, VectorError> {
    let norm = element::norm(a);
    if norm == 0.0 {
        return Ok(a.to_vec());
    }
    a.iter()
        .map(|&x| {
            let r = E::from_f32((f64::from(x.to_f32()) / norm) as f32);
            if r.to_f32().is_infinite() {
                Err(VectorError::Overflow)
            } else {
                Ok(r)
            }
        })
        .collect()
}

/// The btree order: element by element, then the shorter vector first.
pub fn compare<E: Element>(a: &[E], b: &[E]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        if x < y {
            return Ordering::Less;
        }
        if x > y {
            return Ordering::Greater;
        }
    }
    a.len().cmp(&b.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic() {
        assert_eq!(add(&[1.0, 2.0], &[3.0, 4.0]).unwrap(), vec![4.0, 6.0]);
        assert_eq!(sub(&[1.0, 2.0], &[3.0, 4.0]).unwrap(), vec![-2.0, -2.0]);
        assert_eq!(mul(&[1.0, 2.0], &[3.0, 4.0]).unwrap(), vec![3.0, 8.0]);
        assert_eq!(add(&[3e38], &[3e38]), Err(VectorError::Overflow));
        assert_eq!(mul(&[1e-30], &[1e-30]), Err(VectorError::Underflow));
        assert_eq!(
            add(&[1.0], &[1.0, 2.0]),
            Err(VectorError::DifferentDimensions { a: 1, b: 2 })
        );
    }

    #[test]
    fn subvector_like_pgvector() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(subvector(&v, 1, 3).unwrap(), vec![1.0, 2.0, 3.0]);
        assert_eq!(subvector(&v, 3, 2).unwrap(), vec![3.0, 4.0]);
        assert_eq!(subvector(&v, -1, 3).unwrap(), vec![1.0]);
        assert_eq!(subvector(&v, 3, 9).unwrap(), vec![3.0, 4.0, 5.0]);
        assert_eq!(subvector(&v, 3, i32::MAX).unwrap(), vec![3.0, 4.0, 5.0]);
        assert_eq!(subvector(&v, 6, 1), Err(VectorError::TooFewDimensions));
        assert_eq!(subvector(&v, 3, 0), Err(VectorError::TooFewDimensions));
        assert_eq!(subvector(&v, -3, 3), Err(VectorError::TooFewDimensions));
    }

    #[test]
    fn order_and_concat() {
        assert_eq!(compare(&[1.0, 2.0], &[1.0, 3.0]), Ordering::Less);
        assert_eq!(compare(&[1.0, 2.0], &[1.0]), Ordering::Greater);
        assert_eq!(compare(&[1.0, 2.0], &[1.0, 2.0]), Ordering::Equal);
        assert_eq!(concat(&[1.0], &[2.0]).unwrap(), vec![1.0, 2.0]);
        assert_eq!(
            concat(&vec![0.0; MAX_DIM], &[1.0]),
            Err(VectorError::TooManyDimensions)
        );
        let n = l2_normalize(&[3.0, 4.0]).unwrap();
        assert!((n[0] - 0.6).abs() < 1e-7 && (n[1] - 0.8).abs() < 1e-7);
        assert_eq!(l2_normalize(&[0.0, 0.0]).unwrap(), vec![0.0, 0.0]);
    }

    /// Half-precision results are rounded to f16 and overflow past 65504.
    #[test]
    fn halfvec_arithmetic() {
        use half::f16;
        let h = |xs: &[f32]| xs.iter().map(|&x| f16::from_f32(x)).collect::<Vec<_>>();
        assert_eq!(
            add(&h(&[1.0, 2.0]), &h(&[3.0, 4.0])).unwrap(),
            h(&[4.0, 6.0])
        );
        assert_eq!(
            add(&h(&[65504.0]), &h(&[65504.0])),
            Err(VectorError::Overflow)
        );
        assert_eq!(
            sub(&h(&[-65504.0]), &h(&[65504.0])),
            Err(VectorError::Overflow)
        );
        assert_eq!(
            mul(&h(&[65504.0]), &h(&[65504.0])),
            Err(VectorError::Overflow)
        );
        assert_eq!(mul(&h(&[1e-7]), &h(&[1e-7])), Err(VectorError::Underflow));
        assert_eq!(mul(&h(&[0.0]), &h(&[1e-7])).unwrap(), h(&[0.0]));
        assert_eq!(
            add(&h(&[1.0]), &h(&[1.0, 2.0])),
            Err(VectorError::DifferentDimensions { a: 1, b: 2 })
        );
        assert_eq!(l2_normalize(&h(&[3.0, 4.0])).unwrap(), h(&[0.6, 0.8]));
        assert_eq!(l2_normalize(&h(&[65504.0])).unwrap(), h(&[1.0]));
        assert_eq!(compare(&h(&[1.0, 2.0]), &h(&[1.0])), Ordering::Greater);
        assert_eq!(
            subvector(&h(&[1.0, 2.0, 3.0]), 2, 5).unwrap(),
            h(&[2.0, 3.0])
        );
    }
}
