-- halfvec: pgvector's half-precision type, on the type-generic index
SELECT '[1,2.5,-3]'::halfvec, '[0.1]'::halfvec, ' [ 65504 , -0 ] '::halfvec;
SELECT '[1,2,3]'::halfvec(3);
SELECT err($$SELECT '[65520]'::halfvec$$);
SELECT err($$SELECT '[1,-1e5]'::halfvec$$);
SELECT err($$SELECT '[nan]'::halfvec$$);
SELECT err($$SELECT '[-inf]'::halfvec$$);
SELECT err($$SELECT '[]'::halfvec$$);
SELECT err($$SELECT '1,2'::halfvec$$);
SELECT err($$SELECT '[1] x'::halfvec$$);
SELECT err($$SELECT '[1,2]'::halfvec(3)$$);
SELECT err($$SELECT '[1]'::halfvec(0)$$);
SELECT err($$SELECT '[1]'::halfvec(16001)$$);
SELECT err($$SELECT ('[' || array_to_string(array_fill(1, ARRAY[16001]), ',') || ']')::halfvec$$);
-- binary: send then receive gives the value back
CREATE TABLE hv_copy (v halfvec);
INSERT INTO hv_copy VALUES ('[1,2.5,-3]'), ('[0.1,65504]');
SELECT halfvec_send(v) FROM hv_copy ORDER BY 1;
-- casts with vector
SELECT '[1.5,2,0.1]'::vector::halfvec, '[1,2]'::halfvec::vector;
SELECT err($$SELECT '[70000]'::vector::halfvec$$);
SELECT err($$SELECT '[1,2]'::vector::halfvec(3)$$);
-- distances and operators, as vector's on the same (exact) values
SELECT l2_distance('[1,2]'::halfvec, '[4,6]'), '[1,2]'::halfvec <-> '[4,6]',
       inner_product('[1,2]'::halfvec, '[4,6]'), '[1,2]'::halfvec <#> '[4,6]',
       round(cosine_distance('[1,2]'::halfvec, '[4,6]')::numeric, 6), round(('[1,2]'::halfvec <=> '[4,6]')::numeric, 6),
       l1_distance('[1,2]'::halfvec, '[4,6]'), '[1,2]'::halfvec <+> '[4,6]';
SELECT vector_dims('[1,2,3]'::halfvec), l2_norm('[3,4]'::halfvec);
SELECT err($$SELECT '[1,2]'::halfvec <-> '[1,2,3]'$$);
-- hnsw: each halfvec class answers as an exact scan does
CREATE TABLE hv (id int PRIMARY KEY, v halfvec(4));
INSERT INTO hv SELECT i, ARRAY[sin(i) * (1 + i % 7), cos(i * 1.3), sin(i * 0.7) * 3, (i % 5) - 2]::real[]::vector::halfvec
FROM generate_series(1, 200) i;
CREATE INDEX hv_l2 ON hv USING hnsw (v halfvec_l2_ops);
CREATE INDEX hv_ip ON hv USING hnsw (v halfvec_ip_ops);
CREATE INDEX hv_cos ON hv USING hnsw (v halfvec_cosine_ops);
CREATE INDEX hv_l1 ON hv USING hnsw (v halfvec_l1_ops);
SET hnsw.ef_search = 400;
CREATE FUNCTION hv_same(idx text, op text, q text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE a int[]; b int[]; plan text := ''; line text;
BEGIN
  SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = on;
  FOR line IN EXECUTE format('EXPLAIN (COSTS OFF) SELECT id FROM hv ORDER BY v %s %L::halfvec LIMIT 10', op, q) LOOP
    plan := plan || line;
  END LOOP;
  IF plan NOT LIKE '%' || idx || '%' THEN RAISE NOTICE '% did not use %: %', op, idx, plan; RETURN false; END IF;
  EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM hv ORDER BY v %s %L::halfvec LIMIT 10) s', op, q) INTO a;
  SET LOCAL enable_seqscan = on; SET LOCAL enable_indexscan = off;
  EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM hv ORDER BY v %s %L::halfvec LIMIT 10) s', op, q) INTO b;
  IF a IS DISTINCT FROM b THEN RAISE NOTICE '% %: index % seq %', op, q, a, b; END IF;
  RETURN a IS NOT DISTINCT FROM b;
END $$;
SELECT idx, op, bool_and(hv_same(idx, op, q)) AS same
FROM (VALUES ('hv_l2', '<->'), ('hv_ip', '<#>'), ('hv_cos', '<=>'), ('hv_l1', '<+>')) o(idx, op),
     (VALUES ('[1,1,1,1]'), ('[-3,0.5,2,0]'), ('[0.1,-0.9,0,2]')) qs(q)
