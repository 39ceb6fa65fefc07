-- bit: pgvector's Hamming and Jaccard distances on Postgres' bit type, and
-- binary quantisation of vector and halfvec
SELECT hamming_distance(B'1011', B'1011'), hamming_distance(B'1011', B'0100'), B'1011' <~> B'1110';
SELECT jaccard_distance(B'1100', B'1100'), jaccard_distance(B'1100', B'1000'), B'1010' <%> B'0110',
       jaccard_distance(B'0000', B'0000'), jaccard_distance(B'', B'');
-- bit varying and bit(n) columns; lengths past a machine word and odd tails
SELECT hamming_distance(repeat('10', 100)::varbit, repeat('01', 100)::varbit),
       hamming_distance(repeat('1', 77)::bit(77), (repeat('1', 76) || '0')::bit(77)),
       round(jaccard_distance(repeat('1', 70)::varbit, (repeat('1', 35) || repeat('0', 35))::varbit)::numeric, 4);
SELECT err($$SELECT hamming_distance(B'101', B'10')$$);
SELECT err($$SELECT jaccard_distance(B'1111', B'000')$$);
SELECT err($$SELECT B'1' <~> B'11'$$);
SELECT err($$SELECT B'1' <%> B''$$);
SELECT hamming_distance(NULL, B'1') IS NULL AS strict;
-- values as a table stores them: in line with a 1-byte header (64 bits),
-- a 4-byte one (2,000), compressed (80,000 bits, mostly zeros) and out of
-- line uncompressed (STORAGE EXTERNAL): the same answers as bit_count
CREATE TABLE bits (id int, b varbit, e varbit);
ALTER TABLE bits ALTER COLUMN e SET STORAGE EXTERNAL;
INSERT INTO bits SELECT k * 10 + i, v, v FROM generate_series(0, 3) i,
  LATERAL (VALUES (1, 64), (2, 2000), (3, 80000)) AS w(k, n),
  LATERAL (SELECT string_agg(CASE WHEN (j * 7 + i * 13) % (11 + i) = 0 THEN '1' ELSE '0' END, '')::varbit AS v
           FROM generate_series(1, n) j) s;
SELECT n, pg_column_compression(x.b) IS NOT NULL AS compressed, count(*) AS pairs,
       bool_and(x.b <~> y.b = bit_count(x.b # y.b)) AS hamming_in_line,
       bool_and(x.e <~> y.e = bit_count(x.e # y.e)) AS hamming_external,
       bool_and(x.b <~> y.e = bit_count(x.b # y.e)) AS hamming_mixed,
       bool_and(abs((x.b <%> y.e) - (1 - bit_count(x.b & y.b)::float8 / nullif(bit_count(x.b | y.b), 0))) < 1e-12) AS jaccard
FROM bits x JOIN bits y ON length(x.b) = length(y.b) AND x.id <> y.id, LATERAL (SELECT length(x.b) AS n) l
GROUP BY n, 2 ORDER BY n;
SELECT err($$SELECT x.b <~> y.b FROM bits x, bits y WHERE x.id = 10 AND y.id = 20$$);
SELECT err($$SELECT x.e <%> y.b FROM bits x, bits y WHERE x.id = 30 AND y.id = 10$$);
DROP TABLE bits;
-- the operators are commutative and found without the function names
SELECT oprname, oprcom::regoper FROM pg_operator
WHERE oprname IN ('<~>', '<%>') AND oprleft = 'bit'::regtype ORDER BY 1;
-- binary_quantize: bit i set where element i > 0, for both vector types
SELECT binary_quantize('[1,0,-1,0.5]'::vector), binary_quantize('[1,0,-1,0.5]'::halfvec);
SELECT binary_quantize(array_fill(1, ARRAY[9])::vector), length(binary_quantize(array_fill(-1, ARRAY[16000])::vector));
SELECT pg_typeof(binary_quantize('[1]'::vector)), binary_quantize(NULL::vector) IS NULL AS strict;
-- the re-rank pattern: a Hamming first pass over quantised codes, exact order after
CREATE TABLE items (id int PRIMARY KEY, embedding vector(16));
INSERT INTO items SELECT i, (SELECT array_agg(sin(i * j * 0.37 + j)) FROM generate_series(1, 16) j)::vector
FROM generate_series(1, 300) i;
WITH q AS (SELECT embedding AS v FROM items WHERE id = 42),
candidates AS (
  SELECT id, embedding FROM items, q
  ORDER BY binary_quantize(embedding)::bit(16) <~> binary_quantize(q.v) LIMIT 50)
SELECT array_agg(id) AS reranked FROM (SELECT id FROM candidates, q ORDER BY embedding <-> q.v LIMIT 5) s;
SELECT array_agg(id) AS exact FROM (
  SELECT id FROM items ORDER BY embedding <-> (SELECT embedding FROM items WHERE id = 42) LIMIT 5) s;
DROP TABLE items;
