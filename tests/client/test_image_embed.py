"""image_embed end to end with the real default model (efficientnet_lite0).

scikit-image's bundled photos are stored through a generated column, seeded
augmentations of them (crop, flip, colour jitter, resize, JPEG recompression)
are embedded in SQL with the batch form, and the exact nearest neighbour of
each augmented photo must be its source for at least 95% of the queries.

Decompression bombs (8192 x 8192 16-bit PNGs) embedded by an unprivileged
role stay within pgvision.decode_memory_limit, and cancel stops a long batch.
"""
import random
import struct
import sys
import threading
import time
import zlib
from pathlib import Path

import numpy as np
import psycopg
import pytest
import skimage.data
from PIL import Image

# The bundled photos and their augmentations are the demo's (one definition).
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import demo_images  # noqa: E402
from demo_images import PHOTOS, encode  # noqa: E402

MODEL = "efficientnet_lite0"
SEED = 20261124
PER_SOURCE = 5
# Bundled with scikit-image (no download); `cat` is left out: it is `chelsea`.


def augment(img, rng):
    """The demo's augmentation (crop, flip, jitter, resize, JPEG) and a label."""
    return demo_images.augment(img, rng), "augmented"


@pytest.fixture(scope="module")
def photos():
    """(name, PIL image) of every sample photo."""
    out = []
    for name in PHOTOS:
        a = getattr(skimage.data, name)()
        out.append((name, Image.fromarray(a)))
    return out


def test_nearest_neighbour_of_augmented_photo_is_its_source(dsn, photos):
    rng = random.Random(SEED)
    queries = [(name, *augment(img, rng)) for name, img in photos for _ in range(PER_SOURCE)]
    with psycopg.connect(dsn, autocommit=True) as conn:
        info = conn.execute("SELECT model, dims, weights FROM pgvision_runtime(%s)", (MODEL,)).fetchone()
        assert info == (MODEL, 1280, "pretrained")
        conn.execute("DROP TABLE IF EXISTS photos, queries")
        conn.execute(
            f"""CREATE TABLE photos (name text PRIMARY KEY, data bytea NOT NULL,
                embedding vector(1280) GENERATED ALWAYS AS (image_embed(data, '{MODEL}')) STORED)"""
        )
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO photos (name, data) VALUES (%s, %s)",
                [(name, encode(img, "PNG")) for name, img in photos],
            )
        conn.execute(
            "CREATE TABLE queries (id int PRIMARY KEY, source text, ops text, data bytea, embedding vector(1280))"
        )
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO queries (id, source, ops, data) VALUES (%s, %s, %s, %s)",
                [(i, name, ops, data) for i, (name, data, ops) in enumerate(queries)],
            )
        # the batch form with the setting, checked against the single form below
        conn.execute(f"SET pgvision.model = '{MODEL}'")
        conn.execute(
            """WITH b AS (SELECT array_agg(id ORDER BY id) AS ids, image_embed(array_agg(data ORDER BY id)) AS v
                          FROM queries)
               UPDATE queries q SET embedding = b.v[array_position(b.ids, q.id)] FROM b"""
        )
        worst = conn.execute(
            f"SELECT max(embedding <-> image_embed(data, '{MODEL}')) FROM queries"
        ).fetchone()[0]
        assert worst < 1e-3, f"batch and single embeddings differ by {worst}"
        rows = conn.execute(
            """SELECT q.source, q.ops,
                      (SELECT p.name FROM photos p ORDER BY p.embedding <-> q.embedding LIMIT 1)
               FROM queries q ORDER BY q.id"""
        ).fetchall()
        self_hits = conn.execute(
            """SELECT count(*) FROM photos q
               WHERE (SELECT p.name FROM photos p ORDER BY p.embedding <-> q.embedding LIMIT 1) = q.name"""
        ).fetchone()[0]
    misses = [(src, ops, got) for src, ops, got in rows if got != src]
    hit_rate = 1 - len(misses) / len(rows)
    print(f"P@1 = {hit_rate:.3f} over {len(rows)} queries; misses: {misses}")
    assert self_hits == len(photos)
    assert hit_rate >= 0.95, f"P@1 {hit_rate:.3f} < 0.95; misses (source, edits, nearest): {misses}"


# ---------------------------------------------------------------------------
# Decompression bombs: memory outside Postgres' accounting is bounded by the
# superuser's pgvision.decode_memory_limit, whatever an unprivileged role
# sets for decode_threads and embed_batch_size; a long batch answers cancel.

