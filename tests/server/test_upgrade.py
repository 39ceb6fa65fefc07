"""Extension updates: a database created with an earlier release's SQL
(sql/pgvision--0.1.0.sql and sql/pgvision--0.2.0.sql, as released) keeps its data, indexes and
generated image_embed columns through ALTER EXTENSION pgvision UPDATE, and
ends up with exactly the objects of a fresh install of the current version
(so an object added without adding it to the update script fails here).
Indexes whose on-disk format is older than the code: the readable ones keep
working, the others refuse with an ERROR that says REINDEX."""
import difflib
import re
import subprocess

import psycopg
import pytest
import sample_db
from conftest import STATE
from harness import PG_BIN, Cluster, run_as_pg

# Every earlier release (its install script as released is in sql/).
RELEASES = ["0.1.0", "0.2.0", "0.3.0", "0.4.0", "0.5.0"]
# Offset in the index file of the meta page's format version (page header,
# then the magic number).
META_VERSION_AT = 24 + 4


def current_version(conn):
    """The version CREATE EXTENSION pgvision installs."""
    return conn.execute("SELECT default_version FROM pg_available_extensions WHERE name = 'pgvision'").fetchone()[0]


def installed_version(conn):
    """The version of pgvision in the connected database."""
    return conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'pgvision'").fetchone()[0]


def new_database(cluster, name, version=None):
    """(Re)creates database `name` with pgvision at `version` (default: current)."""
    with cluster.connect() as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
    conn = cluster.connect(name)
    conn.execute("CREATE EXTENSION pgvision" + (f" VERSION '{version}'" if version else ""))
    return conn


def objects(cluster, db):
    """The extension's objects as pg_dump --binary-upgrade writes them
    (every member with its full definition), less object ids and the
    dump's random \\restrict key."""
    out = subprocess.run(
        [str(PG_BIN / "pg_dump"), "-h", str(cluster.sock), "-p", str(cluster.port), "-U", "postgres",
         "--schema-only", "--binary-upgrade", db],
        check=True, capture_output=True, text=True,
    ).stdout
    keep = []
    for line in out.splitlines():
        if re.match(r"\\(un)?restrict |SELECT pg_catalog\.binary_upgrade_set_next_", line):
            continue
        keep.append(line)
    return keep


@pytest.mark.parametrize("previous", RELEASES)
def test_update_keeps_data_indexes_and_generated_columns(cluster, previous):
    with new_database(cluster, "upgrade_data", previous) as conn:
        assert installed_version(conn) == previous
        target = current_version(conn)
        assert target != previous
        sample_db.create(conn)
        before = sample_db.answers(conn)
        conn.execute("ALTER EXTENSION pgvision UPDATE")
        assert installed_version(conn) == target
        assert sample_db.answers(conn) == before
        # The indexes and the generated column take new rows after the update.
        sample_db.create_items(conn, start=sample_db.ROWS, rows=50)
        sample_db.create_photos(conn, start=sample_db.PHOTOS, rows=4)
        new = sample_db.vectors(sample_db.ROWS + 50, 7)[sample_db.ROWS:]
        with conn.transaction():
            conn.execute("SET LOCAL enable_seqscan = off")
            for i, v in enumerate(new, sample_db.ROWS):
                got = conn.execute("SELECT id FROM items ORDER BY v <-> %s::vector LIMIT 1", (sample_db.literal(v),))
                assert got.fetchone()[0] == i
        same = conn.execute(
            "SELECT bool_and(embedding = image_embed(data, 'tiny16')), count(*) FROM photos WHERE id >= %s",
            (sample_db.PHOTOS,),
        ).fetchone()
        assert same == (True, 4)
        for idx in ["items_l2", "items_ip", "items_cosine", "items_l1", "photos_embedding"]:
            conn.execute("SELECT pgvision_index_check(%s::regclass, true)", (idx,))


