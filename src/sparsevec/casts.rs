//! Casts of `sparsevec`: its typmod coercion, to and from `vector` and
//! `halfvec`, and from `integer[]`, `real[]`, `double precision[]` and
//! `numeric[]` (pgvector 0.8's set).

use super::datum::Sparsevec;
use crate::error::{raise, OrRaise};
use crate::halfvec::Halfvec;
use crate::vector::Vector;
use pgrx::prelude::*;
use pgrx::{AnyNumeric, PgSqlErrorCode};
use vectorcore::halfvec::{self, f16};
use vectorcore::sparsevec as sv;

/// Length coercion `sparsevec` to `sparsevec(n)`: enforces the typmod.
#[pg_extern(immutable, strict, parallel_safe, name = "sparsevec", requires = ["sparsevec_type"])]
fn sparsevec_typmod_cast(v: Sparsevec, typmod: i32, _explicit: bool) -> Sparsevec {
    sv::expected_dim(typmod, i64::from(v.sparse_dim())).or_raise();
    v
}

/// `vector` to `sparsevec`: its non-zero elements.
#[pg_extern(immutable, strict, parallel_safe, requires = ["sparsevec_type", "vector_type"])]
fn vector_to_sparsevec(v: Vector, typmod: i32, _explicit: bool) -> Sparsevec {
    Sparsevec::new(&sv::from_dense(v.as_slice(), typmod).or_raise())
}

/// `sparsevec` to `vector`: dense, with vector's dimension limit.
#[pg_extern(immutable, strict, parallel_safe, requires = ["sparsevec_type", "vector_type"])]
fn sparsevec_to_vector(v: Sparsevec, typmod: i32, _explicit: bool) -> Vector {
    let s = v.sparse();
    vectorcore::check::dim(s.dim.max(0) as usize).or_raise();
    vectorcore::check::expected_dim(typmod, s.dim as usize).or_raise();
    Vector::from_slice(&sv::to_dense(s))
}

/// `halfvec` to `sparsevec`: its non-zero elements, exact.
#[pg_extern(immutable, strict, parallel_safe, requires = ["sparsevec_type", "halfvec_type"])]
fn halfvec_to_sparsevec(v: Halfvec, typmod: i32, _explicit: bool) -> Sparsevec {
    let values: Vec<f32> = v.as_slice().iter().map(|h| h.to_f32()).collect();
    Sparsevec::new(&sv::from_dense(&values, typmod).or_raise())
}

/// `sparsevec` to `halfvec`: dense, each value the nearest f16 ("out of
/// range for type halfvec" where that is an infinity).
#[pg_extern(immutable, strict, parallel_safe, requires = ["sparsevec_type", "halfvec_type"])]
fn sparsevec_to_halfvec(v: Sparsevec, typmod: i32, _explicit: bool) -> Halfvec {
    let s = v.sparse();
    halfvec::dim(i64::from(s.dim)).or_raise();
    halfvec::expected_dim(typmod, s.dim as usize).or_raise();
    let mut out = vec![f16::ZERO; s.dim as usize];
    for (&i, &x) in s.indices.iter().zip(s.values) {
        out[i as usize] = halfvec::from_f32(x).or_raise();
    }
    Halfvec::from_slice(&out)
}

/// Builds a sparsevec from a SQL array with pgvector's checks, in its
/// order: 1-D, no NULLs, dimensions, typmod, count, finite elements.
fn from_array<T: pgrx::datum::UnboxDatum>(
    arr: Array<'_, T>,
    typmod: i32,
    convert: impl Fn(T::As<'_>) -> f32,
) -> Sparsevec {
    let has_nulls = arr.contains_nulls();
    let values: Vec<f32> = arr.iter().flatten().map(convert).collect();
    // SAFETY: the pointer is the detoasted array this `Array` wraps.
    let ndim = unsafe { (*arr.into_array_type()).ndim };
    if ndim > 1 {
        raise(
            PgSqlErrorCode::ERRCODE_DATA_EXCEPTION,
            "array must be 1-D",
            None,
        );
    }
    if has_nulls {
        raise(
            PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED,
            "array must not contain nulls",
            None,
        );
    }
    let v = sv::from_dense(&values, typmod).or_raise();
    for &x in &v.values {
        sv::element(x).or_raise();
    }
    Sparsevec::new(&v)
}

/// `integer[]` to `sparsevec`.
#[pg_extern(immutable, strict, parallel_safe, name = "array_to_sparsevec", requires = ["sparsevec_type"])]
fn int_array_to_sparsevec(arr: Array<i32>, typmod: i32, _explicit: bool) -> Sparsevec {
    from_array(arr, typmod, |x| x as f32)
}

/// `real[]` to `sparsevec`.
#[pg_extern(immutable, strict, parallel_safe, name = "array_to_sparsevec", requires = ["sparsevec_type"])]
fn float4_array_to_sparsevec(arr: Array<f32>, typmod: i32, _explicit: bool) -> Sparsevec {
    from_array(arr, typmod, |x| x)
}

/// `double precision[]` to `sparsevec`.
#[pg_extern(immutable, strict, parallel_safe, name = "array_to_sparsevec", requires = ["sparsevec_type"])]
fn float8_array_to_sparsevec(arr: Array<f64>, typmod: i32, _explicit: bool) -> Sparsevec {
    from_array(arr, typmod, |x| x as f32)
}

/// `numeric[]` to `sparsevec`.
#[pg_extern(immutable, strict, parallel_safe, name = "array_to_sparsevec", requires = ["sparsevec_type"])]
fn numeric_array_to_sparsevec(arr: Array<AnyNumeric>, typmod: i32, _explicit: bool) -> Sparsevec {
    from_array(arr, typmod, |x| {
        x.to_string().parse::<f32>().unwrap_or(f32::NAN)
    })
}

pgrx::extension_sql!(
    r#"
CREATE CAST (sparsevec AS sparsevec) WITH FUNCTION sparsevec(sparsevec, integer, boolean) AS IMPLICIT;
CREATE CAST (sparsevec AS vector) WITH FUNCTION sparsevec_to_vector(sparsevec, integer, boolean) AS ASSIGNMENT;
CREATE CAST (vector AS sparsevec) WITH FUNCTION vector_to_sparsevec(vector, integer, boolean) AS IMPLICIT;
CREATE CAST (sparsevec AS halfvec) WITH FUNCTION sparsevec_to_halfvec(sparsevec, integer, boolean) AS ASSIGNMENT;
CREATE CAST (halfvec AS sparsevec) WITH FUNCTION halfvec_to_sparsevec(halfvec, integer, boolean) AS IMPLICIT;
CREATE CAST (integer[] AS sparsevec) WITH FUNCTION array_to_sparsevec(integer[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (real[] AS sparsevec) WITH FUNCTION array_to_sparsevec(real[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (double precision[] AS sparsevec) WITH FUNCTION array_to_sparsevec(double precision[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (numeric[] AS sparsevec) WITH FUNCTION array_to_sparsevec(numeric[], integer, boolean) AS ASSIGNMENT;
"#,
    name = "sparsevec_casts",
    requires = [
        sparsevec_typmod_cast,
        vector_to_sparsevec,
        sparsevec_to_vector,
        halfvec_to_sparsevec,
        sparsevec_to_halfvec,
        int_array_to_sparsevec,
        float4_array_to_sparsevec,
        float8_array_to_sparsevec,
        numeric_array_to_sparsevec
    ],
);
