//! SQL arrays (`integer[]`, `real[]`, `double precision[]`, `numeric[]`)
//! read as the elements of a new vector-like value, with pgvector's checks
//! in its order: 1-D, no NULLs, the type's dimension bounds, the typmod,
//! and only then each element's conversion (which may raise: `numeric`
//! past float4) and the type's element checks.

use super::varlena::VarlenaLayout;
use crate::error::{raise, OrRaise};
use pgrx::prelude::*;
use pgrx::{AnyNumeric, PgSqlErrorCode};

/// The elements of `arr`, as `extract` copies them out, checked for a
/// value of layout `L` with `typmod`.
pub fn array_values<L: VarlenaLayout, T: pgrx::datum::UnboxDatum, R>(
    arr: Array<'_, T>,
    typmod: i32,
    extract: impl Fn(T::As<'_>) -> R,
) -> Vec<R> {
    let has_nulls = arr.contains_nulls();
    let values: Vec<R> = arr.iter().flatten().map(extract).collect();
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
    L::check_len(n);
    vectorcore::check::expected_dim(typmod, n).or_raise();
    values
}

/// A `numeric` as float4, by Postgres' own cast (`numeric_float4`): its
/// "out of range for type real" ERROR past float4 in either direction.
pub fn numeric_to_f32(x: AnyNumeric) -> f32 {
    // SAFETY: numeric_float4 takes one non-null numeric datum and returns
    // a float4 datum or raises an ERROR.
    unsafe { pgrx::direct_function_call::<f32>(pg_sys::numeric_float4, &[x.into_datum()]) }
        .expect("numeric_float4 returns a value")
}
