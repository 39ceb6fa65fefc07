//! SQL functions on `halfvec` other than its distances: normalisation,
//! subvector, arithmetic, concatenation and the btree comparisons. The math
//! is the dense types' shared code (`vectorcore::arith`, generic over the
//! element), computed in float4 and rounded to f16 as pgvector does.

use super::datum::Halfvec;
use crate::bit::Bit;
use crate::error::OrRaise;
use pgrx::prelude::*;
use vectorcore::arith;
use vectorcore::halfvec::HalfvecError;
use vectorcore::{element, VectorError};

/// The value of a shared operation, or its error worded for halfvec.
pub(crate) fn half<T>(r: Result<T, VectorError>) -> T {
    r.map_err(HalfvecError).or_raise()
}

/// The vector scaled to unit length (a zero vector stays zero).
#[pg_extern(immutable, strict, parallel_safe, name = "l2_normalize", requires = ["halfvec_type"])]
fn halfvec_l2_normalize(a: Halfvec) -> Halfvec {
    Halfvec::from_slice(&half(arith::l2_normalize(a.as_slice())))
}

/// Binary quantisation: bit i set where element i is positive.
#[pg_extern(immutable, strict, parallel_safe, name = "binary_quantize", requires = ["halfvec_type"])]
fn halfvec_binary_quantize(a: Halfvec) -> Bit {
    let x = element::widen(a.as_slice());
    Bit::from_bytes(&distance::bits::binary_quantize(&x), x.len())
}

/// `count` elements from 1-based `start`, like substring.
#[pg_extern(immutable, strict, parallel_safe, name = "subvector", requires = ["halfvec_type"])]
fn halfvec_subvector(a: Halfvec, start: i32, count: i32) -> Halfvec {
    Halfvec::from_slice(&half(arith::subvector(a.as_slice(), start, count)))
}

/// Element-wise sum, `+`.
#[pg_extern(immutable, strict, parallel_safe, requires = ["halfvec_type"])]
fn halfvec_add(a: Halfvec, b: Halfvec) -> Halfvec {
    Halfvec::from_slice(&half(arith::add(a.as_slice(), b.as_slice())))
}

/// Element-wise difference, `-`.
#[pg_extern(immutable, strict, parallel_safe, requires = ["halfvec_type"])]
fn halfvec_sub(a: Halfvec, b: Halfvec) -> Halfvec {
    Halfvec::from_slice(&half(arith::sub(a.as_slice(), b.as_slice())))
}

/// Element-wise product, `*`.
#[pg_extern(immutable, strict, parallel_safe, requires = ["halfvec_type"])]
fn halfvec_mul(a: Halfvec, b: Halfvec) -> Halfvec {
    Halfvec::from_slice(&half(arith::mul(a.as_slice(), b.as_slice())))
}

/// Concatenation, `||`.
#[pg_extern(immutable, strict, parallel_safe, requires = ["halfvec_type"])]
fn halfvec_concat(a: Halfvec, b: Halfvec) -> Halfvec {
    Halfvec::from_slice(&half(arith::concat(a.as_slice(), b.as_slice())))
}

/// btree comparison: -1, 0 or 1.
#[pg_extern(immutable, strict, parallel_safe, requires = ["halfvec_type"])]
fn halfvec_cmp(a: Halfvec, b: Halfvec) -> i32 {
    arith::compare(a.as_slice(), b.as_slice()) as i32
}

/// `<`.
#[pg_extern(immutable, strict, parallel_safe, requires = ["halfvec_type"])]
fn halfvec_lt(a: Halfvec, b: Halfvec) -> bool {
    arith::compare(a.as_slice(), b.as_slice()).is_lt()
}

/// `<=`.
#[pg_extern(immutable, strict, parallel_safe, requires = ["halfvec_type"])]
fn halfvec_le(a: Halfvec, b: Halfvec) -> bool {
    arith::compare(a.as_slice(), b.as_slice()).is_le()
}

/// `=`.
#[pg_extern(immutable, strict, parallel_safe, requires = ["halfvec_type"])]
fn halfvec_eq(a: Halfvec, b: Halfvec) -> bool {
    arith::compare(a.as_slice(), b.as_slice()).is_eq()
}

/// `<>`.
#[pg_extern(immutable, strict, parallel_safe, requires = ["halfvec_type"])]
fn halfvec_ne(a: Halfvec, b: Halfvec) -> bool {
    arith::compare(a.as_slice(), b.as_slice()).is_ne()
}

/// `>=`.
#[pg_extern(immutable, strict, parallel_safe, requires = ["halfvec_type"])]
fn halfvec_ge(a: Halfvec, b: Halfvec) -> bool {
    arith::compare(a.as_slice(), b.as_slice()).is_ge()
}

/// `>`.
#[pg_extern(immutable, strict, parallel_safe, requires = ["halfvec_type"])]
fn halfvec_gt(a: Halfvec, b: Halfvec) -> bool {
    arith::compare(a.as_slice(), b.as_slice()).is_gt()
}
