"""The project's embedding cache: one float32 little-endian vector per (model, text hash).

:class:`narratives.embed.EmbeddingCache` is the cache a coder uses; these functions are its rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from sqlalchemy import Connection, select

from narratives.store.rows import chunked
from narratives.store.tables import embeddings

LOOKUP_CHUNK = 500


def load_vectors(connection: Connection, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
    """text hash -> vector for the hashes stored for ``model`` (the others are left out)."""
    found: dict[str, np.ndarray] = {}
    for chunk in chunked(hashes, LOOKUP_CHUNK):
        query = select(embeddings.c.text_hash, embeddings.c.vector).where(
            embeddings.c.model == model, embeddings.c.text_hash.in_(list(chunk))
        )
        for digest, blob in connection.execute(query):
            found[digest] = np.frombuffer(blob, dtype="<f4").astype(np.float32)
    return found


def save_vectors(connection: Connection, model: str, vectors: Mapping[str, np.ndarray]) -> None:
    """Store new vectors (the caller's transaction; hashes must not be stored yet for ``model``)."""
    rows = [
        {
            "model": model,
            "text_hash": digest,
            "dim": int(vector.shape[0]),
            "vector": np.asarray(vector, dtype="<f4").tobytes(),
        }
        for digest, vector in vectors.items()
    ]
    if rows:
        connection.execute(embeddings.insert(), rows)
