-- vector type: operators, functions, aggregates, casts, btree
SELECT '[1,2,3]'::vector + '[4,5,6]', '[1,2,3]'::vector - '[4,5,6]', '[1,2,3]'::vector * '[4,5,6]';
SELECT '[1,2]'::vector || '[3]';
SELECT err($$SELECT '[1,2]'::vector + '[3]'$$);
SELECT err($$SELECT '[3e38]'::vector + '[3e38]'$$);
SELECT err($$SELECT '[1e-30]'::vector * '[1e-30]'$$);
SELECT err($$SELECT array_fill(1, ARRAY[16000])::vector || '[1]'$$);

-- distances
SELECT '[0,0]'::vector <-> '[3,4]', l2_distance('[0,0]'::vector, '[3,4]');
SELECT '[1,2,3]'::vector <#> '[4,5,6]', inner_product('[1,2,3]'::vector, '[4,5,6]');
SELECT '[1,2]'::vector <=> '[2,4]', cosine_distance('[1,0]'::vector, '[0,1]'), '[1,1]'::vector <=> '[-1,-1]';
SELECT cosine_distance('[0,0]'::vector, '[1,1]');
SELECT '[1,2,3]'::vector <+> '[4,5,6]', l1_distance('[1,2,3]'::vector, '[4,5,6]');
SELECT vector_l2_squared_distance('[0,0]', '[3,4]'), vector_negative_inner_product('[1,2]', '[3,4]');
SELECT round(vector_spherical_distance('[1,0]', '[0,1]')::numeric, 6);
SELECT err($$SELECT '[1,2]'::vector <-> '[1,2,3]'$$);
SELECT err($$SELECT inner_product('[1,2]'::vector, '[1,2,3]')$$);
SELECT err($$SELECT cosine_distance('[1,2]'::vector, '[1,2,3]')$$);
SELECT err($$SELECT l1_distance('[1,2]'::vector, '[1,2,3]')$$);
-- The distance functions read plain vectors (a constant, a cast result: a
-- 4-byte header) in place, and everything else (a short vector stored in
-- a table: a 1-byte header; a TOASTed one) through a detoasting slow path
-- (src/vector/fmgr.rs). Every function must give the same answer, and the
-- same error, whichever path its arguments take.
CREATE TABLE reps (id int, v vector);
INSERT INTO reps VALUES (1, '[1,2,3]'), (2, '[-1,0.5,4]'), (3, '[0,0,0]'), (4, '[1,2]'),
  (5, (SELECT array_agg(sin(j)::real) FROM generate_series(1, 1000) j)::vector),
  (6, (SELECT array_agg(cos(j)::real) FROM generate_series(1, 1000) j)::vector);
SELECT a.id, b.id,
  l2_distance(a.v, b.v) IS NOT DISTINCT FROM l2_distance(a.v::text::vector, b.v::text::vector) AS l2,
  vector_l2_squared_distance(a.v, b.v) IS NOT DISTINCT FROM vector_l2_squared_distance(a.v::text::vector, b.v::text::vector) AS l2sq,
  inner_product(a.v, b.v) IS NOT DISTINCT FROM inner_product(a.v::text::vector, b.v::text::vector) AS ip,
  vector_negative_inner_product(a.v, b.v) IS NOT DISTINCT FROM vector_negative_inner_product(a.v::text::vector, b.v::text::vector) AS nip,
  cosine_distance(a.v, b.v)::text = cosine_distance(a.v::text::vector, b.v::text::vector)::text AS cos,
  vector_spherical_distance(a.v, b.v)::text = vector_spherical_distance(a.v::text::vector, b.v::text::vector)::text AS sph,
  l1_distance(a.v, b.v) IS NOT DISTINCT FROM l1_distance(a.v::text::vector, b.v::text::vector) AS l1,
  round((a.v <-> b.v)::numeric, 4) AS d
FROM reps a, reps b WHERE vector_dims(a.v) = vector_dims(b.v) AND a.id <= b.id ORDER BY 1, 2;
SELECT err($$SELECT a.v <-> b.v FROM reps a, reps b WHERE a.id = 1 AND b.id = 4$$);
SELECT err($$SELECT a.v <#> b.v::text::vector FROM reps a, reps b WHERE a.id = 5 AND b.id = 4$$);
SELECT err($$SELECT vector_spherical_distance(a.v::text::vector, b.v::text::vector) FROM reps a, reps b WHERE a.id = 1 AND b.id = 5$$);
SELECT l2_distance(v, NULL) IS NULL AS strict FROM reps WHERE id = 1;
-- Databases created by earlier builds name pgrx's symbols (l2_distance_wrapper,
-- ...) in pg_proc; the library still exports them, as the same functions.
CREATE FUNCTION legacy_l2(vector, vector) RETURNS float8
  AS '$libdir/pgvision', 'l2_distance_wrapper' LANGUAGE C IMMUTABLE STRICT;
CREATE FUNCTION legacy_cos(vector, vector) RETURNS float8
  AS '$libdir/pgvision', 'cosine_distance_wrapper' LANGUAGE C IMMUTABLE STRICT;
