//! Casts of `halfvec`: its typmod coercion, and to and from `vector`.

use super::datum::Halfvec;
use crate::error::OrRaise;
use crate::vector::Vector;
use pgrx::prelude::*;
use vectorcore::halfvec::{self, f16};

/// Length coercion `halfvec` to `halfvec(n)`: enforces the typmod.
#[pg_extern(immutable, strict, parallel_safe, name = "halfvec", requires = ["halfvec_type"])]
fn halfvec_typmod_cast(v: Halfvec, typmod: i32, _explicit: bool) -> Halfvec {
    halfvec::expected_dim(typmod, v.dim()).or_raise();
    v
}

/// `halfvec` to `vector`: exact (every f16 is a float4).
#[pg_extern(immutable, strict, parallel_safe, requires = ["halfvec_type", "vector_type"])]
fn halfvec_to_vector(v: Halfvec, typmod: i32, _explicit: bool) -> Vector {
    vectorcore::check::expected_dim(typmod, v.dim()).or_raise();
    let values: Vec<f32> = v.as_slice().iter().map(|h| h.to_f32()).collect();
    Vector::from_slice(&values)
}

/// `vector` to `halfvec`: the nearest f16 of each element, "out of
/// range for type halfvec" where that is an infinity.
#[pg_extern(immutable, strict, parallel_safe, requires = ["halfvec_type", "vector_type"])]
fn vector_to_halfvec(v: Vector, typmod: i32, _explicit: bool) -> Halfvec {
    halfvec::expected_dim(typmod, v.dim()).or_raise();
    let values: Vec<f16> = v
        .as_slice()
        .iter()
        .map(|&x| halfvec::from_f32(x).or_raise())
        .collect();
    Halfvec::from_slice(&values)
}

pgrx::extension_sql!(
    r#"
CREATE CAST (halfvec AS halfvec) WITH FUNCTION halfvec(halfvec, integer, boolean) AS IMPLICIT;
CREATE CAST (halfvec AS vector) WITH FUNCTION halfvec_to_vector(halfvec, integer, boolean) AS ASSIGNMENT;
CREATE CAST (vector AS halfvec) WITH FUNCTION vector_to_halfvec(vector, integer, boolean) AS IMPLICIT;
"#,
    name = "halfvec_casts",
    requires = [halfvec_typmod_cast, halfvec_to_vector, vector_to_halfvec],
);
