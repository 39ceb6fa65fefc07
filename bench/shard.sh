#!/usr/bin/env bash
# Runs bench/shard_bench.py: one server against three shards behind a
# postgres_fdw coordinator, four clusters in .pgvision/shard-bench/ (unix
# sockets, ports 54370-54373), stopped afterwards.
# Usage: bench/shard.sh [--dataset NAME] [--queries N]
# Set BENCH_SKIP_SETUP=1 to skip scripts/setup.sh.
set -euo pipefail
source "$(dirname "$0")/../scripts/common.sh"
cd "$ROOT"
[ -n "${BENCH_SKIP_SETUP:-}" ] || bash scripts/setup.sh
VENV=$STATE/benchenv
if [ ! -x "$VENV/bin/python" ] || ! cmp -s bench/requirements.txt "$VENV/requirements.txt"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r bench/requirements.txt
  cp bench/requirements.txt "$VENV/requirements.txt"
fi
names=(coord shard0 shard1 shard2)
cluster() { # NAME ACTION: scripts/cluster.sh for one benchmark cluster
  local i
  for i in "${!names[@]}"; do [ "${names[$i]}" = "$1" ] && break; done
  PGV_DATA=$STATE/shard-bench/$1/data PGV_SOCK=$STATE/shard-bench/$1/run PGV_PORT=$((54370 + i)) \
    bash scripts/cluster.sh "$2" >/dev/null
  export "SHARD_PORT_${1^^}=$((54370 + i))"
}
trap 'for n in "${names[@]}"; do cluster "$n" stop; done' EXIT
mkdir -p "$STATE/shard-bench"
for n in "${names[@]}"; do cluster "$n" start; done
"$VENV/bin/python" bench/shard_bench.py "$@"