HOSTILE_ROLE = "pgv_decode_hostile"
BOMB_SIDE = 8192
# Default pgvision.decode_memory_limit, and what else may grow in the backend
# during the batch (the array's bytea copies, shared buffers it reads,
# thread stacks, allocator slack).
DECODE_LIMIT = 512 << 20
MARGIN = 96 << 20


def png_bomb(side=BOMB_SIDE, seed=0x1234):
    """A constant-colour `side` x `side` 16-bit RGBA PNG (0.5 MB for 8192):
    the pixel cap's worth of pixels, 512 MiB at its native sample format."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + bytes([seed >> 8, seed & 255, 0x56, 0x78, 0x9A, 0xBC, 0xFF, 0xFF]) * side
    comp = zlib.compressobj(9)
    idat = b"".join(comp.compress(row) for _ in range(side)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 16, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def vm_hwm(pid):
    """Peak resident memory (VmHWM) of process `pid`, in bytes."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmHWM for pid {pid}")


@pytest.fixture(scope="module")
def bomb_db(dsn):
    """The tables `bombs` (64 copies of the 8192 x 8192 16-bit PNG) and
    `tiny` (one small PNG), readable by an unprivileged login role; yields
    that role's connection string."""
    bomb = png_bomb()
    assert len(bomb) < 1 << 20
    small = Image.new("RGB", (40, 30), (200, 100, 50))
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bombs, tiny")
        conn.execute(f"DROP ROLE IF EXISTS {HOSTILE_ROLE}")
        conn.execute(f"CREATE ROLE {HOSTILE_ROLE} LOGIN")
        conn.execute("CREATE TABLE bombs (id int PRIMARY KEY, data bytea)")
        conn.execute("CREATE TABLE tiny (data bytea)")
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO bombs VALUES (%s, %s)", [(i, bomb) for i in range(64)])
        conn.execute("INSERT INTO tiny VALUES (%s)", (demo_images.encode(small, "PNG"),))
        conn.execute(f"GRANT SELECT ON bombs, tiny TO {HOSTILE_ROLE}")
    yield dsn.replace("user=postgres", f"user={HOSTILE_ROLE}")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE bombs, tiny")
        conn.execute(f"DROP ROLE {HOSTILE_ROLE}")


def test_bomb_batch_stays_within_the_decode_memory_limit(bomb_db):
    """Four 8192 x 8192 16-bit PNGs in one batch call, decode_threads = 4 and
    batch 4 set by an unprivileged role: the backend's peak grows by at most
    the decoding budget (plus a margin), not by four 16-bit decodes."""
    with psycopg.connect(bomb_db, autocommit=True) as conn:
        # Before the library is loaded, SET only makes a placeholder, which
        # Postgres drops (with a WARNING) when the library defines the
        # superuser-only setting; afterwards SET is refused outright.
        try:
            conn.execute("SET pgvision.decode_memory_limit = '64GB'")
        except psycopg.errors.InsufficientPrivilege:
            pass
        conn.execute("SET pgvision.decode_threads = 4")
        conn.execute("SET pgvision.embed_batch_size = 4")
        pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        # The model loaded and the code paged in: the baseline.
        conn.execute("SELECT image_embed(array_agg(data), 'tiny16') FROM tiny").fetchone()
        assert conn.execute("SHOW pgvision.decode_memory_limit").fetchone()[0] == "512MB"
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SET pgvision.decode_memory_limit = '64GB'")
        before = vm_hwm(pid)
        start = time.monotonic()
        dims = conn.execute(
            "SELECT array_length(image_embed(array_agg(data ORDER BY id), 'tiny16'), 1) FROM bombs WHERE id < 4"
        ).fetchone()[0]
        elapsed = time.monotonic() - start
        after = vm_hwm(pid)
    assert dims == 4
    growth = after - before
    print(f"4 x 8192x8192 16-bit PNG batch: VmHWM {before >> 20} -> {after >> 20} MiB "
          f"(+{growth >> 20} MiB) in {elapsed:.1f} s")
    assert growth < DECODE_LIMIT + MARGIN, f"backend grew by {growth >> 20} MiB"
    # Each image still costs its 192 MiB RGB buffer: the decodes did run.
    assert growth > 3 * BOMB_SIDE * BOMB_SIDE


