-- Distances of out-of-line (TOASTed) vectors: the distance functions reuse a
-- recent detoast of the same value (src/vector/toast_cache.rs); every answer
-- must equal the one computed from an inline copy of the same vector.
SET client_min_messages = warning;
CREATE TABLE toasty (id int PRIMARY KEY, v vector(1000));
INSERT INTO toasty
  SELECT i, (SELECT array_agg(sin(i * 7 + j)::real) FROM generate_series(1, 1000) j)::vector
  FROM generate_series(1, 40) i;
-- 1000 floats are 4 kB: stored out of line
SELECT pg_relation_size(reltoastrelid) > 0 AS out_of_line FROM pg_class WHERE relname = 'toasty';
CREATE TEMP TABLE q AS SELECT v AS q FROM toasty WHERE id = 3;
-- each distance twice in one row, and against the inline (text round-trip) copy
SELECT count(*) FILTER (WHERE d1 = d2 AND d1 = d3) AS equal, count(*) AS n
FROM (SELECT v <-> q AS d1, v <-> q AS d2, v::text::vector <-> q AS d3
      FROM toasty, q) s;
SELECT count(*) FILTER (WHERE a = b) AS equal_ip, count(*) FILTER (WHERE c = d) AS equal_cos
FROM (SELECT v <#> q AS a, v::text::vector <#> q AS b,
             v <=> q AS c, v::text::vector <=> q AS d FROM toasty, q) s;
-- a value replaced inside one transaction is never answered from the old copy
BEGIN;
SELECT round((v <-> q)::numeric, 4) AS before FROM toasty, q WHERE id = 5;
UPDATE toasty SET v = q FROM q WHERE id = 5;
SELECT v <-> q AS after_update FROM toasty, q WHERE id = 5;
UPDATE toasty SET v = (SELECT v FROM toasty WHERE id = 7) WHERE id = 5;
SELECT (SELECT v <-> q FROM toasty, q WHERE id = 5) = (SELECT v <-> q FROM toasty, q WHERE id = 7) AS same_as_7;
ROLLBACK;
-- an index scan's rows and distances equal a sequential scan's
CREATE INDEX ON toasty USING hnsw (v vector_l2_ops);
SET enable_seqscan = off;
CREATE TEMP TABLE by_index AS SELECT id, v <-> q AS d FROM toasty, q ORDER BY v <-> q LIMIT 10;
RESET enable_seqscan;
SET enable_indexscan = off;
CREATE TEMP TABLE by_seq AS SELECT id, v <-> q AS d FROM toasty, q ORDER BY v <-> q LIMIT 10;
RESET enable_indexscan;
SELECT count(*) AS same FROM by_index JOIN by_seq USING (id, d);
DROP TABLE toasty;
