-- image_embed: CNN embeddings with the tiny seeded test models (tiny16,
-- tiny2048), settings, the runtime report and hostile input.
-- (00_setup created the extension and err(); emb_err is its alias here)
CREATE FUNCTION emb_err(q text) RETURNS text LANGUAGE sql AS $$ SELECT err(q) $$;
-- Small seeded images, printed by tests/fixtures/make_embed_images.py.
CREATE TABLE img (name text PRIMARY KEY, data bytea);
-- jpeg: 955 bytes
INSERT INTO img VALUES ('jpeg', '\xffd8ffe000104a46494600010100000100010000ffdb00430006040506050406060506070706080a100a0a09090a140e0f0c1017141818171416161a1d251f1a1b231c1616202c20232627292a29191f2d302d283025282928ffdb0043010707070a080a130a0a13281a161a2828282828282828282828282828282828282828282828282828282828282828282828282828282828282828282828282828ffc0001108001e002803012200021101031101ffc4001f0000010501010101010100000000000000000102030405060708090a0bffc400b5100002010303020403050504040000017d01020300041105122131410613516107227114328191a1082342b1c11552d1f02433627282090a161718191a25262728292a3435363738393a434445464748494a535455565758595a636465666768696a737475767778797a838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9faffc4001f0100030101010101010101010000000000000102030405060708090a0bffc400b51100020102040403040705040400010277000102031104052131061241510761711322328108144291a1b1c109233352f0156272d10a162434e125f11718191a262728292a35363738393a434445464748494a535455565758595a636465666768696a737475767778797a82838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae2e3e4e5e6e7e8e9eaf2f3f4f5f6f7f8f9faffda000c03010002110311003f00f9de0d3ce54809b78e48c56adb6998241e4e7b0ebd7dff00ce2ba2874b278753d4fdd38ebdeb56d74d0aa19828cf218f27b73fe7d2bce789f331c0668f4d4c0b7d3fa37181c601e73fe35ab6ba6938ce5793f79791efefc57476da6abe378fe2ce403cf18201ebcf1d7d6b56d74dc7caabf367a03df1fe7f33593c4dcfb8cbf33bd8c1b7d30e06f539ee3a71eb4576b6ba70c316566072481dc7ad1496253f8b53eb68e629c15d9cddb696072a9827b293fe7fa56bdb69998d772fcc0e0fbfd3d38c0ae861d357ae467d79f7ad2b7b08848c8c4eee0f1d38cfe5debc1fada68fe58c0662cc1b4b01900aaff74e39e9c8fd7fad6cdb690096c86000cfae6b7adac176297dac491c1038e7b715ab67631c8a00c2b0e36f6edfe3fa547d699f7197e62f430adb4b3f22a80c87b0e081e9ef4576d0584688a07393ce73fe7af3452fad3e88faca3983705ab3ffd9');
-- png: 433 bytes
INSERT INTO img VALUES ('png', '\x89504e470d0a1a0a0000000d4948445200000018000000140800000000b2dea25f0000017849444154789c05c1d98ed330140050fbfa7a8fe36cd376688b8410effcff178d04c374519a78e71c4a7c500d902a57aa2eae0152d134e5a09f666b3a6b191317a2164231937940fabd48f30fc57a5db9d904cef9a5b81863a58394a4af928721efc6b14c1678f9001c9da90f11a7472fe60015e7b4bb4358ee23fdcdfc9dd1622e5f519ae05bb68c0820078c2acd1858dda7a0617cb8d66f36f60cc1f3128961a7f4d949d22858a0ed5c65c42945f77c27d033aa9a9c712b3f0abbf0159bd2f1b8f3b1119b1c95a072a59c86089ad2c12da6087f6352c0d8519dbbb80c98179efd479f623aa7f9d6567706be8ad788d6ae2ccdf2360cdb2cacecc30ee9ba8b8a0b03abb3f1b2a259279c3fbadd3c8c2c589833b789d72e1238e6edee9851c931013e397837559474327fcbf9d845243ad11dcbcf1a89eae9e61339d89c741d82cdc2a05b0f64d326e87ce22fc6bebe2d92411f008ef23971db544f533b997a05b94ea8df2c3e9dfac39b5edbafc7a7c291557621c8b7b7ffa7a5ad4827aed6d00000000049454e44ae426082');
-- gif: 608 bytes
INSERT INTO img VALUES ('gif', '\x47494638376124002400830000bbea67b8c9603aee473aca41da9f5b9d994e5e9a3d1a992fdc5c4a9c5a3edc1a3c9a1b305d59301d591c591b1d191d0c2c00000000240024004008ff001f081cf8c081c18307172874a0b0e102050f15489ca8a041038217113a60609063828f091684148980624989071aa44c69b10103062e5f1a0049b340029b0910e8dca9f380cf9f07060c086aa0a8d102060a282d1080298102040210984a558000a157ad6add6a3540000000be7a050bf62b59b0040b0ed46870a1c3877029527cd0b2aec59778f332a0c997e74ea0408d0a3ebab4b052aa541110101a54a863c757851a10d054a957a65ebd229e9a9620db846fe3428c38b1b3c1821b0f725438b2e148b913edd6d59b972f489d0a76e6d629dbe55dda786de7f4ab93804f8b3f8d3230b07c39f3a44a6fde440055f1cea9807d1a3d30b8a861a8873753ff053af4b101c706029c4f8fb469e6cc0400206efc18eb80c802260f789fb96c7ff9f17125a08067156820590474e6195b0d31e49044a4cda5a0409f31e4e05bb095661a6a1a85a6d068194ad459460da4d611030b30d4da47119e54124616d115137021d5a8408d7eedd6db8c34ee651b713bf50613702f25e0634808e4f41190bd1970574ccc1569a470051067dc4f2a1d00139452ce04d2528a55595d71c6a99465965a3e2798743645f714626466579476dd79f71d54e261479e4f43ad475852d0b9d7549e57f2199476e81d055d6152459567647cd6671e7b9961c69f7c52c9c758509149aa5e51ee85c5df7b001290957d5661c515a563894a965951011590d580b35af5ea81651948ebaeb6822500ae050604003b');
-- truncated_jpeg: 477 bytes
INSERT INTO img VALUES ('truncated_jpeg', '\xffd8ffe000104a46494600010100000100010000ffdb00430006040506050406060506070706080a100a0a09090a140e0f0c1017141818171416161a1d251f1a1b231c1616202c20232627292a29191f2d302d283025282928ffdb0043010707070a080a130a0a13281a161a2828282828282828282828282828282828282828282828282828282828282828282828282828282828282828282828282828ffc0001108001e002803012200021101031101ffc4001f0000010501010101010100000000000000000102030405060708090a0bffc400b5100002010303020403050504040000017d01020300041105122131410613516107227114328191a1082342b1c11552d1f02433627282090a161718191a25262728292a3435363738393a434445464748494a535455565758595a636465666768696a737475767778797a838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9faffc4001f0100030101010101010101010000000000000102030405060708090a0bffc400b51100020102040403040705040400010277000102031104052131061241510761711322328108144291a1b1c1092333');
-- huge_png: 68 bytes
INSERT INTO img VALUES ('huge_png', '\x89504e470d0a1a0a0000000d49484452000186a0000186a0080200000027309c9f0000000b49444154789c63604005000010000139bd8f650000000049454e44ae426082');
-- gray800: 800 x 600 grey PNG of one colour, 1231 bytes (zlib level 9 of constant rows)
INSERT INTO img VALUES ('gray800', '\x89504e470d0a1a0a0000000d4948445200000320000002580800000000bf1dddac000004964944415478daedd3010900000cc3b0499ff429b8804322a1d014384502300818040c020601838041c020601030086010300818040c020601838041c020601030086010300818040c020601838041c0206010c0206010300818040c020601838041c0206010c0206010300818040c020601838041c0208041c0206010300818040c020601838041c0208041c0206010300818040c02060183804100838041c0206010300818040c02060183804100838041c0206010300818040c0206018380412400838041c0206010300818040c02060183000601838041c0206010300818040c02060183000601838041c0206010300818040c0206010c020601838041c0206010300818040c0206010c020601838041c0206010300818040c0218040c020601838041c0206010300818040c0218040c020601838041c020601030081804300818040c020601838041c020601030081804300818040c020601838041c02060103008184402300818040c020601838041c020601030086010300818040c020601838041c020601030086010300818040c020601838041c0206010c0206010300818040c020601838041c0206010c0206010300818040c020601838041c0208041c0206010300818040c020601838041c0208041c0206010300818040c02060183804100838041c0206010300818040c02060183804100838041c0206010300818040c0206018380412400838041c0206010300818040c02060183000601838041c0206010300818040c02060183000601838041c0206010300818040c0206010c020601838041c0206010300818040c0206010c020601838041c0206010300818040c0218040c020601838041c0206010300818040c0218040c020601838041c020601030081804300818040c020601838041c020601030081804300818040c020601838041c02060103008184402300818040c020601838041c020601030086010300818040c020601838041c020601030086010300818040c020601838041c0206010c0206010300818040c020601838041c0206010c0206010300818040c020601838041c0208041c0206010300818040c020601838041c0208041c0206010300818040c02060183804100838041c0206010300818040c02060183804100838041c0206010300818040c0206018380412400838041c0206010300818040c02060183000601838041c0206010300818040c02060183000601838041c0206010300818040c0206010c020601838041c0206010300818040c0206010c020601838041c0206010300818040c0218040c020601838041c0206010300818040c0218040c020601838041c020601030081804300818040c020601838041c020601030081804300818040c020601838041c02060103008184402300818040c020601838041c020601030086010300818040c020601838041c020601030086010300818040c020601838041c0206010c0206010300818040c020601838041c0206010c0206010300818040c020601838041c0208041c0206010300818040c020601838041c0208041c0206010300818040c02060183804100838041c0206010300818040c02060183804100838041c020601030081804be19ece9b6e88121b9d10000000049454e44ae426082');
-- huge_gif: 29 bytes
INSERT INTO img VALUES ('huge_gif', '\x474946383961ffffffff0000002c00000000ffffffff0002024401003b');

