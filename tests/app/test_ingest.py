"""`pgvision ingest` and `pgvision search` on a folder with corrupt files mixed in."""
import shutil
import subprocess

import psycopg

from conftest import augmented, ingest, table_name

GOOD = ["astronaut.jpg", "chelsea.jpg", "coffee.jpg", "rocket.jpg", "sub/moon.jpg", "sub/deeper/clock.jpg"]
BAD = {
    "broken.jpg": "truncated",
    "empty.png": "empty",
    "noise.png": "not a png",
    "notes.jpg": "unsupported",
    "sub/half.jpg": "truncated",
}


def make_folder(root, photos):
    """Good photos (some nested), corrupt files, a duplicate, a non-image and a hidden file."""
    for rel in GOOD:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(photos / rel.split("/")[-1], root / rel)
    jpeg = (photos / "camera.jpg").read_bytes()
    (root / "broken.jpg").write_bytes(jpeg[: len(jpeg) // 3])
    (root / "empty.png").write_bytes(b"")
    (root / "noise.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    (root / "notes.jpg").write_text("not a photo at all\n")
    (root / "sub/half.jpg").write_bytes(jpeg[: len(jpeg) // 2])
    shutil.copy(photos / "chelsea.jpg", root / "sub/copy-of-chelsea.jpg")
    (root / "README.txt").write_text("ignored\n")
    (root / ".hidden.jpg").write_bytes(b"garbage")


def stored(dsn, table):
    """Names in `table`."""
    with psycopg.connect(dsn) as conn:
        return sorted(r[0] for r in conn.execute(f"SELECT name FROM {table}"))


def test_ingest_corrupt_files_resume(pgvision_bin, dsn, photos, tmp_path):
    root = tmp_path / "in"
    make_folder(root, photos)
    table = table_name("ing")
    # small batches so corrupt files share batches with good ones
    r = ingest(pgvision_bin, dsn, root, table, "--batch", "3", "--jobs", "2")
    print(r.stdout, r.stderr)
    assert r.returncode == 0, r.stderr
    assert f"loaded {len(GOOD)} new images" in r.stdout
    assert f"0 already in {table}, 1 duplicate files, {len(BAD)} bad, 1 non-image files ignored" in r.stdout
    assert "built the hnsw index" in r.stdout
    report = r.stdout.split("bad files (skipped):\n")[1]
    listed = [line.split(":")[0].strip() for line in report.splitlines() if line.startswith("  ")]
    assert sorted(listed) == sorted(BAD), report
    for name in BAD:
        assert f"skipping {name}: " in r.stderr
    assert stored(dsn, table) == sorted(GOOD)
    with psycopg.connect(dsn) as conn:
        assert conn.execute(f"SELECT count(*) FROM {table} WHERE vector_dims(embedding) = 1280").fetchone()[0] == len(GOOD)
        indexes = conn.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s", (table,)).fetchall()
        assert any("USING hnsw (embedding" in d for (d,) in indexes), indexes

    # second run: nothing new
    r = ingest(pgvision_bin, dsn, root, table, "--batch", "3")
    assert r.returncode == 0, r.stderr
    assert f"loaded 0 new images" in r.stdout and f"{len(GOOD)} already in {table}" in r.stdout, r.stdout
    assert "hnsw index already present" in r.stdout
    assert stored(dsn, table) == sorted(GOOD)

    # a new file: only it is loaded
    (root / "new.jpg").write_bytes(augmented("coffee", 5))
    r = ingest(pgvision_bin, dsn, root, table)
    assert r.returncode == 0 and "loaded 1 new images" in r.stdout, r.stdout
    assert stored(dsn, table) == sorted(GOOD + ["new.jpg"])

    # search prints the top k, the source photo first
    (tmp_path / "q.jpg").write_bytes(augmented("rocket", 11))
    r = subprocess.run([str(pgvision_bin), "search", str(tmp_path / "q.jpg"), "--dsn", dsn, "--table", table, "-k", "3"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["rank", "distance", "id", "name"] and len(lines) == 4, r.stdout
    assert lines[1].split()[0] == "1" and lines[1].split()[3] == "rocket.jpg", r.stdout
    # a corrupt query is a clear error
    r = subprocess.run([str(pgvision_bin), "search", str(root / "broken.jpg"), "--dsn", dsn, "--table", table],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "broken.jpg" in r.stderr and "panicked" not in r.stderr, r.stderr


def test_cli_errors(pgvision_bin, dsn, tmp_path):
    r = ingest(pgvision_bin, dsn, tmp_path / "missing", table_name("x"))
    assert r.returncode == 1 and "is not a folder" in r.stderr, r.stderr
    r = ingest(pgvision_bin, dsn, tmp_path, "bad-name;")
    assert r.returncode == 2 and "invalid table name" in r.stderr, r.stderr
    r = subprocess.run([str(pgvision_bin), "search", str(tmp_path / "q.jpg"), "--dsn", dsn, "--table", "absent"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "cannot read" in r.stderr, r.stderr
    r = ingest(pgvision_bin, "host=/nonexistent port=1 user=postgres dbname=x", tmp_path, "t")
    assert r.returncode == 1 and "cannot connect" in r.stderr, r.stderr
    # a table that exists with other dims refuses another model
    empty = tmp_path / "empty"
    empty.mkdir()
    table = table_name("m")
    assert ingest(pgvision_bin, dsn, empty, table).returncode == 0
    r = ingest(pgvision_bin, dsn, empty, table, "--model", "resnet50")
    assert r.returncode == 1 and "efficientnet_lite0 embeddings" in r.stderr, r.stderr
