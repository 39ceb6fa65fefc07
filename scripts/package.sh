#!/usr/bin/env bash
# Builds a Debian package of pgvision for one PostgreSQL major version:
#   postgresql-<major>-pgvision_<version>-1_<arch>.deb
# holding the extension library, its control file and SQL scripts (the
# install script of this version, and the update scripts in sql/), the ONNX
# Runtime library and the models pgvision ships (lib/ and models/ under
# <sharedir>/extension/pgvision), at the paths Debian's PostgreSQL packages
# use. Its postinst checks the bundled files against their pinned sha256
# and needs no network.
#
# Usage: scripts/package.sh [--pg 15|16|17|18] [--pg-config PATH] [--out DIR]
#                           [--gpu | --gpu-lib] [--debug]
#   --pg-config  the PostgreSQL to build for (default: the project's, see
#                common.sh); its major version names the package
#   --out        where the .deb goes (default .pgvision/package)
#   --gpu        the GPU variant, postgresql-<major>-pgvision-gpu (it replaces
#                the CPU package): the extension built with the `cuda`
#                feature and the GPU build of ONNX Runtime with the CUDA 13 /
#                cuDNN 9 runtime from PyPI's nvidia-* wheels (gpu/, about
#                3 GB installed); the host needs only the NVIDIA driver
#   --gpu-lib    the same package without the CUDA / cuDNN libraries (for
#                hosts where CUDA 13 and cuDNN 9 are installed system-wide)
#   --debug      a debug build of the extension (the CI test of the GPU
#                variant, scripts/cuda-build-test.sh; not for production)
# Prints the path of the .deb. Reuses the release build when it is current.
set -euo pipefail
source "$(dirname "$0")/common.sh"
PGC=$PG_CONFIG
OUT=$STATE/package
GPU= FEATURES=() PROFILE=()
while [ $# -gt 0 ]; do
  case $1 in
    --pg-config) PGC=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --gpu|--gpu-lib) GPU=$1; FEATURES=(--features cuda); shift ;;
    --debug) PROFILE=(--debug); shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
MAJOR=$("$PGC" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
# The extension's version is the crate's (pgvision.control says @CARGO_VERSION@).
VERSION=$(sed -nE '/^\[package\]/,/^\[/{s/^version *= *"([^"]+)".*/\1/p}' "$ROOT/Cargo.toml")
ARCH=$(dpkg --print-architecture)
BASE=postgresql-$MAJOR-pgvision
NAME=$BASE${GPU:+-gpu}
WORK=$STATE/package-build/$NAME
DEB=$OUT/${NAME}_$VERSION-1_$ARCH.deb

step "building $NAME $VERSION for $("$PGC" --version)"
bash "$ROOT/scripts/fetch-runtime.sh" $GPU >/dev/null 2>&1
rm -rf "$WORK" && mkdir -p "$WORK"
log=$(mktemp)
if ! (cd "$ROOT" && cargo pgrx package "${PROFILE[@]}" "${FEATURES[@]}" --pg-config "$PGC" \
        --out-dir "$WORK/pgrx") >"$log" 2>&1; then
  tail -n 40 "$log" >&2; rm -f "$log"; exit 1
fi
rm -f "$log"

# pgrx lays the files out at the build server's own paths; the package puts
# them where Debian's postgresql-<major> looks.
ROOTFS=$WORK/root
LIBDIR=$ROOTFS/usr/lib/postgresql/$MAJOR/lib
EXTDIR=$ROOTFS/usr/share/postgresql/$MAJOR/extension
install -d "$LIBDIR" "$EXTDIR"
so=$(find "$WORK/pgrx" -name pgvision.so | head -1)
[ -n "$so" ] || { echo "cargo pgrx package made no pgvision.so" >&2; exit 1; }
install -m 0755 "$so" "$LIBDIR/pgvision.so"
strip --strip-unneeded "$LIBDIR/pgvision.so"
find "$WORK/pgrx" \( -name 'pgvision.control' -o -name 'pgvision--*.sql' \) -exec install -m 0644 {} "$EXTDIR/" \;
if [ -d "$ROOT/sql" ]; then
  find "$ROOT/sql" -maxdepth 1 -name 'pgvision--*.sql' -exec install -m 0644 {} "$EXTDIR/" \;
fi
[ -f "$EXTDIR/pgvision--$VERSION.sql" ] || { echo "no pgvision--$VERSION.sql in the build" >&2; exit 1; }
bash "$ROOT/scripts/fetch-runtime.sh" $GPU --install "$EXTDIR/pgvision" >/dev/null 2>&1
# The checksums postinst verifies: every bundled runtime file.
(cd "$EXTDIR/pgvision" && find . -type f ! -name SHA256SUMS -printf '%P\n' | sort | xargs sha256sum) \
  > "$WORK/SHA256SUMS"
install -m 0644 "$WORK/SHA256SUMS" "$EXTDIR/pgvision/SHA256SUMS"

install -d "$ROOTFS/DEBIAN"
# The GPU variant stands in for the CPU package (one of them at a time).
GPU_FIELDS= GPU_TEXT=
if [ -n "$GPU" ]; then
  GPU_FIELDS=$'\n'"Provides: $BASE"$'\n'"Conflicts: $BASE"$'\n'"Replaces: $BASE"
  GPU_TEXT=$'\n'" This build runs image_embed on an NVIDIA GPU with SET pgvision.device = cuda"
  GPU_TEXT+=$'\n'" (it needs the NVIDIA driver; without it, it says so once and uses the CPU)."
fi
cat > "$ROOTFS/DEBIAN/control" <<CONTROL
Package: $NAME
Version: $VERSION-1
Architecture: $ARCH
Maintainer: pgvision developers <pgvision@localhost>
Depends: postgresql-$MAJOR, libc6 (>= 2.28), libstdc++6, libgcc-s1$GPU_FIELDS
Section: database
Priority: optional
Installed-Size: $(du -sk "$ROOTFS/usr" | cut -f1)
Homepage: https://localhost/pgvision
Description: content-based image retrieval inside PostgreSQL $MAJOR
 pgvision adds a pgvector-compatible vector type, an hnsw index access
 method and image_embed(bytea), which turns images into CNN embeddings
 inside the database through the bundled ONNX Runtime and models.
 Enable it in a database with: CREATE EXTENSION pgvision;$GPU_TEXT
CONTROL
cat > "$ROOTFS/DEBIAN/postinst" <<POSTINST
#!/bin/sh
# Checks the bundled ONNX Runtime library and models against the checksums
# made at build time; needs no network.
set -e
if [ "\$1" = configure ]; then
  cd "\${DPKG_ROOT:-}/usr/share/postgresql/$MAJOR/extension/pgvision"
  if ! sha256sum --quiet -c SHA256SUMS; then
    echo "pgvision: bundled files do not match their checksums" >&2
    exit 1
  fi
  echo "pgvision $VERSION installed for PostgreSQL $MAJOR: CREATE EXTENSION pgvision; in a database enables it."
fi
exit 0
POSTINST
chmod 0755 "$ROOTFS/DEBIAN/postinst"
mkdir -p "$OUT"
dpkg-deb --root-owner-group -Zgzip -z6 --build "$ROOTFS" "$DEB" >/dev/null
echo "$DEB"
