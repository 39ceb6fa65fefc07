//! The `hnsw` index access method: Postgres glue over the pure `graph`
//! (algorithm) and `pageformat` (on-disk layout) crates. One file per
//! callback group, as pgvector splits it: build, insert, scan, vacuum,
//! cost; `store` is the graph over buffers, `pages` hnsw's kind of the
//! shared page guards (`crate::pg::buffer`), `verify` the
//! `pgvision_index_check` function. Which key type and distance an index
//! has comes from its operator class (`crate::opclass`).

pub(crate) mod build;
pub(crate) mod build_tids;
pub(crate) mod cost;
pub(crate) mod insert;
pub(crate) mod options;
pub(crate) mod pages;
pub(crate) mod params;
pub(crate) mod partitioned;
pub(crate) mod scan;
pub(crate) mod spill_links;
pub(crate) mod store;
pub(crate) mod upper;
pub(crate) mod vacuum;
pub(crate) mod verify;

use pgrx::prelude::*;

/// The access method handler: the table of callbacks Postgres calls.
#[pg_extern(sql = r#"
CREATE FUNCTION hnswhandler(internal) RETURNS index_am_handler
    PARALLEL SAFE IMMUTABLE STRICT LANGUAGE c AS 'MODULE_PATHNAME', '@FUNCTION_NAME@';
CREATE ACCESS METHOD hnsw TYPE INDEX HANDLER hnswhandler;
COMMENT ON ACCESS METHOD hnsw IS 'hnsw index access method';
"#)]
fn hnswhandler(_fcinfo: pg_sys::FunctionCallInfo) -> PgBox<pg_sys::IndexAmRoutine> {
    crate::pg::am::index_routine(crate::pg::am::Callbacks {
        build: Some(build::ambuild),
        buildempty: Some(build::ambuildempty),
        insert: Some(insert::aminsert),
        bulkdelete: Some(vacuum::ambulkdelete),
        vacuumcleanup: Some(vacuum::amvacuumcleanup),
        costestimate: Some(cost::amcostestimate),
        options: Some(options::amoptions),
        buildphasename: Some(build::ambuildphasename),
        beginscan: Some(scan::ambeginscan),
        rescan: Some(scan::amrescan),
        gettuple: Some(scan::amgettuple),
        endscan: Some(scan::amendscan),
    })
}

// The operator classes: see `crate::opclass` for what each support
// function is and how to add a class.
pgrx::extension_sql!(
    r#"
CREATE OPERATOR CLASS vector_l2_ops DEFAULT FOR TYPE vector USING hnsw AS
    OPERATOR 1 <-> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 vector_l2_squared_distance(vector, vector),
    FUNCTION 3 pgvision_opclass_vector_l2(internal);
CREATE OPERATOR CLASS vector_ip_ops FOR TYPE vector USING hnsw AS
    OPERATOR 1 <#> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 vector_negative_inner_product(vector, vector),
    FUNCTION 3 pgvision_opclass_vector_ip(internal);
CREATE OPERATOR CLASS vector_cosine_ops FOR TYPE vector USING hnsw AS
    OPERATOR 1 <=> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 vector_negative_inner_product(vector, vector),
    FUNCTION 2 vector_norm(vector),
    FUNCTION 3 pgvision_opclass_vector_cosine(internal);
CREATE OPERATOR CLASS vector_l1_ops FOR TYPE vector USING hnsw AS
    OPERATOR 1 <+> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 l1_distance(vector, vector),
    FUNCTION 3 pgvision_opclass_vector_l1(internal);
"#,
    name = "hnsw_opclasses",
    requires = [
        hnswhandler,
        "vector_operators",
        "vector_distance_functions",
        "opclass_info_functions",
        vector_norm
    ],
);

