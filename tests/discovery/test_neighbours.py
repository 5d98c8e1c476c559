"""Exact cosine neighbours from matrix products: the neighbours UMAP would find pair by pair."""

from __future__ import annotations

import numpy as np
from sklearn.neighbors import NearestNeighbors

from narratives.discovery.neighbours import exact_cosine_knn


def test_the_same_neighbours_and_distances_as_a_brute_force_search() -> None:
    vectors = np.random.default_rng(3).standard_normal((2500, 32)).astype(np.float32)  # three blocks
    indices, distances = exact_cosine_knn(vectors, 15)
    expected_distances, expected = (
        NearestNeighbors(n_neighbors=15, metric="cosine", algorithm="brute").fit(vectors).kneighbors(vectors)
    )
    assert indices.shape == distances.shape == (2500, 15)
    np.testing.assert_array_equal(indices, expected)
    np.testing.assert_allclose(distances, expected_distances, atol=1e-5)


def test_each_row_is_its_own_nearest_even_among_duplicates_and_ties_go_by_row() -> None:
    base = np.random.default_rng(0).standard_normal((4, 8)).astype(np.float32)
    vectors = np.vstack([base, base[:2] * 3.0])  # rows 4 and 5 point the same way as rows 0 and 1
    indices, distances = exact_cosine_knn(vectors, 3)
    assert indices[:, 0].tolist() == list(range(6))
    assert indices[0, 1] == 4 and indices[4, 1] == 0 and indices[1, 1] == 5
    assert distances[:, 0].tolist() == [0.0] * 6
    assert (np.diff(distances, axis=1) >= 0).all()
    again = exact_cosine_knn(vectors, 3)
    np.testing.assert_array_equal(again[0], indices)


def test_asking_for_more_neighbours_than_rows_gives_every_row() -> None:
    vectors = np.eye(3, dtype=np.float32)
    indices, _ = exact_cosine_knn(vectors, 10)
    assert indices.shape == (3, 3)
    assert sorted(indices[1].tolist()) == [0, 1, 2] and indices[1, 0] == 1
