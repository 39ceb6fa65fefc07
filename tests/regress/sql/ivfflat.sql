-- ivfflat: the inverted-file index; every class answers as an exact scan
-- when it probes every list
CREATE TABLE iv (id int PRIMARY KEY, v vector(4), h halfvec(4));
INSERT INTO iv SELECT i, a::vector, a::vector::halfvec
FROM (SELECT i, ARRAY[sin(i) * (1 + i % 7), cos(i * 1.3), sin(i * 0.7) * 3, (i % 5) - 2]::real[] a
      FROM generate_series(1, 1000) i) s;
-- options and settings: pgvector's bounds and words
SELECT err($$CREATE INDEX ON iv USING ivfflat (v) WITH (lists = 0)$$);
SELECT err($$CREATE INDEX ON iv USING ivfflat (v) WITH (lists = 32769)$$);
SELECT err($$CREATE INDEX ON iv USING ivfflat (v) WITH (m = 16)$$);
SELECT err($$SET ivfflat.probes = 0$$);
SELECT err($$SET ivfflat.probes = 32769$$);
SELECT err($$SET ivfflat.max_probes = 0$$);
SELECT err($$SET ivfflat.iterative_scan = strict_order$$);
SELECT err($$SET ivfflat.probe = 1$$);
SHOW ivfflat.probes;
SHOW ivfflat.iterative_scan;
SHOW ivfflat.max_probes;
CREATE TABLE iv_nodims (v vector);
SELECT err($$CREATE INDEX ON iv_nodims USING ivfflat (v)$$);
SELECT err($$CREATE INDEX ON iv USING ivfflat (v vector_l1_ops)$$);
SELECT err($$CREATE INDEX ON iv USING ivfflat (id)$$);
SELECT err($$CREATE INDEX ON iv USING ivfflat (v, h)$$);
-- too little data for the lists: pgvector's notice
CREATE TABLE iv_small (v vector(2));
INSERT INTO iv_small VALUES ('[1,2]'), ('[3,4]'), (NULL);
CREATE INDEX ON iv_small USING ivfflat (v) WITH (lists = 10);
-- an index on an empty table takes inserts
CREATE TABLE iv_empty (id int, v vector(3));
CREATE INDEX iv_empty_idx ON iv_empty USING ivfflat (v) WITH (lists = 4);
INSERT INTO iv_empty SELECT i, ARRAY[i, i % 3, -i]::real[] FROM generate_series(1, 50) i;
SET enable_seqscan = off;
SELECT id FROM iv_empty ORDER BY v <-> '[10,1.2,-10]' LIMIT 3;
RESET enable_seqscan;
-- one index per class (vector_l2_ops is the default), exact lists (the
-- default, 8-bit copies, comes after)
CREATE INDEX iv_l2 ON iv USING ivfflat (v) WITH (lists = 8, storage = 'exact');
CREATE INDEX iv_ip ON iv USING ivfflat (v vector_ip_ops) WITH (lists = 8, storage = 'exact');
CREATE INDEX iv_cos ON iv USING ivfflat (v vector_cosine_ops) WITH (lists = 8, storage = 'exact');
CREATE INDEX ih_l2 ON iv USING ivfflat (h halfvec_l2_ops) WITH (lists = 8, storage = 'exact');
CREATE INDEX ih_ip ON iv USING ivfflat (h halfvec_ip_ops) WITH (lists = 8, storage = 'exact');
CREATE INDEX ih_cos ON iv USING ivfflat (h halfvec_cosine_ops) WITH (lists = 8, storage = 'exact');
SELECT c.relname, a.amname, o.opcname FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
JOIN pg_opclass o ON o.oid = i.indclass[0]
WHERE i.indrelid = 'iv'::regclass AND a.amname = 'ivfflat' ORDER BY 1;
-- exact halfvec lists hold half floats: about half the size of vector's
CREATE TABLE iv_hv (v vector(100));
INSERT INTO iv_hv SELECT (SELECT array_agg(sin(i * j)) FROM generate_series(1, 100) j)::real[]
FROM generate_series(1, 300) i;
CREATE INDEX iv_hv_v ON iv_hv USING ivfflat (v) WITH (lists = 1, storage = 'exact');
CREATE INDEX iv_hv_h ON iv_hv USING ivfflat ((v::halfvec(100)) halfvec_l2_ops) WITH (lists = 1, storage = 'exact');
SELECT pg_relation_size('iv_hv_h')::float / pg_relation_size('iv_hv_v') BETWEEN 0.4 AND 0.7 AS halfvec_half;
SET enable_seqscan = off;
SET ivfflat.probes = 1;
SELECT count(*) FROM (SELECT 1 FROM iv_hv ORDER BY v::halfvec(100) <-> (SELECT v::halfvec(100) FROM iv_hv LIMIT 1) LIMIT 400) s;
RESET enable_seqscan;
DROP TABLE iv_hv;
-- iv_same: the index's first 10 ids and distances equal an exact scan's
CREATE FUNCTION iv_same(idx text, col text, op text, q text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE a text; b text; plan text := ''; line text;
  sql text := format('SELECT string_agg(id || '':'' || d, '','') FROM (SELECT id, %s %s %L AS d FROM iv ORDER BY %s %s %L LIMIT 10) s',
                     col, op, q, col, op, q);
BEGIN
  SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = on;
  FOR line IN EXECUTE format('EXPLAIN (COSTS OFF) SELECT id FROM iv ORDER BY %s %s %L LIMIT 10', col, op, q) LOOP
    plan := plan || line;
  END LOOP;
  IF plan NOT LIKE '%' || idx || '%' THEN RAISE NOTICE '% did not use %: %', op, idx, plan; RETURN false; END IF;
  EXECUTE sql INTO a;
  SET LOCAL enable_seqscan = on; SET LOCAL enable_indexscan = off;
  EXECUTE sql INTO b;
  IF a IS DISTINCT FROM b THEN RAISE NOTICE '% % %: index % seq %', idx, op, q, a, b; END IF;
  RETURN a IS NOT DISTINCT FROM b;
END $$;
SET ivfflat.probes = 8;
SELECT idx, bool_and(iv_same(idx, col, op, q)) AS same
FROM (VALUES ('iv_l2', 'v', '<->'), ('iv_ip', 'v', '<#>'), ('iv_cos', 'v', '<=>'),
             ('ih_l2', 'h', '<->'), ('ih_ip', 'h', '<#>'), ('ih_cos', 'h', '<=>')) o(idx, col, op),
     (VALUES ('[1,1,1,1]'), ('[-3,0.5,2,0]'), ('[0.1,-0.9,0,2]')) qs(q)
GROUP BY idx ORDER BY idx;
-- one probe finds fewer of the true neighbours, but its rows are in order
SET ivfflat.probes = 1;
SET enable_seqscan = off;
WITH r AS (SELECT id, v <-> '[1,1,1,1]' AS d FROM iv ORDER BY v <-> '[1,1,1,1]' LIMIT 50)
SELECT count(*) BETWEEN 1 AND 50 AS some_rows,
       bool_and(d >= coalesce(prev, 0)) AS ordered
FROM (SELECT d, lag(d) OVER () AS prev FROM r) s;
-- iterative scans fill a filtered LIMIT from further lists
SELECT count(*) < 20 AS off_runs_short FROM (SELECT id FROM iv WHERE id % 20 = 0 ORDER BY v <-> '[1,1,1,1]' LIMIT 20) s;
SET ivfflat.iterative_scan = relaxed_order;
SELECT count(*) FROM (SELECT id FROM iv WHERE id % 20 = 0 ORDER BY v <-> '[1,1,1,1]' LIMIT 20) s;
SET ivfflat.max_probes = 2;
SELECT count(*) < 20 AS max_probes_bounds FROM (SELECT id FROM iv WHERE id % 20 = 0 ORDER BY v <-> '[1,1,1,1]' LIMIT 20) s;
RESET ivfflat.max_probes;
RESET ivfflat.iterative_scan;
RESET enable_seqscan;
-- a NULL query returns rows (as pgvector: measured from zero); a zero
-- query under cosine too
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM iv ORDER BY v <-> NULL LIMIT 5) s;
SELECT count(*) FROM (SELECT id FROM iv ORDER BY v <=> '[0,0,0,0]' LIMIT 5) s;
SELECT err($$SELECT id FROM iv ORDER BY v <-> '[1,2,3]' LIMIT 5$$);
RESET enable_seqscan;
-- inserts, deletes and vacuum keep it exact
SET ivfflat.probes = 8;
INSERT INTO iv SELECT i, a::vector, a::vector::halfvec
FROM (SELECT i, ARRAY[cos(i) * 2, sin(i * 0.3), cos(i * 1.7), i % 3]::real[] a
      FROM generate_series(1001, 1400) i) s;
