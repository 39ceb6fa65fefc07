#!/usr/bin/env bash
# Runs bench/embed.py: makes its venv (.pgvision/benchenv, bench/requirements.txt),
# builds the bare_infer example in release mode and starts the project's cluster.
# Expects scripts/setup.sh to have run (release build of the extension installed).
# Usage: bash bench/embed.sh [--images N] [--models a,b] [--batch B]
set -euo pipefail
source "$(dirname "$0")/../scripts/common.sh"
cd "$ROOT"
VENV=$STATE/benchenv
if [ ! -x "$VENV/bin/python" ] || ! cmp -s bench/requirements.txt "$VENV/requirements.txt"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r bench/requirements.txt
  cp bench/requirements.txt "$VENV/requirements.txt"
fi
cargo build -q --release -p pgvision-embedder --example bare_infer
bash scripts/cluster.sh start >/dev/null
eval "$(bash scripts/cluster.sh env)"
exec "$VENV/bin/python" bench/embed.py "$@"
