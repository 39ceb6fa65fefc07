-- pgvision 0.5.0 -> 0.6.0 (ALTER EXTENSION pgvision UPDATE).
--
-- Every SQL object added or changed since 0.5.0 goes here as well as in the
-- Rust source (from which pgrx writes pgvision--0.6.0.sql for fresh
-- installs): tests/server/test_upgrade.py fails when a fresh install and
-- any earlier release + the update scripts differ by any object or
-- definition. Copy a new object's statements from the pgvision--0.6.0.sql
-- that `cargo pgrx install` writes (argument names, STRICT, PARALLEL and
-- COST included), in an order that creates each object after what it uses.

\echo Use "ALTER EXTENSION pgvision UPDATE" to load this file. \quit
-- 0.6.0 adds no SQL object so far.
