-- hnsw index: operator classes, options, errors, exact answers on small data
CREATE TABLE t (id int PRIMARY KEY, v vector(3));
INSERT INTO t SELECT i, ARRAY[sin(i), cos(i * 1.3), sin(i * 0.7) * 2]::real[]::vector FROM generate_series(1, 30) i;
INSERT INTO t VALUES (31, NULL), (32, '[0,0,0]');
CREATE INDEX t_l2 ON t USING hnsw (v vector_l2_ops);
CREATE INDEX t_ip ON t USING hnsw (v vector_ip_ops) WITH (m = 8, ef_construction = 32);
CREATE INDEX t_cos ON t USING hnsw (v vector_cosine_ops);
CREATE INDEX t_l1 ON t USING hnsw (v vector_l1_ops);
SET enable_seqscan = off;
-- each operator picks its index
EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY v <-> '[1,1,1]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY v <#> '[1,1,1]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY v <=> '[1,1,1]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY v <+> '[1,1,1]' LIMIT 5;
-- with ef_search above the row count the answers are exact: compare to a seq scan
CREATE FUNCTION same_as_seqscan(q text, op text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE a int[]; b int[];
BEGIN
  SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = on;
  EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM t ORDER BY v %s %L, id LIMIT 10) s', op, q) INTO a;
  SET LOCAL enable_seqscan = on; SET LOCAL enable_indexscan = off;
  EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM t WHERE v IS NOT NULL ORDER BY v %s %L, id LIMIT 10) s', op, q) INTO b;
  IF a IS DISTINCT FROM b THEN RAISE NOTICE '% %: index % seq %', op, q, a, b; END IF;
  RETURN a IS NOT DISTINCT FROM b;
END $$;
SELECT op, bool_and(same_as_seqscan(q, op))
FROM (VALUES ('<->'), ('<#>'), ('<=>'), ('<+>')) o(op),
     (VALUES ('[1,1,1]'), ('[-1,0.5,2]'), ('[0.1,-0.9,0]')) qs(q)
GROUP BY op ORDER BY op;
-- results come out in exact distance order, distances as a seq scan computes them
SELECT id, round((v <-> '[1,1,1]')::numeric, 6) AS d FROM t ORDER BY v <-> '[1,1,1]' LIMIT 5;
SELECT id, round((v <+> '[1,1,1]')::numeric, 6) AS d FROM t ORDER BY v <+> '[1,1,1]' LIMIT 5;
-- NULL rows are not indexed; a zero vector is not in the cosine index
SELECT count(*) FROM (SELECT id FROM t ORDER BY v <-> '[1,1,1]' LIMIT 100) s;
SELECT count(*) FROM (SELECT id FROM t ORDER BY v <=> '[1,1,1]' LIMIT 100) s;
-- ORDER BY v <-> NULL orders nothing (any rows come back); nor does a zero cosine query (NaN), as in pgvector
SELECT count(*) FROM (SELECT id FROM t ORDER BY v <-> NULL LIMIT 5) s;
SELECT count(*) FROM (SELECT id FROM t ORDER BY v <=> '[0,0,0]' LIMIT 5) s;
SELECT err($$SELECT id FROM t ORDER BY v <-> '[1,1]' LIMIT 5$$);
-- inserts, duplicates, deletes and vacuum keep answers exact
INSERT INTO t SELECT i, ARRAY[cos(i), sin(i * 0.3), cos(i * 1.7)]::real[]::vector FROM generate_series(33, 60) i;
INSERT INTO t SELECT i, '[0.5,0.5,0.5]' FROM generate_series(61, 80) i;
SELECT count(*) FROM (SELECT id FROM t ORDER BY v <-> '[0.5,0.5,0.5]' LIMIT 20) s WHERE id BETWEEN 61 AND 80;
DELETE FROM t WHERE id % 3 = 0;
VACUUM t;
SELECT op, bool_and(same_as_seqscan(q, op))
FROM (VALUES ('<->'), ('<#>'), ('<=>')) o(op),
     (VALUES ('[1,1,1]'), ('[-1,0.5,2]'), ('[0.5,0.5,0.5]')) qs(q)