def test_inference_memory_of_a_large_batch_is_within_the_limit(bomb_db):
    """An unprivileged role asks for 64 images per inference of the real
    model: ONNX Runtime's working memory (about 7 MB an image for
    EfficientNet-Lite0, 0.45 GB for such a batch) is counted in the
    superuser's decode budget, so chunks shrink and the backend grows by
    less than a quarter of the limit. Counted nowhere, it grew by about
    0.75 GB, and kept it after the call."""
    with psycopg.connect(bomb_db, autocommit=True) as conn:
        conn.execute("SET pgvision.embed_batch_size = 64")
        pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        # The model loaded (its weights are the session's, not a batch's).
        conn.execute("SELECT image_embed(data, 'efficientnet_lite0') FROM tiny").fetchone()
        before = vm_hwm(pid)
        n = conn.execute(
            "SELECT array_length(image_embed(array_agg(data), 'efficientnet_lite0'), 1) "
            "FROM tiny, generate_series(1, 64)"
        ).fetchone()[0]
        after = vm_hwm(pid)
    assert n == 64
    growth = after - before
    print(f"64 images, embed_batch_size 64: VmHWM {before >> 20} -> {after >> 20} MiB (+{growth >> 20} MiB)")
    assert growth < DECODE_LIMIT // 4 + MARGIN, f"backend grew by {growth >> 20} MiB"


def test_cancel_interrupts_the_decode_of_one_image(bomb_db):
    """The single-image form decodes on the pool while the backend answers
    interrupts: statement_timeout ends a call whose one decode takes
    seconds well before that decode would have finished."""
    one = "SELECT image_embed(data, 'tiny16') FROM bombs WHERE id = 0"
    with psycopg.connect(bomb_db, autocommit=True) as conn:
        conn.execute("SELECT image_embed(data, 'tiny16') FROM tiny").fetchone()
        start = time.monotonic()
        conn.execute(one).fetchone()
        whole = time.monotonic() - start
        conn.execute(f"SET statement_timeout = {max(1, int(whole * 100))}")  # a tenth, in ms
        start = time.monotonic()
        with pytest.raises(psycopg.errors.QueryCanceled):
            conn.execute(one)
        cancelled = time.monotonic() - start
        conn.execute("RESET statement_timeout")
        # The session goes on; the decode left behind only delays it.
        assert conn.execute("SELECT image_embed(data, 'tiny16') IS NOT NULL FROM tiny").fetchone()[0]
    print(f"one 8192x8192 16-bit PNG: {whole:.2f} s whole, cancelled after {cancelled:.2f} s")
    assert whole > 0.3, "the decode is too quick to tell"
    assert cancelled < 0.5 * whole


def test_cancel_interrupts_a_long_batch_and_stops_its_threads(bomb_db):
    """A batch of 64 bomb images on one decode thread (minutes of work) is
    cancelled by statement_timeout and by pg_cancel_backend within seconds,
    and the images it had queued are not decoded afterwards: the next call
    in the same session is not stuck behind them."""
    batch = "SELECT image_embed(array_agg(data ORDER BY id), 'tiny16') FROM bombs"
    with psycopg.connect(bomb_db, autocommit=True) as conn:
        conn.execute("SET pgvision.decode_threads = 1")
        conn.execute("SET pgvision.embed_batch_size = 64")
        pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]

        conn.execute("SET statement_timeout = '2s'")
        start = time.monotonic()
        with pytest.raises(psycopg.errors.QueryCanceled):
            conn.execute(batch)
        timed_out_after = time.monotonic() - start
        conn.execute("RESET statement_timeout")

        def cancel_soon():
            time.sleep(2)
            with psycopg.connect(bomb_db, autocommit=True) as other:
                other.execute("SELECT pg_cancel_backend(%s)", (pid,))

        canceller = threading.Thread(target=cancel_soon)
        canceller.start()
        start = time.monotonic()
        with pytest.raises(psycopg.errors.QueryCanceled):
            conn.execute(batch)
        cancelled_after = time.monotonic() - start
        canceller.join()

        # The pool must not still be decoding the 60-odd queued images.
        start = time.monotonic()
        conn.execute("SELECT image_embed(array_agg(data), 'tiny16') FROM tiny").fetchone()
        next_call = time.monotonic() - start
    print(f"statement_timeout after {timed_out_after:.1f} s, pg_cancel_backend after "
          f"{cancelled_after:.1f} s, next call {next_call:.1f} s")
    # One image takes about 2 s here; the whole batch over 100 s.
    assert timed_out_after < 15
    assert cancelled_after < 15
    assert next_call < 15
