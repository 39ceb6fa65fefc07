#!/usr/bin/env bash
# Tests the cuda build of pgvision (what `setup.sh --gpu` installs, and the GPU
# Debian package) on a machine without an NVIDIA GPU, next to the normal build and
# without touching it:
#   - builds the GPU package, postgresql-<major>-pgvision-gpu, with the extension
#     built with the `cuda` feature (`package.sh --gpu-lib --debug`: the same
#     pg_config as the normal build, so nothing of pgrx is rebuilt; a debug build
#     compiles in well under a minute, and what is tested here, the choice of
#     library, the driver check and the fallback, is the same code as a release)
#     and the GPU build of ONNX Runtime (the onnxruntime-gpu wheel only; the
#     CUDA/cuDNN wheels of --gpu matter only on a machine with a GPU),
#   - installs the package's files into a private copy of PostgreSQL under
#     .pgvision/pg-cuda and checks them as its postinst does,
#   - runs tests/cudabuild against a cluster of that copy, comparing embeddings
#     with the normal (CPU) build's cluster.
#
# Usage: scripts/cuda-build-test.sh
# The CPU build's cluster: PGHOST/PGPORT when set (scripts/test.sh), else the
# test cluster (.pgvision/test-cluster), started here and stopped at the end.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"

COPY=$STATE/pg-cuda
PACKAGE=$STATE/cuda-package
CUDA_DATA=$STATE/cuda-cluster CUDA_SOCK=$STATE/cuda-run CUDA_PORT=54331

# copy_pg: a private copy of the PostgreSQL installation (bin, lib, share)
# without pgvision, laid out as the original so Postgres finds its share and
# lib folders relative to its binaries. Redone only when the original changes.
copy_pg() {
  local bin lib share prefix d stamp=$COPY/.source want
  bin=$("$PG_CONFIG" --bindir) lib=$("$PG_CONFIG" --pkglibdir) share=$("$PG_CONFIG" --sharedir)
  want="$bin $(sha256sum "$bin/postgres" | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then return; fi
  prefix=$bin   # the deepest folder holding all three
  while [[ "$lib/" != "$prefix/"* || "$share/" != "$prefix/"* ]]; do prefix=$(dirname "$prefix"); done
  rm -rf "$COPY"
  for d in "$bin" "$lib" "$share"; do
    mkdir -p "$COPY${d#"$prefix"}"
    tar -C "$d" --exclude='./pgvision*' --exclude='./extension/pgvision*' -cf - . | tar -C "$COPY${d#"$prefix"}" -xf -
  done
  echo "$want" >"$stamp"
  echo "${prefix}" >"$COPY/.prefix"
}

# in_copy PATH: where PATH of the original installation is in the copy.
in_copy() { local prefix; prefix=$(cat "$COPY/.prefix"); echo "$COPY${1#"$prefix"}"; }

# cuda_cluster ARGS: scripts/cluster.sh on the copy's cluster.
cuda_cluster() {
  PGVISION_PG_BIN=$(in_copy "$PG_BIN") PGV_DATA=$CUDA_DATA PGV_SOCK=$CUDA_SOCK PGV_PORT=$CUDA_PORT \
    bash "$ROOT/scripts/cluster.sh" "$@"
}

step "cuda build: the GPU package (package.sh --gpu-lib --debug)"
deb=$(bash scripts/package.sh --gpu-lib --debug --pg-config "$PG_CONFIG" --out "$PACKAGE" | tail -n 1)
rm -rf "$PACKAGE/root" && dpkg-deb -x "$deb" "$PACKAGE/root"

step "cuda build: installing the package's files into a private PostgreSQL copy ($COPY)"
copy_pg
cuda_cluster stop
pkglib=$(in_copy "$("$PG_CONFIG" --pkglibdir)") share=$(in_copy "$("$PG_CONFIG" --sharedir)")
# New files, never written in place: the copy shares nothing with the original.
rm -rf "$pkglib"/pgvision*.so "$share"/extension/pgvision*
cp "$PACKAGE"/root/usr/lib/postgresql/*/lib/pgvision.so "$pkglib/"
cp -r "$PACKAGE"/root/usr/share/postgresql/*/extension/pgvision* "$share/extension/"
# What the package's postinst checks.
(cd "$share/extension/pgvision" && sha256sum --quiet -c SHA256SUMS)

# The CPU build's cluster to compare with.
stop_cpu=
if [ -z "${PGHOST:-}" ]; then
  export PGV_DATA=$STATE/test-cluster PGV_SOCK=$STATE/test-run PGV_PORT=54330
  bash scripts/cluster.sh start >/dev/null
  eval "$(bash scripts/cluster.sh env)"
  stop_cpu=1
fi
trap 'cuda_cluster stop; if [ -n "$stop_cpu" ]; then bash "$ROOT/scripts/cluster.sh" stop; fi' EXIT
cuda_cluster start >/dev/null

step "cuda build: tests (tests/cudabuild)"
PGV_CUDA_DEB=$deb PGV_CUDA_HOST=$CUDA_SOCK PGV_CUDA_PORT=$CUDA_PORT \
  "$STATE/testenv/bin/python" -m pytest -q -p no:cacheprovider tests/cudabuild
