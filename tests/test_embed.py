"""Embedders and the embedding caches."""

from __future__ import annotations

import numpy as np
import pytest

from narratives.embed import (
    CachedEmbedder,
    EmbeddingCache,
    MemoryEmbeddingCache,
    NpyEmbeddingCache,
    SentenceTransformerEmbedder,
    load_embedder,
)
from narratives.errors import ModelNotAvailable

TEXTS = ["I waited six months.", "Mum’s carer — Sandra — comes at 9 a.m.", "I waited six months."]


def test_project_cache_encodes_only_misses(tmp_project, fake_embedder) -> None:
    cache = EmbeddingCache(tmp_project.engine)
    first = cache.embed(fake_embedder, TEXTS)
    assert fake_embedder.encoded == 2  # identical texts encoded once
    assert (cache.hits, cache.misses) == (0, 3)
    again = EmbeddingCache(tmp_project.engine)
    second = again.embed(fake_embedder, [TEXTS[1], TEXTS[0]])
    assert fake_embedder.calls == 1  # second call encoded nothing
    assert (again.hits, again.misses) == (2, 0)
    np.testing.assert_array_equal(second, first[[1, 0]])
    assert first.dtype == np.float32


@pytest.mark.parametrize(
    "make", [lambda tmp: MemoryEmbeddingCache(), lambda tmp: NpyEmbeddingCache(tmp / "c")]
)
def test_other_caches_return_rows_in_input_order(make, tmp_path, fake_embedder) -> None:
    cache = make(tmp_path)
    first = cache.embed(fake_embedder, TEXTS)
    second = cache.embed(fake_embedder, [*TEXTS[::-1], "new text"])
    np.testing.assert_array_equal(second[:3], first[::-1])
    assert fake_embedder.encoded == 3 and cache.hits == 3


def test_npy_cache_survives_a_new_process(tmp_path, fake_embedder) -> None:
    NpyEmbeddingCache(tmp_path).embed(fake_embedder, TEXTS)
    reopened = NpyEmbeddingCache(tmp_path)
    reopened.embed(fake_embedder, TEXTS)
    assert fake_embedder.calls == 1 and reopened.misses == 0


def test_cached_embedder_is_an_embedder(fake_embedder) -> None:
    cached = CachedEmbedder(fake_embedder)
    cached.encode(TEXTS)
    cached.encode(TEXTS)
    assert cached.name == fake_embedder.name and cached.dim == 64 and fake_embedder.calls == 1


@pytest.mark.parametrize(
    ("given", "name"),
    [
        (None, "all-MiniLM-L6-v2"),
        ("default", "all-MiniLM-L6-v2"),
        ("sentence-transformers/all-MiniLM-L6-v2", "all-MiniLM-L6-v2"),
        ("/models/care-minilm", "care-minilm"),
    ],
)
def test_embedder_is_named_after_the_model_it_loads(given, name) -> None:
    assert SentenceTransformerEmbedder(given).name == name


def test_embedder_looks_for_its_model_only_when_it_first_encodes(tmp_path) -> None:
    embedder = SentenceTransformerEmbedder(tmp_path / "nowhere")  # no error yet: nothing is loaded
    with pytest.raises(ModelNotAvailable, match="never downloads"):
        embedder.encode(["I waited six months."])


def test_missing_model_folder_says_how_to_fix(tmp_path) -> None:
    with pytest.raises(ModelNotAvailable, match="never downloads") as error:
        load_embedder(str(tmp_path / "nowhere"))
    assert "pip install" in str(error.value)


@pytest.mark.slow
def test_real_minilm_ranks_a_paraphrase_first() -> None:
    embedder = load_embedder(None)
    vectors = embedder.encode(
        [
            "I had to wait months for a care assessment.",
            "The assessment took ages to arrange.",
            "The carers were kind and friendly.",
        ]
    )
    assert vectors.shape == (3, embedder.dim) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-4)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
