#!/usr/bin/env bash
# Copies a database that uses pgvector into an empty database with pgvision:
# pg_dump of the source (custom format, one snapshot), its schema with
# `CREATE EXTENSION vector` turned into `CREATE EXTENSION pgvision` through
# psql, then its data and indexes with pg_restore. Column types, operators,
# operator classes (vector_l2_ops, ...) and the hnsw and ivfflat index
# options keep their names (an ivfflat index is rebuilt: its lists are
# trained again on the copied rows). The source is only read.
#
# Usage: scripts/from-pgvector.sh [--pg N] [--jobs N] SOURCE TARGET
#   SOURCE, TARGET  database names or libpq connection strings
#                   ("host=... dbname=..."); PGHOST, PGPORT, PGUSER apply
#   --pg N          whose pg_dump/pg_restore/psql to use (default 15; use the
#                   target server's major)
#   --jobs N        pg_restore jobs for the data and indexes (default 2)
# Refuses (before writing anything) a source with what pgvision lacks:
# pgvector operator classes other than vector_{l2,ip,cosine,l1}_ops,
# halfvec_{l2,ip,cosine,l1}_ops, sparsevec_{l2,ip,cosine,l1}_ops,
# bit_hamming_ops, bit_jaccard_ops, vector_ops, halfvec_ops and
# sparsevec_ops (for a pgvector newer than this script knows; bit columns
# are Postgres' own type and move, with their hnsw and ivfflat indexes up
# to 64,000 bits, pgvector's limit and pgvision's).
set -euo pipefail
source "$(dirname "$0")/common.sh"
JOBS=2
while [ $# -gt 2 ]; do
  case $1 in
    --jobs) JOBS=${2:?}; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[ $# -eq 2 ] || { sed -n '9,14p' "$0" >&2; exit 2; }
SOURCE=$1 TARGET=$2
psql_() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }

# What the source uses that pgvision does not have.
unsupported=$(psql_ -At -d "$SOURCE" <<'SQL'
SELECT format('column %s.%s is of type %s', c.relname, a.attname, format_type(a.atttypid, a.atttypmod))
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_depend d ON d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'vector'
WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'm') AND t.typname NOT IN ('vector', 'halfvec', 'sparsevec')
UNION ALL
SELECT format('index %s uses operator class %s', i.indexrelid::regclass, oc.opcname)
FROM pg_index i, unnest(i.indclass) AS k(opc) JOIN pg_opclass oc ON oc.oid = k.opc
JOIN pg_depend d ON d.classid = 'pg_opclass'::regclass AND d.objid = oc.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'vector'
WHERE oc.opcname NOT IN ('vector_l2_ops', 'vector_ip_ops', 'vector_cosine_ops', 'vector_l1_ops', 'vector_ops',
                         'halfvec_l2_ops', 'halfvec_ip_ops', 'halfvec_cosine_ops', 'halfvec_l1_ops', 'halfvec_ops',
                         'sparsevec_l2_ops', 'sparsevec_ip_ops', 'sparsevec_cosine_ops', 'sparsevec_l1_ops', 'sparsevec_ops',
                         'bit_hamming_ops', 'bit_jaccard_ops')
UNION ALL
SELECT format('index %s uses ivfflat with operator class %s', i.indexrelid::regclass, oc.opcname)
FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam,
     unnest(i.indclass) AS k(opc) JOIN pg_opclass oc ON oc.oid = k.opc
WHERE am.amname = 'ivfflat' AND oc.opcname NOT IN ('vector_l2_ops', 'vector_ip_ops', 'vector_cosine_ops',
                                                   'halfvec_l2_ops', 'halfvec_ip_ops', 'halfvec_cosine_ops',
                                                   'bit_hamming_ops');
SQL
)
if [ -n "$unsupported" ]; then
  echo "from-pgvector: the source uses what pgvision does not have; nothing was written:" >&2
  echo "$unsupported" | sed 's/^/  /' >&2
  exit 1
fi
psql_ -At -d "$SOURCE" -c "SELECT 1 FROM pg_extension WHERE extname = 'vector'" | grep -q 1 ||
  { echo "from-pgvector: the source has no pgvector (extension vector)" >&2; exit 1; }
if [ -n "$(psql_ -At -d "$TARGET" -c "SELECT extname FROM pg_extension WHERE extname IN ('vector', 'pgvision')")" ]; then
  echo "from-pgvector: the target already has vector or pgvision; give it an empty database" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 0755 "$work"
"$PG_BIN/pg_dump" --format=custom --file="$work/source.dump" -d "$SOURCE"
# The schema: pgvector's extension becomes pgvision in the same schema; its
# comment goes. Only pre-data is rewritten: table rows pass untouched.
"$PG_BIN/pg_restore" --section=pre-data --file=- "$work/source.dump" |
  sed -E 's/^CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA ([^;]+);$/CREATE EXTENSION IF NOT EXISTS pgvision WITH SCHEMA \1;/;
          /^COMMENT ON EXTENSION vector IS /d' >"$work/pre-data.sql"
grep -q '^CREATE EXTENSION IF NOT EXISTS pgvision ' "$work/pre-data.sql" ||
  { echo "from-pgvector: the dump does not create extension vector where expected" >&2; exit 1; }
psql_ -d "$TARGET" -f "$work/pre-data.sql"
"$PG_BIN/pg_restore" --section=data --section=post-data --jobs="$JOBS" --exit-on-error -d "$TARGET" "$work/source.dump"
echo "from-pgvector: copied into pgvision"
