-- pgvision 0.1.0 -> 0.2.0 (ALTER EXTENSION pgvision UPDATE).
--
-- Every SQL object added or changed since 0.1.0 goes here as well as in the
-- Rust source (from which pgrx writes pgvision--0.2.0.sql for fresh
-- installs): tests/server/test_upgrade.py fails when a fresh 0.2.0 install
-- and 0.1.0 + this script differ by any object or definition. Copy a new
-- object's statements from the pgvision--0.2.0.sql that `cargo pgrx install`
-- writes (argument names, STRICT, PARALLEL and COST included).
--
-- 0.2.0 builds for PostgreSQL 15, 16 and 18; its SQL objects are those of
-- 0.1.0, and its hnsw indexes use on-disk format 3, as 0.1.0's did.

\echo Use "ALTER EXTENSION pgvision UPDATE" to load this file. \quit
