"""image_embed end to end with the real default model (efficientnet_lite0).

scikit-image's bundled photos are stored through a generated column, seeded
augmentations of them (crop, flip, colour jitter, resize, JPEG recompression)
are embedded in SQL with the batch form, and the exact nearest neighbour of
each augmented photo must be its source for at least 95% of the queries.
"""
import random
import sys
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