pgrx::extension_sql!(
    r#"
CREATE OPERATOR CLASS halfvec_l2_ops FOR TYPE halfvec USING hnsw AS
    OPERATOR 1 <-> (halfvec, halfvec) FOR ORDER BY float_ops,
    FUNCTION 1 halfvec_l2_squared_distance(halfvec, halfvec),
    FUNCTION 3 pgvision_opclass_halfvec_l2(internal);
CREATE OPERATOR CLASS halfvec_ip_ops FOR TYPE halfvec USING hnsw AS
    OPERATOR 1 <#> (halfvec, halfvec) FOR ORDER BY float_ops,
    FUNCTION 1 halfvec_negative_inner_product(halfvec, halfvec),
    FUNCTION 3 pgvision_opclass_halfvec_ip(internal);
CREATE OPERATOR CLASS halfvec_cosine_ops FOR TYPE halfvec USING hnsw AS
    OPERATOR 1 <=> (halfvec, halfvec) FOR ORDER BY float_ops,
    FUNCTION 1 halfvec_negative_inner_product(halfvec, halfvec),
    FUNCTION 2 l2_norm(halfvec),
    FUNCTION 3 pgvision_opclass_halfvec_cosine(internal);
CREATE OPERATOR CLASS halfvec_l1_ops FOR TYPE halfvec USING hnsw AS
    OPERATOR 1 <+> (halfvec, halfvec) FOR ORDER BY float_ops,
    FUNCTION 1 l1_distance(halfvec, halfvec),
    FUNCTION 3 pgvision_opclass_halfvec_l1(internal);
"#,
    name = "hnsw_halfvec_opclasses",
    requires = [
        hnswhandler,
        "halfvec_distance_functions",
        "opclass_info_functions",
        halfvec_l2_norm
    ],
);

pgrx::extension_sql!(
    r#"
CREATE OPERATOR CLASS sparsevec_l2_ops FOR TYPE sparsevec USING hnsw AS
    OPERATOR 1 <-> (sparsevec, sparsevec) FOR ORDER BY float_ops,
    FUNCTION 1 sparsevec_l2_squared_distance(sparsevec, sparsevec),
    FUNCTION 3 pgvision_opclass_sparsevec_l2(internal);
CREATE OPERATOR CLASS sparsevec_ip_ops FOR TYPE sparsevec USING hnsw AS
    OPERATOR 1 <#> (sparsevec, sparsevec) FOR ORDER BY float_ops,
    FUNCTION 1 sparsevec_negative_inner_product(sparsevec, sparsevec),
    FUNCTION 3 pgvision_opclass_sparsevec_ip(internal);
CREATE OPERATOR CLASS sparsevec_cosine_ops FOR TYPE sparsevec USING hnsw AS
    OPERATOR 1 <=> (sparsevec, sparsevec) FOR ORDER BY float_ops,
    FUNCTION 1 sparsevec_negative_inner_product(sparsevec, sparsevec),
    FUNCTION 2 l2_norm(sparsevec),
    FUNCTION 3 pgvision_opclass_sparsevec_cosine(internal);
CREATE OPERATOR CLASS sparsevec_l1_ops FOR TYPE sparsevec USING hnsw AS
    OPERATOR 1 <+> (sparsevec, sparsevec) FOR ORDER BY float_ops,
    FUNCTION 1 l1_distance(sparsevec, sparsevec),
    FUNCTION 3 pgvision_opclass_sparsevec_l1(internal);
"#,
    name = "hnsw_sparsevec_opclasses",
    requires = [
        hnswhandler,
        "sparsevec_operators",
        "opclass_info_functions",
        sparsevec_l2_squared_distance,
        sparsevec_l2_norm
    ],
);

pgrx::extension_sql!(
    r#"
CREATE OPERATOR CLASS bit_hamming_ops FOR TYPE bit USING hnsw AS
    OPERATOR 1 <~> (bit, bit) FOR ORDER BY float_ops,
    FUNCTION 1 hamming_distance(bit, bit),
    FUNCTION 3 pgvision_opclass_bit_hamming(internal);
CREATE OPERATOR CLASS bit_jaccard_ops FOR TYPE bit USING hnsw AS
    OPERATOR 1 <%> (bit, bit) FOR ORDER BY float_ops,
    FUNCTION 1 jaccard_distance(bit, bit),
    FUNCTION 3 pgvision_opclass_bit_jaccard(internal);
"#,
    name = "hnsw_bit_opclasses",
    requires = [hnswhandler, "bit_operators", "opclass_info_functions"],
);
