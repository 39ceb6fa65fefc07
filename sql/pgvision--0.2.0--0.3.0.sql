-- pgvision 0.2.0 -> 0.3.0 (ALTER EXTENSION pgvision UPDATE).
--
-- Every SQL object added or changed since 0.2.0 goes here as well as in the
-- Rust source (from which pgrx writes pgvision--0.3.0.sql for fresh
-- installs): tests/server/test_upgrade.py fails when a fresh install and
-- any earlier release + the update scripts differ by any object or
-- definition. Copy a new object's statements from the pgvision--0.3.0.sql
-- that `cargo pgrx install` writes (argument names, STRICT, PARALLEL and
-- COST included), in an order that creates each object after what it uses.

\echo Use "ALTER EXTENSION pgvision UPDATE" to load this file. \quit

-- ivfflat: the inverted-file index access method and its operator classes
-- (the same support function 3 as hnsw's classes).
CREATE FUNCTION ivfflathandler(internal) RETURNS index_am_handler
    PARALLEL SAFE IMMUTABLE STRICT LANGUAGE c AS 'MODULE_PATHNAME', 'ivfflathandler_wrapper';
CREATE ACCESS METHOD ivfflat TYPE INDEX HANDLER ivfflathandler;
COMMENT ON ACCESS METHOD ivfflat IS 'ivfflat index access method';
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
