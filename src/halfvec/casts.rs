//! Casts of `halfvec`: its typmod coercion, to and from `vector`, from
//! `integer[]`, `real[]`, `double precision[]` and `numeric[]`, to `real[]`.

use super::datum::{Halfvec, HalfvecLayout};
use crate::error::OrRaise;
use crate::pg::from_array::{array_values, numeric_to_f32};
use crate::vector::Vector;
use pgrx::prelude::*;
use pgrx::AnyNumeric;
use vectorcore::halfvec;

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
    let mut values = Vec::new();
    distance::half::decode_into(halfvec::bits(v.as_slice()), 1.0, &mut values);
    Vector::from_slice(&values)
}

/// `vector` to `halfvec`: the nearest f16 of each element, "out of
/// range for type halfvec" where that is an infinity.
#[pg_extern(immutable, strict, parallel_safe, requires = ["halfvec_type", "vector_type"])]
fn vector_to_halfvec(v: Vector, typmod: i32, _explicit: bool) -> Halfvec {
    halfvec::expected_dim(typmod, v.dim()).or_raise();
    thread_local! {
        /// The last values cast (see [`halfvec::LastNarrowed`]): the query
        /// of a generic plan is cast again for every row it meets.
        static LAST: std::cell::RefCell<halfvec::LastNarrowed> =
            const { std::cell::RefCell::new(halfvec::LastNarrowed::new()) };
    }
    LAST.with_borrow_mut(|last| Halfvec::from_slice(last.narrow(v.as_slice()).or_raise()))
}

/// Builds a halfvec from a SQL array with pgvector's checks, in its order:
/// 1-D, no NULLs, dimension bounds, typmod, each value rounded to f16
/// ("out of range"), then finite elements.
fn from_array<T: pgrx::datum::UnboxDatum, R>(
    arr: Array<'_, T>,
    typmod: i32,
    extract: impl Fn(T::As<'_>) -> R,
    convert: impl Fn(R) -> f32,
) -> Halfvec {
    let values: Vec<f32> = array_values::<HalfvecLayout, T, R>(arr, typmod, extract)
        .into_iter()
        .map(convert)
        .collect();
    Halfvec::from_slice(&halfvec::from_floats(&values).or_raise())
}

/// `integer[]` to `halfvec`.
#[pg_extern(immutable, strict, parallel_safe, name = "array_to_halfvec", requires = ["halfvec_type"])]
fn int_array_to_halfvec(arr: Array<i32>, typmod: i32, _explicit: bool) -> Halfvec {
    from_array(arr, typmod, |x| x, |x| x as f32)
}

/// `real[]` to `halfvec`.
#[pg_extern(immutable, strict, parallel_safe, name = "array_to_halfvec", requires = ["halfvec_type"])]
fn float4_array_to_halfvec(arr: Array<f32>, typmod: i32, _explicit: bool) -> Halfvec {
    from_array(arr, typmod, |x| x, |x| x)
}

/// `double precision[]` to `halfvec`.
#[pg_extern(immutable, strict, parallel_safe, name = "array_to_halfvec", requires = ["halfvec_type"])]
fn float8_array_to_halfvec(arr: Array<f64>, typmod: i32, _explicit: bool) -> Halfvec {
    from_array(arr, typmod, |x| x, |x| x as f32)
}

/// `numeric[]` to `halfvec`.
#[pg_extern(immutable, strict, parallel_safe, name = "array_to_halfvec", requires = ["halfvec_type"])]
fn numeric_array_to_halfvec(arr: Array<AnyNumeric>, typmod: i32, _explicit: bool) -> Halfvec {
    from_array(arr, typmod, |x| x, numeric_to_f32)
}

/// `halfvec` to `real[]` (exact).
#[pg_extern(immutable, strict, parallel_safe, requires = ["halfvec_type"])]
fn halfvec_to_float4(v: Halfvec, _typmod: i32, _explicit: bool) -> Vec<f32> {
    v.as_slice().iter().map(|h| h.to_f32()).collect()
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

pgrx::extension_sql!(
    r#"
CREATE CAST (halfvec AS real[]) WITH FUNCTION halfvec_to_float4(halfvec, integer, boolean) AS ASSIGNMENT;
CREATE CAST (integer[] AS halfvec) WITH FUNCTION array_to_halfvec(integer[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (real[] AS halfvec) WITH FUNCTION array_to_halfvec(real[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (double precision[] AS halfvec) WITH FUNCTION array_to_halfvec(double precision[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (numeric[] AS halfvec) WITH FUNCTION array_to_halfvec(numeric[], integer, boolean) AS ASSIGNMENT;
"#,
    name = "halfvec_array_casts",
    requires = [
        halfvec_to_float4,
        int_array_to_halfvec,
        float4_array_to_halfvec,
        float8_array_to_halfvec,
        numeric_array_to_halfvec
    ],
);
