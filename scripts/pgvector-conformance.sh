#!/usr/bin/env bash
# Runs pgvector's own regression SQL for vector, halfvec and bit against pgvision
# and shows where the answers differ. A developer's check, not part of CI:
# pgvector's files are read from a checkout of its public repository that
# the caller provides (never copied into this repository).
#
# Usage: scripts/pgvector-conformance.sh PGVECTOR_SOURCE [test ...]
#   default tests: vector_type cast btree copy hnsw_vector halfvec bit hnsw_halfvec sparsevec hnsw_sparsevec hnsw_bit
# Prints each test's diff (pgvector's expected output -> pgvision's) to
# .pgvision/pgvector-conformance/<test>.diff and a summary line per test.
set -euo pipefail
source "$(dirname "$0")/common.sh"
src=${1:?usage: $0 PGVECTOR_SOURCE [test ...]}
shift
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(vector_type cast btree copy hnsw_vector halfvec bit hnsw_halfvec sparsevec hnsw_sparsevec hnsw_bit)
out=$STATE/pgvector-conformance
rm -rf "$out" && mkdir -p "$out/in/sql" "$out/in/expected"
for t in "${tests[@]}"; do
  cp "$src/test/sql/$t.sql" "$out/in/sql/"
  cp "$src/test/expected/$t.out" "$out/in/expected/"
done
# copy.sql writes and reads a file under /tmp as the server user.
chmod -R a+rwX "$out"
bash "$ROOT/scripts/cluster.sh" start >/dev/null
regress=$(pg_regress_bin)
# pgvector's tests load their extension with --load-extension; ours is pgvision.
# copy.sql writes results/*.bin relative to the working directory.
cd "$out"
"$regress" --host="$PGV_SOCK" --port="$PGV_PORT" --user=postgres --bindir="$PG_BIN" \
  --inputdir="$out/in" --outputdir="$out" --dbname=pgvector_conformance \
  --load-extension=pgvision "${tests[@]}" >"$out/pg_regress.log" 2>&1 || true
for t in "${tests[@]}"; do
  diff -u "$out/in/expected/$t.out" "$out/results/$t.out" >"$out/$t.diff" || true
  echo "$t: $(grep -c '^@@' "$out/$t.diff" || true) differing hunks ($out/$t.diff)"
done
