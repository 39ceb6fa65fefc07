-- vector type: text input and output, typmod, errors with their SQLSTATEs

SELECT '[1,2,3]'::vector;
SELECT '[1.5,2,3]'::vector, '[-1.5, 2e3 ,0.1]'::vector;
SELECT '  [ 1 , 2 ,3 ]  '::vector;
SELECT '[1e-45,3.4028235e38,-0,0x10]'::vector;
SELECT '[123456,1234567,0.0001,0.00001]'::vector;
SELECT '[1,2,3]'::vector(3);
SELECT '{1,2,3}'::real[]::vector;

-- malformed text
SELECT err($$SELECT '[1,2'::vector$$);
SELECT err($$SELECT '1,2'::vector$$);
SELECT err($$SELECT '[1,2]x'::vector$$);
SELECT err($$SELECT '[1,,2]'::vector$$);
SELECT err($$SELECT '[a]'::vector$$);
SELECT err($$SELECT ''::vector$$);
SELECT err($$SELECT '[]'::vector$$);
SELECT err($$SELECT '[NaN]'::vector$$);
SELECT err($$SELECT '[inf]'::vector$$);
SELECT err($$SELECT '[-Infinity]'::vector$$);
SELECT err($$SELECT '[1e39]'::vector$$);
SELECT err($$SELECT '[-1e39]'::vector$$);
SELECT err($$SELECT array_fill(1, ARRAY[16001])::vector$$);
SELECT vector_dims(array_fill(1, ARRAY[16000])::vector);
-- the detail line of a syntax error
SELECT '1,2'::vector;

-- typmod
SELECT err($$SELECT '[1,2]'::vector(3)$$);
SELECT err($$SELECT '[1,2,3]'::vector(0)$$);
SELECT err($$SELECT '[1,2,3]'::vector(16001)$$);
SELECT err($$SELECT '[1,2,3]'::vector(2,3)$$);
CREATE TABLE t (v vector(3));
SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = 'v';
INSERT INTO t VALUES ('[1,2,3]');
SELECT err($$INSERT INTO t VALUES ('[1,2]')$$);
SELECT err($$INSERT INTO t VALUES ('[1,2]'::vector)$$);
SELECT err($$INSERT INTO t VALUES ('{1,2}'::real[])$$);
INSERT INTO t VALUES ('{4,5,6}'::int[]), ('{7,8,9}'::double precision[]), ('{1.5,2.5,3.5}'::numeric[]);
SELECT * FROM t ORDER BY v;
SELECT err($$SELECT '[1,2]'::vector::vector(3)$$);
SELECT '[1,2,3]'::vector::vector(3);
DROP TABLE t;

-- NULL handling
SELECT NULL::vector, vector_dims(NULL::vector), NULL::vector <-> '[1]';

-- binary COPY round trip (server-side file)
CREATE TABLE src (id int, v vector);
INSERT INTO src SELECT i, ARRAY[i, -i * 0.5, i / 3.0]::real[]::vector FROM generate_series(1, 5) i;
INSERT INTO src VALUES (6, '[1.17549435e-38,3.4028235e38,-0]');
COPY src TO '/tmp/pgvision_regress_copy.bin' (FORMAT binary);
CREATE TABLE dst (id int, v vector(3));
COPY dst FROM '/tmp/pgvision_regress_copy.bin' (FORMAT binary);
SELECT count(*) AS same FROM src JOIN dst USING (id) WHERE src.v = dst.v AND src.v::text = dst.v::text;
CREATE TABLE dst2 (id int, v vector(2));
SELECT err($$COPY dst2 FROM '/tmp/pgvision_regress_copy.bin' (FORMAT binary)$$);
SELECT encode(vector_send('[1,2]'), 'hex');
DROP TABLE src, dst, dst2;
