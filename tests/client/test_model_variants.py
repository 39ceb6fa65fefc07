"""The models besides efficientnet_lite0 on the augmented-photo retrieval set of
test_image_embed.py (scikit-image's 20 photos and 5 seeded augmentations of
each): EfficientNet-Lite1 and Lite2, and the int8 models against their float
originals (calibrated on other photos, models/calibrate.sh).

Lite1, Lite2: P@1 (an augmented photo's nearest source photo is its own) >= 0.95.

recall@10: over all 120 images, how many of each image's 10 nearest others by
the float embeddings are among its 10 nearest by the int8 ones (>= 0.95).
P@1: how often an augmented photo's nearest source photo is its own; the int8
model's must be no more than 0.01 below the float model's.
"""
import random

import numpy as np
import psycopg
import pytest
import skimage.data
from PIL import Image

from test_image_embed import PER_SOURCE, SEED, augment
from demo_images import PHOTOS, encode

PAIRS = [("efficientnet_lite0", "efficientnet_lite0_int8", 1280)]


@pytest.fixture(scope="module")
def retrieval_set():
    """(source names, image bytes): the 20 photos as PNG first, then their augmentations."""
    rng = random.Random(SEED)
    photos = [(name, Image.fromarray(getattr(skimage.data, name)())) for name in PHOTOS]
    names = [name for name, _ in photos]
    data = [encode(img, "PNG") for _, img in photos]
    for name, img in photos:
        for _ in range(PER_SOURCE):
            names.append(name)
            data.append(augment(img, rng)[0])
    return names, data


def embed(dsn, model, data):
    """The batch form's vectors for `data`, as an array."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute("SELECT v::real[] FROM unnest(image_embed(%s::bytea[], %s)) v",
                            (data, model)).fetchall()
    return np.array([r[0] for r in rows], dtype=np.float64)


def neighbours(x, k):
    """Indices of each row's k nearest other rows by L2."""
    d = ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    return np.argsort(d, axis=1, kind="stable")[:, :k]


def precision_at_1(x, names, n_sources):
    """Share of augmented photos whose nearest source photo is their own."""
    src, queries = x[:n_sources], x[n_sources:]
    d = ((queries[:, None, :] - src[None, :, :]) ** 2).sum(-1)
    nearest = d.argmin(axis=1)
    return float(np.mean([names[j] == names[n_sources + i] for i, j in enumerate(nearest)]))


@pytest.mark.parametrize("fp32,int8,dims", PAIRS)
def test_int8_keeps_the_float_models_neighbours(dsn, retrieval_set, fp32, int8, dims):
    names, data = retrieval_set
    with psycopg.connect(dsn, autocommit=True) as conn:
        info = conn.execute("SELECT model, dims, weights FROM pgvision_runtime(%s)", (int8,)).fetchone()
    assert info == (int8, dims, "pretrained")
    f, q = embed(dsn, fp32, data), embed(dsn, int8, data)
    assert f.shape == q.shape == (len(data), dims)
    assert not np.allclose(f, q), "the int8 model is not the float model"
    k = 10
    nf, nq = neighbours(f, k), neighbours(q, k)
    recall = np.mean([len(set(a) & set(b)) / k for a, b in zip(nf, nq)])
    p1_f = precision_at_1(f, names, len(PHOTOS))
    p1_q = precision_at_1(q, names, len(PHOTOS))
    cos = np.sum(f * q, axis=1) / (np.linalg.norm(f, axis=1) * np.linalg.norm(q, axis=1))
    print(f"{int8}: recall@10 vs {fp32} {recall:.3f}, P@1 {p1_q:.3f} vs {p1_f:.3f}, "
          f"cosine to the float embedding min {cos.min():.4f} mean {cos.mean():.4f}")
    assert recall >= 0.95, recall
    assert p1_q >= p1_f - 0.01, (p1_q, p1_f)


def test_resnet50_int8_loads_with_2048_dims(dsn, retrieval_set):
    _, data = retrieval_set
    v = embed(dsn, "resnet50_int8", data[:2])
    assert v.shape == (2, 2048) and np.isfinite(v).all()
    assert not np.allclose(v[0], v[1])


@pytest.mark.parametrize("model,size", [("efficientnet_lite1", 240), ("efficientnet_lite2", 260)])
def test_larger_efficientnets_find_the_source_photo(dsn, retrieval_set, model, size):
    names, data = retrieval_set
    with psycopg.connect(dsn, autocommit=True) as conn:
        info = conn.execute("SELECT model, dims, weights FROM pgvision_runtime(%s)", (model,)).fetchone()
    assert info == (model, 1280, "pretrained")
    x = embed(dsn, model, data)
    assert x.shape == (len(data), 1280) and np.isfinite(x).all()
    p1 = precision_at_1(x, names, len(PHOTOS))
    print(f"{model} ({size} x {size}): P@1 {p1:.3f} over {len(data) - len(PHOTOS)} augmented photos")
    assert p1 >= 0.95, p1
