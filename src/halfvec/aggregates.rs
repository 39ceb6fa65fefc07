//! `avg(halfvec)` and `sum(halfvec)`.
//!
//! The avg state is vector's (`crate::vector::aggregates`): a `double
//! precision[]` of `[n, sum_1, ..., sum_dim]`, validated the same way
//! (`vectorcore::avg_state`) before it is used; only the final function
//! differs, rounding each mean to f16 with halfvec's checks.

use super::datum::Halfvec;
use super::functions::half;
use crate::error::OrRaise;
use crate::vector::aggregates::checked_state;
use pgrx::prelude::*;
use vectorcore::{avg_state, halfvec};

/// Transition function of `avg(halfvec)`.
#[pg_extern(immutable, strict, parallel_safe, requires = ["halfvec_type"])]
fn halfvec_accum(state: Array<f64>, v: Halfvec) -> Vec<f64> {
    let s = checked_state(state, "halfvec_accum");
    half(avg_state::accum(&s, v.as_slice()))
}

/// Combine function of `avg(halfvec)` for parallel aggregation: vector's
/// (pgvector declares it with `vector_combine`'s C function, so its
/// errors name `vector_combine`, as here).
#[pg_extern(immutable, strict, parallel_safe)]
fn halfvec_combine(a: Array<f64>, b: Array<f64>) -> Vec<f64> {
    let a = checked_state(a, "vector_combine");
    let b = checked_state(b, "vector_combine");
    avg_state::combine(&a, &b).or_raise()
}

/// Final function of `avg(halfvec)`: sums divided by n, NULL for no rows.
#[pg_extern(immutable, strict, parallel_safe, requires = ["halfvec_type"])]
fn halfvec_avg(state: Array<f64>) -> Option<Halfvec> {
    let s = checked_state(state, "halfvec_avg");
    avg_state::finish_with(&s, halfvec::avg_element)
        .or_raise()
        .map(|values| Halfvec::from_slice(&values))
}

pgrx::extension_sql!(
    r#"
CREATE AGGREGATE avg(halfvec) (
    SFUNC = halfvec_accum,
    STYPE = double precision[],
    FINALFUNC = halfvec_avg,
    COMBINEFUNC = halfvec_combine,
    INITCOND = '{0}',
    PARALLEL = SAFE
);
CREATE AGGREGATE sum(halfvec) (
    SFUNC = halfvec_add,
    STYPE = halfvec,
    COMBINEFUNC = halfvec_add,
    PARALLEL = SAFE
);
"#,
    name = "halfvec_aggregates",
    requires = [halfvec_accum, halfvec_combine, halfvec_avg, halfvec_add],
);