-- dimensions, explicit model
SELECT vector_dims(image_embed(data, 'tiny16')) AS tiny16,
       vector_dims(image_embed(data, 'tiny2048')) AS tiny2048
FROM img WHERE name = 'jpeg';
-- every accepted format; different images give different vectors
SELECT name, vector_dims(image_embed(data, 'tiny16')) FROM img
WHERE name IN ('jpeg', 'png', 'gif') ORDER BY name;
SELECT count(DISTINCT image_embed(data, 'tiny16')::text) FROM img WHERE name IN ('jpeg', 'png', 'gif');
-- deterministic: the same bytes give the same vector
SELECT image_embed(data, 'tiny16') = image_embed(data, 'tiny16') FROM img WHERE name = 'jpeg';
-- the model setting: default efficientnet_lite0, user-settable by name
SHOW pgvision.model;
SET pgvision.model = 'tiny2048';
SELECT vector_dims(image_embed(data)) FROM img WHERE name = 'png';
SELECT image_embed(data) = image_embed(data, 'tiny2048') FROM img WHERE name = 'png';
SET pgvision.model = 'tiny16';
SELECT image_embed(data) = image_embed(data, 'tiny16') FROM img WHERE name = 'png';
SELECT emb_err($$SET pgvision.model = '../etc/passwd'$$);
SELECT emb_err($$SET pgvision.model = 'Tiny16'$$);
SELECT emb_err($$SELECT image_embed('\x00'::bytea, 'no_such_model')$$) ~ '^58P01: model "no_such_model" not found in ';
SELECT emb_err($$SELECT image_embed('\x00'::bytea, '../x')$$);

