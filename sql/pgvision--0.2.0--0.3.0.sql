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

-- halfvec: arithmetic, concatenation, comparisons and its btree class,
-- l2_normalize, subvector, binary_quantize, avg and sum, casts with arrays;
-- bit: hamming_distance, jaccard_distance, <~>, <%>; binary_quantize(vector).

CREATE  FUNCTION "array_to_halfvec"(
	"arr" INT[],
	"typmod" INT,
	"_explicit" bool
) RETURNS halfvec
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'int_array_to_halfvec_wrapper';

CREATE  FUNCTION "array_to_halfvec"(
	"arr" NUMERIC[],
	"typmod" INT,
	"_explicit" bool
) RETURNS halfvec
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'numeric_array_to_halfvec_wrapper';

CREATE  FUNCTION "array_to_halfvec"(
	"arr" double precision[],
	"typmod" INT,
	"_explicit" bool
) RETURNS halfvec
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'float8_array_to_halfvec_wrapper';

CREATE  FUNCTION "array_to_halfvec"(
	"arr" real[],
	"typmod" INT,
	"_explicit" bool
) RETURNS halfvec
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'float4_array_to_halfvec_wrapper';

CREATE  FUNCTION "binary_quantize"(
	"a" halfvec
) RETURNS bit
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'halfvec_binary_quantize_wrapper';

CREATE  FUNCTION "halfvec_accum"(
	"state" double precision[],
	"v" halfvec
) RETURNS double precision[]
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'halfvec_accum_wrapper';

CREATE  FUNCTION "halfvec_add"(
	"a" halfvec,
	"b" halfvec
) RETURNS halfvec
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'halfvec_add_wrapper';

CREATE  FUNCTION "halfvec_avg"(
	"state" double precision[]
) RETURNS halfvec
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'halfvec_avg_wrapper';

CREATE  FUNCTION "halfvec_cmp"(
	"a" halfvec,
	"b" halfvec
) RETURNS INT
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'halfvec_cmp_wrapper';

CREATE  FUNCTION "halfvec_combine"(
	"a" double precision[],
	"b" double precision[]
) RETURNS double precision[]
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'halfvec_combine_wrapper';

CREATE  FUNCTION "halfvec_concat"(
	"a" halfvec,
	"b" halfvec
) RETURNS halfvec
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'halfvec_concat_wrapper';

CREATE  FUNCTION "halfvec_eq"(
	"a" halfvec,
	"b" halfvec
) RETURNS bool
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'halfvec_eq_wrapper';

CREATE  FUNCTION "halfvec_ge"(
	"a" halfvec,
	"b" halfvec
) RETURNS bool
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'halfvec_ge_wrapper';

CREATE  FUNCTION "halfvec_gt"(
	"a" halfvec,
	"b" halfvec
) RETURNS bool
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'halfvec_gt_wrapper';

CREATE  FUNCTION "halfvec_le"(
	"a" halfvec,
	"b" halfvec
) RETURNS bool
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'halfvec_le_wrapper';

CREATE  FUNCTION "halfvec_lt"(
	"a" halfvec,
	"b" halfvec
) RETURNS bool
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'halfvec_lt_wrapper';

CREATE  FUNCTION "halfvec_mul"(
	"a" halfvec,
	"b" halfvec
) RETURNS halfvec
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'halfvec_mul_wrapper';

CREATE  FUNCTION "halfvec_ne"(
	"a" halfvec,
	"b" halfvec
) RETURNS bool
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'halfvec_ne_wrapper';

CREATE  FUNCTION "halfvec_sub"(
	"a" halfvec,
	"b" halfvec
) RETURNS halfvec
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'halfvec_sub_wrapper';

CREATE  FUNCTION "halfvec_to_float4"(
	"v" halfvec,
	"_typmod" INT,
	"_explicit" bool
) RETURNS real[]
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'halfvec_to_float4_wrapper';

CREATE  FUNCTION "l2_normalize"(
	"a" halfvec
) RETURNS halfvec
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'halfvec_l2_normalize_wrapper';

CREATE  FUNCTION "subvector"(
	"a" halfvec,
	"start" INT,
	"count" INT
) RETURNS halfvec
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'halfvec_subvector_wrapper';

CREATE  FUNCTION "binary_quantize"(
	"a" vector
) RETURNS bit
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'binary_quantize_wrapper';

CREATE  FUNCTION "hamming_distance"(
	"a" bit,
	"b" bit
) RETURNS double precision
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'hamming_distance_wrapper';