INSERT INTO iv VALUES (1401, NULL, NULL), (1402, '[0,0,0,0]', '[0,0,0,0]');
DELETE FROM iv WHERE id % 4 = 0;
VACUUM iv;
SELECT idx, bool_and(iv_same(idx, col, op, q)) AS same
FROM (VALUES ('iv_l2', 'v', '<->'), ('iv_cos', 'v', '<=>'), ('ih_ip', 'h', '<#>')) o(idx, col, op),
     (VALUES ('[1,1,1,1]'), ('[-3,0.5,2,0]')) qs(q)
GROUP BY idx ORDER BY idx;
SET enable_seqscan = off;
SELECT count(*) AS rows_l2 FROM (SELECT id FROM iv ORDER BY v <-> '[1,1,1,1]') s;
SELECT count(*) AS rows_cos FROM (SELECT id FROM iv ORDER BY v <=> '[1,1,1,1]') s;
RESET enable_seqscan;
-- the planner: the index for ORDER BY ... LIMIT, never without an ORDER
-- BY distance, a LIMIT, or with another operator than its class's
DROP INDEX iv_ip, iv_cos, ih_l2, ih_ip, ih_cos;
ANALYZE iv;
SET ivfflat.probes = 1;
EXPLAIN (COSTS OFF) SELECT id FROM iv ORDER BY v <-> '[1,1,1,1]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM iv ORDER BY v <-> '[1,1,1,1]';
EXPLAIN (COSTS OFF) SELECT id FROM iv ORDER BY v <#> '[1,1,1,1]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM iv WHERE v <-> '[1,1,1,1]' < 1;
-- beside an hnsw index: ivfflat while it reads few lists, hnsw once
-- ivfflat would read them all
CREATE INDEX iv_hnsw ON iv USING hnsw (v);
EXPLAIN (COSTS OFF) SELECT id FROM iv ORDER BY v <-> '[1,1,1,1]' LIMIT 5;
SET ivfflat.probes = 8;
EXPLAIN (COSTS OFF) SELECT id FROM iv ORDER BY v <-> '[1,1,1,1]' LIMIT 5;
DROP INDEX iv_hnsw;
-- wide vectors: records in pieces over several pages
CREATE TABLE iv_wide (id int, v vector(3000));
INSERT INTO iv_wide SELECT i, (SELECT array_agg(sin(i * j * 0.001)) FROM generate_series(1, 3000) j)::real[]
FROM generate_series(1, 60) i;
CREATE INDEX iv_wide_idx ON iv_wide USING ivfflat (v) WITH (lists = 3);
INSERT INTO iv_wide SELECT i, (SELECT array_agg(cos(i * j * 0.001)) FROM generate_series(1, 3000) j)::real[]
FROM generate_series(61, 80) i;
DELETE FROM iv_wide WHERE id % 3 = 0;
VACUUM iv_wide;
SET ivfflat.probes = 3;
SET enable_seqscan = off;
SELECT array_agg(id) FROM (SELECT id FROM iv_wide ORDER BY v <-> (SELECT v FROM iv_wide WHERE id = 7) LIMIT 5) s;
RESET enable_seqscan;
SET enable_indexscan = off;  -- the exact answer
SELECT array_agg(id) FROM (SELECT id FROM iv_wide ORDER BY v <-> (SELECT v FROM iv_wide WHERE id = 7) LIMIT 5) s;
RESET enable_indexscan;
-- the widest vectors: 16,000 dimensions, 8 pieces a record (4 for halfvec)
CREATE TABLE iv_16k (id int, v vector(16000));
INSERT INTO iv_16k SELECT i, (SELECT array_agg(sin(i * j * 0.0001)) FROM generate_series(1, 16000) j)::real[]
FROM generate_series(1, 6) i;
CREATE INDEX iv_16k_v ON iv_16k USING ivfflat (v) WITH (lists = 2);
CREATE INDEX iv_16k_h ON iv_16k USING ivfflat ((v::halfvec(16000)) halfvec_cosine_ops) WITH (lists = 2);
INSERT INTO iv_16k SELECT i, (SELECT array_agg(cos(i * j * 0.0001)) FROM generate_series(1, 16000) j)::real[]
FROM generate_series(7, 9) i;
DELETE FROM iv_16k WHERE id = 2;
VACUUM iv_16k;
SET ivfflat.probes = 2;
SET enable_seqscan = off;
SELECT array_agg(id) FROM (SELECT id FROM iv_16k ORDER BY v <-> (SELECT v FROM iv_16k WHERE id = 8) LIMIT 9) s;
SELECT array_agg(id) FROM (SELECT id FROM iv_16k ORDER BY v::halfvec(16000) <=> (SELECT v::halfvec(16000) FROM iv_16k WHERE id = 3) LIMIT 9) s;
RESET enable_seqscan;
SET enable_indexscan = off;  -- the exact answers
SELECT array_agg(id) FROM (SELECT id FROM iv_16k ORDER BY v <-> (SELECT v FROM iv_16k WHERE id = 8) LIMIT 9) s;
SELECT array_agg(id) FROM (SELECT id FROM iv_16k ORDER BY v::halfvec(16000) <=> (SELECT v::halfvec(16000) FROM iv_16k WHERE id = 3) LIMIT 9) s;
RESET enable_indexscan;
DROP TABLE iv_16k;
-- bit_hamming_ops: Hamming distance on bit(n), the bits stored packed.
-- With every list probed, the 20 nearest distances equal an exact scan's
-- (rows at the same distance may come in another order), through inserts,
-- deletes and VACUUM.
CREATE TABLE iv_bits (id int, b bit(64));
INSERT INTO iv_bits SELECT i, (SELECT string_agg(CASE WHEN sin(i * j * 0.37 + j) > 0 THEN '1' ELSE '0' END, '')
                               FROM generate_series(1, 64) j)::bit(64)