-- batch form: equal to one-by-one, NULL stays NULL, chunked by embed_batch_size
SET pgvision.embed_batch_size = 2;
WITH b AS (
  SELECT image_embed(array_agg(data ORDER BY name), 'tiny2048') AS v, array_agg(name ORDER BY name) AS names
  FROM img WHERE name IN ('jpeg', 'png', 'gif')
)
SELECT n, names[n], vector_dims(v[n]), l2_distance(v[n], image_embed(i.data, 'tiny2048')) < 1e-4 AS same
FROM b, generate_subscripts(names, 1) n JOIN img i ON true WHERE i.name = names[n] ORDER BY n;
SELECT (image_embed(ARRAY[data, NULL, data]))[2] IS NULL AS null_kept,
       l2_distance((image_embed(ARRAY[data, NULL, data]))[3], image_embed(data)) < 1e-4 AS third
FROM img WHERE name = 'jpeg';
SELECT image_embed(ARRAY[]::bytea[], 'tiny16');
SELECT cardinality(image_embed(array_agg(data), 'tiny16'))
FROM img, generate_series(1, 7) WHERE name IN ('jpeg', 'png', 'gif');
RESET pgvision.embed_batch_size;
-- a bad element fails the whole batch and names its position
SELECT emb_err($$SELECT image_embed(ARRAY[(SELECT data FROM img WHERE name = 'jpeg'), '\x'::bytea], 'tiny16')$$);
SELECT image_embed(ARRAY[(SELECT data FROM img WHERE name = 'png'), 'hello'::bytea], 'tiny16');