GROUP BY idx, op ORDER BY idx;
-- inserts, deletes and vacuum keep it exact and sound
INSERT INTO hv SELECT i, ARRAY[cos(i) * 2, sin(i * 0.3), cos(i * 1.7), i % 3]::real[]::vector::halfvec
FROM generate_series(201, 260) i;
DELETE FROM hv WHERE id % 4 = 0;
VACUUM hv;
SELECT bool_and(hv_same('hv_l2', '<->', q)) AS same
FROM (VALUES ('[1,1,1,1]'), ('[-3,0.5,2,0]')) qs(q);
SELECT pgvision_index_check('hv_l2', true), pgvision_index_check('hv_cos', true);
SELECT err($$CREATE INDEX ON hv_copy USING hnsw (v halfvec_l2_ops)$$);
RESET hnsw.ef_search;
DROP TABLE hv, hv_copy;
DROP FUNCTION hv_same;
-- arithmetic: computed in float4, rounded to f16; overflow past 65504 is an error
SELECT '[1,2.5,3]'::halfvec + '[0.5,1,-4]', '[1,2.5,3]'::halfvec - '[0.5,1,-4]', '[1,2.5,3]'::halfvec * '[0.5,1,-4]';
SELECT '[0.1]'::halfvec + '[0.2]', '[2048]'::halfvec + '[1]';
SELECT err($$SELECT '[60000]'::halfvec + '[10000]'$$);
SELECT err($$SELECT '[-60000]'::halfvec - '[10000]'$$);
SELECT err($$SELECT '[300]'::halfvec * '[300]'$$);
SELECT err($$SELECT '[0.0001]'::halfvec * '[0.0001]'$$);
SELECT '[0]'::halfvec * '[0.0001]';
SELECT err($$SELECT '[1,2]'::halfvec + '[1]'$$);
SELECT err($$SELECT '[1,2]'::halfvec - '[1]'$$);
SELECT err($$SELECT '[1,2]'::halfvec * '[1]'$$);
-- concatenation
SELECT '[1]'::halfvec || '[2,3.5]', vector_dims(array_fill(1, ARRAY[15999])::halfvec || '[1]');
SELECT err($$SELECT array_fill(1, ARRAY[15999])::halfvec || '[1,2]'$$);
-- comparisons, halfvec_cmp and the default btree class
SELECT '[1,2]'::halfvec < '[1,3]', '[1,2]'::halfvec <= '[1,2]', '[1,2]'::halfvec = '[1,2,0]',
       '[1,2]'::halfvec <> '[1,2]', '[2]'::halfvec >= '[1,9]', '[1,2,0]'::halfvec > '[1,2]';
SELECT halfvec_cmp('[1,2]', '[1,2]'), halfvec_cmp('[1,2]', '[1,3]'), halfvec_cmp('[1,2]', '[1]'), halfvec_cmp('[-0]', '[0]');
CREATE TABLE hv_sort (id int, v halfvec);
INSERT INTO hv_sort VALUES (1, '[2,1]'), (2, '[1,2,3]'), (3, '[1,2]'), (4, NULL), (5, '[-1]'), (6, '[1,2]');
SELECT v, count(*) FROM hv_sort GROUP BY v ORDER BY v;
CREATE INDEX hv_sort_btree ON hv_sort (v);
SELECT opcname FROM pg_opclass c JOIN pg_index i ON c.oid = i.indclass[0]
WHERE i.indexrelid = 'hv_sort_btree'::regclass;
SET enable_seqscan = off;
SELECT id FROM hv_sort WHERE v = '[1,2]' ORDER BY id;
RESET enable_seqscan;
SELECT err($$CREATE UNIQUE INDEX ON hv_sort (v)$$);
DROP TABLE hv_sort;
-- l2_normalize, subvector
SELECT l2_normalize('[3,4]'::halfvec), l2_normalize('[0,0]'::halfvec), l2_normalize('[65504,65504]'::halfvec),
       l2_normalize('[0.00000006]'::halfvec);
