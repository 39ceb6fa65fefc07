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
