-- hnsw on bit strings: bit_hamming_ops (<~>) and bit_jaccard_ops (<%>)
-- answer as an exact scan does, before and after inserts, deletes, vacuum,
-- with packed bits (the default for bit, format 6) and with the layouts of
-- 0/1 floats a bit column gets with storage = 'half' (f16, format 4) or
-- 'i8' (8-bit codes, format 5, Hamming only)
SELECT setseed(0.42);
CREATE TABLE hb (id int PRIMARY KEY, v bit(64));
-- varied densities, a few all-zero, all-one and NULL rows
INSERT INTO hb SELECT i, CASE
    WHEN i % 97 = 0 THEN NULL
    WHEN i % 89 = 0 THEN repeat('0', 64)::bit(64)
    WHEN i % 83 = 0 THEN repeat('1', 64)::bit(64)
    ELSE (SELECT string_agg(CASE WHEN random() < (i % 9 + 1) / 10.0 + 0 * j THEN '1' ELSE '0' END, '')
          FROM generate_series(1, 64 + 0 * i) j)::bit(64) END
FROM generate_series(1, 400) i;
CREATE INDEX hb_ham ON hb USING hnsw (v bit_hamming_ops);
CREATE INDEX hb_jac ON hb USING hnsw (v bit_jaccard_ops);
CREATE TABLE hb16 AS SELECT * FROM hb;
CREATE INDEX hb16_ham ON hb16 USING hnsw (v bit_hamming_ops) WITH (storage = 'half');
CREATE INDEX hb16_jac ON hb16 USING hnsw (v bit_jaccard_ops) WITH (storage = 'half');
CREATE TABLE hb8 AS SELECT * FROM hb;
CREATE INDEX hb8_ham ON hb8 USING hnsw (v bit_hamming_ops) WITH (storage = 'i8');
-- packed elements are the smallest (16 bytes of bits against 128 and 64)
SELECT pg_relation_size('hb_ham') < pg_relation_size('hb8_ham') AS smaller_than_i8,
       pg_relation_size('hb8_ham') < pg_relation_size('hb16_ham') AS i8_smaller_than_half;