SELECT subvector('[1,2,3,4,5]'::halfvec, 2, 3), subvector('[1,2,3,4,5]'::halfvec, -2, 4), subvector('[1,2,3,4,5]'::halfvec, 4, 100);
SELECT err($$SELECT subvector('[1,2,3]'::halfvec, 4, 1)$$);
SELECT err($$SELECT subvector('[1,2,3]'::halfvec, 2, 0)$$);
SELECT err($$SELECT subvector('[1,2,3]'::halfvec, -5, 3)$$);
-- binary_quantize: bit i set where element i > 0
SELECT binary_quantize('[1,-1,0,0.001,-0,3,2,1,-5,7]'::halfvec), binary_quantize('[-1]'::halfvec);
SELECT binary_quantize('[1,-1,0,0.001,-0,3,2,1,-5,7]'::halfvec) = binary_quantize('[1,-1,0,0.001,-0,3,2,1,-5,7]'::vector);
-- avg and sum: avg's state is float8[], so 65504 + 65504 does not overflow it
SELECT avg(v), sum(v) FROM (VALUES ('[1,2.5]'::halfvec), ('[3,-0.5]'), (NULL)) t(v);
SELECT avg(v) FROM (VALUES ('[65504]'::halfvec), ('[65504]')) t(v);
SELECT avg(v), sum(v) FROM (SELECT '[1]'::halfvec WHERE false) t(v);
SELECT err($$SELECT sum(v) FROM (VALUES ('[65504]'::halfvec), ('[65504]')) t(v)$$);
SELECT err($$SELECT avg(v) FROM (VALUES ('[1,2]'::halfvec), ('[1]')) t(v)$$);
SELECT err($$SELECT sum(v) FROM (VALUES ('[1,2]'::halfvec), ('[1]')) t(v)$$);
-- the support functions validate any state they are given
SELECT halfvec_accum('{0}', '[1,2]'), halfvec_accum('{1,1,1}', '[1,2]'), halfvec_avg('{2,3,5}'), halfvec_avg('{0}');
SELECT halfvec_combine('{1,2}', '{3,4}'), halfvec_combine('{0}', '{1,2}');
SELECT err($$SELECT halfvec_accum('{}', '[1]')$$);
SELECT err($$SELECT halfvec_accum('{{0}}', '[1]')$$);
SELECT err($$SELECT halfvec_accum('{NULL}', '[1]')$$);
SELECT err($$SELECT halfvec_accum('{1,1}', '[1,2]')$$);
SELECT err($$SELECT halfvec_accum('{1,Infinity}', '[1]')$$);
SELECT err($$SELECT halfvec_avg('{}')$$);
SELECT err($$SELECT halfvec_avg('{1}')$$);
SELECT err($$SELECT halfvec_avg('{1,70000}')$$);
SELECT err($$SELECT halfvec_avg('{1,1e300}')$$);
SELECT err($$SELECT halfvec_avg('{1,NaN}')$$);
SELECT err($$SELECT halfvec_avg(array_fill(1::float8, ARRAY[16002]))$$);
SELECT err($$SELECT halfvec_combine('{1,2}', '{1,2,3}')$$);
SELECT err($$SELECT halfvec_combine('{1,NULL}', '{1}')$$);
SELECT err($$SELECT halfvec_combine('{1,1e308}', '{1,1e308}')$$);
-- casts with arrays
SELECT '{1,2.5,-3}'::real[]::halfvec, '{1,2,3}'::int[]::halfvec(3), '{0.1,2}'::float8[]::halfvec, '{1.5,2}'::numeric[]::halfvec;
SELECT '[1,0.1,-2]'::halfvec::real[], array_to_halfvec('{1e-8,4}'::real[], -1, false);
SELECT err($$SELECT '{1,2}'::real[]::halfvec(3)$$);
SELECT err($$SELECT '{{1,2}}'::real[]::halfvec$$);
SELECT err($$SELECT '{1,NULL}'::int[]::halfvec$$);
SELECT err($$SELECT '{}'::real[]::halfvec$$);
SELECT err($$SELECT array_fill(1, ARRAY[16001])::halfvec$$);
SELECT err($$SELECT '{NaN,1}'::real[]::halfvec$$);
SELECT err($$SELECT '{1,-Infinity}'::float8[]::halfvec$$);
SELECT err($$SELECT '{1,65520}'::real[]::halfvec$$);
SELECT err($$SELECT '{NaN,1e10}'::float8[]::halfvec$$);
SELECT err($$SELECT '{100000}'::int[]::halfvec$$);
SELECT err($$SELECT '{1e39}'::numeric[]::halfvec$$);
SELECT err($$SELECT '{1e-50}'::numeric[]::halfvec$$);
SELECT err($$SELECT '{{1e39}}'::numeric[]::halfvec$$);
-- text output is Postgres' float4out digit for digit, for every f16 value
-- (ties to the even digit: 1.12890625 is 1.1289062) and for float4s whose
-- shorter digits lie exactly between two floats (57706752)
SELECT count(*) AS values, count(*) FILTER (WHERE ARRAY[x]::halfvec::text <> '[' || x::text || ']') AS halfvec_differ,
       count(*) FILTER (WHERE ARRAY[x]::vector::text <> '[' || x::text || ']') AS vector_differ
FROM generate_series(-24, 5) e, generate_series(1, 2047) m, LATERAL (SELECT (m * 2.0 ^ e)::float4 AS x) s;
SELECT '[1.12890625,-1.56640625]'::halfvec, '[1.12890625,57706752,1020727168]'::vector;
