-- hardening: what any user could once do to a backend (issue 19), each repro
-- now a clean ERROR or the right answer. (00_setup made err().)

-- avg's support functions are callable with any double precision[]: the
-- dimension count of a state is checked, never narrowed to int16
SELECT err($$SELECT vector_norm(vector_avg(array_fill(1::float8, ARRAY[40000])))$$);
SELECT err($$SELECT vector_avg(array_fill(1::float8, ARRAY[16002]))$$);
SELECT vector_dims(vector_avg(array_fill(1::float8, ARRAY[16001])));
SELECT err($$SELECT vector_avg('{1}'::float8[])$$);
SELECT vector_avg('{0}'::float8[]) IS NULL AS no_rows;
SELECT vector_avg('{2,4,6}');
SELECT err($$SELECT vector_avg('{1,NULL}'::float8[])$$);
SELECT err($$SELECT vector_avg('{}'::float8[])$$);
SELECT err($$SELECT vector_avg('{{1,2},{3,4}}'::float8[])$$);
SELECT err($$SELECT vector_avg('{NaN,1}'::float8[])$$);
SELECT err($$SELECT vector_avg('{1,1e300}'::float8[])$$);
SELECT vector_accum('{0}', '[1,2]'), vector_accum('{1,1,1}', '[1,2]');
SELECT err($$SELECT vector_accum('{1,1}', '[1,2]')$$);
SELECT err($$SELECT vector_accum('{1,NULL}', '[1,2]')$$);
SELECT err($$SELECT vector_accum('{}', '[1,2]')$$);
SELECT err($$SELECT vector_accum('{{1}}', '[1,2]')$$);
SELECT err($$SELECT vector_accum('{1,Infinity}', '[1]')$$);
SELECT vector_combine('{0}', '{0}'), vector_combine('{0}', '{1,2}'),
       vector_combine('{1,2}', '{0}'), vector_combine('{1,2}', '{3,4}');
SELECT err($$SELECT vector_combine('{0}', array_fill(1::float8, ARRAY[16002]))$$);
SELECT err($$SELECT vector_combine(array_fill(1::float8, ARRAY[40000]), '{0}')$$);
SELECT err($$SELECT vector_combine('{1,2}', '{1,2,3}')$$);
SELECT err($$SELECT vector_combine('{1,NULL}', '{0}')$$);
SELECT err($$SELECT vector_combine('{0}', '{}')$$);
SELECT err($$SELECT vector_combine('{1,1e308}', '{1,1e308}')$$);
-- the aggregate itself, serial and in parallel workers (combine)
CREATE TABLE agg (v vector(3));
INSERT INTO agg SELECT ARRAY[i % 10, 1, -1]::real[]::vector FROM generate_series(1, 20000) i;
ANALYZE agg;
SELECT avg(v) FROM agg;
SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT avg(v) FROM agg;
SELECT avg(v) FROM agg;
SELECT avg(v) FROM agg WHERE false;
RESET parallel_setup_cost; RESET parallel_tuple_cost; RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;

-- every constructor refuses dimension counts outside 1..16000
SELECT err($$SELECT array_fill(1::real, ARRAY[16001])::vector$$);
SELECT err($$SELECT '{}'::real[]::vector$$);
SELECT err($$SELECT array_fill(1::real, ARRAY[16000])::vector || '[1]'::vector$$);
SELECT err($$SELECT subvector('[1,2,3]'::vector, 2, 0)$$);
SELECT err($$SELECT subvector('[1,2,3]'::vector, 4, 1)$$);
SELECT err($$SELECT vector_in(('[' || repeat('1,', 16000) || '1]')::cstring, 0, -1)$$);

