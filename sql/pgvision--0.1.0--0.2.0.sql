-- pgvision 0.1.0 -> 0.2.0 (ALTER EXTENSION pgvision UPDATE).
--
-- Every SQL object added or changed since 0.1.0 goes here as well as in the
-- Rust source (from which pgrx writes pgvision--0.2.0.sql for fresh
-- installs): tests/server/test_upgrade.py fails when a fresh 0.2.0 install
-- and 0.1.0 + this script differ by any object or definition. Copy a new
-- object's statements from the pgvision--0.2.0.sql that `cargo pgrx install`
-- writes (argument names, STRICT, PARALLEL and COST included).
--
-- 0.2.0 builds for PostgreSQL 15, 16, 17 and 18, and its hnsw indexes use
-- on-disk format 3, as 0.1.0's did. New SQL objects: the halfvec type with
-- its I/O, casts with vector, distances, operators and hnsw classes; and
-- support function 3 of every hnsw operator class, the function that tells
-- the index which class it is (src/opclass.rs), added to the four vector
-- classes of 0.1.0.

\echo Use "ALTER EXTENSION pgvision UPDATE" to load this file. \quit

CREATE TYPE halfvec;

CREATE FUNCTION pgvision_opclass_vector_l2(internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'pgvision_opclass_vector_l2' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION pgvision_opclass_vector_ip(internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'pgvision_opclass_vector_ip' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION pgvision_opclass_vector_cosine(internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'pgvision_opclass_vector_cosine' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION pgvision_opclass_vector_l1(internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'pgvision_opclass_vector_l1' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION pgvision_opclass_halfvec_l2(internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'pgvision_opclass_halfvec_l2' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION pgvision_opclass_halfvec_ip(internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'pgvision_opclass_halfvec_ip' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION pgvision_opclass_halfvec_cosine(internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'pgvision_opclass_halfvec_cosine' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION pgvision_opclass_halfvec_l1(internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'pgvision_opclass_halfvec_l1' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE  FUNCTION "halfvec_in"(
	"input" cstring,
	"_typioparam" oid,
	"typmod" INT
) RETURNS halfvec
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'halfvec_in_wrapper';

CREATE  FUNCTION "halfvec_out"(
	"v" halfvec
) RETURNS cstring
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'halfvec_out_wrapper';

CREATE  FUNCTION "halfvec_recv"(
	"buf" internal,
	"_typioparam" oid,
	"typmod" INT
) RETURNS halfvec
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'halfvec_recv_wrapper';

CREATE  FUNCTION "halfvec_send"(
	"v" halfvec
) RETURNS bytea
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'halfvec_send_wrapper';

CREATE  FUNCTION "halfvec_typmod_in"(
	"list" cstring[]
) RETURNS INT
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'halfvec_typmod_in_wrapper';

CREATE  FUNCTION "halfvec_typmod_out"(
	"typmod" INT
) RETURNS cstring
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'halfvec_typmod_out_wrapper';

CREATE TYPE halfvec (
    INPUT = halfvec_in,
    OUTPUT = halfvec_out,
    TYPMOD_IN = halfvec_typmod_in,
    TYPMOD_OUT = halfvec_typmod_out,
    RECEIVE = halfvec_recv,
    SEND = halfvec_send,
    STORAGE = external,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = double
);

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

CREATE  FUNCTION "halfvec"(
	"v" halfvec,
	"typmod" INT,
	"_explicit" bool
) RETURNS halfvec
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'halfvec_typmod_cast_wrapper';

CREATE  FUNCTION "l2_norm"(
	"a" halfvec
) RETURNS double precision
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'halfvec_l2_norm_wrapper';

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

CREATE  FUNCTION "vector_dims"(
	"a" halfvec
) RETURNS INT
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'halfvec_dims_wrapper';

CREATE  FUNCTION "vector_to_halfvec"(
	"v" vector,
	"typmod" INT,
	"_explicit" bool
) RETURNS halfvec
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'vector_to_halfvec_wrapper';

CREATE  FUNCTION "halfvec_to_vector"(
	"v" halfvec,
	"typmod" INT,
	"_explicit" bool
) RETURNS vector
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'halfvec_to_vector_wrapper';

CREATE CAST (halfvec AS halfvec) WITH FUNCTION halfvec(halfvec, integer, boolean) AS IMPLICIT;

CREATE CAST (halfvec AS vector) WITH FUNCTION halfvec_to_vector(halfvec, integer, boolean) AS ASSIGNMENT;

CREATE CAST (vector AS halfvec) WITH FUNCTION vector_to_halfvec(vector, integer, boolean) AS IMPLICIT;

-- The vector classes of 0.1.0 gain support function 3.
ALTER OPERATOR FAMILY vector_l2_ops USING hnsw ADD FUNCTION 3 (vector, vector) pgvision_opclass_vector_l2(internal);
ALTER OPERATOR FAMILY vector_ip_ops USING hnsw ADD FUNCTION 3 (vector, vector) pgvision_opclass_vector_ip(internal);
ALTER OPERATOR FAMILY vector_cosine_ops USING hnsw ADD FUNCTION 3 (vector, vector) pgvision_opclass_vector_cosine(internal);
ALTER OPERATOR FAMILY vector_l1_ops USING hnsw ADD FUNCTION 3 (vector, vector) pgvision_opclass_vector_l1(internal);

-- ALTER OPERATOR FAMILY makes each function 3 a member of the family alone
-- (a "loose" member, depending on the family); in a fresh install, CREATE
-- OPERATOR CLASS makes it a member of its class (an internal dependency on
-- the class). The same catalog either way for the index; make it the same
-- for pg_dump too, so that a dump of an updated database equals a fresh one.
UPDATE pg_catalog.pg_depend d
   SET refclassid = 'pg_catalog.pg_opclass'::pg_catalog.regclass, refobjid = c.oid, deptype = 'i'
  FROM pg_catalog.pg_amproc p
  JOIN pg_catalog.pg_opclass c ON c.opcfamily = p.amprocfamily
 WHERE d.classid = 'pg_catalog.pg_amproc'::pg_catalog.regclass AND d.objid = p.oid
   AND d.refclassid = 'pg_catalog.pg_opfamily'::pg_catalog.regclass AND d.refobjid = p.amprocfamily
   AND p.amprocnum = 3
   AND c.opcmethod = (SELECT a.oid FROM pg_catalog.pg_am a WHERE a.amname = 'hnsw')
   AND c.opcnamespace = (SELECT e.extnamespace FROM pg_catalog.pg_extension e WHERE e.extname = 'pgvision')
   AND c.opcname IN ('vector_l2_ops', 'vector_ip_ops', 'vector_cosine_ops', 'vector_l1_ops');
