"""The project's embedding cache: one vector per (model, text hash), stored as float16.

:class:`narratives.embed.EmbeddingCache` is the cache a coder uses; these functions are its rows.
Vectors are written as little-endian float16 (768 bytes for MiniLM's 384 dimensions, half of float32;
the coding quality lost is measured in the README) and read back as float32. Rows written as float32
by older versions are still read: the blob's length against ``dim`` says which.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from sqlalchemy import Connection, select

from narratives.store.idempotent import insert_new_rows
from narratives.store.rows import chunked
from narratives.store.tables import embeddings

LOOKUP_CHUNK = 500
STORED_DTYPE = "<f2"


def encode_vector(vector: np.ndarray) -> bytes:
    """The stored form of one vector (float16, little-endian)."""
    return np.asarray(vector, dtype=STORED_DTYPE).tobytes()


def decode_vector(blob: bytes, dim: int) -> np.ndarray:
    """A stored vector as float32, whether it was written as float16 or (older rows) float32."""
    width = len(blob) // dim if dim else 4
    return np.frombuffer(blob, dtype="<f2" if width == 2 else "<f4").astype(np.float32)


def decode_vectors(blobs: Sequence[bytes], dims: Sequence[int]) -> np.ndarray:
    """Stored vectors as one float32 matrix (n, dim); all of one width decode in one step."""
    if not blobs:
        return np.zeros((0, 0), dtype=np.float32)
    dim = int(dims[0])
    if all(len(blob) == 2 * dim for blob in blobs):
        joined = np.frombuffer(b"".join(blobs), dtype="<f2")
        return joined.reshape(len(blobs), dim).astype(np.float32)
    return np.stack([decode_vector(blob, int(d)) for blob, d in zip(blobs, dims, strict=True)])


def load_vectors(connection: Connection, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
    """text hash -> vector for the hashes stored for ``model`` (the others are left out)."""
    found: dict[str, np.ndarray] = {}
    for chunk in chunked(hashes, LOOKUP_CHUNK):
        query = select(embeddings.c.text_hash, embeddings.c.dim, embeddings.c.vector).where(
            embeddings.c.model == model, embeddings.c.text_hash.in_(list(chunk))
        )
        for digest, dim, blob in connection.execute(query):
            found[digest] = decode_vector(bytes(blob), int(dim))
    return found


def save_vectors(connection: Connection, model: str, vectors: Mapping[str, np.ndarray]) -> None:
    """Store new vectors (the caller's transaction; hashes must not be stored yet for ``model``)."""
    rows = [
        {
            "model": model,
            "text_hash": digest,
            "dim": int(vector.shape[0]),
            "vector": encode_vector(vector),
        }
        for digest, vector in vectors.items()
    ]
    if rows:
        connection.execute(embeddings.insert(), rows)


def stored_hashes(connection: Connection, model: str, hashes: Sequence[str]) -> set[str]:
    """The ``hashes`` that have a vector stored for ``model`` (no vectors read)."""
    found: set[str] = set()
    for chunk in chunked(hashes, LOOKUP_CHUNK):
        query = select(embeddings.c.text_hash).where(
            embeddings.c.model == model, embeddings.c.text_hash.in_(list(chunk))
        )
        found.update(str(digest) for digest in connection.execute(query).scalars())
    return found


def save_new_vectors(connection: Connection, model: str, vectors: Mapping[str, np.ndarray]) -> None:
    """Store vectors, skipping hashes already stored for ``model`` (by anyone: a retried batch of a
    Ray worker, or another worker that met the same text), so writing a batch twice is harmless."""
    rows = [
        {"model": model, "text_hash": digest, "dim": int(vector.shape[0]), "vector": encode_vector(vector)}
        for digest, vector in vectors.items()
    ]
    insert_new_rows(connection, embeddings, rows, keys=("model", "text_hash"))
