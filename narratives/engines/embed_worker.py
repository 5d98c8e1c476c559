"""The embedding actor of the Ray engine (built once per worker by Ray Data, called per batch)."""

from __future__ import annotations

import numpy as np

from narratives.embed import Embedder
from narratives.engines.store_access import Batch, StoreAddress
from narratives.store.embeddings import save_new_vectors, stored_hashes


class EmbedWorker:
    """Encodes the texts of a batch not stored yet, in one call (as the local engine encodes a chunk),
    and stores them in one transaction."""

    def __init__(self, store: StoreAddress, embedder: Embedder):
        self.project = store.open()
        self.embedder = embedder
        _ = embedder.dim  # loads the model, once per worker

    def __call__(self, batch: Batch) -> Batch:
        model = self.embedder.name
        hashes = [str(h) for h in batch["text_hash"]]
        texts = [str(t) for t in batch["text"]]
        with self.project.connect() as connection:
            already = stored_hashes(connection, model, hashes)  # what a first try of this batch stored
        todo = {h: t for h, t in zip(hashes, texts, strict=True) if h not in already}
        if todo:
            vectors = dict(zip(todo, self.embedder.encode(list(todo.values())), strict=True))
            self.project.write(
                lambda connection: save_new_vectors(connection, model, vectors), what="a batch of vectors"
            )
        return {"texts": np.array([len(hashes)]), "encoded": np.array([len(todo)])}
