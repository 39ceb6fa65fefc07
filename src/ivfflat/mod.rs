//! The `ivfflat` index access method: Postgres glue over the pure `ivf`
//! crate (k-means, sampling, on-disk layout). One file per callback group,
//! as `hnsw/`: build, insert, scan, vacuum, cost; `store` reads and writes
//! the meta page, centres, directory and list chains through the shared
//! page guards (`crate::pg::buffer`), `pages` is ivfflat's page kind.
//! Which key type and distance an index has comes from its operator class
//! (`crate::opclass`), the same classes' support function 3 as hnsw's.

pub(crate) mod build;
pub(crate) mod cost;
pub(crate) mod insert;
pub(crate) mod options;
pub(crate) mod pages;
pub(crate) mod params;
pub(crate) mod scan;
pub(crate) mod store;
pub(crate) mod vacuum;
pub(crate) mod verify;

use pgrx::prelude::*;

/// The access method handler: the table of callbacks Postgres calls.
#[pg_extern(sql = r#"
CREATE FUNCTION ivfflathandler(internal) RETURNS index_am_handler
    PARALLEL SAFE IMMUTABLE STRICT LANGUAGE c AS 'MODULE_PATHNAME', '@FUNCTION_NAME@';
CREATE ACCESS METHOD ivfflat TYPE INDEX HANDLER ivfflathandler;
COMMENT ON ACCESS METHOD ivfflat IS 'ivfflat index access method';
"#)]
fn ivfflathandler(_fcinfo: pg_sys::FunctionCallInfo) -> PgBox<pg_sys::IndexAmRoutine> {
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
// function is. Function 3 names the class, as for hnsw.
pgrx::extension_sql!(
    r#"
CREATE OPERATOR CLASS vector_l2_ops DEFAULT FOR TYPE vector USING ivfflat AS
    OPERATOR 1 <-> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 vector_l2_squared_distance(vector, vector),
    FUNCTION 3 pgvision_opclass_vector_l2(internal);
CREATE OPERATOR CLASS vector_ip_ops FOR TYPE vector USING ivfflat AS
    OPERATOR 1 <#> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 vector_negative_inner_product(vector, vector),
    FUNCTION 3 pgvision_opclass_vector_ip(internal);
CREATE OPERATOR CLASS vector_cosine_ops FOR TYPE vector USING ivfflat AS
    OPERATOR 1 <=> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 vector_negative_inner_product(vector, vector),
    FUNCTION 2 vector_norm(vector),
    FUNCTION 3 pgvision_opclass_vector_cosine(internal);
CREATE OPERATOR CLASS halfvec_l2_ops FOR TYPE halfvec USING ivfflat AS
    OPERATOR 1 <-> (halfvec, halfvec) FOR ORDER BY float_ops,
    FUNCTION 1 halfvec_l2_squared_distance(halfvec, halfvec),
    FUNCTION 3 pgvision_opclass_halfvec_l2(internal);
CREATE OPERATOR CLASS halfvec_ip_ops FOR TYPE halfvec USING ivfflat AS
    OPERATOR 1 <#> (halfvec, halfvec) FOR ORDER BY float_ops,
    FUNCTION 1 halfvec_negative_inner_product(halfvec, halfvec),
    FUNCTION 3 pgvision_opclass_halfvec_ip(internal);
CREATE OPERATOR CLASS halfvec_cosine_ops FOR TYPE halfvec USING ivfflat AS
    OPERATOR 1 <=> (halfvec, halfvec) FOR ORDER BY float_ops,
    FUNCTION 1 halfvec_negative_inner_product(halfvec, halfvec),
    FUNCTION 2 l2_norm(halfvec),
    FUNCTION 3 pgvision_opclass_halfvec_cosine(internal);
"#,
    name = "ivfflat_opclasses",
    requires = [ivfflathandler, "hnsw_opclasses", "hnsw_halfvec_opclasses",],
);

// pgvector's ivfflat class for `bit`: Hamming distance, which is L1 over
// the bits read as 0/1 (see `crate::opclass::BIT`).
pgrx::extension_sql!(
    r#"
CREATE OPERATOR CLASS bit_hamming_ops FOR TYPE bit USING ivfflat AS
    OPERATOR 1 <~> (bit, bit) FOR ORDER BY float_ops,
    FUNCTION 1 hamming_distance(bit, bit),
    FUNCTION 3 pgvision_opclass_bit_hamming(internal);
"#,
    name = "ivfflat_bit_opclasses",
    requires = [ivfflathandler, "hnsw_bit_opclasses"],
);