GROUP BY op ORDER BY op;
RESET enable_seqscan;
-- pgvision_index_check: every opclass's index is sound, with every row in it
-- (not the NULL row; the zero vector is in every index but the cosine one)
SELECT pgvision_index_check('t_l2'), pgvision_index_check('t_ip', true),
       pgvision_index_check('t_cos', heapallindexed => true), pgvision_index_check('t_l1', true);
-- without search_path (it resolves nothing through it)
SET search_path = '';
SELECT public.pgvision_index_check('public.t_l2', true);
RESET search_path;
-- only an hnsw or ivfflat index can be checked
CREATE INDEX t_id ON t (id);
SELECT err($$SELECT pgvision_index_check('t_id')$$);
SELECT err($$SELECT pgvision_index_check('t')$$);
SELECT err($$SELECT pgvision_index_check(0)$$);
DROP INDEX t_id;
-- a partitioned index has no pages: its partitions' indexes are checked
CREATE TABLE tp (id int, v vector(3)) PARTITION BY RANGE (id);
CREATE TABLE tp1 PARTITION OF tp FOR VALUES FROM (0) TO (100);
INSERT INTO tp SELECT id, v FROM t WHERE id < 100;
CREATE INDEX tp_v ON tp USING hnsw (v);
SELECT err($$SELECT pgvision_index_check('tp_v')$$);
SELECT pgvision_index_check('tp1_v_idx', true);
DROP TABLE tp;
-- the planner keeps the seq scan without ORDER BY
EXPLAIN (COSTS OFF) SELECT id FROM t WHERE id = 3;