-- nothing is resolved through the caller's search_path: a pg_temp type named
-- vector neither changes what the batch form returns nor breaks it, and the
-- extension's schema need not be on the path
CREATE TABLE sp_img (data bytea);
INSERT INTO sp_img VALUES ('\x89504e470d0a1a0a0000000d4948445200000018000000140800000000b2dea25f0000017849444154789c05c1d98ed330140050fbfa7a8fe36cd376688b8410effcff178d04c374519a78e71c4a7c500d902a57aa2eae0152d134e5a09f666b3a6b191317a2164231937940fabd48f30fc57a5db9d904cef9a5b81863a58394a4af928721efc6b14c1678f9001c9da90f11a7472fe60015e7b4bb4358ee23fdcdfc9dd1622e5f519ae05bb68c0820078c2acd1858dda7a0617cb8d66f36f60cc1f3128961a7f4d949d22858a0ed5c65c42945f77c27d033aa9a9c712b3f0abbf0159bd2f1b8f3b1119b1c95a072a59c86089ad2c12da6087f6352c0d8519dbbb80c98179efd479f623aa7f9d6567706be8ad788d6ae2ccdf2360cdb2cacecc30ee9ba8b8a0b03abb3f1b2a259279c3fbadd3c8c2c589833b789d72e1238e6edee9851c931013e397837559474327fcbf9d845243ad11dcbcf1a89eae9e61339d89c741d82cdc2a05b0f64d326e87ce22fc6bebe2d92411f008ef23971db544f533b997a05b94ea8df2c3e9dfac39b5edbafc7a7c291557621c8b7b7ffa7a5ad4827aed6d00000000049454e44ae426082');
CREATE DOMAIN pg_temp.vector AS bigint;
SELECT pg_typeof(image_embed(array_agg(data), 'tiny16')) = 'public.vector[]'::regtype AS right_type,
       vector_dims((image_embed(array_agg(data), 'tiny16'))[1]) AS dims FROM sp_img;
SELECT (image_embed(array_agg(data), 'tiny16'))[1] = image_embed((SELECT data FROM sp_img), 'tiny16') AS same FROM sp_img;
SET search_path = pg_catalog;
SELECT public.image_embed(ARRAY[NULL::bytea]);
SELECT public.image_embed(ARRAY[NULL::bytea], 'tiny16');
SELECT public.vector_dims((public.image_embed(array_agg(data), 'tiny16'))[1]) FROM public.sp_img;
SELECT public.avg(v) FROM (VALUES ('[1,2]'::public.vector), ('[3,4]')) t(v);
RESET search_path;
DROP DOMAIN pg_temp.vector;
DROP TABLE sp_img, agg;

-- an index scan returns rows when every ORDER BY value is NULL (a NULL
-- query) or NaN (a zero query under cosine), as pgvector does, instead of none
CREATE TABLE nq (v vector(3));
INSERT INTO nq VALUES ('[0,0,0]'), ('[1,2,3]'), ('[1,1,1]'), ('[1,2,4]'), (NULL);
CREATE INDEX nq_l2 ON nq USING hnsw (v vector_l2_ops);
CREATE INDEX nq_cos ON nq USING hnsw (v vector_cosine_ops);
SET enable_seqscan = off;
-- (a generic plan's parameter: PostgreSQL 17 changed how EXPLAIN shows an InitPlan)
SET plan_cache_mode = force_generic_plan;
PREPARE nq_null(vector) AS SELECT * FROM nq ORDER BY v <-> $1;
EXPLAIN (COSTS OFF) EXECUTE nq_null(NULL);
DEALLOCATE nq_null;
RESET plan_cache_mode;
SELECT count(*) FROM (SELECT * FROM nq ORDER BY v <-> (SELECT NULL::vector)) t;
SELECT count(*) FROM (SELECT * FROM nq ORDER BY v <=> '[0,0,0]') t;
SELECT count(*) FROM (SELECT * FROM nq ORDER BY v <=> (SELECT NULL::vector)) t;
SELECT v FROM nq ORDER BY v <-> '[1,2,3]' LIMIT 2;
RESET enable_seqscan;
DROP TABLE nq;
