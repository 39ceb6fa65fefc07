//! `sparsevec`'s distance functions, norms, comparisons, operators and
//! btree operator class (pgvector's names; the kernels are in
//! `vectorcore::sparsevec`).

use super::datum::Sparsevec;
use crate::error::OrRaise;
use pgrx::prelude::*;
use vectorcore::sparsevec::{self as sv, SparseRef};

/// Runs a distance after pgvector's different-dimensions check.
fn distance(a: &Sparsevec, b: &Sparsevec, f: fn(SparseRef<'_>, SparseRef<'_>) -> f64) -> f64 {
    let (a, b) = (a.sparse(), b.sparse());
    sv::same_dims(a, b).or_raise();
    f(a, b)
}

/// Euclidean distance (`<->`).
#[pg_extern(immutable, strict, parallel_safe, name = "l2_distance", requires = ["sparsevec_type"])]
fn sparsevec_l2_distance(a: Sparsevec, b: Sparsevec) -> f64 {
    distance(&a, &b, sv::l2_distance)
}

/// Inner product.
#[pg_extern(immutable, strict, parallel_safe, name = "inner_product", requires = ["sparsevec_type"])]
fn sparsevec_inner_product(a: Sparsevec, b: Sparsevec) -> f64 {
    distance(&a, &b, sv::inner_product)
}

/// Cosine distance (`<=>`).
#[pg_extern(immutable, strict, parallel_safe, name = "cosine_distance", requires = ["sparsevec_type"])]
fn sparsevec_cosine_distance(a: Sparsevec, b: Sparsevec) -> f64 {
    distance(&a, &b, sv::cosine_distance)
}

/// Taxicab distance (`<+>`).
#[pg_extern(immutable, strict, parallel_safe, name = "l1_distance", requires = ["sparsevec_type"])]
fn sparsevec_l1_distance(a: Sparsevec, b: Sparsevec) -> f64 {
    distance(&a, &b, sv::l1_distance)
}

/// Squared Euclidean distance (support function 1 of `sparsevec_l2_ops`).
#[pg_extern(immutable, strict, parallel_safe, requires = ["sparsevec_type"])]
fn sparsevec_l2_squared_distance(a: Sparsevec, b: Sparsevec) -> f64 {
    distance(&a, &b, sv::l2_squared_distance)
}

/// Negative inner product (`<#>`).
#[pg_extern(immutable, strict, parallel_safe, requires = ["sparsevec_type"])]
fn sparsevec_negative_inner_product(a: Sparsevec, b: Sparsevec) -> f64 {
    distance(&a, &b, sv::negative_inner_product)
}

/// Euclidean norm.
#[pg_extern(immutable, strict, parallel_safe, name = "l2_norm", requires = ["sparsevec_type"])]
pub fn sparsevec_l2_norm(a: Sparsevec) -> f64 {
    sv::l2_norm(a.sparse())
}

/// The vector divided by its Euclidean norm (a zero vector unchanged).
#[pg_extern(immutable, strict, parallel_safe, name = "l2_normalize", requires = ["sparsevec_type"])]
fn sparsevec_l2_normalize(a: Sparsevec) -> Sparsevec {
    Sparsevec::new(&sv::l2_normalize(a.sparse()).or_raise())
}

/// pgvector's btree order of two values.
fn order(a: &Sparsevec, b: &Sparsevec) -> core::cmp::Ordering {
    sv::cmp(a.sparse(), b.sparse())
}

/// `<`.
#[pg_extern(immutable, strict, parallel_safe, requires = ["sparsevec_type"])]
fn sparsevec_lt(a: Sparsevec, b: Sparsevec) -> bool {
    order(&a, &b).is_lt()
}

/// `<=`.
#[pg_extern(immutable, strict, parallel_safe, requires = ["sparsevec_type"])]
fn sparsevec_le(a: Sparsevec, b: Sparsevec) -> bool {
    order(&a, &b).is_le()
}

/// `=`.
#[pg_extern(immutable, strict, parallel_safe, requires = ["sparsevec_type"])]
fn sparsevec_eq(a: Sparsevec, b: Sparsevec) -> bool {
    order(&a, &b).is_eq()
}

