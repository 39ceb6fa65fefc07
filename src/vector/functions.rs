//! SQL functions on vectors: distances, properties, arithmetic, comparison.
//!
//! Every function is a thin wrapper: dimension checks and math live in the
//! pure crates `vectorcore` and `distance`.

use super::datum::Vector;
use super::datum::VectorArg;
use crate::bit::Bit;
use crate::error::OrRaise;
use pgrx::prelude::*;
use vectorcore::arith;

// The distance functions behind the operators and the index opclasses are
// in `fmgr.rs` (called by the executor without pgrx's per-call wrapper);
// here is their math, on two slices of equal length.

/// Euclidean distance, `<->` (`l2_distance`).
pub fn l2_distance(x: &[f32], y: &[f32]) -> f64 {
    (distance::l2_squared(x, y) as f64).sqrt()
}

/// Squared Euclidean distance: the L2 index opclass's support function.
pub fn vector_l2_squared_distance(x: &[f32], y: &[f32]) -> f64 {
    distance::l2_squared(x, y) as f64
}

/// Inner product.
pub fn inner_product(x: &[f32], y: &[f32]) -> f64 {
    distance::inner_product(x, y) as f64
}

/// Negative inner product, `<#>`.
pub fn vector_negative_inner_product(x: &[f32], y: &[f32]) -> f64 {
    -(distance::inner_product(x, y) as f64)
}

/// Cosine distance, `<=>`.
pub fn cosine_distance(x: &[f32], y: &[f32]) -> f64 {
    distance::cosine_distance(x, y)
}

/// Angular distance on the unit sphere, as pgvector's spherical distance.
pub fn vector_spherical_distance(x: &[f32], y: &[f32]) -> f64 {
    let dot = (distance::inner_product(x, y) as f64).clamp(-1.0, 1.0);
    dot.acos() / std::f64::consts::PI
}

/// Manhattan distance, `<+>`.
pub fn l1_distance(x: &[f32], y: &[f32]) -> f64 {
    distance::l1(x, y) as f64
}

/// Number of dimensions.
#[pg_extern(immutable, strict, parallel_safe, requires = ["vector_type"])]
pub fn vector_dims(a: Vector) -> i32 {
    a.dim() as i32
}

/// Euclidean norm.
#[pg_extern(immutable, strict, parallel_safe, requires = ["vector_type"])]
pub fn vector_norm(a: VectorArg) -> f64 {
    distance::norm(a.as_slice())
}

/// The vector scaled to unit length (a zero vector stays zero).
#[pg_extern(immutable, strict, parallel_safe, requires = ["vector_type"])]
pub fn l2_normalize(a: Vector) -> Vector {
    Vector::from_slice(&arith::l2_normalize(a.as_slice()).or_raise())
}

/// Binary quantisation: bit i set where element i is positive.
#[pg_extern(immutable, strict, parallel_safe, requires = ["vector_type"])]
pub fn binary_quantize(a: VectorArg) -> Bit {
    let x = a.as_slice();
    Bit::from_bytes(&distance::bits::binary_quantize(x), x.len())
}

/// `count` elements from 1-based `start`, like substring.
#[pg_extern(immutable, strict, parallel_safe, requires = ["vector_type"])]
pub fn subvector(a: Vector, start: i32, count: i32) -> Vector {
    Vector::from_slice(&arith::subvector(a.as_slice(), start, count).or_raise())
}

/// Element-wise sum, `+`.
#[pg_extern(immutable, strict, parallel_safe, requires = ["vector_type"])]
pub fn vector_add(a: Vector, b: Vector) -> Vector {
    Vector::from_slice(&arith::add(a.as_slice(), b.as_slice()).or_raise())
}

/// Element-wise difference, `-`.
#[pg_extern(immutable, strict, parallel_safe, requires = ["vector_type"])]
pub fn vector_sub(a: Vector, b: Vector) -> Vector {
    Vector::from_slice(&arith::sub(a.as_slice(), b.as_slice()).or_raise())
}

/// Element-wise product, `*`.
#[pg_extern(immutable, strict, parallel_safe, requires = ["vector_type"])]
pub fn vector_mul(a: Vector, b: Vector) -> Vector {
    Vector::from_slice(&arith::mul(a.as_slice(), b.as_slice()).or_raise())
}

/// Concatenation, `||`.
#[pg_extern(immutable, strict, parallel_safe, requires = ["vector_type"])]
pub fn vector_concat(a: Vector, b: Vector) -> Vector {
    Vector::from_slice(&arith::concat(a.as_slice(), b.as_slice()).or_raise())
}

/// btree comparison: -1, 0 or 1.
#[pg_extern(immutable, strict, parallel_safe, requires = ["vector_type"])]
pub fn vector_cmp(a: Vector, b: Vector) -> i32 {
    arith::compare(a.as_slice(), b.as_slice()) as i32
}

/// `<`.
#[pg_extern(immutable, strict, parallel_safe, requires = ["vector_type"])]
pub fn vector_lt(a: Vector, b: Vector) -> bool {
    arith::compare(a.as_slice(), b.as_slice()).is_lt()
}

/// `<=`.
#[pg_extern(immutable, strict, parallel_safe, requires = ["vector_type"])]
pub fn vector_le(a: Vector, b: Vector) -> bool {
    arith::compare(a.as_slice(), b.as_slice()).is_le()
}

/// `=`.
#[pg_extern(immutable, strict, parallel_safe, requires = ["vector_type"])]
pub fn vector_eq(a: Vector, b: Vector) -> bool {
    arith::compare(a.as_slice(), b.as_slice()).is_eq()
}

/// `<>`.
#[pg_extern(immutable, strict, parallel_safe, requires = ["vector_type"])]
pub fn vector_ne(a: Vector, b: Vector) -> bool {
    arith::compare(a.as_slice(), b.as_slice()).is_ne()
}

/// `>=`.
#[pg_extern(immutable, strict, parallel_safe, requires = ["vector_type"])]
pub fn vector_ge(a: Vector, b: Vector) -> bool {
    arith::compare(a.as_slice(), b.as_slice()).is_ge()
}

/// `>`.
#[pg_extern(immutable, strict, parallel_safe, requires = ["vector_type"])]
pub fn vector_gt(a: Vector, b: Vector) -> bool {
    arith::compare(a.as_slice(), b.as_slice()).is_gt()
}
