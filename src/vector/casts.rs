//! Casts between `vector`, arrays and `vector(n)`.

use super::datum::Vector;
use crate::error::{raise, OrRaise};
use pgrx::prelude::*;
use pgrx::{AnyNumeric, PgSqlErrorCode};
use vectorcore::check;

/// Builds a vector from a SQL array with pgvector's checks, in its order:
/// 1-D, no NULLs, dimension bounds, typmod, then finite elements.
fn from_array<T: pgrx::datum::UnboxDatum>(
    arr: Array<'_, T>,
    typmod: i32,
    convert: impl Fn(T::As<'_>) -> f32,
) -> Vector {
    let has_nulls = arr.contains_nulls();
    let values: Vec<f32> = arr.iter().flatten().map(convert).collect();
    let n = arr.len();
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
    check::dim(n).or_raise();
    check::expected_dim(typmod, n).or_raise();
    for v in &values {
        check::element(*v).or_raise();
    }
    Vector::from_slice(&values)
}

/// `integer[]` to `vector`.
#[pg_extern(immutable, strict, parallel_safe, name = "array_to_vector", requires = ["vector_type"])]
fn int_array_to_vector(arr: Array<i32>, typmod: i32, _explicit: bool) -> Vector {
    from_array(arr, typmod, |x| x as f32)
}

/// `real[]` to `vector`.
#[pg_extern(immutable, strict, parallel_safe, name = "array_to_vector", requires = ["vector_type"])]
fn float4_array_to_vector(arr: Array<f32>, typmod: i32, _explicit: bool) -> Vector {
    from_array(arr, typmod, |x| x)
}

/// `double precision[]` to `vector`.
#[pg_extern(immutable, strict, parallel_safe, name = "array_to_vector", requires = ["vector_type"])]
fn float8_array_to_vector(arr: Array<f64>, typmod: i32, _explicit: bool) -> Vector {
    from_array(arr, typmod, |x| x as f32)
}

/// `numeric[]` to `vector`.
#[pg_extern(immutable, strict, parallel_safe, name = "array_to_vector", requires = ["vector_type"])]
fn numeric_array_to_vector(arr: Array<AnyNumeric>, typmod: i32, _explicit: bool) -> Vector {
    from_array(arr, typmod, |x| {
        x.to_string().parse::<f32>().unwrap_or(f32::NAN)
    })
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