@pytest.mark.parametrize("previous", RELEASES)
def test_update_gives_the_objects_of_a_fresh_install(cluster, previous):
    """Fresh install and an earlier release + UPDATE: the same members, each defined the same."""
    with new_database(cluster, "upgrade_fresh") as conn:
        target = installed_version(conn)
    with new_database(cluster, "upgrade_updated", previous) as conn:
        conn.execute("ALTER EXTENSION pgvision UPDATE")
        assert installed_version(conn) == target
    fresh, updated = objects(cluster, "upgrade_fresh"), objects(cluster, "upgrade_updated")
    assert any("ALTER EXTENSION pgvision ADD FUNCTION public.image_embed" in l for l in fresh)
    diff = "\n".join(difflib.unified_diff(fresh, updated, "fresh install", f"{previous} + UPDATE", lineterm=""))
    assert not diff, (
        f"the update scripts from {previous} to {target} do not give what a fresh install has:\n{diff[:6000]}"
    )


def test_every_release_updates_to_the_current_version(cluster):
    with cluster.connect() as conn:
        target = current_version(conn)
        sources = conn.execute(
            "SELECT source FROM pg_extension_update_paths('pgvision') WHERE target = %s AND path IS NOT NULL",
            (target,),
        ).fetchall()
    assert set(RELEASES) <= {s[0] for s in sources}


def set_format_version(cluster, db, index, version):
    """Stops `cluster`, writes `version` into `index`'s meta page, starts it
    again (data checksums, on by default from PostgreSQL 18, are turned
    off first: the page is changed behind the server's back)."""
    with cluster.connect(db) as conn:
        conn.execute("CHECKPOINT")
        path = cluster.data / conn.execute("SELECT pg_relation_filepath(%s)", (index,)).fetchone()[0]
    cluster.stop()
    run_as_pg(PG_BIN / "pg_checksums", "--disable", "-D", cluster.data, check=False)
    with open(path, "r+b") as f:
        f.seek(META_VERSION_AT)
        f.write(version.to_bytes(4, "little"))
    cluster.start()


@pytest.fixture
def own_cluster():
    """A cluster of this test's own (it is stopped and its files changed)."""
    c = Cluster(STATE / "format", 54366).init().start()
    yield c
    c.stop()


def test_older_index_formats_keep_working_or_say_reindex(own_cluster):
    cluster = own_cluster
    with new_database(cluster, "upgrade_format") as conn:
        sample_db.create_items(conn, indexes=False)
        # f16 copies: versions 1 to 3 are that layout
        conn.execute("CREATE INDEX items_l2 ON items USING hnsw (v vector_l2_ops) WITH (m = 8, storage = 'half')")
        want = sample_db.index_answers(conn, "items", "v", "<->", [sample_db.literal(sample_db.vectors(1, 5)[0])], True)
    # Versions 1 to 3 differ from 4 only by what an index of 8 dimensions
    # without a dimension order and with at most 9 rows an element never
    # has, but for the seals, which they do not check: such an index reads
    # as before.
    for readable in (1, 2, 3):
        set_format_version(cluster, "upgrade_format", "items_l2", readable)
        with cluster.connect("upgrade_format") as conn:
            q = [sample_db.literal(sample_db.vectors(1, 5)[0])]
            assert sample_db.index_answers(conn, "items", "v", "<->", q, True) == want
    # Older than any release wrote (0) or newer than this build: refused,
    # naming REINDEX, for scans and inserts alike; REINDEX mends it.
    for unreadable in (0, 99):
        set_format_version(cluster, "upgrade_format", "items_l2", unreadable)
        with cluster.connect("upgrade_format") as conn:
            conn.execute("SET enable_seqscan = off")
            for sql in [
                "SELECT id FROM items ORDER BY v <-> '[1,2,3,4,5,6,7,8]' LIMIT 1",
                "INSERT INTO items VALUES (100000, '[1,2,3,4,5,6,7,8]')",
            ]:
                with pytest.raises(psycopg.Error) as err:
                    conn.execute(sql)
                assert not conn.broken
                assert err.value.sqlstate == "XX002", err.value
                assert "REINDEX" in str(err.value) and f"format version {unreadable}" in str(err.value)
                assert "panicked" not in str(err.value)
            conn.execute("RESET enable_seqscan")
            conn.execute("REINDEX INDEX items_l2")
            q = [sample_db.literal(sample_db.vectors(1, 5)[0])]
            assert sample_db.index_answers(conn, "items", "v", "<->", q, True) == want