CREATE  FUNCTION "jaccard_distance"(
	"a" bit,
	"b" bit
) RETURNS double precision
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'jaccard_distance_wrapper';

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

CREATE CAST (halfvec AS real[]) WITH FUNCTION halfvec_to_float4(halfvec, integer, boolean) AS ASSIGNMENT;
CREATE CAST (integer[] AS halfvec) WITH FUNCTION array_to_halfvec(integer[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (real[] AS halfvec) WITH FUNCTION array_to_halfvec(real[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (double precision[] AS halfvec) WITH FUNCTION array_to_halfvec(double precision[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (numeric[] AS halfvec) WITH FUNCTION array_to_halfvec(numeric[], integer, boolean) AS ASSIGNMENT;

CREATE OPERATOR + (LEFTARG = halfvec, RIGHTARG = halfvec, PROCEDURE = halfvec_add, COMMUTATOR = +);
CREATE OPERATOR - (LEFTARG = halfvec, RIGHTARG = halfvec, PROCEDURE = halfvec_sub);
CREATE OPERATOR * (LEFTARG = halfvec, RIGHTARG = halfvec, PROCEDURE = halfvec_mul, COMMUTATOR = *);
CREATE OPERATOR || (LEFTARG = halfvec, RIGHTARG = halfvec, PROCEDURE = halfvec_concat);
CREATE OPERATOR < (LEFTARG = halfvec, RIGHTARG = halfvec, PROCEDURE = halfvec_lt,
    COMMUTATOR = >, NEGATOR = >=, RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR <= (LEFTARG = halfvec, RIGHTARG = halfvec, PROCEDURE = halfvec_le,
    COMMUTATOR = >=, NEGATOR = >, RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR = (LEFTARG = halfvec, RIGHTARG = halfvec, PROCEDURE = halfvec_eq,
    COMMUTATOR = =, NEGATOR = <>, RESTRICT = eqsel, JOIN = eqjoinsel);
CREATE OPERATOR <> (LEFTARG = halfvec, RIGHTARG = halfvec, PROCEDURE = halfvec_ne,
    COMMUTATOR = <>, NEGATOR = =, RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR >= (LEFTARG = halfvec, RIGHTARG = halfvec, PROCEDURE = halfvec_ge,
    COMMUTATOR = <=, NEGATOR = <, RESTRICT = scalargesel, JOIN = scalargejoinsel);
CREATE OPERATOR > (LEFTARG = halfvec, RIGHTARG = halfvec, PROCEDURE = halfvec_gt,
    COMMUTATOR = <, NEGATOR = <=, RESTRICT = scalargtsel, JOIN = scalargtjoinsel);
CREATE OPERATOR CLASS halfvec_ops DEFAULT FOR TYPE halfvec USING btree AS
    OPERATOR 1 <,
    OPERATOR 2 <=,
    OPERATOR 3 =,
    OPERATOR 4 >=,
    OPERATOR 5 >,
    FUNCTION 1 halfvec_cmp(halfvec, halfvec);

CREATE OPERATOR <~> (LEFTARG = bit, RIGHTARG = bit, PROCEDURE = hamming_distance, COMMUTATOR = '<~>');
CREATE OPERATOR <%> (LEFTARG = bit, RIGHTARG = bit, PROCEDURE = jaccard_distance, COMMUTATOR = '<%>');

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

-- bit's hnsw operator classes

CREATE FUNCTION pgvision_opclass_bit_hamming(internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'pgvision_opclass_bit_hamming' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION pgvision_opclass_bit_jaccard(internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'pgvision_opclass_bit_jaccard' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR CLASS bit_hamming_ops FOR TYPE bit USING hnsw AS
    OPERATOR 1 <~> (bit, bit) FOR ORDER BY float_ops,
    FUNCTION 1 hamming_distance(bit, bit),
    FUNCTION 3 pgvision_opclass_bit_hamming(internal);
CREATE OPERATOR CLASS bit_jaccard_ops FOR TYPE bit USING hnsw AS
    OPERATOR 1 <%> (bit, bit) FOR ORDER BY float_ops,
    FUNCTION 1 jaccard_distance(bit, bit),
    FUNCTION 3 pgvision_opclass_bit_jaccard(internal);

CREATE OPERATOR CLASS bit_hamming_ops FOR TYPE bit USING ivfflat AS
    OPERATOR 1 <~> (bit, bit) FOR ORDER BY float_ops,
    FUNCTION 1 hamming_distance(bit, bit),
    FUNCTION 3 pgvision_opclass_bit_hamming(internal);