-- generated columns and expression indexes need the IMMUTABLE form
CREATE TABLE photos (id int PRIMARY KEY, data bytea,
  embedding vector(16) GENERATED ALWAYS AS (image_embed(data, 'tiny16')) STORED);
INSERT INTO photos SELECT row_number() OVER (ORDER BY name), data FROM img WHERE name IN ('jpeg', 'png', 'gif');
SELECT p.id FROM photos p, img i WHERE i.name = 'png'
ORDER BY p.embedding <-> image_embed(i.data, 'tiny16') LIMIT 1;
SELECT emb_err($$CREATE TABLE bad (data bytea, e vector GENERATED ALWAYS AS (image_embed(data)) STORED)$$);
SELECT provolatile, proparallel, proisstrict, pg_get_function_arguments(oid) AS args
FROM pg_proc WHERE proname = 'image_embed' ORDER BY args;
DROP TABLE photos;
-- parallel workers load their own session
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
-- PostgreSQL 16 renamed force_parallel_mode to debug_parallel_query
SELECT CASE WHEN current_setting('server_version_num')::int < 160000
  THEN 'force_parallel_mode' ELSE 'debug_parallel_query' END AS parallel_guc \gset
SET :parallel_guc = on;
SELECT count(DISTINCT image_embed(data, 'tiny16')::text) FROM img WHERE name IN ('jpeg', 'png', 'gif');
RESET :parallel_guc;
RESET min_parallel_table_scan_size;
RESET parallel_tuple_cost;
RESET parallel_setup_cost;

-- runtime report: stable fields only
SELECT onnxruntime_version, library LIKE '%/libonnxruntime.so.1.31.1' AS library, device, provider,
       model, dims, weights, intra_op_threads, models_dir LIKE '%/extension/pgvision/models' AS models_dir
FROM pgvision_runtime();
SELECT model, dims FROM pgvision_runtime('tiny2048');
SET pgvision.intra_op_threads = 2;
SET pgvision.device = 'cpu';
SELECT device, provider, intra_op_threads, cpu_reason FROM pgvision_runtime();
SELECT emb_err($$SET pgvision.device = 'tpu'$$);
RESET pgvision.intra_op_threads;
RESET pgvision.device;

-- settings: paths are superuser-only
CREATE ROLE regress_pgvision_embed;
GRANT SELECT ON img TO regress_pgvision_embed;
SET ROLE regress_pgvision_embed;
SELECT emb_err($$SET pgvision.models_dir = '/tmp'$$);
SELECT emb_err($$SET pgvision.onnxruntime_library = '/tmp/libevil.so'$$);
SELECT emb_err($$SET pgvision.max_image_pixels = 1000000000$$);
SELECT emb_err($$SET pgvision.decode_memory_limit = '64GB'$$);
SET pgvision.model = 'tiny2048';
SELECT vector_dims(image_embed(data)) FROM img WHERE name = 'jpeg';
RESET ROLE;
REVOKE SELECT ON img FROM regress_pgvision_embed;
DROP ROLE regress_pgvision_embed;
SET pgvision.models_dir = 'relative/dir';
SELECT emb_err($$SELECT image_embed('\x00'::bytea, 'tiny16')$$);
SET pgvision.models_dir = '/nonexistent';
SELECT emb_err($$SELECT image_embed('\x00'::bytea, 'tiny16')$$);
RESET pgvision.models_dir;
SELECT emb_err($$SET pgvision.no_such_setting = 1$$);

