# Shared settings for the project's scripts. Source it; do not run it.
# Everything the project makes at run time lives under .pgvision/ (git-ignored).

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PGVER=15
# PGVISION_PG_BIN: another PostgreSQL 15 installation's bin folder (default: Debian's).
PG_BIN=${PGVISION_PG_BIN:-/usr/lib/postgresql/$PGVER/bin}
PG_CONFIG=$PG_BIN/pg_config
PGRX_VERSION=0.18.1
STATE=$ROOT/.pgvision
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
# cargo-pgrx's inner build would otherwise compile every dependency twice.
export CARGO_PGRX_DISABLE_GC_SECTIONS_WORKAROUND=1

# The project's own cluster: a unix socket in the checkout, no TCP.
PGV_PORT=${PGV_PORT:-54329}
PGV_DATA=${PGV_DATA:-$STATE/cluster}
PGV_SOCK=${PGV_SOCK:-$STATE/run}

# Postgres refuses to run as root: as root, cluster commands run as `postgres`.
if [ "$(id -u)" = 0 ]; then PG_USER=postgres; else PG_USER=$(id -un); fi

# Runs a command as the cluster owner.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u "$PG_USER" -- "$@"; else "$@"; fi
}

# Prints a timestamped step line.
step() { printf '== [%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
