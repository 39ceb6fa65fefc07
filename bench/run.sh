#!/usr/bin/env bash
# Runs bench/hnsw_bench.py against a dedicated benchmark cluster.
#
# Usage: bench/run.sh [hnsw_bench.py options]     e.g. bench/run.sh --dataset clustered-128-100k
#        bench/run.sh --against-pgvector [options] also measures pgvector on the same data
#        bench/run.sh --against-pgvector --pgvector-bin DIR   ... the pgvector installed in the
#                                                  PostgreSQL of DIR (bench/pgvector-build.sh)
#        bench/run.sh --ivfflat [ivfflat_bench.py options]  the ivfflat benchmark instead
#        bench/run.sh --shared-buffers 256MB ...     both clusters with that shared_buffers
#                                                  (default 2GB; e.g. below the index size)
#        bench/run.sh --stop                       stops the benchmark cluster(s)
#
# 1. makes sure the extension is built and installed in release mode (scripts/setup.sh);
# 2. starts the benchmark cluster in .pgvision/bench-cluster (socket .pgvision/bench-run,
#    port 54350), separate from the project's cluster, with benchmark settings;
# 3. with --against-pgvector, starts pgvector's cluster too (bench/pgvector.sh) with the
#    same settings;
# 4. runs the benchmark in the venv .pgvision/benchenv (bench/requirements.txt).
# Set BENCH_SKIP_SETUP=1 to skip step 1 (the extension is already installed).
set -euo pipefail
source "$(dirname "$0")/../scripts/common.sh"
cd "$ROOT"
export PGV_DATA=$STATE/bench-cluster PGV_SOCK=$STATE/bench-run PGV_PORT=54350

against=
program=bench/hnsw_bench.py
args=()
while [ $# -gt 0 ]; do
  case $1 in
    --pgvector-bin) export PGVECTOR_PG_BIN=$(cd "$2" && pwd); shift 2; continue ;;
    --against-pgvector) against=1 ;;
    --ivfflat) program=bench/ivfflat_bench.py; shift; continue ;;
    --shared-buffers) SHARED_BUFFERS=$2; shift 2; continue ;;
  esac
  args+=("$1"); shift
done
set -- "${args[@]}"
if [ "${1:-}" = --stop ]; then bash scripts/cluster.sh stop; bash bench/pgvector.sh stop; exit; fi

if [ -z "${BENCH_SKIP_SETUP:-}" ]; then
  step "setup (release build of the extension)"
  bash scripts/setup.sh
fi

VENV=$STATE/benchenv
if [ ! -x "$VENV/bin/python" ] || ! cmp -s bench/requirements.txt "$VENV/requirements.txt"; then
  step "creating $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r bench/requirements.txt
  cp bench/requirements.txt "$VENV/requirements.txt"
fi

# Gives the cluster that PGV_* name the benchmark settings, once, with ALTER SYSTEM
# (postgresql.auto.conf of that cluster only); shared_buffers needs a restart.
bench_settings() {
  local cluster=$1 restart= kv k v
  psql_b() { bash "$cluster" psql -qAt -d postgres "$@"; }
  for kv in shared_buffers=${SHARED_BUFFERS:-2GB} maintenance_work_mem=2GB max_parallel_maintenance_workers=2 \
            max_parallel_workers=4 max_worker_processes=8 work_mem=64MB \
            checkpoint_timeout=30min max_wal_size=8GB; do
    k=${kv%%=*} v=${kv#*=}
    if [ "$(psql_b -c "SHOW $k")" != "$v" ]; then
      psql_b -c "ALTER SYSTEM SET $k = '$v'"
      restart=1
    fi
  done
  if [ -n "$restart" ]; then bash "$cluster" stop >/dev/null; bash "$cluster" start >/dev/null; fi
  psql_b -c "SELECT 'settings: ' || string_agg(name || '=' || current_setting(name), ', ' ORDER BY name)
             FROM pg_settings WHERE name IN ('shared_buffers', 'maintenance_work_mem',
             'max_parallel_maintenance_workers', 'work_mem', 'max_wal_size')"
}

step "benchmark cluster"
bash scripts/cluster.sh start >/dev/null
bench_settings scripts/cluster.sh
eval "$(bash scripts/cluster.sh env)"
if [ -n "$against" ]; then
  step "pgvector's cluster"
  bash bench/pgvector.sh start >/dev/null
  bench_settings bench/pgvector.sh
  eval "$(bash bench/pgvector.sh env)"
fi

step "benchmark"
exec "$VENV/bin/python" "$program" "$@"