/// `<>`.
#[pg_extern(immutable, strict, parallel_safe, requires = ["sparsevec_type"])]
fn sparsevec_ne(a: Sparsevec, b: Sparsevec) -> bool {
    order(&a, &b).is_ne()
}

/// `>=`.
#[pg_extern(immutable, strict, parallel_safe, requires = ["sparsevec_type"])]
fn sparsevec_ge(a: Sparsevec, b: Sparsevec) -> bool {
    order(&a, &b).is_ge()
}

/// `>`.
#[pg_extern(immutable, strict, parallel_safe, requires = ["sparsevec_type"])]
fn sparsevec_gt(a: Sparsevec, b: Sparsevec) -> bool {
    order(&a, &b).is_gt()
}

/// Comparison function of the btree operator class: -1, 0 or 1.
#[pg_extern(immutable, strict, parallel_safe, requires = ["sparsevec_type"])]
fn sparsevec_cmp(a: Sparsevec, b: Sparsevec) -> i32 {
    order(&a, &b) as i32
}

pgrx::extension_sql!(
    r#"
CREATE OPERATOR <-> (LEFTARG = sparsevec, RIGHTARG = sparsevec, PROCEDURE = l2_distance, COMMUTATOR = '<->');
CREATE OPERATOR <#> (LEFTARG = sparsevec, RIGHTARG = sparsevec, PROCEDURE = sparsevec_negative_inner_product, COMMUTATOR = '<#>');
CREATE OPERATOR <=> (LEFTARG = sparsevec, RIGHTARG = sparsevec, PROCEDURE = cosine_distance, COMMUTATOR = '<=>');
CREATE OPERATOR <+> (LEFTARG = sparsevec, RIGHTARG = sparsevec, PROCEDURE = l1_distance, COMMUTATOR = '<+>');
CREATE OPERATOR < (LEFTARG = sparsevec, RIGHTARG = sparsevec, PROCEDURE = sparsevec_lt,
    COMMUTATOR = >, NEGATOR = >=, RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR <= (LEFTARG = sparsevec, RIGHTARG = sparsevec, PROCEDURE = sparsevec_le,
    COMMUTATOR = >=, NEGATOR = >, RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR = (LEFTARG = sparsevec, RIGHTARG = sparsevec, PROCEDURE = sparsevec_eq,
    COMMUTATOR = =, NEGATOR = <>, RESTRICT = eqsel, JOIN = eqjoinsel);
CREATE OPERATOR <> (LEFTARG = sparsevec, RIGHTARG = sparsevec, PROCEDURE = sparsevec_ne,
    COMMUTATOR = <>, NEGATOR = =, RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR >= (LEFTARG = sparsevec, RIGHTARG = sparsevec, PROCEDURE = sparsevec_ge,
    COMMUTATOR = <=, NEGATOR = <, RESTRICT = scalargesel, JOIN = scalargejoinsel);
CREATE OPERATOR > (LEFTARG = sparsevec, RIGHTARG = sparsevec, PROCEDURE = sparsevec_gt,
    COMMUTATOR = <, NEGATOR = <=, RESTRICT = scalargtsel, JOIN = scalargtjoinsel);
CREATE OPERATOR CLASS sparsevec_ops DEFAULT FOR TYPE sparsevec USING btree AS
    OPERATOR 1 <,
    OPERATOR 2 <=,
    OPERATOR 3 =,
    OPERATOR 4 >=,
    OPERATOR 5 >,
    FUNCTION 1 sparsevec_cmp(sparsevec, sparsevec);
"#,
    name = "sparsevec_operators",
    requires = [
        sparsevec_l2_distance,
        sparsevec_negative_inner_product,
        sparsevec_cosine_distance,
        sparsevec_l1_distance,
        sparsevec_lt,
        sparsevec_le,
        sparsevec_eq,
        sparsevec_ne,
        sparsevec_ge,
        sparsevec_gt,
        sparsevec_cmp
    ],
);
