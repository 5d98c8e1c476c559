"""Vectors are stored as float16: half the bytes, read back as float32, older float32 rows still read."""

from __future__ import annotations

import numpy as np
from sqlalchemy import select

from narratives.embed import EmbeddingCache
from narratives.store.embeddings import decode_vectors, load_vectors, save_vectors
from narratives.store.tables import embeddings


def _unit_rows(n: int, dim: int, seed: int = 0) -> np.ndarray:
    rows = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_vectors_are_stored_in_two_bytes_a_value_and_read_back_close(tmp_project) -> None:
    vectors = _unit_rows(3, 384)
    with tmp_project.engine.begin() as connection:
        save_vectors(connection, "m", {f"h{i}": v for i, v in enumerate(vectors)})
    with tmp_project.engine.connect() as connection:
        blobs = connection.execute(select(embeddings.c.vector).order_by(embeddings.c.text_hash)).scalars()
        assert [len(bytes(b)) for b in blobs] == [768, 768, 768]
        found = load_vectors(connection, "m", ["h0", "h1", "h2", "missing"])
    assert sorted(found) == ["h0", "h1", "h2"]
    for i in range(3):
        assert found[f"h{i}"].dtype == np.float32
        np.testing.assert_allclose(found[f"h{i}"], vectors[i], atol=1e-3)
        assert float(found[f"h{i}"] @ vectors[i]) > 0.9999  # cosine similarity barely moves


def test_rows_written_as_float32_by_older_versions_are_still_read(tmp_project) -> None:
    old = _unit_rows(1, 8)[0]
    with tmp_project.engine.begin() as connection:
        connection.execute(
            embeddings.insert(), [{"model": "m", "text_hash": "old", "dim": 8, "vector": old.tobytes()}]
        )
        save_vectors(connection, "m", {"new": old})
    with tmp_project.engine.connect() as connection:
        found = load_vectors(connection, "m", ["old", "new"])
    np.testing.assert_array_equal(found["old"], old)  # float32 exactly as written
    np.testing.assert_allclose(found["new"], old, atol=1e-3)
    mixed = decode_vectors([old.tobytes(), old.astype("<f2").tobytes()], [8, 8])
    assert mixed.shape == (2, 8) and mixed.dtype == np.float32
    np.testing.assert_array_equal(mixed[0], old)


def test_a_first_run_gets_the_vectors_a_rerun_reads(tmp_project, fake_embedder) -> None:
    texts = ["I waited six months for an assessment.", "The carer was kind."]
    first = EmbeddingCache(tmp_project.engine).embed(fake_embedder, texts)
    second = EmbeddingCache(tmp_project.engine).embed(fake_embedder, texts)
    np.testing.assert_array_equal(first, second)  # same scores on the first run and every rerun
