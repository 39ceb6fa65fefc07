#!/usr/bin/env bash
# Runs bench/int8.py (float against int8 models, one backend): makes its venv
# (.pgvision/benchenv, bench/requirements.txt) and starts the project's cluster.
# Expects scripts/setup.sh to have run (release build and the models installed).
# Usage: bash bench/int8.sh [--images N] [--repeat R] [--pairs efficientnet_lite0,resnet50]
set -euo pipefail
source "$(dirname "$0")/../scripts/common.sh"
cd "$ROOT"
VENV=$STATE/benchenv
if [ ! -x "$VENV/bin/python" ] || ! cmp -s bench/requirements.txt "$VENV/requirements.txt"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r bench/requirements.txt
  cp bench/requirements.txt "$VENV/requirements.txt"
fi
bash scripts/cluster.sh start >/dev/null
eval "$(bash scripts/cluster.sh env)"
exec "$VENV/bin/python" bench/int8.py "$@"
