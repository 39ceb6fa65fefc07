#!/usr/bin/env bash
# The main job end to end: set up everything, start the project's cluster,
# generate the bundled sample photos, load them with `pgvision ingest`
# (image_embed's batch form, resumable by content hash), build the hnsw
# index, and print the five nearest images to a query photo. A second run
# loads nothing new and takes seconds.
#
# Usage: scripts/demo.sh        (then follow the last line to open the web page)
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"
started=$(date +%s)
DB=pgvision_demo
TABLE=photos
IMAGES=$STATE/demo-images
QUERY=$STATE/demo-query/chelsea_query.jpg
DEMOENV=$STATE/demoenv
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/pgvision

bash scripts/setup.sh
bash scripts/cluster.sh start
psql_demo() { bash scripts/cluster.sh psql -v ON_ERROR_STOP=1 -q "$@"; }
# A demo database made by an older build of the extension (same version
# number, fewer functions) is the demo's own: start it over.
if [ -n "$(psql_demo -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'")" ] &&
  [ "$(psql_demo -d "$DB" -tAc "SELECT count(*) FROM pg_extension e WHERE extname = 'pgvision'
        AND NOT EXISTS (SELECT 1 FROM pg_proc WHERE proname = 'pgvision_runtime')")" != 0 ]; then
  psql_demo -d postgres -c "DROP DATABASE $DB"
fi
if [ -z "$(psql_demo -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'")" ]; then
  psql_demo -d postgres -c "CREATE DATABASE $DB"
fi
psql_demo -d "$DB" -c "SET client_min_messages = warning" -c "CREATE EXTENSION IF NOT EXISTS pgvision"

step "sample photos: scikit-image's photos and seeded augmentations"
if [ ! -x "$DEMOENV/bin/python" ] || ! cmp -s scripts/demo-requirements.txt "$DEMOENV/requirements.txt"; then
  rm -rf "$DEMOENV"
  python3 -m venv "$DEMOENV"
  "$DEMOENV/bin/pip" install -q --disable-pip-version-check --only-binary :all: -r scripts/demo-requirements.txt
  cp scripts/demo-requirements.txt "$DEMOENV/requirements.txt"
fi
"$DEMOENV/bin/python" scripts/demo_images.py "$IMAGES" --query "$QUERY"

step "building the pgvision command (release)"
cargo build --release --quiet -p pgvision-app

DSN="host=$PGV_SOCK port=$PGV_PORT user=postgres dbname=$DB"
step "loading $IMAGES into table $TABLE (pgvision ingest; the index is built after the load)"
"$BIN" ingest "$IMAGES" --dsn "$DSN" --table "$TABLE"

step "the five nearest images to $(basename "$QUERY") (an augmentation of chelsea.jpg, not in the table)"
"$BIN" search "$QUERY" --dsn "$DSN" --table "$TABLE" -k 5

step "demo done in $(( $(date +%s) - started )) s"
cat <<EOM
The cluster is still running (bash scripts/cluster.sh stop to stop it). To search from a web page:
  $BIN serve --dsn "$DSN" --table $TABLE
then open http://127.0.0.1:8080/ and drop a photo on it (for example $QUERY).
SQL: bash scripts/cluster.sh psql -d $DB
EOM
