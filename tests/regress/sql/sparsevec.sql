-- sparsevec: pgvector's sparse type, indexed by its non-zero elements
SELECT '{1:1.5,3:2}/5'::sparsevec, ' { 3 : 2 , 1 : 1.5 } / 5 '::sparsevec, '{}/3'::sparsevec;
SELECT '{1:0,2:-0,3:4}/3'::sparsevec, '{1:1e-40}/1'::sparsevec, '{1:1}/1000000000'::sparsevec;
SELECT '{1:1,2:2}/3'::sparsevec(3), pg_typeof('{}/3'::sparsevec(3));
CREATE TABLE sv_t (v sparsevec(3));
SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'sv_t'::regclass AND attname = 'v';
SELECT err($$INSERT INTO sv_t VALUES ('{}/4')$$);
DROP TABLE sv_t;
-- every input error, with its SQLSTATE
SELECT err($$SELECT '[1,2]'::sparsevec$$);
SELECT err($$SELECT '{1:1'::sparsevec$$);
SELECT err($$SELECT '{1:1}'::sparsevec$$);
SELECT err($$SELECT '{1:1}/'::sparsevec$$);
SELECT err($$SELECT '{1:1}/3 x'::sparsevec$$);
SELECT err($$SELECT '{a:1}/3'::sparsevec$$);
SELECT err($$SELECT '{1 1}/3'::sparsevec$$);
SELECT err($$SELECT '{1:}/3'::sparsevec$$);
SELECT err($$SELECT '{1:1,}/3'::sparsevec$$);
SELECT err($$SELECT '{1:1e39}/3'::sparsevec$$);
SELECT err($$SELECT '{1:1e-50}/3'::sparsevec$$);
SELECT err($$SELECT '{1:NaN}/3'::sparsevec$$);
SELECT err($$SELECT '{1:-Infinity}/3'::sparsevec$$);
SELECT err($$SELECT '{0:1}/3'::sparsevec$$);
SELECT err($$SELECT '{4:1}/3'::sparsevec$$);
SELECT err($$SELECT '{2:1,2:2}/3'::sparsevec$$);
SELECT err($$SELECT '{}/0'::sparsevec$$);
SELECT err($$SELECT '{}/1000000001'::sparsevec$$);
SELECT err($$SELECT '{1:1}/3'::sparsevec(2)$$);
SELECT err($$SELECT '{}/3'::sparsevec(0)$$);
SELECT err($$SELECT '{}/3'::sparsevec(1000000001)$$);
SELECT err($$SELECT '{}/3'::sparsevec(2, 3)$$);
SELECT err($$SELECT ('{' || array_to_string(array_agg(i || ':1'), ',') || '}/16001')::sparsevec FROM generate_series(1, 16001) i$$);
SELECT vector_dims(('{' || array_to_string(array_agg(i || ':1'), ',') || '}/16000')::sparsevec::vector) FROM generate_series(1, 16000) i;
-- binary: send, and receive through a binary COPY
CREATE TABLE sv_copy (v sparsevec);
INSERT INTO sv_copy VALUES ('{1:1.5,3:-2}/5'), ('{}/2'), ('{2:0.1}/1000000000');
SELECT sparsevec_send(v) FROM sv_copy ORDER BY 1;
-- (the file is in the server's data directory: no clash between clusters)
DO $$ BEGIN EXECUTE format('COPY sv_copy TO %L WITH (FORMAT binary)', current_setting('data_directory') || '/sv_copy.bin'); END $$;
CREATE TABLE sv_copy2 (v sparsevec);
DO $$ BEGIN EXECUTE format('COPY sv_copy2 FROM %L WITH (FORMAT binary)', current_setting('data_directory') || '/sv_copy.bin'); END $$;
SELECT count(*) AS same FROM sv_copy a JOIN sv_copy2 b ON a.v = b.v;
CREATE TABLE sv_copy3 (v sparsevec(4));
SELECT err(format('COPY sv_copy3 FROM %L WITH (FORMAT binary)', current_setting('data_directory') || '/sv_copy.bin'));
DROP TABLE sv_copy2, sv_copy3;
-- casts with vector, halfvec and arrays
SELECT '[0,1.5,0,-2]'::vector::sparsevec, '{2:1.5,4:-2}/4'::sparsevec::vector;
SELECT '[0,1.5,0,-2]'::halfvec::sparsevec, '{2:1.5,4:-2}/4'::sparsevec::halfvec;
SELECT '[0,1,2]'::vector::sparsevec(3), '{1:1}/2'::sparsevec::vector(2), '{1:1}/2'::sparsevec::halfvec(2);
SELECT ARRAY[0,1,0]::sparsevec, ARRAY[0,1.5,0]::real[]::sparsevec, ARRAY[2,0]::float8[]::sparsevec, ARRAY[0.5,0]::numeric[]::sparsevec;
SELECT err($$SELECT '[1,2]'::vector::sparsevec(3)$$);
SELECT err($$SELECT '{1:1}/16001'::sparsevec::vector$$);
SELECT err($$SELECT '{1:1}/16001'::sparsevec::halfvec$$);
SELECT err($$SELECT '{1:1}/3'::sparsevec::vector(2)$$);
SELECT err($$SELECT '{1:70000}/3'::sparsevec::halfvec$$);
SELECT err($$SELECT ARRAY[[1,2],[3,4]]::sparsevec$$);
SELECT err($$SELECT ARRAY[1,NULL]::sparsevec$$);
SELECT err($$SELECT '{}'::int[]::sparsevec$$);
SELECT err($$SELECT ARRAY[1,2]::sparsevec(3)$$);
SELECT err($$SELECT ARRAY['NaN']::real[]::sparsevec$$);
SELECT err($$SELECT ARRAY[1e300]::float8[]::sparsevec$$);
-- distances, norms and their errors
SELECT l2_distance('{1:1,3:2}/3'::sparsevec, '{2:4,3:6}/3'), '{1:1,3:2}/3'::sparsevec <-> '{2:4,3:6}/3',
       inner_product('{1:1,3:2}/3'::sparsevec, '{2:4,3:6}/3'), '{1:1,3:2}/3'::sparsevec <#> '{2:4,3:6}/3',
       round(cosine_distance('{1:1,3:2}/3'::sparsevec, '{2:4,3:6}/3')::numeric, 6), round(('{1:1,3:2}/3'::sparsevec <=> '{2:4,3:6}/3')::numeric, 6),
       l1_distance('{1:1,3:2}/3'::sparsevec, '{2:4,3:6}/3'), '{1:1,3:2}/3'::sparsevec <+> '{2:4,3:6}/3';
SELECT sparsevec_l2_squared_distance('{1:1}/2', '{2:1}/2'), sparsevec_negative_inner_product('{1:2}/2', '{1:3}/2');
SELECT cosine_distance('{}/2'::sparsevec, '{1:1}/2'), cosine_distance('{1:1}/2'::sparsevec, '{1:-1}/2');
SELECT l2_norm('{1:3,5:4}/5'::sparsevec), l2_norm('{}/5'::sparsevec), l2_normalize('{1:3,5:4}/5'::sparsevec), l2_normalize('{}/5'::sparsevec);
SELECT l2_normalize('{1:3e38,2:1e-45}/2'::sparsevec);
SELECT err($$SELECT '{1:1}/2'::sparsevec <-> '{1:1}/3'$$);
SELECT err($$SELECT inner_product('{1:1}/2'::sparsevec, '{1:1}/3')$$);
SELECT err($$SELECT '{1:1}/2'::sparsevec <=> '{1:1}/3'$$);
SELECT err($$SELECT '{1:1}/2'::sparsevec <+> '{1:1}/3'$$);
SELECT err($$SELECT sparsevec_l2_squared_distance('{1:1}/2', '{1:1}/3')$$);
SELECT err($$SELECT '{1:1}/2'::sparsevec <#> '{1:1}/3'$$);
-- comparisons and the btree class: the dense order, then dimensions
SELECT '{1:1}/2'::sparsevec < '{1:1}/3', '{1:2}/2'::sparsevec > '{1:1}/3', '{2:-1}/3'::sparsevec < '{}/3',
       '{1:1}/3'::sparsevec = '{1:1}/3', '{1:1}/3'::sparsevec <> '{1:1}/3', '{1:1}/3'::sparsevec <= '{1:1}/3',
       '{1:1}/3'::sparsevec >= '{1:2}/3', sparsevec_cmp('{1:1}/3', '{1:2}/3'), sparsevec_cmp('{5:1}/5', '{}/2');
SELECT v FROM (VALUES ('{1:1}/3'::sparsevec), ('{}/3'), ('{2:-1}/3'), ('{1:1}/2'), ('{1:-1,3:5}/3')) t(v) ORDER BY v;
SELECT count(DISTINCT v) FROM (VALUES ('{1:1}/3'::sparsevec), ('{1:1}/3'), ('{1:1.0,2:0}/3')) t(v);
CREATE TABLE sv_b (v sparsevec PRIMARY KEY);
INSERT INTO sv_b VALUES ('{1:1}/3'), ('{2:1}/3');
SELECT err($$INSERT INTO sv_b VALUES ('{1:1,2:0}/3')$$);
DROP TABLE sv_b;
-- hnsw: each sparsevec class answers as an exact scan does
CREATE TABLE sv (id int PRIMARY KEY, v sparsevec(30));
INSERT INTO sv SELECT i, (SELECT ARRAY_AGG(CASE WHEN (i * 7 + j * 13) % 5 < 2 THEN round((sin(i * j) * 4)::numeric, 2) ELSE 0 END ORDER BY j)
  FROM generate_series(1, 30) j)::real[]::sparsevec
FROM generate_series(1, 200) i;
SELECT count(*) FILTER (WHERE v = '{}/30') AS empty, count(*) FILTER (WHERE v <> '{}/30') AS sparse FROM sv;
CREATE INDEX sv_l2 ON sv USING hnsw (v sparsevec_l2_ops);
CREATE INDEX sv_ip ON sv USING hnsw (v sparsevec_ip_ops);
CREATE INDEX sv_cos ON sv USING hnsw (v sparsevec_cosine_ops);
CREATE INDEX sv_l1 ON sv USING hnsw (v sparsevec_l1_ops);
SET hnsw.ef_search = 400;
CREATE FUNCTION sv_same(idx text, op text, q text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE a int[]; b int[]; plan text := ''; line text;
BEGIN
  SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = on;
  FOR line IN EXECUTE format('EXPLAIN (COSTS OFF) SELECT id FROM sv ORDER BY v %s %L::sparsevec LIMIT 10', op, q) LOOP
    plan := plan || line;
  END LOOP;
  IF plan NOT LIKE '%' || idx || '%' THEN RAISE NOTICE '% did not use %: %', op, idx, plan; RETURN false; END IF;
  EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM sv ORDER BY v %s %L::sparsevec, id LIMIT 10) s', op, q) INTO a;
  SET LOCAL enable_seqscan = on; SET LOCAL enable_indexscan = off;
  EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM sv ORDER BY v %s %L::sparsevec, id LIMIT 10) s', op, q) INTO b;
  IF a IS DISTINCT FROM b THEN RAISE NOTICE '% %: index % seq %', op, q, a, b; END IF;
  RETURN a IS NOT DISTINCT FROM b;
END $$;
SELECT idx, op, bool_and(sv_same(idx, op, q)) AS same
FROM (VALUES ('sv_l2', '<->'), ('sv_ip', '<#>'), ('sv_cos', '<=>'), ('sv_l1', '<+>')) o(idx, op),
     (VALUES ('{1:1,5:2,9:-1}/30'), ('{2:-3,30:0.5}/30'), ('{}/30')) qs(q)
WHERE NOT (op = '<=>' AND q = '{}/30')
GROUP BY idx, op ORDER BY idx;
-- inserts, deletes and vacuum keep it exact and sound
INSERT INTO sv SELECT i, ('{' || (i % 30 + 1) || ':' || (i % 7 + 1) || ',' || ((i * 3) % 30 + 1) || ':-1.5}/30')::sparsevec
FROM generate_series(201, 260) i WHERE i % 30 <> (i * 3) % 30;
DELETE FROM sv WHERE id % 4 = 0;
VACUUM sv;
SELECT bool_and(sv_same('sv_l2', '<->', q)) AS same
FROM (VALUES ('{1:1,5:2,9:-1}/30'), ('{2:-3,30:0.5}/30')) qs(q);
SELECT pgvision_index_check('sv_l2', true), pgvision_index_check('sv_cos', true);
-- the indexes above hold sparse copies (format 7); dense f16 copies
-- (storage = 'half', format 4) keep working and answer the same
CHECKPOINT;
SELECT c.relname, get_byte(pg_read_binary_file(pg_relation_filepath(c.oid::regclass)), 28) AS format
FROM pg_class c WHERE c.relname IN ('sv_l2', 'sv_cos') ORDER BY 1;
CREATE INDEX sv_half ON sv USING hnsw (v sparsevec_l2_ops) WITH (storage = 'half');
CHECKPOINT;
SELECT get_byte(pg_read_binary_file(pg_relation_filepath('sv_half')), 28) AS format;
DROP INDEX sv_l2;
SELECT bool_and(sv_same('sv_half', '<->', q)) AS same
FROM (VALUES ('{1:1,5:2,9:-1}/30'), ('{2:-3,30:0.5}/30')) qs(q);
SELECT pgvision_index_check('sv_half', true);
DROP INDEX sv_half;
CREATE TEMP TABLE sv_dense (v vector(3));
SELECT err($$CREATE INDEX ON sv_dense USING hnsw (v vector_l2_ops) WITH (storage = 'sparse')$$);
-- index limits: any dimensions the type has (not 16,000 as dense copies),
-- 1,000 non-zero elements a row (pgvector's words), no column without dimensions
CREATE TABLE sv_wide (v sparsevec(1000000000));
INSERT INTO sv_wide VALUES ('{1:1,999999999:2}/1000000000'), ('{5:1}/1000000000'), ('{1000000000:-1}/1000000000');
CREATE INDEX sv_wide_idx ON sv_wide USING hnsw (v sparsevec_l2_ops);
SET enable_seqscan = off;
SELECT v FROM sv_wide ORDER BY v <-> '{999999999:2}/1000000000' LIMIT 3;
RESET enable_seqscan;
SELECT pgvision_index_check('sv_wide_idx', true);
SELECT err($$CREATE INDEX ON sv_wide USING hnsw (v sparsevec_l2_ops) WITH (storage = 'half')$$);
SELECT err($$INSERT INTO sv_wide SELECT ('{' || string_agg(i || ':1', ',') || '}/1000000000')::sparsevec FROM generate_series(1, 1001) i$$);
INSERT INTO sv_wide SELECT ('{' || string_agg(i || ':1', ',') || '}/1000000000')::sparsevec FROM generate_series(1, 1000) i;
DROP INDEX sv_wide_idx;
INSERT INTO sv_wide SELECT ('{' || string_agg(i || ':1', ',') || '}/1000000000')::sparsevec FROM generate_series(1, 1001) i;
SELECT err($$CREATE INDEX ON sv_wide USING hnsw (v sparsevec_l2_ops)$$);
SELECT err($$CREATE INDEX ON sv_copy USING hnsw (v sparsevec_l2_ops)$$);
-- very sparse rows (1-5 non-zeros of 32, many ties and orthogonal pairs):
-- a full search reaches every row under every metric (3-9 of 400 were
-- lost before builds bridged to rows nobody keeps as a neighbour)
CREATE TABLE sv_tiny (id int, v sparsevec(32));
INSERT INTO sv_tiny SELECT i, ('{' || string_agg(DISTINCT ((i * 7919 + k * 104729) % 32 + 1)::text || ':'
    || (((i * 31 + k * 17) % 90 + 10) / 100.0)::text, ',') || '}/32')::sparsevec
FROM generate_series(1, 400) i, generate_series(1, 5) k WHERE k <= 1 + i % 5 GROUP BY i;
CREATE FUNCTION sv_reached(op text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  SET LOCAL enable_seqscan = off; SET LOCAL hnsw.ef_search = 1000;
  EXECUTE format('SELECT count(*) FROM (SELECT id FROM sv_tiny ORDER BY v %s %L::sparsevec LIMIT 1000) s', op, '{3:1}/32') INTO n;
  RETURN n;
END $$;
CREATE INDEX sv_tiny_idx ON sv_tiny USING hnsw (v sparsevec_l2_ops) WITH (m = 8);
SELECT sv_reached('<->');
DROP INDEX sv_tiny_idx;
CREATE INDEX sv_tiny_idx ON sv_tiny USING hnsw (v sparsevec_ip_ops) WITH (m = 8);
SELECT sv_reached('<#>');
DROP INDEX sv_tiny_idx;
CREATE INDEX sv_tiny_idx ON sv_tiny USING hnsw (v sparsevec_cosine_ops) WITH (m = 8);
SELECT sv_reached('<=>');
DROP INDEX sv_tiny_idx;
CREATE INDEX sv_tiny_idx ON sv_tiny USING hnsw (v sparsevec_l1_ops) WITH (m = 8);
SELECT sv_reached('<+>');
DROP TABLE sv_tiny;
DROP FUNCTION sv_reached;
-- a class whose function 3 names another type than the class's is refused
CREATE TABLE sv_vec (v vector(3));
INSERT INTO sv_vec VALUES ('[1,2,3]');
CREATE OPERATOR CLASS sv_wrong_type FOR TYPE vector USING hnsw AS
    OPERATOR 1 <-> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 3 pgvision_opclass_sparsevec_l2(internal);
SELECT err($$CREATE INDEX ON sv_vec USING hnsw (v sv_wrong_type)$$);
DROP TABLE sv_vec;
DROP OPERATOR FAMILY sv_wrong_type USING hnsw;
RESET hnsw.ef_search;
DROP TABLE sv, sv_copy, sv_wide;
DROP FUNCTION sv_same;
