#!/usr/bin/env bash
# Runs the pg_regress SQL tests (tests/regress/sql/*.sql against
# tests/regress/expected/*.out) on the project's cluster, with the installed
# extension. Usage: scripts/regress.sh [--pg N] [test ...]   (default: every test)
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT/tests/regress"
# 00_setup (the extension and helpers) always runs first.
tests=(00_setup "$@")
if [ $# -eq 0 ]; then
  mapfile -t tests < <(ls sql/*.sql | xargs -n1 basename | sed 's/\.sql$//' | sort)
fi
bash "$ROOT/scripts/cluster.sh" start >/dev/null
out=$STATE/regress
rm -rf "$out" && mkdir -p "$out"
# pg_regress writes results as the invoking user; it only needs psql.
"$(pg_regress_bin)" \
  --host="$PGV_SOCK" --port="$PGV_PORT" --user=postgres --bindir="$PG_BIN" \
  --inputdir=. --outputdir="$out" --dbname=pgvision_regress "${tests[@]}" || {
  echo "regression diffs in $out/regression.diffs:" >&2
  head -c 20000 "$out/regression.diffs" >&2
  exit 1
}
