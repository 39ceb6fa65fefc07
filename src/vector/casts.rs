//! Casts between `vector`, arrays and `vector(n)`.

use super::datum::{Vector, VectorLayout};
use crate::error::OrRaise;
use crate::pg::from_array::{array_values, numeric_to_f32};
use pgrx::prelude::*;
use pgrx::AnyNumeric;
use vectorcore::check;

/// Builds a vector from a SQL array with pgvector's checks, in its order:
/// 1-D, no NULLs, dimension bounds, typmod, then finite elements.
fn from_array<T: pgrx::datum::UnboxDatum, R>(
    arr: Array<'_, T>,
    typmod: i32,
    extract: impl Fn(T::As<'_>) -> R,
    convert: impl Fn(R) -> f32,
) -> Vector {
    let values: Vec<f32> = array_values::<VectorLayout, T, R>(arr, typmod, extract)
        .into_iter()
        .map(convert)
        .collect();
    for v in &values {
        check::element(*v).or_raise();
    }
    Vector::from_slice(&values)
}

/// `integer[]` to `vector`.
#[pg_extern(immutable, strict, parallel_safe, name = "array_to_vector", requires = ["vector_type"])]
fn int_array_to_vector(arr: Array<i32>, typmod: i32, _explicit: bool) -> Vector {
    from_array(arr, typmod, |x| x, |x| x as f32)
}

/// `real[]` to `vector`.
#[pg_extern(immutable, strict, parallel_safe, name = "array_to_vector", requires = ["vector_type"])]
fn float4_array_to_vector(arr: Array<f32>, typmod: i32, _explicit: bool) -> Vector {
    from_array(arr, typmod, |x| x, |x| x)
}

/// `double precision[]` to `vector`.
#[pg_extern(immutable, strict, parallel_safe, name = "array_to_vector", requires = ["vector_type"])]
fn float8_array_to_vector(arr: Array<f64>, typmod: i32, _explicit: bool) -> Vector {
    from_array(arr, typmod, |x| x, |x| x as f32)
}

/// `numeric[]` to `vector`.
#[pg_extern(immutable, strict, parallel_safe, name = "array_to_vector", requires = ["vector_type"])]
fn numeric_array_to_vector(arr: Array<AnyNumeric>, typmod: i32, _explicit: bool) -> Vector {
    from_array(arr, typmod, |x| x, numeric_to_f32)
}

/// `vector` to `real[]`.
#[pg_extern(immutable, strict, parallel_safe, requires = ["vector_type"])]
fn vector_to_float4(v: Vector, _typmod: i32, _explicit: bool) -> Vec<f32> {
    v.as_slice().to_vec()
}

/// Length coercion `vector` to `vector(n)`: enforces the typmod.
#[pg_extern(immutable, strict, parallel_safe, name = "vector", requires = ["vector_type"])]
fn vector_typmod_cast(v: Vector, typmod: i32, _explicit: bool) -> Vector {
    check::expected_dim(typmod, v.dim()).or_raise();
    v
}

pgrx::extension_sql!(
    r#"
CREATE CAST (vector AS vector) WITH FUNCTION vector(vector, integer, boolean) AS IMPLICIT;
CREATE CAST (vector AS real[]) WITH FUNCTION vector_to_float4(vector, integer, boolean) AS IMPLICIT;
CREATE CAST (integer[] AS vector) WITH FUNCTION array_to_vector(integer[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (real[] AS vector) WITH FUNCTION array_to_vector(real[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (double precision[] AS vector) WITH FUNCTION array_to_vector(double precision[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (numeric[] AS vector) WITH FUNCTION array_to_vector(numeric[], integer, boolean) AS ASSIGNMENT;
"#,
    name = "vector_casts",
    requires = [
        vector_typmod_cast,
        vector_to_float4,
        int_array_to_vector,
        float4_array_to_vector,
        float8_array_to_vector,
        numeric_array_to_vector
    ],
);