FROM generate_series(1, 400) i;
CREATE INDEX iv_bits_idx ON iv_bits USING ivfflat (b bit_hamming_ops) WITH (lists = 5);
INSERT INTO iv_bits SELECT id + 400, ~b FROM iv_bits WHERE id <= 60;
INSERT INTO iv_bits VALUES (1000, NULL);
DELETE FROM iv_bits WHERE id % 7 = 0;
VACUUM iv_bits;
SET ivfflat.probes = 5;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM iv_bits ORDER BY b <~> B'0101010101010101010101010101010101010101010101010101010101010101' LIMIT 20;
CREATE TEMP TABLE iv_bits_got AS
SELECT q, array_agg(d ORDER BY d) d FROM generate_series(3, 403, 100) q,
  LATERAL (SELECT b <~> (SELECT b FROM iv_bits WHERE id = q) d FROM iv_bits
           ORDER BY b <~> (SELECT b FROM iv_bits WHERE id = q) LIMIT 20) s GROUP BY q;
SELECT err($$SELECT id FROM iv_bits ORDER BY b <~> B'101' LIMIT 1$$);
RESET enable_seqscan;
SET enable_indexscan = off;  -- the exact answers
SELECT count(*), bool_and(g.d = e.d) FROM iv_bits_got g,
  LATERAL (SELECT array_agg(d ORDER BY d) d FROM (SELECT b <~> (SELECT b FROM iv_bits WHERE id = g.q) d
           FROM iv_bits WHERE b IS NOT NULL ORDER BY 1 LIMIT 20) s) e;
