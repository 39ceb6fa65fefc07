#!/usr/bin/env bash
# Takes a fresh Debian 12 machine (package registries only) to a built and
# installed pgvision: system packages, cargo-pgrx, ONNX Runtime and models,
# the extension itself. Idempotent: a second run only checks, in seconds.
#
# Usage: scripts/setup.sh [--debug] [--gpu]
#   --debug  install a debug build (faster to compile, slower to run)
#   --gpu    build with CUDA (feature `cuda`) and install the GPU build of ONNX
#            Runtime with the CUDA 13 / cuDNN 9 libraries (gpu/, ~1.6 GB download)
#            next to the extension; needs the NVIDIA driver only at run time
set -euo pipefail
source "$(dirname "$0")/common.sh"
PROFILE=--release
GPU=
FEATURES=()
for a in "$@"; do
  case $a in
    --debug) PROFILE= ;;
    --gpu) GPU=--gpu; FEATURES=(--features cuda) ;;
    *) echo "unknown option $a" >&2; exit 2 ;;
  esac
done

APT_PACKAGES="postgresql-$PGVER postgresql-server-dev-$PGVER postgresql-contrib clang libclang-dev
  pkg-config sudo ca-certificates unzip python3-venv"
missing=$(for p in $APT_PACKAGES; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
if [ -n "$missing" ]; then
  step "installing system packages: $(echo $missing)"
  [ "$(id -u)" = 0 ] || { echo "run as root to install packages" >&2; exit 1; }
  # The Debian package must not create and start a default cluster of its own.
  mkdir -p /etc/postgresql-common
  grep -qs '^create_main_cluster = false' /etc/postgresql-common/createcluster.conf ||
    echo 'create_main_cluster = false' >> /etc/postgresql-common/createcluster.conf
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

if ! cargo pgrx --version 2>/dev/null | grep -q " $PGRX_VERSION\$"; then
  step "installing cargo-pgrx $PGRX_VERSION (5-7 minutes the first time)"
  cargo install cargo-pgrx --version "$PGRX_VERSION" --locked
fi

# Rewriting ~/.pgrx/config.toml makes pgrx rebuild everything: only when needed.
if ! grep -qs "^pg$PGVER = \"$PG_CONFIG\"" "${PGRX_HOME:-$HOME/.pgrx}/config.toml"; then
  step "cargo pgrx init"
  cargo pgrx init --pg$PGVER "$PG_CONFIG"
fi

step "ONNX Runtime and models"
bash "$ROOT/scripts/fetch-runtime.sh" $GPU

step "building and installing the extension (${PROFILE:---debug}${GPU:+, cuda})"
cd "$ROOT"
# Quiet on success; on failure the whole error (a compile error or pgrx's
# schema generation) above its backtrace, which alone says nothing.
log=$(mktemp)
if ! cargo pgrx install $PROFILE "${FEATURES[@]}" --pg-config "$PG_CONFIG" >"$log" 2>&1; then
  grep -v '^\s*$\|^\s*Compiling \|^\s*at ' "$log" | sed -n '1,/BACKTRACE/p' | tail -n 80 >&2
  rm -f "$log"
  exit 1
fi
grep -v '^\s*$' "$log" | tail -n 3
rm -f "$log"
bash "$ROOT/scripts/fetch-runtime.sh" $GPU --install "$($PG_CONFIG --sharedir)/extension/pgvision" >/dev/null
step "setup done"
