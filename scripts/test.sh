#!/usr/bin/env bash
# The whole test suite, from a fresh machine: setup, then every layer of the
# test pyramid. Exits non-zero on the first failing layer.
#   1. pure crates (cargo test): kernels, vector format, graph, image pipeline, embedder
#   2. backend tests (cargo pgrx test) in a throwaway instance
#   3. pg_regress SQL tests against the installed extension
#   4. real pgvector clients (psycopg 3, SQLAlchemy) against the installed extension, and
#      image_embed end to end with the real default model (scikit-image photos)
#   5. server-level tests on throwaway clusters: recall vs exact search, kill -9
#      crash recovery, a streaming replica, pgbench concurrency
#   6. the product (app/): `pgvision ingest` with corrupt files and resume, every
#      endpoint of `pgvision serve`, the gallery page in headless Chromium
#   7. the cuda build (setup.sh --gpu's) on this machine without a GPU, in a
#      private PostgreSQL copy: CPU fallback with one NOTICE, no CUDA loaded with
#      device = cpu, embeddings equal to the normal build's (scripts/cuda-build-test.sh)
#
# Usage: scripts/test.sh [--pg 15|16|17|18] [--layers 1,2,...] [--server-tests FILE,...]
#   --pg N            the PostgreSQL major (default 15; see scripts/setup.sh)
#   --layers L        run only these layers (default: all seven)
#   --server-tests F  layer 5 runs only these files of tests/server (e.g. test_crash.py)
set -euo pipefail
source "$(dirname "$0")/common.sh"
LAYERS=1,2,3,4,5,6,7
SERVER_TESTS=
while [ $# -gt 0 ]; do
  case $1 in
    --layers) LAYERS=${2:?}; shift 2 ;;
    --server-tests) SERVER_TESTS=${2:?}; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
# Whether layer $1 is to run.
layer() { [[ ",$LAYERS," == *",$1,"* ]]; }
cd "$ROOT"
started=$(date +%s)
# Tests get a cluster of their own, stopped when they end; the demo's is untouched.
export PGV_DATA=$STATE/test-cluster$VSUF PGV_SOCK=$STATE/test-run$VSUF PGV_PORT=54330
# The server tests' throwaway clusters use the same PostgreSQL.
export PGVISION_PG_BIN=$PG_BIN
trap 'bash "$ROOT/scripts/cluster.sh" stop' EXIT

# Runs a test command with its output in LOG; prints the result lines, or the
# tail of the log and fails.
run_logged() {
  local log=$1; shift
  if "$@" >"$log" 2>&1; then
    grep -E '^test result|^test .* \.\.\. (ok|FAILED)$' "$log" | grep -v ' ok$' || true
  else
    grep -E 'FAILED|panicked|^error' "$log" | head -40 >&2
    tail -n 60 "$log" >&2
    echo "failed: $* (full log: $log)" >&2
    exit 1
  fi
}

bash scripts/setup.sh

if layer 1; then
  step "1/6 pure crates"
  run_logged "$STATE/unit-tests.log" cargo test --workspace --exclude pgvision
fi

if layer 2; then
  step "2/6 backend tests (cargo pgrx test, PostgreSQL $PGVER)"
  install -d -m 0755 "$STATE"
  install -d -m 0700 -o "$PG_USER" "$STATE/pgrx-test-data$VSUF"
  if [ "$(id -u)" = 0 ]; then runas=(--runas "$PG_USER"); else runas=(); fi
  run_logged "$STATE/pgrx-tests$VSUF.log" cargo pgrx test pg$PGVER "${runas[@]}" --pgdata "$STATE/pgrx-test-data$VSUF"
  # cargo pgrx test installed its test build (with the pg_test schema) into
  # Postgres: put the release build back before testing the installed extension.
  bash scripts/setup.sh >/dev/null
fi

if layer 3; then
  step "3/6 SQL regression tests (pg_regress, PostgreSQL $PGVER)"
  bash scripts/regress.sh
fi

if layer 4 || layer 5 || layer 6; then
  if [ ! -x "$STATE/testenv/bin/pytest" ] || ! cmp -s tests/client/requirements.txt "$STATE/testenv/requirements.txt"; then
    python3 -m venv "$STATE/testenv"
    "$STATE/testenv/bin/pip" install -q -r tests/client/requirements.txt
    cp tests/client/requirements.txt "$STATE/testenv/requirements.txt"
  fi
  bash scripts/cluster.sh start >/dev/null
  eval "$(bash scripts/cluster.sh env)"
fi

if layer 4; then
  step "4/6 client tests (pgvector-python over psycopg 3, psycopg2, asyncpg, SQLAlchemy, Django; image_embed end to end)"
  "$STATE/testenv/bin/python" -m pytest -q -p no:cacheprovider tests/client
fi

if layer 5; then
  step "5/6 server tests: recall, crash recovery, replica, concurrency${SERVER_TESTS:+ ($SERVER_TESTS)}"
  server_tests=(tests/server)
  if [ -n "$SERVER_TESTS" ]; then
    IFS=, read -ra names <<<"$SERVER_TESTS"
    server_tests=("${names[@]/#/tests/server/}")
  fi
  "$STATE/testenv/bin/python" -m pytest -q -p no:cacheprovider "${server_tests[@]}"
fi

if layer 6; then
  step "6/6 product: ingest CLI, HTTP service, gallery page in headless Chromium"
  # Debian's Chromium (never a downloaded browser) and playwright-core from npm.
  if ! dpkg -s chromium >/dev/null 2>&1 || ! command -v npm >/dev/null; then
    [ "$(id -u)" = 0 ] || { echo "run as root to install chromium and npm" >&2; exit 1; }
    need=(chromium); command -v npm >/dev/null || need+=(nodejs npm)
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
  if ! cmp -s tests/browser/package-lock.json tests/browser/node_modules/.package-lock.json.ci; then
    (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
    cp tests/browser/package-lock.json tests/browser/node_modules/.package-lock.json.ci
  fi
  cargo build --release --quiet -p pgvision-app
  PGVISION_BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/pgvision PGVISION_REQUIRE_BROWSER=1 \
    "$STATE/testenv/bin/python" -m pytest -q -p no:cacheprovider tests/app
  echo "gallery screenshot: $STATE/artifacts/gallery.png"
fi

if layer 7; then
  step "7/7 cuda build: fallback without a GPU, no CUDA with device = cpu, same embeddings"
  bash scripts/cuda-build-test.sh
fi

step "all tests passed (PostgreSQL $PGVER, layers $LAYERS) in $(( $(date +%s) - started )) s"