RESET enable_indexscan;
CREATE TABLE iv_varbit (b varbit(4));
SELECT err($$CREATE INDEX ON iv_varbit USING ivfflat (b bit_hamming_ops)$$);
SELECT err($$CREATE INDEX ON iv_bits USING ivfflat (b bit_jaccard_ops)$$);
DROP TABLE iv_bits, iv_varbit;
-- bit columns up to 64,000 bits (pgvector's limit): a record of packed
-- bits (8,000 bytes) fits one page; the centres are packed too, so 100 of
-- them fit 1 MB of maintenance_work_mem (pgvector's test).
SET maintenance_work_mem = '1MB';
CREATE TABLE iv_wide_bits (id int, b bit(64000));
CREATE INDEX iv_wide_bits_idx ON iv_wide_bits USING ivfflat (b bit_hamming_ops);
DROP INDEX iv_wide_bits_idx;
RESET maintenance_work_mem;
INSERT INTO iv_wide_bits SELECT i, (SELECT string_agg(CASE WHEN hashint4(i * 100000 + j) & 1 = 1 THEN '1' ELSE '0' END, '')
                                    FROM generate_series(1, 64000) j)::bit(64000)
FROM generate_series(1, 6) i;
INSERT INTO iv_wide_bits SELECT 10 + id, b # (B'1' || repeat('0', 63999))::bit(64000) FROM iv_wide_bits;
CREATE INDEX iv_wide_bits_idx ON iv_wide_bits USING ivfflat (b bit_hamming_ops) WITH (lists = 3);
INSERT INTO iv_wide_bits SELECT 20 + id, ~b FROM iv_wide_bits WHERE id < 10;
SET enable_seqscan = off;
SET ivfflat.probes = 3;
SELECT id, b <~> (SELECT b FROM iv_wide_bits WHERE id = 2) d FROM iv_wide_bits
ORDER BY b <~> (SELECT b FROM iv_wide_bits WHERE id = 2) LIMIT 3;
SELECT id, b <~> ~(SELECT b FROM iv_wide_bits WHERE id = 5) d FROM iv_wide_bits
ORDER BY b <~> ~(SELECT b FROM iv_wide_bits WHERE id = 5) LIMIT 3;
RESET ivfflat.probes;
RESET enable_seqscan;
-- a page a record and a few more: not a float a bit
SELECT pg_relation_size('iv_wide_bits_idx') / 8192 < 24 AS packed;
SELECT err($$CREATE INDEX ON iv_wide_bits USING ivfflat ((b::bit(64001)) bit_hamming_ops)$$);
DROP TABLE iv_wide_bits;
CREATE TABLE iv_wide_bits (b bit(64001));
SELECT err($$CREATE INDEX ON iv_wide_bits USING ivfflat (b bit_hamming_ops)$$);
DROP TABLE iv_wide_bits;
-- unlogged tables
CREATE UNLOGGED TABLE iv_unlogged (v vector(2));
CREATE INDEX ON iv_unlogged USING ivfflat (v) WITH (lists = 2);
INSERT INTO iv_unlogged VALUES ('[1,1]'), ('[5,5]');
SET enable_seqscan = off;
SELECT v FROM iv_unlogged ORDER BY v <-> '[4,4]' LIMIT 1;
RESET enable_seqscan;
-- storage = 'i8': lists of 8-bit copies. The scan hands on lower bounds of
-- the exact distances, in order, and the executor rechecks them: every
-- list probed is the exact answer, fewer give rows in exact order.
SELECT err($$CREATE INDEX ON iv USING ivfflat (v) WITH (storage = 'f8')$$);
CREATE TABLE iv_bits8 (b bit(8));
SELECT err($$CREATE INDEX ON iv_bits8 USING ivfflat (b bit_hamming_ops) WITH (storage = 'i8')$$);
CREATE INDEX ON iv_bits8 USING ivfflat (b bit_hamming_ops) WITH (storage = 'exact');
DROP TABLE iv_bits8;
DROP INDEX iv_l2;
CREATE INDEX iv_l2 ON iv USING ivfflat (v) WITH (lists = 8);  -- storage = 'i8', the default
CREATE INDEX iv_ip ON iv USING ivfflat (v vector_ip_ops) WITH (lists = 8, storage = 'i8');
CREATE INDEX iv_cos ON iv USING ivfflat (v vector_cosine_ops) WITH (lists = 8, storage = 'i8');
CREATE INDEX ih_l2 ON iv USING ivfflat (h halfvec_l2_ops) WITH (lists = 8, storage = 'i8');
CREATE INDEX ih_ip ON iv USING ivfflat (h halfvec_ip_ops) WITH (lists = 8, storage = 'i8');
CREATE INDEX ih_cos ON iv USING ivfflat (h halfvec_cosine_ops) WITH (lists = 8, storage = 'i8');
SET ivfflat.probes = 8;
SELECT idx, bool_and(iv_same(idx, col, op, q)) AS same
FROM (VALUES ('iv_l2', 'v', '<->'), ('iv_ip', 'v', '<#>'), ('iv_cos', 'v', '<=>'),
             ('ih_l2', 'h', '<->'), ('ih_ip', 'h', '<#>'), ('ih_cos', 'h', '<=>')) o(idx, col, op),
     (VALUES ('[1,1,1,1]'), ('[-3,0.5,2,0]'), ('[0.1,-0.9,0,2]')) qs(q)
GROUP BY idx ORDER BY idx;
SET ivfflat.probes = 2;
SET enable_seqscan = off;
WITH r AS (SELECT id, h <=> '[1,1,1,1]' AS d FROM iv ORDER BY h <=> '[1,1,1,1]' LIMIT 50)
SELECT count(*) AS rows, bool_and(d >= coalesce(prev, 0)) AS ordered
FROM (SELECT d, lag(d) OVER () AS prev FROM r) s;
SELECT count(*) FROM (SELECT id FROM iv ORDER BY v <-> NULL LIMIT 5) s;
SELECT count(*) FROM (SELECT id FROM iv ORDER BY v <=> '[0,0,0,0]' LIMIT 5) s;
SET ivfflat.iterative_scan = relaxed_order;
SELECT count(*) FROM (SELECT id FROM iv WHERE id % 20 = 1 ORDER BY v <-> '[1,1,1,1]' LIMIT 20) s;
RESET ivfflat.iterative_scan;
RESET enable_seqscan;
INSERT INTO iv SELECT i, a::vector, a::vector::halfvec
FROM (SELECT i, ARRAY[cos(i) * 3, sin(i * 0.5), cos(i * 1.1), i % 4]::real[] a
      FROM generate_series(1501, 1700) i) s;
DELETE FROM iv WHERE id % 5 = 0;
VACUUM iv;
SET ivfflat.probes = 8;
SELECT idx, bool_and(iv_same(idx, col, op, q)) AS same
FROM (VALUES ('iv_l2', 'v', '<->'), ('iv_cos', 'v', '<=>'), ('ih_ip', 'h', '<#>')) o(idx, col, op),
     (VALUES ('[1,1,1,1]'), ('[-3,0.5,2,0]')) qs(q)
GROUP BY idx ORDER BY idx;
SELECT pgvision_index_check(idx, true) FROM unnest(ARRAY['iv_l2', 'iv_cos', 'ih_ip']) idx;
DROP INDEX iv_ip, iv_cos, ih_l2, ih_ip, ih_cos;
-- about a third of the size of float4 lists at 100 dimensions (61
-- records a page, not 19)
CREATE TABLE iv_hv (v vector(100));
INSERT INTO iv_hv SELECT (SELECT array_agg(sin(i * j)) FROM generate_series(1, 100) j)::real[]
FROM generate_series(1, 1000) i;
CREATE INDEX iv_hv_v ON iv_hv USING ivfflat (v) WITH (lists = 1, storage = 'exact');
CREATE INDEX iv_hv_8 ON iv_hv USING ivfflat (v) WITH (lists = 1, storage = 'i8');
SELECT pg_relation_size('iv_hv_8')::float / pg_relation_size('iv_hv_v') BETWEEN 0.3 AND 0.4 AS i8_third;
DROP TABLE iv_hv;
RESET ivfflat.probes;
DROP TABLE iv, iv_nodims, iv_small, iv_empty, iv_wide, iv_unlogged;
DROP FUNCTION iv_same;
