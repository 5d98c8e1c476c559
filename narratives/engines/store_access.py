"""How Ray workers reach the project: its database's address, and the embedding cache through it.

A worker opens the database itself from a :class:`StoreAddress` (a SQLite file on one machine; a
PostgreSQL URL, with its password, when workers run on several) and writes with inserts that skip
rows already stored, so a batch written twice (a task retried after its worker died, or written in
part before it died) leaves exactly one row per segment and per vector.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from narratives.embed import Embedder, EmbeddingCache
from narratives.store.embeddings import save_new_vectors
from narratives.store.project import Project, make_engine

Batch = dict[str, Any]  # a Ray Data batch in "numpy" format: column -> array


@dataclass(frozen=True)
class StoreAddress:
    """Where a worker finds the project's database (the URL carries its password, if any)."""

    path: str
    db_url: str

    @classmethod
    def of(cls, project: Project) -> StoreAddress:
        return cls(path=str(project.path), db_url=project.db_url)

    def open(self) -> Project:
        """The project without its migration check (the driver has made it current)."""
        return Project(path=Path(self.path), db_url=self.db_url, engine=make_engine(self.db_url))


class StoreCachedEmbedder:
    """An :class:`~narratives.embed.Embedder` through the project's embedding cache, opened in the
    process that encodes (so it travels to a worker): what the ensemble's sentence pooling encodes
    while scoring is cached as the local engine caches it, written so that two workers meeting one
    sentence store it once."""

    def __init__(self, embedder: Embedder, store: StoreAddress):
        self.embedder = embedder
        self.store = store
        self.name = embedder.name
        self._cache: EmbeddingCache | None = None

    @property
    def dim(self) -> int:
        return self.embedder.dim

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if self._cache is None:
            self._cache = _RetrySafeCache(self.store.open().engine)
        return self._cache.embed(self.embedder, texts)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_cache": None}


class _RetrySafeCache(EmbeddingCache):
    def _store(self, model: str, vectors: dict[str, np.ndarray]) -> None:
        with self.engine.begin() as connection:
            save_new_vectors(connection, model, vectors)
