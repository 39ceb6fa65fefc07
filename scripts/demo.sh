#!/usr/bin/env bash
# The main job end to end: set up everything, start the project's cluster,
# load data, build the index and answer a similarity query.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"
bash scripts/setup.sh
bash scripts/cluster.sh start
psql_demo() { bash scripts/cluster.sh psql -v ON_ERROR_STOP=1 -q "$@"; }
psql_demo -d postgres -c "DROP DATABASE IF EXISTS pgvision_demo" -c "CREATE DATABASE pgvision_demo"
step "loading 10,000 random 128-d vectors"
psql_demo -d pgvision_demo <<'SQL'
CREATE EXTENSION pgvision;
CREATE TABLE items (id int PRIMARY KEY, embedding vector(128));
INSERT INTO items
  SELECT i, array_agg(sin(i * 0.37 + d * 1.1))::vector
  FROM generate_series(1, 10000) i, generate_series(1, 128) d GROUP BY i;
\echo 'five nearest neighbours of item 42 (exact search):'
SELECT id, round((embedding <-> (SELECT embedding FROM items WHERE id = 42))::numeric, 4) AS distance
FROM items ORDER BY embedding <-> (SELECT embedding FROM items WHERE id = 42) LIMIT 5;
SQL
echo "the cluster is still running: bash scripts/cluster.sh psql -d pgvision_demo"
