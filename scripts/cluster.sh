#!/usr/bin/env bash
# The project's own PostgreSQL cluster, in .pgvision/cluster, reachable only
# through a unix socket in .pgvision/run (with --pg 16 or 18: cluster-16,
# run-16, ...; one cluster per PostgreSQL major).
#
# Usage: scripts/cluster.sh [--pg N] start|stop|restart|status|psql [psql args]|env
set -euo pipefail
source "$(dirname "$0")/common.sh"

# Creates the data directory once, owned by the cluster user.
init_cluster() {
  [ -f "$PGV_DATA/PG_VERSION" ] && return
  install -d -m 0755 "$STATE"
  install -d -m 0700 -o "$PG_USER" "$PGV_DATA"
  install -d -m 0755 -o "$PG_USER" "$PGV_SOCK" "$STATE/log"
  as_pg "$PG_BIN/initdb" -D "$PGV_DATA" -A trust -U postgres --locale=C.UTF-8 -E UTF8 >/dev/null
  cat >> "$PGV_DATA/postgresql.conf" <<CONF
listen_addresses = ''
port = $PGV_PORT
unix_socket_directories = '$PGV_SOCK'
shared_buffers = 1GB
maintenance_work_mem = 1GB
max_wal_size = 4GB
wal_level = replica
max_wal_senders = 4
logging_collector = off
CONF
}

case ${1:-status} in
  start)
    init_cluster
    if ! as_pg "$PG_BIN/pg_ctl" -D "$PGV_DATA" status >/dev/null 2>&1; then
      as_pg "$PG_BIN/pg_ctl" -D "$PGV_DATA" -l "$STATE/log/$(basename "$PGV_DATA").log" -w start >/dev/null
    fi
    echo "cluster up: psql -h $PGV_SOCK -p $PGV_PORT -U postgres"
    ;;
  stop) as_pg "$PG_BIN/pg_ctl" -D "$PGV_DATA" -m fast -w stop >/dev/null 2>&1 || true ;;
  restart) "$0" stop; "$0" start ;;
  status) as_pg "$PG_BIN/pg_ctl" -D "$PGV_DATA" status ;;
  psql) shift; exec "$PG_BIN/psql" -X -h "$PGV_SOCK" -p "$PGV_PORT" -U postgres "$@" ;;
  env) echo "export PGHOST=$PGV_SOCK PGPORT=$PGV_PORT PGUSER=postgres" ;;
  *) echo "usage: $0 start|stop|restart|status|psql|env" >&2; exit 2 ;;
esac
