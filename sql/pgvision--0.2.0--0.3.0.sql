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

-- sparsevec (0.3.0): the type, its functions, operators, casts and btree class

CREATE TYPE sparsevec; -- shell type, completed below once its I/O functions exist

CREATE  FUNCTION "sparsevec_in"(
	"input" cstring, /* & CStr */
	"_typioparam" oid, /* pg_sys :: Oid */
	"typmod" INT /* i32 */
) RETURNS sparsevec /* Sparsevec */
IMMUTABLE STRICT PARALLEL SAFE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'sparsevec_in_wrapper';

CREATE  FUNCTION "sparsevec_out"(
	"v" sparsevec /* Sparsevec */
) RETURNS cstring /* CString */
IMMUTABLE STRICT PARALLEL SAFE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'sparsevec_out_wrapper';

CREATE  FUNCTION "sparsevec_recv"(
	"buf" internal, /* Internal */
	"_typioparam" oid, /* pg_sys :: Oid */
	"typmod" INT /* i32 */
) RETURNS sparsevec /* Sparsevec */
IMMUTABLE STRICT PARALLEL SAFE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'sparsevec_recv_wrapper';

CREATE  FUNCTION "sparsevec_send"(
	"v" sparsevec /* Sparsevec */
) RETURNS bytea /* Vec < u8 > */
IMMUTABLE STRICT PARALLEL SAFE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'sparsevec_send_wrapper';

CREATE  FUNCTION "sparsevec_typmod_in"(
	"list" cstring[] /* Array < & CStr > */
) RETURNS INT /* i32 */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'sparsevec_typmod_in_wrapper';

CREATE TYPE sparsevec (
    INPUT = sparsevec_in,
    OUTPUT = sparsevec_out,
    TYPMOD_IN = sparsevec_typmod_in,
    RECEIVE = sparsevec_recv,
    SEND = sparsevec_send,
    STORAGE = external,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = int4
);

CREATE  FUNCTION "sparsevec"(
	"v" sparsevec, /* Sparsevec */
	"typmod" INT, /* i32 */
	"_explicit" bool /* bool */
) RETURNS sparsevec /* Sparsevec */
IMMUTABLE STRICT PARALLEL SAFE  
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'sparsevec_typmod_cast_wrapper';

CREATE  FUNCTION "l2_normalize"(
	"a" sparsevec /* Sparsevec */
) RETURNS sparsevec /* Sparsevec */
IMMUTABLE STRICT PARALLEL SAFE  
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'sparsevec_l2_normalize_wrapper';

CREATE  FUNCTION "array_to_sparsevec"(
	"arr" real[], /* Array < f32 > */
	"typmod" INT, /* i32 */
	"_explicit" bool /* bool */
) RETURNS sparsevec /* Sparsevec */
IMMUTABLE STRICT PARALLEL SAFE  
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'float4_array_to_sparsevec_wrapper';

CREATE  FUNCTION "sparsevec_lt"(
	"a" sparsevec, /* Sparsevec */
	"b" sparsevec /* Sparsevec */
) RETURNS bool /* bool */
IMMUTABLE STRICT PARALLEL SAFE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'sparsevec_lt_wrapper';

CREATE  FUNCTION "sparsevec_negative_inner_product"(
	"a" sparsevec, /* Sparsevec */
	"b" sparsevec /* Sparsevec */
) RETURNS double precision /* f64 */
IMMUTABLE STRICT PARALLEL SAFE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'sparsevec_negative_inner_product_wrapper';

CREATE  FUNCTION "sparsevec_cmp"(
	"a" sparsevec, /* Sparsevec */
	"b" sparsevec /* Sparsevec */
) RETURNS INT /* i32 */
IMMUTABLE STRICT PARALLEL SAFE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'sparsevec_cmp_wrapper';

CREATE  FUNCTION "inner_product"(
	"a" sparsevec, /* Sparsevec */
	"b" sparsevec /* Sparsevec */
) RETURNS double precision /* f64 */
IMMUTABLE STRICT PARALLEL SAFE  
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'sparsevec_inner_product_wrapper';

CREATE  FUNCTION "sparsevec_gt"(
	"a" sparsevec, /* Sparsevec */
	"b" sparsevec /* Sparsevec */
) RETURNS bool /* bool */
IMMUTABLE STRICT PARALLEL SAFE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'sparsevec_gt_wrapper';

CREATE  FUNCTION "sparsevec_le"(
	"a" sparsevec, /* Sparsevec */
	"b" sparsevec /* Sparsevec */
) RETURNS bool /* bool */
IMMUTABLE STRICT PARALLEL SAFE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'sparsevec_le_wrapper';

CREATE  FUNCTION "halfvec_to_sparsevec"(
	"v" halfvec, /* Halfvec */
	"typmod" INT, /* i32 */
	"_explicit" bool /* bool */
) RETURNS sparsevec /* Sparsevec */
IMMUTABLE STRICT PARALLEL SAFE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'halfvec_to_sparsevec_wrapper';

CREATE  FUNCTION "l2_distance"(
	"a" sparsevec, /* Sparsevec */
	"b" sparsevec /* Sparsevec */
) RETURNS double precision /* f64 */
IMMUTABLE STRICT PARALLEL SAFE  
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'sparsevec_l2_distance_wrapper';

CREATE  FUNCTION "cosine_distance"(
	"a" sparsevec, /* Sparsevec */
	"b" sparsevec /* Sparsevec */
) RETURNS double precision /* f64 */
IMMUTABLE STRICT PARALLEL SAFE  
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'sparsevec_cosine_distance_wrapper';

