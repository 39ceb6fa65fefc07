#!/usr/bin/env bash
# Spreads one vector table over several pgvision servers with PostgreSQL's
# own sharding: a hash-partitioned table on a coordinator whose partitions
# are postgres_fdw foreign tables, one per shard, each shard holding its
# part in an ordinary table with its own hnsw index. `extensions 'pgvision'`
# lets postgres_fdw ship pgvision's operators and immutable functions, so
# `ORDER BY embedding <-> $1 LIMIT k` runs on every shard's index and the
# coordinator merges the shards' ordered answers.
#
# Usage: scripts/shard.sh --coordinator CONNINFO --shard CONNINFO [--shard ...]
#                         --table NAME --dims D [--opclass vector_l2_ops]
#                         [--user NAME] [--password PW] [--fetch-size N]
#   CONNINFO   libpq key=value strings, e.g. "host=10.0.0.2 port=5432 dbname=app"
#              (each shard's host/port/dbname also become its foreign server's options)
#   --user/--password  the role the coordinator logs into the shards as
#              (default: the current role, no password: trust or .pgpass there)
#   --fetch-size  rows the coordinator fetches from a shard per round trip
#              (default 20: a top-k query with k < 20 takes one FETCH a shard, and
#              each row carries its vector as text; raise it for bulk reads, or per
#              table: ALTER FOREIGN TABLE ... OPTIONS (ADD fetch_size '1000'))
#
# Creates on each shard i (0-based): the extension, table NAME_s<i> (id bigint
# NOT NULL, name text, embedding vector(D)) and its hnsw index; on the
# coordinator: pgvision and postgres_fdw, foreign server NAME_shard<i>
# (async_capable, batch_size 100 for inserts, fetch_size), a user mapping, and NAME
# partitioned BY HASH (id) over the foreign tables. Idempotent; it never
# drops anything. Rows inserted on the coordinator go to their shard.
set -euo pipefail
coordinator= table= dims= opclass=vector_l2_ops user= password= fetch_size=20
shards=()
while [ $# -gt 0 ]; do
  case $1 in
    --coordinator) coordinator=$2; shift 2 ;;
    --shard) shards+=("$2"); shift 2 ;;
    --table) table=$2; shift 2 ;;
    --dims) dims=$2; shift 2 ;;
    --opclass) opclass=$2; shift 2 ;;
    --user) user=$2; shift 2 ;;
    --password) password=$2; shift 2 ;;
    --fetch-size) fetch_size=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[ -n "$coordinator" ] && [ ${#shards[@]} -ge 1 ] && [ -n "$table" ] && [ -n "$dims" ] ||
  { echo "usage: $0 --coordinator CONNINFO --shard CONNINFO [--shard ...] --table NAME --dims D" >&2; exit 2; }
[[ $table =~ ^[a-z_][a-z0-9_]{0,40}$ ]] || { echo "--table must be a plain lower-case name" >&2; exit 2; }
[[ $dims =~ ^[0-9]+$ ]] && [ "$dims" -ge 1 ] && [ "$dims" -le 16000 ] || { echo "--dims must be 1..16000" >&2; exit 2; }
[[ $fetch_size =~ ^[1-9][0-9]{0,6}$ ]] || { echo "--fetch-size must be a positive integer" >&2; exit 2; }
[[ $opclass =~ ^vector_(l2|ip|cosine|l1)_ops$ ]] || { echo "--opclass must be vector_{l2,ip,cosine,l1}_ops" >&2; exit 2; }

# Runs SQL on the server CONNINFO names, stopping at the first error.
run_sql() { psql -X -q -v ON_ERROR_STOP=1 -d "$1" -c "$2" >/dev/null; }

# One key of a libpq key=value string (empty when absent).
conninfo_key() { sed -nE "s/(^|.* )$2=([^ ]*).*/\2/p" <<<"$1"; }

# SQL string literal.
lit() { printf "'%s'" "${1//\'/\'\'}"; }

n=${#shards[@]}
for i in "${!shards[@]}"; do
  run_sql "${shards[$i]}" "
    CREATE EXTENSION IF NOT EXISTS pgvision;
    CREATE TABLE IF NOT EXISTS ${table}_s$i (id bigint NOT NULL, name text, embedding vector($dims));
    CREATE INDEX IF NOT EXISTS ${table}_s${i}_embedding_idx ON ${table}_s$i USING hnsw (embedding $opclass);"
done

sql="CREATE EXTENSION IF NOT EXISTS pgvision; CREATE EXTENSION IF NOT EXISTS postgres_fdw;
     CREATE TABLE IF NOT EXISTS $table (id bigint NOT NULL, name text, embedding vector($dims))
       PARTITION BY HASH (id);"
for i in "${!shards[@]}"; do
  s=${shards[$i]} opts=()
  for k in host port dbname; do
    v=$(conninfo_key "$s" "$k")
    [ -n "$v" ] && opts+=("$k $(lit "$v")")
  done
  opts+=("extensions 'pgvision'" "async_capable 'true'" "batch_size '100'" "fetch_size '$fetch_size'")
  map=()
  [ -n "$user" ] && map+=("user $(lit "$user")")
  [ -n "$password" ] && map+=("password $(lit "$password")")
  sql+="
     CREATE SERVER IF NOT EXISTS ${table}_shard$i FOREIGN DATA WRAPPER postgres_fdw
       OPTIONS ($(IFS=,; echo "${opts[*]}"));
     CREATE USER MAPPING IF NOT EXISTS FOR CURRENT_USER SERVER ${table}_shard$i
       $([ ${#map[@]} -gt 0 ] && echo "OPTIONS ($(IFS=,; echo "${map[*]}"))");
     CREATE FOREIGN TABLE IF NOT EXISTS ${table}_p$i PARTITION OF $table
       FOR VALUES WITH (MODULUS $n, REMAINDER $i) SERVER ${table}_shard$i
       OPTIONS (table_name $(lit "${table}_s$i"));"
done
run_sql "$coordinator" "$sql"
echo "shard.sh: $table over $n shard(s): ${table}_p0..${table}_p$((n - 1)) -> ${table}_s0..${table}_s$((n - 1))"
