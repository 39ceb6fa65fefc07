"""Backups: pg_dump of a database with vector, halfvec, sparsevec and bit
columns, their hnsw indexes and a generated image_embed column, restored
with psql (plain format) and with pg_restore (custom format, --jobs 2),
answers every query as the original does."""
import subprocess

import pytest
import sample_db
from harness import PG_BIN


def tool(cluster, program, *args, **kw):
    """Runs a PostgreSQL client program against `cluster`; fails on error."""
    cmd = [str(PG_BIN / program), "-h", str(cluster.sock), "-p", str(cluster.port), "-U", "postgres", *args]
    out = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert out.returncode == 0, out.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def original(cluster):
    """Database dump_src with the sample, and its answers."""
    with cluster.connect() as admin:
        admin.execute("DROP DATABASE IF EXISTS dump_src WITH (FORCE)")
        admin.execute("CREATE DATABASE dump_src")
    with cluster.connect("dump_src") as conn:
        conn.execute("CREATE EXTENSION pgvision")
        sample_db.create(conn)
        sample_db.create_family(conn)
        return sample_db.answers(conn), sample_db.family_answers(conn)


def fresh(cluster, name):
    """An empty database `name` (the restore creates the extension)."""
    with cluster.connect() as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")


def check_restored(cluster, name, want):
    """The restored database has the extension, the indexes, and the answers."""
    with cluster.connect(name) as conn:
        indexes = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE indexdef LIKE '%USING hnsw%'")}
        family = {name for _, names in sample_db.FAMILY.values() for name in names}
        assert indexes == {"items_l2", "items_ip", "items_cosine", "items_l1", "photos_embedding"} | family
        assert sample_db.answers(conn) == want[0]
        assert sample_db.family_answers(conn) == want[1]
        types = dict(conn.execute("SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                                  "WHERE attrelid = 'family'::regclass AND attnum > 0"))
        assert types == {"id": "integer", **{c: t for c, (t, _) in sample_db.FAMILY.items()}}
        # The generated column is computed again on insert after a restore.
        sample_db.create_photos(conn, start=sample_db.PHOTOS, rows=2)
        same = conn.execute(
            "SELECT bool_and(embedding = image_embed(data, 'tiny16')) FROM photos WHERE id >= %s", (sample_db.PHOTOS,)
        ).fetchone()[0]
        assert same is True


def test_plain_dump_restored_with_psql(cluster, original, tmp_path):
    dump = tmp_path / "plain.sql"
    tool(cluster, "pg_dump", "--format=plain", f"--file={dump}", "dump_src")
    assert "CREATE EXTENSION IF NOT EXISTS pgvision" in dump.read_text()
    fresh(cluster, "dump_plain")
    tool(cluster, "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", "dump_plain", "-f", str(dump))
    check_restored(cluster, "dump_plain", original)


def test_custom_dump_restored_with_two_jobs(cluster, original, tmp_path):
    dump = tmp_path / "custom.dump"
    tool(cluster, "pg_dump", "--format=custom", f"--file={dump}", "dump_src")
    fresh(cluster, "dump_custom")
    tool(cluster, "pg_restore", "--jobs=2", "--exit-on-error", "-d", "dump_custom", str(dump))
    check_restored(cluster, "dump_custom", original)