SELECT legacy_l2('[0,0]', '[3,4]'), legacy_l2(a.v, b.v) = a.v <-> b.v AS same,
       legacy_cos(a.v, b.v) = a.v <=> b.v AS same_cos
FROM reps a, reps b WHERE a.id = 5 AND b.id = 6;
SELECT err($$SELECT legacy_l2('[1,2]', '[1,2,3]')$$);
DROP FUNCTION legacy_l2(vector, vector), legacy_cos(vector, vector);
DROP TABLE reps;

-- functions
SELECT vector_dims('[1,2,3]'::vector), vector_norm('[3,4]'), l2_normalize('[3,4]'::vector), l2_normalize('[0,0]'::vector);
SELECT subvector('[1,2,3,4,5]', 1, 3), subvector('[1,2,3,4,5]', 3, 2), subvector('[1,2,3,4,5]', -1, 3), subvector('[1,2,3,4,5]', 3, 9);
SELECT err($$SELECT subvector('[1,2,3,4,5]', 6, 1)$$);
SELECT err($$SELECT subvector('[1,2,3,4,5]', 3, 0)$$);

-- casts
SELECT '[1,2,3]'::vector::real[], ('[1,2,3]'::vector)::real[] = '{1,2,3}'::real[];
SELECT '{1,2,3}'::int[]::vector, '{1.5,2,3}'::float8[]::vector, '{1.25,2,3}'::numeric[]::vector;
SELECT err($$SELECT '{{1,2},{3,4}}'::real[]::vector$$);
SELECT err($$SELECT '{1,NULL,3}'::real[]::vector$$);
SELECT err($$SELECT '{}'::real[]::vector$$);
SELECT err($$SELECT '{NaN}'::real[]::vector$$);
SELECT err($$SELECT '{1e300}'::float8[]::vector$$);
SELECT array_length('[1,2,3]'::vector::real[], 1);

-- aggregates
CREATE TABLE items (id int, cat text, v vector(3));
INSERT INTO items VALUES (1, 'a', '[1,2,3]'), (2, 'a', '[3,4,5]'), (3, 'b', '[1,1,1]'), (4, 'b', NULL), (5, 'b', '[1,2,3]');
SELECT avg(v), sum(v) FROM items;
SELECT cat, avg(v), sum(v) FROM items GROUP BY cat ORDER BY cat;
SELECT avg(v), sum(v) FROM items WHERE false;
SELECT err($$SELECT avg(v) FROM (VALUES ('[1,2]'::vector), ('[1,2,3]')) x(v)$$);
SELECT err($$SELECT sum(v) FROM (VALUES ('[1,2]'::vector), ('[1,2,3]')) x(v)$$);

-- btree: comparison, ORDER BY, DISTINCT, GROUP BY, unique index
SELECT '[1,2]'::vector < '[1,3]', '[1,2]'::vector <= '[1,2]', '[1,2]'::vector = '[1,2]', '[1,2]'::vector <> '[1,2]', '[1,2,0]'::vector > '[1,2]', '[2]'::vector >= '[1,9]';
SELECT vector_cmp('[1,2]', '[1,3]'), vector_cmp('[1,2]', '[1,2]'), vector_cmp('[1,2,3]', '[1,2]');
SELECT v FROM items ORDER BY v DESC NULLS LAST;
SELECT DISTINCT v FROM items WHERE v IS NOT NULL ORDER BY v;
SELECT v, count(*) FROM items GROUP BY v ORDER BY v;
DELETE FROM items WHERE id = 5;
CREATE UNIQUE INDEX ON items (v);
SELECT err($$INSERT INTO items VALUES (6, 'c', '[1,1,1]')$$);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT * FROM items WHERE v = '[1,1,1]';
SELECT id FROM items WHERE v = '[1,1,1]';
RESET enable_seqscan;

DROP INDEX items_v_idx;
INSERT INTO items VALUES (5, 'b', '[1,2,3]');
-- nearest neighbours by seq scan, every distance operator
SELECT id, v <-> '[1,2,2]' AS l2 FROM items WHERE v IS NOT NULL ORDER BY v <-> '[1,2,2]', id LIMIT 2;
SELECT id FROM items WHERE v IS NOT NULL ORDER BY v <#> '[1,2,2]', id LIMIT 2;
SELECT id FROM items WHERE v IS NOT NULL ORDER BY v <=> '[1,2,2]', id LIMIT 2;
SELECT id FROM items WHERE v IS NOT NULL ORDER BY v <+> '[1,2,2]', id LIMIT 2;
DROP TABLE items;

-- declared volatility, strictness and parallel safety of every function on vector
SELECT p.proname, p.provolatile, p.proisstrict, p.proparallel
FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'pgvision'
WHERE p.prokind = 'f' AND (p.provolatile <> 'i' OR NOT p.proisstrict OR p.proparallel <> 's')
  AND p.proname NOT IN ('image_embed', 'pgvision_runtime')  -- checked in image_embed.sql
ORDER BY 1;