SET hnsw.ef_search = 400;
-- distances of the first 20 by the index and by an exact scan (ids may tie)
CREATE FUNCTION hb_same(tbl text, idx text, op text, q text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE a float8[]; b float8[]; plan text := ''; line text;
  query text := format('SELECT array_agg(d) FROM (SELECT v %s %L::bit(64) AS d FROM %I ORDER BY v %s %L::bit(64) LIMIT 20) s', op, q, tbl, op, q);
BEGIN
  SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = on;
  FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
    plan := plan || line;
  END LOOP;
  IF plan NOT LIKE '%' || idx || '%' THEN RAISE NOTICE '% did not use %: %', op, idx, plan; RETURN false; END IF;
  EXECUTE query INTO a;
  SET LOCAL enable_seqscan = on; SET LOCAL enable_indexscan = off;
  EXECUTE query INTO b;
  IF a IS DISTINCT FROM b THEN RAISE NOTICE '% %: index % seq %', op, q, a, b; END IF;
  RETURN a IS NOT DISTINCT FROM b AND cardinality(a) = 20;
END $$;
CREATE TABLE hb_q (q text);
INSERT INTO hb_q SELECT v::text FROM hb WHERE id IN (5, 77, 150, 89) UNION ALL
SELECT (SELECT string_agg(CASE WHEN random() < 0.3 + 0 * j THEN '1' ELSE '0' END, '') FROM generate_series(1, 64 + 0 * i) j)
FROM generate_series(1, 4) i UNION ALL SELECT repeat('0', 64);
SELECT idx, op, bool_and(hb_same(tbl, idx, op, q)) AS same, count(*)
FROM (VALUES ('hb', 'hb_ham', '<~>'), ('hb', 'hb_jac', '<%>'), ('hb16', 'hb16_ham', '<~>'),
             ('hb16', 'hb16_jac', '<%>'), ('hb8', 'hb8_ham', '<~>')) o(tbl, idx, op), hb_q
GROUP BY idx, op ORDER BY idx;
-- the rows the search reaches come back (ef_search 400 of 396 non-NULL
-- rows; under Jaccard rows without a set bit are at distance 1 from
-- everything, so the graph's pruning may leave them unreached)
SET enable_seqscan = off;
SELECT count(*) BETWEEN 350 AND 396 AS most_rows
FROM (SELECT id, v FROM hb ORDER BY v <%> repeat('1', 64)::bit(64)) s;
SELECT v = repeat('1', 64)::bit(64) AS nearest FROM hb ORDER BY v <%> repeat('1', 64)::bit(64) LIMIT 1;
SELECT count(*) FROM (SELECT id FROM hb ORDER BY v <~> (SELECT NULL::bit(64))) s;
RESET enable_seqscan;
INSERT INTO hb SELECT i, (SELECT string_agg(CASE WHEN random() < 0.5 + 0 * j THEN '1' ELSE '0' END, '')
                          FROM generate_series(1, 64 + 0 * i) j)::bit(64)
FROM generate_series(401, 500) i;
INSERT INTO hb16 SELECT * FROM hb WHERE id > 400;
INSERT INTO hb8 SELECT * FROM hb WHERE id > 400;
DELETE FROM hb WHERE id % 3 = 0;
DELETE FROM hb16 WHERE id % 3 = 0;
DELETE FROM hb8 WHERE id % 3 = 0;
VACUUM hb;
VACUUM hb16;
VACUUM hb8;
SELECT idx, op, bool_and(hb_same(tbl, idx, op, q)) AS same, count(*)
FROM (VALUES ('hb', 'hb_ham', '<~>'), ('hb', 'hb_jac', '<%>'), ('hb16', 'hb16_ham', '<~>'),
             ('hb16', 'hb16_jac', '<%>'), ('hb8', 'hb8_ham', '<~>')) o(tbl, idx, op), hb_q
GROUP BY idx, op ORDER BY idx;
SELECT pgvision_index_check('hb_ham', true), pgvision_index_check('hb_jac', true);
SELECT pgvision_index_check('hb16_ham', true), pgvision_index_check('hb16_jac', true),
       pgvision_index_check('hb8_ham', true);
RESET hnsw.ef_search;
DROP TABLE hb, hb16, hb8, hb_q;
DROP FUNCTION hb_same;
-- pgvector's small cases
SET enable_seqscan = off;
CREATE TABLE t (val bit(4));
INSERT INTO t (val) VALUES (B'0000'), (B'1100'), (B'1111'), (NULL);
CREATE INDEX ON t USING hnsw (val bit_jaccard_ops);
INSERT INTO t (val) VALUES (B'1110');
SELECT * FROM t ORDER BY val <%> B'1111';
CREATE INDEX ON t USING hnsw (val bit_hamming_ops);
SELECT * FROM t ORDER BY val <~> B'1111';
SELECT err($$SELECT * FROM t ORDER BY val <~> B'01'$$);
SELECT err($$SELECT * FROM t ORDER BY val <%> repeat('1', 64000)::bit(64000)$$);
DROP TABLE t;
RESET enable_seqscan;
-- limits: 64,000 bits packed (16,000 with storage = 'half' or 'i8'), a
-- fixed length, and bit only
CREATE TABLE t (val bit(16000), w bit(16001), vb varbit(3), vn varbit,
                x bit(64000), y bit(64001));
INSERT INTO t VALUES (repeat('10', 8000)::bit(16000), repeat('1', 16001)::bit(16001), B'101', B'1',
                      repeat('0011', 16000)::bit(64000), NULL);
CREATE INDEX t_wide ON t USING hnsw (val bit_jaccard_ops);
SELECT pgvision_index_check('t_wide', true);
CREATE INDEX t_wide16 ON t USING hnsw (val bit_jaccard_ops) WITH (storage = 'half');
SELECT pgvision_index_check('t_wide16', true);
CREATE INDEX t_w ON t USING hnsw (w bit_hamming_ops);
CREATE INDEX t_x ON t USING hnsw (x bit_jaccard_ops) WITH (m = 100, ef_construction = 200);
CREATE INDEX t_xh ON t USING hnsw (x bit_hamming_ops);
INSERT INTO t (x) SELECT (repeat('0', i) || repeat('1', 64000 - i))::bit(64000) FROM generate_series(1, 5) i;
SELECT pgvision_index_check('t_w', true), pgvision_index_check('t_x', true), pgvision_index_check('t_xh', true);
SET enable_seqscan = off;
SELECT x <~> repeat('1', 64000)::bit(64000) AS d FROM t ORDER BY x <~> repeat('1', 64000)::bit(64000) LIMIT 3;
SELECT round((x <%> repeat('1', 64000)::bit(64000))::numeric, 8) AS d FROM t
ORDER BY x <%> repeat('1', 64000)::bit(64000) LIMIT 3;
RESET enable_seqscan;
SELECT err($$CREATE INDEX ON t USING hnsw (y bit_hamming_ops)$$);
SELECT err($$CREATE INDEX ON t USING hnsw (w bit_hamming_ops) WITH (storage = 'half')$$);
SELECT err($$CREATE INDEX ON t USING hnsw (w bit_hamming_ops) WITH (storage = 'i8')$$);
SELECT err($$CREATE INDEX ON t USING hnsw (val bit_jaccard_ops) WITH (storage = 'i8')$$);
SELECT err($$CREATE INDEX ON t USING hnsw (val bit_hamming_ops) WITH (storage = 'bits')$$);
SELECT err($$CREATE INDEX ON t USING hnsw (vb bit_hamming_ops)$$);
SELECT err($$CREATE INDEX ON t USING hnsw (vn bit_jaccard_ops)$$);
CREATE INDEX t_cast ON t USING hnsw ((vb::bit(3)) bit_hamming_ops);
SELECT err($$CREATE INDEX ON t USING hnsw ((vb::bit(64001)) bit_hamming_ops)$$);
SELECT err($$CREATE INDEX ON t USING hnsw (val vector_l2_ops)$$);
DROP TABLE t;
CREATE TABLE tv (v vector(3));
SELECT err($$CREATE INDEX ON tv USING hnsw (v vector_l2_ops) WITH (storage = 'bit')$$);
DROP TABLE tv;
-- iterative scans fill a filtered LIMIT with the exact nearest
CREATE TABLE it (id int, v bit(32));
INSERT INTO it SELECT i, (SELECT string_agg(CASE WHEN random() < 0.4 + 0 * j THEN '1' ELSE '0' END, '')
                          FROM generate_series(1, 32 + 0 * i) j)::bit(32)
FROM generate_series(1, 3000) i;
CREATE INDEX it_jac ON it USING hnsw (v bit_jaccard_ops);
CREATE TEMP TABLE it_want AS SELECT array_agg(d) AS d FROM (
  SELECT v <%> B'10101010101010101010101010101010' AS d FROM it WHERE id % 50 = 0
  ORDER BY 1 LIMIT 30) s;
SET enable_seqscan = off;
SET hnsw.iterative_scan = strict_order;
EXPLAIN (COSTS OFF) SELECT id FROM it WHERE id % 50 = 0
ORDER BY v <%> B'10101010101010101010101010101010' LIMIT 30;
SELECT (SELECT d FROM it_want) = array_agg(d) AS exact, count(*) FROM (
  SELECT v <%> B'10101010101010101010101010101010' AS d FROM it WHERE id % 50 = 0
  ORDER BY v <%> B'10101010101010101010101010101010' LIMIT 30) s;
RESET hnsw.iterative_scan;
RESET enable_seqscan;
DROP TABLE it, it_want;
