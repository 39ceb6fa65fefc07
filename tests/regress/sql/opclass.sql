-- operator classes name themselves through support function 3 (crate::opclass):
-- the index takes its key type and metric from it, never from a function's name
SELECT c.opcname, p.amprocnum, p.amproc::regproc
FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
JOIN pg_amproc p ON p.amprocfamily = c.opcfamily
WHERE a.amname = 'hnsw' ORDER BY 1, 2;
-- the functions take and return internal: not callable from SQL (15 finds
-- no function for an unknown argument, 42883; 16 and later refuse the
-- internal argument, 0A000)
SELECT split_part(err($$SELECT pgvision_opclass_vector_l2(NULL)$$), ':', 1)
       IN ('42883', '0A000') AS not_callable;
-- each class answers its operator as an exact scan does, on data where the
-- four metrics disagree about the order
CREATE TABLE oc (id int PRIMARY KEY, v vector(4));
INSERT INTO oc SELECT i, ARRAY[sin(i) * (1 + i % 7), cos(i * 1.3), sin(i * 0.7) * 3, (i % 5) - 2]::real[]::vector
FROM generate_series(1, 200) i;
CREATE INDEX oc_l2 ON oc USING hnsw (v vector_l2_ops);
CREATE INDEX oc_ip ON oc USING hnsw (v vector_ip_ops);
CREATE INDEX oc_cos ON oc USING hnsw (v vector_cosine_ops);
CREATE INDEX oc_l1 ON oc USING hnsw (v vector_l1_ops);
SET hnsw.ef_search = 400;
CREATE FUNCTION oc_same(idx text, op text, q text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE a int[]; b int[]; plan text := ''; line text;
BEGIN
  SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = on;
  FOR line IN EXECUTE format('EXPLAIN (COSTS OFF) SELECT id FROM oc ORDER BY v %s %L LIMIT 10', op, q) LOOP
    plan := plan || line;
  END LOOP;
  IF plan NOT LIKE '%' || idx || '%' THEN RAISE NOTICE '% did not use %: %', op, idx, plan; RETURN false; END IF;
  EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM oc ORDER BY v %s %L LIMIT 10) s', op, q) INTO a;
  SET LOCAL enable_seqscan = on; SET LOCAL enable_indexscan = off;
  EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM oc ORDER BY v %s %L LIMIT 10) s', op, q) INTO b;
  IF a IS DISTINCT FROM b THEN RAISE NOTICE '% %: index % seq %', op, q, a, b; END IF;
  RETURN a IS NOT DISTINCT FROM b;
END $$;
SELECT idx, op, bool_and(oc_same(idx, op, q)) AS same
FROM (VALUES ('oc_l2', '<->'), ('oc_ip', '<#>'), ('oc_cos', '<=>'), ('oc_l1', '<+>')) o(idx, op),
     (VALUES ('[1,1,1,1]'), ('[-3,0.5,2,0]'), ('[0.1,-0.9,0,2]')) qs(q)
GROUP BY idx, op ORDER BY idx;
-- the metric follows function 3, whatever function 1 is called: a class whose
-- function 1 is the L1 distance but whose function 3 names inner product orders by it
CREATE OPERATOR CLASS oc_ip_named_l1 FOR TYPE vector USING hnsw AS
    OPERATOR 1 <#> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 l1_distance(vector, vector),
    FUNCTION 3 pgvision_opclass_vector_ip(internal);
DROP INDEX oc_ip;
CREATE INDEX oc_ipb ON oc USING hnsw (v oc_ip_named_l1);
SELECT bool_and(oc_same('oc_ipb', '<#>', q)) AS same
FROM (VALUES ('[1,1,1,1]'), ('[-3,0.5,2,0]'), ('[0.1,-0.9,0,2]')) qs(q);
-- and one whose function 1 is the inner product but whose function 3 names L2
-- builds an L2 graph: its lower bounds (never negative) are above the negative
-- inner products, which the executor catches
CREATE OPERATOR CLASS oc_l2_named_ip FOR TYPE vector USING hnsw AS
    OPERATOR 1 <#> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 vector_negative_inner_product(vector, vector),
    FUNCTION 3 pgvision_opclass_vector_l2(internal);
DROP INDEX oc_ipb;
CREATE INDEX oc_ipc ON oc USING hnsw (v oc_l2_named_ip);
SET enable_seqscan = off;
SELECT err($$SELECT id FROM oc ORDER BY v <#> '[1,1,1,1]' LIMIT 10$$);
RESET enable_seqscan;
-- an index whose class lost function 3 after its build (a 0.1.0 installation
-- whose library was updated before ALTER EXTENSION UPDATE) still takes inserts
-- and answers exactly: its metric is on its meta page, its type is vector
-- (function 3 added as the 0.1.0 -> 0.2.0 upgrade adds it, so that it can go again)
CREATE OPERATOR CLASS oc_l2_old FOR TYPE vector USING hnsw AS
    OPERATOR 1 <-> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 vector_l2_squared_distance(vector, vector);
ALTER OPERATOR FAMILY oc_l2_old USING hnsw
    ADD FUNCTION 3 (vector, vector) pgvision_opclass_vector_l2(internal);
DROP INDEX oc_l2;
CREATE INDEX oc_old ON oc USING hnsw (v oc_l2_old);
ALTER OPERATOR FAMILY oc_l2_old USING hnsw DROP FUNCTION 3 (vector, vector);
\c
SET hnsw.ef_search = 400;
INSERT INTO oc SELECT i, ARRAY[cos(i) * 2, sin(i * 0.3), cos(i * 1.7), i % 3]::real[]::vector
FROM generate_series(201, 260) i;
SELECT bool_and(oc_same('oc_old', '<->', q)) AS same
FROM (VALUES ('[1,1,1,1]'), ('[-3,0.5,2,0]'), ('[0.1,-0.9,0,2]')) qs(q);
SELECT pgvision_index_check('oc_old', true);
-- a class without function 3 builds only when it is one of 0.1.0's vector
-- classes (a 0.1.0 installation whose binaries are updated but not yet its
-- SQL), known by its function 1 (and 2 for cosine) in the extension's schema
CREATE OPERATOR CLASS oc_unnamed FOR TYPE vector USING hnsw AS
    OPERATOR 1 <-> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 vector_l2_squared_distance(vector, vector);
SELECT err($$CREATE INDEX oc_legacy ON oc USING hnsw (v oc_unnamed)$$);
SELECT bool_and(oc_same('oc_legacy', '<->', q)) AS same
FROM (VALUES ('[1,1,1,1]'), ('[-3,0.5,2,0]'), ('[0.1,-0.9,0,2]')) qs(q);
-- any other class without function 3 cannot build
CREATE OPERATOR CLASS oc_unknown FOR TYPE vector USING hnsw AS
    OPERATOR 1 <-> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 l2_distance(vector, vector);
SELECT err($$CREATE INDEX ON oc USING hnsw (v oc_unknown)$$);
DROP TABLE oc;
DROP OPERATOR FAMILY oc_ip_named_l1 USING hnsw;
DROP OPERATOR FAMILY oc_l2_named_ip USING hnsw;
DROP OPERATOR FAMILY oc_unnamed USING hnsw;
DROP OPERATOR FAMILY oc_unknown USING hnsw;
DROP OPERATOR FAMILY oc_l2_old USING hnsw;
DROP FUNCTION oc_same;
RESET hnsw.ef_search;