CREATE  FUNCTION "sparsevec_ge"(
	"a" sparsevec, /* Sparsevec */
	"b" sparsevec /* Sparsevec */
) RETURNS bool /* bool */
IMMUTABLE STRICT PARALLEL SAFE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'sparsevec_ge_wrapper';

CREATE  FUNCTION "array_to_sparsevec"(
	"arr" double precision[], /* Array < f64 > */
	"typmod" INT, /* i32 */
	"_explicit" bool /* bool */
) RETURNS sparsevec /* Sparsevec */
IMMUTABLE STRICT PARALLEL SAFE  
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'float8_array_to_sparsevec_wrapper';

CREATE  FUNCTION "sparsevec_eq"(
	"a" sparsevec, /* Sparsevec */
	"b" sparsevec /* Sparsevec */
) RETURNS bool /* bool */
IMMUTABLE STRICT PARALLEL SAFE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'sparsevec_eq_wrapper';

CREATE  FUNCTION "array_to_sparsevec"(
	"arr" INT[], /* Array < i32 > */
	"typmod" INT, /* i32 */
	"_explicit" bool /* bool */
) RETURNS sparsevec /* Sparsevec */
IMMUTABLE STRICT PARALLEL SAFE  
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'int_array_to_sparsevec_wrapper';

CREATE  FUNCTION "l1_distance"(
	"a" sparsevec, /* Sparsevec */
	"b" sparsevec /* Sparsevec */
) RETURNS double precision /* f64 */
IMMUTABLE STRICT PARALLEL SAFE  
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'sparsevec_l1_distance_wrapper';

CREATE  FUNCTION "sparsevec_ne"(
	"a" sparsevec, /* Sparsevec */
	"b" sparsevec /* Sparsevec */
) RETURNS bool /* bool */
IMMUTABLE STRICT PARALLEL SAFE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'sparsevec_ne_wrapper';

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

CREATE  FUNCTION "sparsevec_l2_squared_distance"(
	"a" sparsevec, /* Sparsevec */
	"b" sparsevec /* Sparsevec */
) RETURNS double precision /* f64 */
IMMUTABLE STRICT PARALLEL SAFE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'sparsevec_l2_squared_distance_wrapper';

CREATE  FUNCTION "l2_norm"(
	"a" sparsevec /* Sparsevec */
) RETURNS double precision /* f64 */
IMMUTABLE STRICT PARALLEL SAFE  
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'sparsevec_l2_norm_wrapper';

CREATE  FUNCTION "sparsevec_to_halfvec"(
	"v" sparsevec, /* Sparsevec */
	"typmod" INT, /* i32 */
	"_explicit" bool /* bool */
) RETURNS halfvec /* Halfvec */
IMMUTABLE STRICT PARALLEL SAFE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'sparsevec_to_halfvec_wrapper';

CREATE  FUNCTION "array_to_sparsevec"(
	"arr" NUMERIC[], /* Array < AnyNumeric > */
	"typmod" INT, /* i32 */
	"_explicit" bool /* bool */
) RETURNS sparsevec /* Sparsevec */
IMMUTABLE STRICT PARALLEL SAFE  
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'numeric_array_to_sparsevec_wrapper';

CREATE  FUNCTION "sparsevec_to_vector"(
	"v" sparsevec, /* Sparsevec */
	"typmod" INT, /* i32 */
	"_explicit" bool /* bool */
) RETURNS vector /* Vector */
IMMUTABLE STRICT PARALLEL SAFE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'sparsevec_to_vector_wrapper';

CREATE  FUNCTION "vector_to_sparsevec"(
	"v" vector, /* Vector */
	"typmod" INT, /* i32 */
	"_explicit" bool /* bool */
) RETURNS sparsevec /* Sparsevec */
IMMUTABLE STRICT PARALLEL SAFE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'vector_to_sparsevec_wrapper';

CREATE CAST (sparsevec AS sparsevec) WITH FUNCTION sparsevec(sparsevec, integer, boolean) AS IMPLICIT;
CREATE CAST (sparsevec AS vector) WITH FUNCTION sparsevec_to_vector(sparsevec, integer, boolean) AS ASSIGNMENT;
CREATE CAST (vector AS sparsevec) WITH FUNCTION vector_to_sparsevec(vector, integer, boolean) AS IMPLICIT;
CREATE CAST (sparsevec AS halfvec) WITH FUNCTION sparsevec_to_halfvec(sparsevec, integer, boolean) AS ASSIGNMENT;
CREATE CAST (halfvec AS sparsevec) WITH FUNCTION halfvec_to_sparsevec(halfvec, integer, boolean) AS IMPLICIT;
CREATE CAST (integer[] AS sparsevec) WITH FUNCTION array_to_sparsevec(integer[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (real[] AS sparsevec) WITH FUNCTION array_to_sparsevec(real[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (double precision[] AS sparsevec) WITH FUNCTION array_to_sparsevec(double precision[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (numeric[] AS sparsevec) WITH FUNCTION array_to_sparsevec(numeric[], integer, boolean) AS ASSIGNMENT;

-- sparsevec's hnsw operator classes

CREATE FUNCTION pgvision_opclass_sparsevec_l2(internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'pgvision_opclass_sparsevec_l2' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION pgvision_opclass_sparsevec_ip(internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'pgvision_opclass_sparsevec_ip' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION pgvision_opclass_sparsevec_cosine(internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'pgvision_opclass_sparsevec_cosine' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION pgvision_opclass_sparsevec_l1(internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'pgvision_opclass_sparsevec_l1' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

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
