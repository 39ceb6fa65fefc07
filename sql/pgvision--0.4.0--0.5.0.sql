-- pgvision 0.4.0 -> 0.5.0 (ALTER EXTENSION pgvision UPDATE).
--
-- Every SQL object added or changed since 0.4.0 goes here as well as in the
-- Rust source (from which pgrx writes pgvision--0.5.0.sql for fresh
-- installs): tests/server/test_upgrade.py fails when a fresh install and
-- any earlier release + the update scripts differ by any object or
-- definition. Copy a new object's statements from the pgvision--0.5.0.sql
-- that `cargo pgrx install` writes (argument names, STRICT, PARALLEL and
-- COST included), in an order that creates each object after what it uses.

\echo Use "ALTER EXTENSION pgvision UPDATE" to load this file. \quit
-- 0.5.0 adds no SQL object so far. An hnsw index built without the storage
-- option now gets 8-bit copies for vector and halfvec columns, packed bits
-- for bit columns and sparse copies for sparsevec columns (build-time
-- choices recorded in the index's meta page; existing indexes are
-- unchanged). hamming_distance and jaccard_distance keep their symbols.
