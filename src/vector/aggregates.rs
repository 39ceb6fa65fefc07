//! `avg(vector)` and `sum(vector)`.
//!
//! The avg state is a `double precision[]` of `[n, sum_1, ..., sum_dim]`,
//! pgvector's layout, so partial aggregates combine across parallel workers.

use super::datum::Vector;
use crate::error::{raise, OrRaise};
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;
use vectorcore::check;

/// Adds `b` into the running sums `a` (both `[n, sums...]`).
fn add_state(mut a: Vec<f64>, b: &[f64]) -> Vec<f64> {
    if a[0] == 0.0 {
        return b.to_vec();
    }
    if b[0] == 0.0 {
        return a;
    }
    check::expected_dim(a.len() as i32 - 1, b.len() - 1).or_raise();
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
        if x.is_infinite() {
            raise(
                PgSqlErrorCode::ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                "value out of range: overflow",
                None,
            );
        }
    }
    a
}

/// Transition function of `avg(vector)`.
#[pg_extern(immutable, strict, parallel_safe, requires = ["vector_type"])]
fn vector_accum(state: Vec<f64>, v: Vector) -> Vec<f64> {
    let mut one = Vec::with_capacity(v.dim() + 1);
    one.push(1.0);
    one.extend(v.as_slice().iter().map(|&x| x as f64));
    add_state(state, &one)
}

/// Combine function of `avg(vector)` for parallel aggregation.
#[pg_extern(immutable, strict, parallel_safe)]
fn vector_combine(a: Vec<f64>, b: Vec<f64>) -> Vec<f64> {
    add_state(a, &b)
}

/// Final function of `avg(vector)`: sums divided by n, NULL for no rows.
#[pg_extern(immutable, strict, parallel_safe, requires = ["vector_type"])]
fn vector_avg(state: Vec<f64>) -> Option<Vector> {
    let n = state[0];
    if n == 0.0 {
        return None;
    }
    let values: Vec<f32> = state[1..].iter().map(|s| (s / n) as f32).collect();
    for v in &values {
        check::element(*v).or_raise();
    }
    Some(Vector::from_slice(&values))
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