-- options and their bounds (pgvector's messages)
SELECT err($$CREATE INDEX ON t USING hnsw (v) WITH (m = 1)$$);
SELECT err($$CREATE INDEX ON t USING hnsw (v) WITH (m = 101)$$);
SELECT err($$CREATE INDEX ON t USING hnsw (v) WITH (ef_construction = 3)$$);
SELECT err($$CREATE INDEX ON t USING hnsw (v) WITH (ef_construction = 1001)$$);
SELECT err($$CREATE INDEX ON t USING hnsw (v) WITH (m = 16, ef_construction = 16)$$);
SELECT err($$CREATE INDEX ON t USING hnsw (v) WITH (nope = 1)$$);
SELECT err($$SET hnsw.ef_search = 0$$);
SELECT err($$SET hnsw.ef_search = 1001$$);
SELECT err($$SET hnsw.iterative_scan = sideways$$);
SELECT err($$SET hnsw.nonexistent = 1$$);
SHOW hnsw.ef_search;
SHOW hnsw.iterative_scan;
SHOW hnsw.max_scan_tuples;
SHOW hnsw.scan_mem_multiplier;
SELECT err($$SET hnsw.scan_mem_multiplier = 0.5$$);
SELECT err($$SET hnsw.scan_mem_multiplier = 1001$$);
SET hnsw.scan_mem_multiplier = 2.5;
SHOW hnsw.scan_mem_multiplier;
RESET hnsw.scan_mem_multiplier;

-- dimensions: none, ResNet-50's 2048, the page limit
CREATE TABLE nodim (v vector);
SELECT err($$CREATE INDEX ON nodim USING hnsw (v)$$);
CREATE TABLE wide (id int, v vector(2048));
INSERT INTO wide SELECT i, array_fill(i::real, ARRAY[2048])::vector FROM generate_series(1, 20) i;
CREATE INDEX ON wide USING hnsw (v);
SET enable_seqscan = off;
SELECT id FROM wide ORDER BY v <-> array_fill(7.2::real, ARRAY[2048])::vector LIMIT 3;
RESET enable_seqscan;
SELECT pgvision_index_check('wide_v_idx', true);
-- wider than a page (3,796 at m = 16): each element spans 4 blocks at 16,000
CREATE TABLE widest (id int, v vector(16000));
INSERT INTO widest SELECT i, array_fill(i::real, ARRAY[16000])::vector FROM generate_series(1, 5) i;
CREATE INDEX widest_idx ON widest USING hnsw (v);
INSERT INTO widest SELECT i, array_fill(i::real, ARRAY[16000])::vector FROM generate_series(6, 10) i;
SELECT pg_relation_size('widest_idx') / 8192 AS blocks;
SET enable_seqscan = off;
SELECT id FROM widest ORDER BY v <-> array_fill(7.2::real, ARRAY[16000])::vector LIMIT 3;
DELETE FROM widest WHERE id <= 4;
VACUUM widest;
INSERT INTO widest SELECT i, array_fill(i::real, ARRAY[16000])::vector FROM generate_series(11, 14) i;
SELECT pg_relation_size('widest_idx') / 8192 AS blocks_after_reuse;
SELECT id FROM widest ORDER BY v <-> array_fill(12.2::real, ARRAY[16000])::vector LIMIT 3;
RESET enable_seqscan;
SELECT pgvision_index_check('widest_idx', true);
-- 4,096-d: 13 elements share a block of chunks, 14 blocks an extent
CREATE TABLE w4k (id int, v vector(4096));
INSERT INTO w4k SELECT i, array_fill(i::real, ARRAY[4096])::vector FROM generate_series(1, 20) i;
CREATE INDEX w4k_idx ON w4k USING hnsw (v) WITH (storage = 'half');
SELECT pg_relation_size('w4k_idx') / 8192 AS blocks;
INSERT INTO w4k SELECT i, array_fill(i::real, ARRAY[4096])::vector FROM generate_series(21, 26) i;
SELECT pg_relation_size('w4k_idx') / 8192 AS blocks_places_taken;
INSERT INTO w4k SELECT i, array_fill(i::real, ARRAY[4096])::vector FROM generate_series(27, 27) i;
SELECT pg_relation_size('w4k_idx') / 8192 AS blocks_new_extent;
DELETE FROM w4k WHERE id % 5 = 0;
VACUUM w4k;
INSERT INTO w4k SELECT i, array_fill(i::real, ARRAY[4096])::vector FROM generate_series(28, 32) i;
SELECT pg_relation_size('w4k_idx') / 8192 AS blocks_after_reuse;
SET enable_seqscan = off;
SELECT id FROM w4k ORDER BY v <-> array_fill(29.8::real, ARRAY[4096])::vector LIMIT 3;
SELECT id FROM w4k ORDER BY v <-> array_fill(3.1::real, ARRAY[4096])::vector LIMIT 3;
RESET enable_seqscan;
SELECT pgvision_index_check('w4k_idx', true);
-- every opclass beyond a page (3,796 dimensions), after deletes and vacuum
CREATE TABLE w4ops (id int, v vector(4000));
INSERT INTO w4ops SELECT i, array_fill((i % 7 - 3)::real, ARRAY[4000])::vector FROM generate_series(1, 16) i;
CREATE INDEX w4ops_ip ON w4ops USING hnsw (v vector_ip_ops);
CREATE INDEX w4ops_cos ON w4ops USING hnsw (v vector_cosine_ops);
CREATE INDEX w4ops_l1 ON w4ops USING hnsw (v vector_l1_ops);
DELETE FROM w4ops WHERE id % 4 = 0;
VACUUM w4ops;
INSERT INTO w4ops SELECT i, array_fill((i % 5 - 2)::real, ARRAY[4000])::vector FROM generate_series(17, 20) i;
SELECT pgvision_index_check('w4ops_ip', true), pgvision_index_check('w4ops_cos', true),
       pgvision_index_check('w4ops_l1', true);
DROP TABLE w4ops;
SELECT err($$CREATE TABLE toowide (v vector(16001))$$);

-- iterative scan: a filter that discards most candidates still fills the LIMIT
CREATE TABLE f (id int, cat int, v vector(2));
INSERT INTO f SELECT i, i % 50, ARRAY[cos(i * 0.01), sin(i * 0.01)]::real[]::vector FROM generate_series(1, 2000) i;
CREATE INDEX ON f USING hnsw (v);
SET enable_seqscan = off;
SET hnsw.ef_search = 10;
SELECT count(*) FROM (SELECT id FROM f WHERE cat = 7 ORDER BY v <-> '[1,0]' LIMIT 10) s;
SET hnsw.iterative_scan = relaxed_order;
SELECT count(*) FROM (SELECT id FROM f WHERE cat = 7 ORDER BY v <-> '[1,0]' LIMIT 10) s;
SET hnsw.max_scan_tuples = 50;
SELECT count(*) < 10 AS capped FROM (SELECT id FROM f WHERE cat = 7 ORDER BY v <-> '[1,0]' LIMIT 10) s;
RESET hnsw.max_scan_tuples;
RESET hnsw.iterative_scan;
RESET hnsw.ef_search;
RESET enable_seqscan;

-- iterative scan memory: work_mem times hnsw.scan_mem_multiplier. The 20
-- rows of category 7 lie all around the circle, so finding the farthest
-- means visiting nearly all 20,000 elements, more than 64 kB can hold.
CREATE TABLE fm (id int, cat int, v vector(2));
INSERT INTO fm SELECT i, i % 1000, ARRAY[cos(i * 0.01), sin(i * 0.01)]::real[]::vector FROM generate_series(1, 20000) i;
CREATE INDEX ON fm USING hnsw (v);
SET enable_seqscan = off;
SET hnsw.iterative_scan = relaxed_order;
SET work_mem = '64MB';
SELECT count(*) AS all_found FROM (SELECT id FROM fm WHERE cat = 7 ORDER BY v <-> '[1,0]' LIMIT 20) s;
SET work_mem = '64kB';
SELECT count(*) < 20 AS capped FROM (SELECT id FROM fm WHERE cat = 7 ORDER BY v <-> '[1,0]' LIMIT 20) s;
SET hnsw.scan_mem_multiplier = 1000;
SELECT count(*) AS all_found FROM (SELECT id FROM fm WHERE cat = 7 ORDER BY v <-> '[1,0]' LIMIT 20) s;
RESET hnsw.scan_mem_multiplier;
RESET work_mem;
RESET hnsw.iterative_scan;
RESET enable_seqscan;
DROP TABLE fm;

-- unlogged tables get an init fork; TRUNCATE and REINDEX work
CREATE UNLOGGED TABLE u (v vector(2));
CREATE INDEX ON u USING hnsw (v);
INSERT INTO u VALUES ('[1,2]'), ('[3,4]');
TRUNCATE u;
INSERT INTO u VALUES ('[5,6]');
REINDEX TABLE u;
SET enable_seqscan = off;
SELECT v FROM u ORDER BY v <-> '[0,0]' LIMIT 1;
RESET enable_seqscan;
SELECT pgvision_index_check('u_v_idx', true);
-- a scan keeps recently read pages pinned: cursors, rescans and errors
-- must release every pin (a leak would print a WARNING here)
CREATE TABLE pins (id int, v vector(2));
INSERT INTO pins SELECT i, ARRAY[cos(i * 0.1), sin(i * 0.1)]::real[]::vector FROM generate_series(1, 500) i;
CREATE INDEX ON pins USING hnsw (v);
SET enable_seqscan = off;
BEGIN;
DECLARE c CURSOR FOR SELECT id FROM pins ORDER BY v <-> '[1,0]';
FETCH 3 FROM c;
FETCH 2 FROM c;
CLOSE c;
COMMIT;
SELECT q.i, (SELECT id FROM pins ORDER BY v <-> ARRAY[cos(q.i * 0.1), sin(q.i * 0.1)]::real[]::vector LIMIT 1) AS nearest
  FROM generate_series(1, 5) q(i);
DO $$
BEGIN
  BEGIN
    PERFORM 1 / (id - id) FROM pins ORDER BY v <-> '[1,0]' LIMIT 5;
  EXCEPTION WHEN division_by_zero THEN RAISE NOTICE 'caught: %', SQLERRM;
  END;
END $$;
SELECT 1 / (id - id) FROM pins ORDER BY v <-> '[1,0]' LIMIT 5;
SELECT count(*) FROM (SELECT id FROM pins ORDER BY v <-> '[0,1]' LIMIT 20) s;
RESET enable_seqscan;
DROP TABLE t, nodim, wide, widest, w4k, f, u, pins;
DROP FUNCTION same_as_seqscan;
