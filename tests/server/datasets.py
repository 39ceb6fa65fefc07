"""Deterministic test data and exact nearest neighbours computed with numpy."""
import numpy as np


def clustered(n, dim, clusters, seed):
    """A gaussian mixture: `clusters` centres, unit-variance points around them."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim)).astype(np.float32) * 4
    labels = rng.integers(0, clusters, n)
    return (centres[labels] + rng.standard_normal((n, dim)).astype(np.float32)).astype(np.float32)


def uniform(n, dim, seed):
    """Uniform in [-1, 1)^dim: the hardest case for graph indexes."""
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, (n, dim)).astype(np.float32)


def resnetlike(n, dim, seed):
    """Non-negative, sparse, clustered: like ReLU-pooled CNN features."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((64, dim)).astype(np.float32)
    labels = rng.integers(0, 64, n)
    x = centres[labels] + 0.8 * rng.standard_normal((n, dim)).astype(np.float32) - 0.4
    return np.maximum(x, 0).astype(np.float32)


def distances(data, queries, metric):
    """Distance matrix [queries x data] in the operator's meaning (smaller is closer)."""
    if metric == "l2":
        sq = (queries**2).sum(1)[:, None] - 2 * queries @ data.T + (data**2).sum(1)[None, :]
        return np.sqrt(np.maximum(sq, 0))
    if metric == "ip":
        return -(queries @ data.T)
    if metric == "l1":
        return np.stack([np.abs(data - q).sum(1) for q in queries])
    qn = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    dn = data / np.linalg.norm(data, axis=1, keepdims=True)
    return 1 - qn @ dn.T


def exact_topk(data, ids, queries, metric, k=10):
    """Ids of the exact k nearest rows for every query."""
    d = distances(data, queries, metric)
    order = np.argsort(d, axis=1, kind="stable")[:, :k]
    return ids[order]


def recall(got, want):
    """Mean fraction of the exact top-k found."""
    return float(np.mean([len(set(g) & set(w)) / len(w) for g, w in zip(got, want)]))
