"""Exact cosine nearest neighbours for UMAP, computed with matrix products.

For fewer than 4,096 texts UMAP finds exact neighbours by calling its compiled cosine function once per
pair through scikit-learn's ``pairwise_distances``: 4.9 million Python-level calls and about 30 s for
3,137 demo segments. The same neighbours come from a few matrix products in well under a second;
UMAP takes them through its ``precomputed_knn`` parameter and builds the same graph from them.
"""

from __future__ import annotations

import numpy as np

BLOCK = 1024  # rows per product: a 1,024 x n block of similarities at a time


def exact_cosine_knn(vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(indices, distances), each (n, k): every row's k nearest rows by cosine distance, itself first.

    Rows need not be normalised. Ties are broken by row number, so the result is the same every time.
    """
    n = len(vectors)
    k = min(k, n)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
    indices = np.empty((n, k), dtype=np.int64)
    distances = np.empty((n, k), dtype=np.float32)
    for start in range(0, n, BLOCK):
        rows = np.arange(start, min(start + BLOCK, n))
        dist = np.clip(1.0 - unit[rows] @ unit.T, 0.0, 2.0)
        dist[np.arange(len(rows)), rows] = -1.0  # each row is its own nearest neighbour
        nearest = np.argpartition(dist, k - 1, axis=1)[:, :k]
        chosen = np.take_along_axis(dist, nearest, axis=1)
        order = np.lexsort((nearest, chosen), axis=1)
        indices[rows] = np.take_along_axis(nearest, order, axis=1)
        distances[rows] = np.maximum(np.take_along_axis(chosen, order, axis=1), 0.0)
    return indices, distances
