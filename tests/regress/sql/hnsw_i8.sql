-- hnsw WITH (storage = 'i8'): 8-bit copies, exact answers, option errors, smaller index
CREATE TABLE q8 (id int PRIMARY KEY, v vector(64), h halfvec(64));
INSERT INTO q8 SELECT i, a::vector, a::halfvec FROM (
  SELECT i, ARRAY(SELECT greatest(sin(i * 0.37 + d * 1.1), 0) * (1 + (d % 7)) + (i % 5) * 0.01
                  FROM generate_series(1, 64) d)::real[] AS a
  FROM generate_series(1, 400) i) s;
CREATE INDEX q8_l2 ON q8 USING hnsw (v vector_l2_ops) WITH (storage = 'i8');
CREATE INDEX q8_ip ON q8 USING hnsw (v vector_ip_ops) WITH (storage = I8, m = 8);
CREATE INDEX q8_cos ON q8 USING hnsw (v vector_cosine_ops) WITH (storage = 'i8');
CREATE INDEX q8_l1 ON q8 USING hnsw (v vector_l1_ops) WITH (storage = 'i8');
CREATE INDEX q8_h ON q8 USING hnsw (h halfvec_l2_ops) WITH (storage = 'i8');
CREATE INDEX q8_half ON q8 USING hnsw (v vector_l2_ops) WITH (storage = 'half');
SELECT relname, reloptions FROM pg_class WHERE relname LIKE 'q8\_%' ORDER BY relname;
-- with ef_search above the row count the answers are exact: compare to a seq scan
CREATE FUNCTION q8_same(col text, q text, op text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE a int[]; b int[];
BEGIN
  SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = on;
  EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM q8 ORDER BY %I %s %L, id LIMIT 10) s', col, op, q) INTO a;
  SET LOCAL enable_seqscan = on; SET LOCAL enable_indexscan = off;
  EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM q8 ORDER BY %I %s %L, id LIMIT 10) s', col, op, q) INTO b;
  IF a IS DISTINCT FROM b THEN RAISE NOTICE '% % %: index % seq %', col, op, q, a, b; END IF;
  RETURN a IS NOT DISTINCT FROM b;
END $$;
SET hnsw.ef_search = 1000;
DROP INDEX q8_half;
SELECT col, op, bool_and(q8_same(col, q, op))
FROM (VALUES ('v', '<->'), ('v', '<#>'), ('v', '<=>'), ('v', '<+>'), ('h', '<->')) o(col, op),
     (SELECT (SELECT v FROM q8 WHERE id = k)::text AS q FROM generate_series(3, 400, 61) k
      UNION ALL SELECT array_fill(0.5, ARRAY[64])::real[]::vector::text) qs
GROUP BY col, op ORDER BY col, op;
-- inserts after the build, deletes and VACUUM keep the answers exact and the index sound
INSERT INTO q8 SELECT i, a::vector, a::halfvec FROM (
  SELECT i, ARRAY(SELECT cos(i * 0.21 + d) * 2 FROM generate_series(1, 64) d)::real[] AS a
  FROM generate_series(401, 520) i) s;
DELETE FROM q8 WHERE id % 4 = 0;
VACUUM q8;
SELECT col, op, bool_and(q8_same(col, q, op))
FROM (VALUES ('v', '<->'), ('v', '<#>'), ('v', '<=>'), ('v', '<+>'), ('h', '<->')) o(col, op),
     (SELECT (SELECT v FROM q8 WHERE id = k)::text AS q FROM generate_series(5, 520, 73) k) qs
GROUP BY col, op ORDER BY col, op;
RESET hnsw.ef_search;
SELECT pgvision_index_check('q8_l2', true), pgvision_index_check('q8_ip', true),
       pgvision_index_check('q8_cos', true), pgvision_index_check('q8_l1', true),
       pgvision_index_check('q8_h', true);
-- option errors
SELECT err($$CREATE INDEX ON q8 USING hnsw (v vector_l2_ops) WITH (storage = 'i4')$$);
SELECT err($$CREATE INDEX ON q8 USING hnsw (v vector_l2_ops) WITH (storage = '')$$);
SELECT err($$ALTER INDEX q8_l2 SET (storage = 'f32')$$);
CREATE TABLE q8b (id int, b bit(64));
SELECT err($$CREATE INDEX ON q8b USING hnsw (b bit_jaccard_ops) WITH (storage = 'i8')$$);
CREATE INDEX q8b_ham ON q8b USING hnsw (b bit_hamming_ops) WITH (storage = 'i8');
CREATE TABLE q8w (v halfvec(8000));
SELECT err($$CREATE INDEX ON q8w USING hnsw (v halfvec_l2_ops) WITH (storage = 'i8')$$);
-- at 2048 dimensions three elements share a page: a third of the f16 index
CREATE TABLE q8r (id int, v vector(2048));
INSERT INTO q8r SELECT i, ARRAY(SELECT greatest(sin(i * 0.1 + d), 0) FROM generate_series(1, 2048) d)::real[]
FROM generate_series(1, 90) i;
CREATE INDEX q8r_i8 ON q8r USING hnsw (v vector_l2_ops) WITH (storage = 'i8');
CREATE INDEX q8r_half ON q8r USING hnsw (v vector_l2_ops) WITH (storage = 'half');
SELECT pg_relation_size('q8r_i8') / 8192 AS i8_pages, pg_relation_size('q8r_half') / 8192 AS half_pages;
SELECT pgvision_index_check('q8r_i8', true);
-- without the option, vector and halfvec columns get 8-bit copies where
-- they fit a page, f16 copies past that and for other types
CREATE INDEX q8r_default ON q8r USING hnsw (v vector_l2_ops);
CREATE INDEX q8r_half_default ON q8r USING hnsw ((v::halfvec(2048)) halfvec_l2_ops);
SELECT pg_relation_size('q8r_default') / 8192 AS vector_pages,
       pg_relation_size('q8r_half_default') / 8192 AS halfvec_pages;
INSERT INTO q8w SELECT ARRAY(SELECT (i * d) % 5 FROM generate_series(1, 8000) d)::real[] FROM generate_series(1, 3) i;
CREATE INDEX q8w_default ON q8w USING hnsw (v halfvec_l2_ops);
SELECT pg_relation_size('q8w_default') / 8192 AS wide_pages;
SELECT pgvision_index_check('q8w_default', true);
CREATE INDEX q8b_default ON q8b USING hnsw (b bit_jaccard_ops);
-- an index built empty (and an unlogged one) takes 8-bit inserts
CREATE UNLOGGED TABLE q8u (id int, v vector(3));
CREATE INDEX q8u_i ON q8u USING hnsw (v) WITH (storage = 'i8');
INSERT INTO q8u SELECT i, ARRAY[i, -i, i % 7]::real[] FROM generate_series(1, 200) i;
SET enable_seqscan = off;
SELECT id, round((v <-> '[10,-10,3.5]')::numeric, 6) AS d FROM q8u ORDER BY v <-> '[10,-10,3.5]' LIMIT 3;
RESET enable_seqscan;
SELECT pgvision_index_check('q8u_i', true);
DROP TABLE q8, q8b, q8w, q8r, q8u;
DROP FUNCTION q8_same;
