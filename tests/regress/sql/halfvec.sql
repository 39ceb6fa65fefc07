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
