//! `halfvec`'s distance functions, operators and size functions. The
//! distances are plain fmgr C functions (`crate::pg::distance_fn`) over the
//! f32 values of the halves, with vector's kernels (`vector::functions`),
//! so a halfvec distance is bit for bit the vector distance of its float4
//! values.

use super::datum::{HalfvecArg, HalfvecLayout};
use crate::distance_function;
use crate::vector::functions as f;
use pgrx::prelude::*;
use std::cell::RefCell;
use vectorcore::element::widen;
use vectorcore::halfvec::f16;

thread_local! {
    /// The float4 values of the two arguments of the last distance (reused:
    /// a scan calls the distance once a row).
    static WIDENED: RefCell<(Vec<f32>, Vec<f32>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// `kernel` on the float4 values of `x` and `y` (exact: F16C/AVX-512
/// conversions times 1.0, no allocation after the first call).
fn on_widened(x: &[f16], y: &[f16], kernel: fn(&[f32], &[f32]) -> f64) -> f64 {
    WIDENED.with(|w| {
        let (wx, wy) = &mut *w.borrow_mut();
        distance::half::decode_into(vectorcore::halfvec::bits(x), 1.0, wx);
        distance::half::decode_into(vectorcore::halfvec::bits(y), 1.0, wy);
        kernel(wx, wy)
    })
}

/// Defines `$name` as vector's kernel `$kernel` on the widened halves.
macro_rules! widened {
    ($name:ident, $kernel:path) => {
        /// The vector kernel of the same name on the float4 values.
        fn $name(x: &[f16], y: &[f16]) -> f64 {
            on_widened(x, y, $kernel)
        }
    };
}

widened!(l2_distance, f::l2_distance);
widened!(l2_squared_distance, f::vector_l2_squared_distance);
widened!(inner_product, f::inner_product);
widened!(negative_inner_product, f::vector_negative_inner_product);
widened!(cosine_distance, f::cosine_distance);
widened!(spherical_distance, f::vector_spherical_distance);
widened!(l1_distance, f::l1_distance);

distance_function!(
    HalfvecLayout,
    pgv_halfvec_l2_distance,
    pg_finfo_pgv_halfvec_l2_distance,
    l2_distance
);
distance_function!(
    HalfvecLayout,
    pgv_halfvec_l2_squared_distance,
    pg_finfo_pgv_halfvec_l2_squared_distance,
    l2_squared_distance
);
distance_function!(
    HalfvecLayout,
    pgv_halfvec_inner_product,
    pg_finfo_pgv_halfvec_inner_product,
    inner_product
);
distance_function!(
    HalfvecLayout,
    pgv_halfvec_negative_inner_product,
    pg_finfo_pgv_halfvec_negative_inner_product,
    negative_inner_product
);
distance_function!(
    HalfvecLayout,
    pgv_halfvec_cosine_distance,
    pg_finfo_pgv_halfvec_cosine_distance,
    cosine_distance
);
distance_function!(
    HalfvecLayout,
    pgv_halfvec_spherical_distance,
    pg_finfo_pgv_halfvec_spherical_distance,
    spherical_distance
);
distance_function!(
    HalfvecLayout,
    pgv_halfvec_l1_distance,
    pg_finfo_pgv_halfvec_l1_distance,
    l1_distance
);

/// Number of dimensions.
#[pg_extern(immutable, strict, parallel_safe, name = "vector_dims", requires = ["halfvec_type"])]
fn halfvec_dims(a: HalfvecArg) -> i32 {
    a.as_slice().len() as i32
}

/// Euclidean norm (of the float4 values).
#[pg_extern(immutable, strict, parallel_safe, name = "l2_norm", requires = ["halfvec_type"])]
pub fn halfvec_l2_norm(a: HalfvecArg) -> f64 {
    distance::norm(&widen(a.as_slice()))
}

pgrx::extension_sql!(
    r#"
CREATE FUNCTION l2_distance(halfvec, halfvec) RETURNS float8
    AS 'MODULE_PATHNAME', 'pgv_halfvec_l2_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION halfvec_l2_squared_distance(halfvec, halfvec) RETURNS float8
    AS 'MODULE_PATHNAME', 'pgv_halfvec_l2_squared_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION inner_product(halfvec, halfvec) RETURNS float8
    AS 'MODULE_PATHNAME', 'pgv_halfvec_inner_product' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION halfvec_negative_inner_product(halfvec, halfvec) RETURNS float8
    AS 'MODULE_PATHNAME', 'pgv_halfvec_negative_inner_product' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cosine_distance(halfvec, halfvec) RETURNS float8
    AS 'MODULE_PATHNAME', 'pgv_halfvec_cosine_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION halfvec_spherical_distance(halfvec, halfvec) RETURNS float8
    AS 'MODULE_PATHNAME', 'pgv_halfvec_spherical_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION l1_distance(halfvec, halfvec) RETURNS float8
    AS 'MODULE_PATHNAME', 'pgv_halfvec_l1_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OPERATOR <-> (LEFTARG = halfvec, RIGHTARG = halfvec, PROCEDURE = l2_distance, COMMUTATOR = '<->');
CREATE OPERATOR <#> (LEFTARG = halfvec, RIGHTARG = halfvec, PROCEDURE = halfvec_negative_inner_product, COMMUTATOR = '<#>');
CREATE OPERATOR <=> (LEFTARG = halfvec, RIGHTARG = halfvec, PROCEDURE = cosine_distance, COMMUTATOR = '<=>');
CREATE OPERATOR <+> (LEFTARG = halfvec, RIGHTARG = halfvec, PROCEDURE = l1_distance, COMMUTATOR = '<+>');
"#,
    name = "halfvec_distance_functions",
    requires = ["halfvec_type"],
);
