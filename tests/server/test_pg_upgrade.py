"""pg_upgrade from an older PostgreSQL to the version under test, with
pgvision tables (vector, halfvec, sparsevec and bit columns), their hnsw
indexes and a generated image_embed column in the cluster: the upgraded
cluster gives the same answers from the same index files, and they take
new rows (pgvision_index_check with heapallindexed). Needs
PGVISION_UPGRADE_FROM: the old installations' bin folders, with pgvision
installed, separated by ':' (one test each; .ci/run sets upstream 15.19 and
16.14); skipped without it."""
import os
import subprocess
from pathlib import Path

import pytest
import sample_db
from conftest import STATE
from harness import AS_ROOT, PG_BIN, Cluster, chown_pg

OLD_BINS = [b for b in os.environ.get("PGVISION_UPGRADE_FROM", "").split(":") if b]


def major(bin_dir):
    """The PostgreSQL major of the installation in `bin_dir`."""
    out = subprocess.run([str(Path(bin_dir) / "pg_config"), "--version"], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[1].split(".")[0])


@pytest.mark.skipif(not OLD_BINS, reason="PGVISION_UPGRADE_FROM is not set")
@pytest.mark.parametrize("old_bin", OLD_BINS or [None])
def test_pg_upgrade_keeps_indexes_and_answers(monkeypatch, old_bin):
    old_major = major(old_bin)
    if old_major >= major(PG_BIN):
        pytest.skip(f"{old_bin} is not older than {PG_BIN}")
    import harness

    # The old cluster, made and filled with the old installation's programs.
    monkeypatch.setattr(harness, "PG_BIN", Path(old_bin))
    old = Cluster(STATE / f"upgrade-old-{old_major}", 54367).init().start()
    with old.connect() as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
        assert version.startswith(f"{old_major}."), version
        conn.execute("CREATE EXTENSION pgvision")
        sample_db.create(conn)
        sample_db.create_family(conn)
        want = sample_db.answers(conn), sample_db.family_answers(conn)
    old.stop()
    monkeypatch.setattr(harness, "PG_BIN", PG_BIN)
    # The new cluster: checksums as the old one (off), as pg_upgrade requires.
    new = Cluster(STATE / f"upgrade-new-{old_major}", 54368)
    checksums = ["--no-data-checksums"] if major(PG_BIN) >= 18 else []
    new.init(initdb_args=checksums)
    work = STATE / f"upgrade-work-{old_major}"
    work.mkdir(parents=True, exist_ok=True)
    work.chmod(0o755)
    chown_pg(work)
    cmd = [str(PG_BIN / "pg_upgrade"), "-b", old_bin, "-B", str(PG_BIN), "-d", str(old.data), "-D", str(new.data),
           "-s", str(work), "-p", "54367", "-P", "54368"]
    if AS_ROOT:
        cmd = ["runuser", "-u", "postgres", "--"] + cmd
    out = subprocess.run(cmd, cwd=work, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-4000:]
    new.start()
    with new.connect() as conn:
        assert conn.execute("SHOW server_version_num").fetchone()[0].startswith(str(major(PG_BIN)))
        assert (sample_db.answers(conn), sample_db.family_answers(conn)) == want
        sample_db.create_items(conn, start=sample_db.ROWS, rows=20)
        sample_db.create_photos(conn, start=sample_db.PHOTOS, rows=2)
        sample_db.create_family(conn, start=sample_db.ROWS, rows=20)
        family = [name for _, names in sample_db.FAMILY.values() for name in names]
        for idx in ["items_l2", "items_ip", "items_cosine", "items_l1", "photos_embedding", *family]:
            conn.execute("SELECT pgvision_index_check(%s::regclass, true)", (idx,))
    new.stop()
