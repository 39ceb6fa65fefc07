#!/usr/bin/env bash
# Builds pgvector from a source tree you fetched (github.com/pgvector/pgvector,
# e.g. v0.8.6) the way its users build it (its Makefile's defaults, which
# include -march=native) for the same PostgreSQL the benchmark runs pgvision
# on, and installs it into a private copy of that PostgreSQL under
# .pgvision/pgvector-src-pg: the system installation is never touched, and
# nothing of pgvector enters this repository.
#
# Usage: bench/pgvector-build.sh PGVECTOR_SOURCE_DIR
# Then:  bash bench/run.sh --against-pgvector --pgvector-bin <the bin folder it prints>
set -euo pipefail
source "$(dirname "$0")/../scripts/common.sh"
[ $# -eq 1 ] && [ -f "$1/vector.control" ] || { echo "usage: $0 PGVECTOR_SOURCE_DIR (a pgvector checkout)" >&2; exit 2; }
SRC=$(cd "$1" && pwd)
DEST=$STATE/pgvector-src-pg
BUILD=$STATE/pgvector-src-build

# A copy of the benchmark's PostgreSQL (programs and libraries, shared files,
# headers for PGXS) at the same paths under $DEST: PostgreSQL finds its files
# relative to its programs, so the copy is self-contained.
PGBIN=$($PG_CONFIG --bindir)
if [ ! -x "$DEST$PGBIN/postgres" ]; then
  step "copying PostgreSQL ($($PG_CONFIG --version)) into $DEST"
  rm -rf "$DEST"
  for d in "$(dirname "$PGBIN")" "$($PG_CONFIG --sharedir)" "$($PG_CONFIG --includedir)"; do
    mkdir -p "$DEST$(dirname "$d")"
    cp -a "$d" "$DEST$d"
  done
fi
PGC=$DEST$PGBIN/pg_config
"$PGC" --version

step "building pgvector from $SRC (its Makefile defaults)"
rm -rf "$BUILD" && cp -a "$SRC" "$BUILD"
make -s -C "$BUILD" PG_CONFIG="$PGC" >/dev/null
make -s -C "$BUILD" PG_CONFIG="$PGC" install >/dev/null
grep -o "default_version = '[^']*'" "$("$PGC" --sharedir)/extension/vector.control"
grep -o -- '-march=[a-z0-9-]*' "$BUILD/Makefile" | head -1 || true
chmod -R a+rX "$DEST"
echo "installed; now: bash bench/run.sh --against-pgvector --pgvector-bin $DEST$PGBIN"
