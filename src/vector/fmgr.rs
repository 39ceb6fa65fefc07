//! vector's distance functions as the executor calls them: fmgr
//! "version 1" C functions without pgrx's per-call wrapper, made by
//! `crate::pg::distance_fn`'s `distance_function!` (see there why). The SQL
//! names, signatures and attributes are pgvector's; the math is in
//! `functions.rs`.

use super::datum::VectorLayout;
use super::functions as f;
use crate::distance_function;

distance_function!(
    VectorLayout,
    pgv_l2_distance,
    pg_finfo_pgv_l2_distance,
    l2_distance_wrapper,
    pg_finfo_l2_distance_wrapper,
    f::l2_distance
);
distance_function!(
    VectorLayout,
    pgv_vector_l2_squared_distance,
    pg_finfo_pgv_vector_l2_squared_distance,
    vector_l2_squared_distance_wrapper,
    pg_finfo_vector_l2_squared_distance_wrapper,
    f::vector_l2_squared_distance
);
distance_function!(
    VectorLayout,
    pgv_inner_product,
    pg_finfo_pgv_inner_product,
    inner_product_wrapper,
    pg_finfo_inner_product_wrapper,
    f::inner_product
);
distance_function!(
    VectorLayout,
    pgv_vector_negative_inner_product,
    pg_finfo_pgv_vector_negative_inner_product,
    vector_negative_inner_product_wrapper,
    pg_finfo_vector_negative_inner_product_wrapper,
    f::vector_negative_inner_product
);
distance_function!(
    VectorLayout,
    pgv_cosine_distance,
    pg_finfo_pgv_cosine_distance,
    cosine_distance_wrapper,
    pg_finfo_cosine_distance_wrapper,
    f::cosine_distance
);
distance_function!(
    VectorLayout,
    pgv_vector_spherical_distance,
    pg_finfo_pgv_vector_spherical_distance,
    vector_spherical_distance_wrapper,
    pg_finfo_vector_spherical_distance_wrapper,
    f::vector_spherical_distance
);
distance_function!(
    VectorLayout,
    pgv_l1_distance,
    pg_finfo_pgv_l1_distance,
    l1_distance_wrapper,
    pg_finfo_l1_distance_wrapper,
    f::l1_distance
);

pgrx::extension_sql!(
    r#"
CREATE FUNCTION l2_distance(vector, vector) RETURNS float8
    AS 'MODULE_PATHNAME', 'pgv_l2_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_l2_squared_distance(vector, vector) RETURNS float8
    AS 'MODULE_PATHNAME', 'pgv_vector_l2_squared_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION inner_product(vector, vector) RETURNS float8
    AS 'MODULE_PATHNAME', 'pgv_inner_product' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_negative_inner_product(vector, vector) RETURNS float8
    AS 'MODULE_PATHNAME', 'pgv_vector_negative_inner_product' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cosine_distance(vector, vector) RETURNS float8
    AS 'MODULE_PATHNAME', 'pgv_cosine_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_spherical_distance(vector, vector) RETURNS float8
    AS 'MODULE_PATHNAME', 'pgv_vector_spherical_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION l1_distance(vector, vector) RETURNS float8
    AS 'MODULE_PATHNAME', 'pgv_l1_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
"#,
    name = "vector_distance_functions",
    requires = ["vector_type"],
);
