//! `avg(vector)` and `sum(vector)`.
//!
//! The avg state is a `double precision[]` of `[n, sum_1, ..., sum_dim]`,
//! pgvector's layout, so partial aggregates combine across parallel workers.
//! The support functions are callable from SQL with any such array: each
//! validates its states first (`vectorcore::avg_state`).

use super::datum::Vector;
use crate::error::OrRaise;
use pgrx::prelude::*;
use vectorcore::avg_state::{self, ArrayShape};

/// The elements of a state array, refused unless 1-D, non-empty and free of
/// NULLs (`<caller>: expected state array`).
pub(crate) fn checked_state(arr: Array<'_, f64>, caller: &'static str) -> Vec<f64> {
    let has_nulls = arr.contains_nulls();
    let values: Vec<f64> = arr.iter().flatten().collect();
    // SAFETY: the pointer is the detoasted array this `Array` wraps.
    let ndim = unsafe { (*arr.into_array_type()).ndim };
    avg_state::check_state(caller, ArrayShape { ndim, has_nulls }, &values).or_raise();
    values
}

/// Transition function of `avg(vector)`.
#[pg_extern(immutable, strict, parallel_safe, requires = ["vector_type"])]
fn vector_accum(state: Array<f64>, v: Vector) -> Vec<f64> {
    let s = checked_state(state, "vector_accum");
    avg_state::accum(&s, v.as_slice()).or_raise()
}

/// Combine function of `avg(vector)` for parallel aggregation.
#[pg_extern(immutable, strict, parallel_safe)]
fn vector_combine(a: Array<f64>, b: Array<f64>) -> Vec<f64> {
    let a = checked_state(a, "vector_combine");
    let b = checked_state(b, "vector_combine");
    avg_state::combine(&a, &b).or_raise()
}

/// Final function of `avg(vector)`: sums divided by n, NULL for no rows.
#[pg_extern(immutable, strict, parallel_safe, requires = ["vector_type"])]
fn vector_avg(state: Array<f64>) -> Option<Vector> {
    let s = checked_state(state, "vector_avg");
    avg_state::finish(&s)
        .or_raise()
        .map(|values| Vector::from_slice(&values))
}

pgrx::extension_sql!(
    r#"
CREATE AGGREGATE avg(vector) (
    SFUNC = vector_accum,
    STYPE = double precision[],
    FINALFUNC = vector_avg,
    COMBINEFUNC = vector_combine,
    INITCOND = '{0}',
    PARALLEL = SAFE
);
CREATE AGGREGATE sum(vector) (
    SFUNC = vector_add,
    STYPE = vector,
    COMBINEFUNC = vector_add,
    PARALLEL = SAFE
);
"#,
    name = "vector_aggregates",
    requires = [vector_accum, vector_combine, vector_avg, vector_add],
);