-- hostile input: each a clean ERROR with a SQLSTATE, the backend alive after each
SELECT emb_err($$SELECT image_embed(''::bytea, 'tiny16')$$);
SELECT emb_err($$SELECT image_embed(decode(md5('a') || md5('b') || md5('c'), 'hex'), 'tiny16')$$);
SELECT emb_err($$SELECT image_embed(data, 'tiny16') FROM img WHERE name = 'truncated_jpeg'$$);
SELECT emb_err($$SELECT image_embed(data, 'tiny16') FROM img WHERE name = 'huge_png'$$);
SELECT emb_err($$SELECT image_embed(data, 'tiny16') FROM img WHERE name = 'huge_gif'$$);
SELECT emb_err($$SELECT image_embed('hello, world'::bytea, 'tiny16')$$);
SELECT emb_err($$SELECT image_embed(convert_to(E'P6\n2 2\n255\n', 'UTF8') || '\x000000ffffff000000ffffff'::bytea, 'tiny16')$$);
SELECT emb_err($$SELECT image_embed(convert_to('%PDF-1.4', 'UTF8'), 'tiny16')$$);
SELECT emb_err($$SELECT image_embed(data, 'tiny16') FROM img WHERE name = 'truncated_jpeg'$$);
SELECT emb_err($$SELECT image_embed(ARRAY[data], 'tiny16') FROM img WHERE name = 'huge_png'$$);
SET pgvision.max_image_pixels = 1000;
SELECT emb_err($$SELECT image_embed(data, 'tiny16') FROM img WHERE name = 'jpeg'$$);
RESET pgvision.max_image_pixels;
SELECT vector_dims(image_embed(data, 'tiny16')) AS still_alive FROM img WHERE name = 'jpeg';
SELECT image_embed(NULL::bytea, 'tiny16') IS NULL AS strict;

-- decoding memory: every decode takes its peak (estimated from the header,
-- before any pixel buffer) from pgvision.decode_memory_limit; an image that
-- needs more than the limit is refused (54000), in both forms
SHOW pgvision.decode_memory_limit;
SELECT vector_dims(image_embed(data, 'tiny16')) FROM img WHERE name = 'gray800';
SET pgvision.decode_memory_limit = '1MB';
SHOW pgvision.decode_memory_limit;
SELECT emb_err($$SELECT image_embed(data, 'tiny16') FROM img WHERE name = 'gray800'$$);
SELECT emb_err($$SELECT image_embed(ARRAY[(SELECT data FROM img WHERE name = 'jpeg'), data], 'tiny16')
                 FROM img WHERE name = 'gray800'$$);
-- the DETAIL names the setting (and the element of a batch)
SELECT image_embed(data, 'tiny16') FROM img WHERE name = 'gray800';
SELECT image_embed(ARRAY[(SELECT data FROM img WHERE name = 'jpeg'), data], 'tiny16')
FROM img WHERE name = 'gray800';
-- small images still fit, one by one and in batches
SELECT vector_dims(image_embed(data, 'tiny16')) FROM img WHERE name = 'jpeg';
SELECT cardinality(image_embed(array_agg(data), 'tiny16')) FROM img WHERE name IN ('jpeg', 'png', 'gif');
-- a model whose input tensors and ONNX Runtime working memory (the
-- manifest's inference_bytes) do not fit, in a batch and for one image
SELECT emb_err($$SELECT image_embed(ARRAY[data], 'efficientnet_lite0') FROM img WHERE name = 'jpeg'$$);
SET pgvision.decode_memory_limit = '4MB';  -- the decode fits, the inference not
SELECT emb_err($$SELECT image_embed(data, 'efficientnet_lite0') FROM img WHERE name = 'jpeg'$$);
SET pgvision.decode_memory_limit = '1MB';
-- (the range that follows is worded differently from PostgreSQL 18 on)
SELECT split_part(emb_err($$SET pgvision.decode_memory_limit = '512kB'$$), ' (', 1) AS emb_err;
SET pgvision.decode_memory_limit = '2GB';
SHOW pgvision.decode_memory_limit;
RESET pgvision.decode_memory_limit;

DROP TABLE img;
DROP FUNCTION emb_err(text);
