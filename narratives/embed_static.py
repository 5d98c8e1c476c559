"""Static embedders: a model2vec model distilled from the local MiniLM (`narratives models distill`).

A static model keeps one vector per token of MiniLM's vocabulary, so embedding a text is a lookup
and a mean, not a transformer pass. Distilled models live in the user cache,
``$XDG_CACHE_HOME/narratives/models/NAME`` (default ``~/.cache``), and are named by their folder:
``load_embedder("minilm-static")`` finds them there, as does the folder's path.

An embedder's ``name`` is the embedding cache key and is recorded on every suggestion, so a static
embedder is named by its folder *and* its weights, ``minilm-static@1a2b3c4d`` (the first 8 hex digits
of the weights' SHA-256): a model distilled again under the same name (``--force``, other settings)
gets another name, and no vector or coding run of the old one is taken for its own.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from narratives.errors import ModelNotAvailable, NotInstalled
from narratives.hf_compat import hide_kernels_transformers_cannot_use
from narratives.paths import user_cache

logger = logging.getLogger(__name__)

DISTILL_PACKAGE = "model2vec[distill]==0.10.0"
CARD_FILE = "narratives-card.json"  # what `narratives models distill` writes beside the model
WEIGHTS_FILE = "model.safetensors"  # what model2vec saves the vectors in
VERSION_MARK = "@"  # between a static model's folder name and its weights' digest
DIGEST_LENGTH = 8
_VERSIONED = re.compile(rf"^(?P<base>.+){VERSION_MARK}(?P<digest>[0-9a-f]{{{DIGEST_LENGTH}}})$")
_DIGESTS: dict[tuple[str, int, int], str] = {}  # (weights path, size, mtime) -> digest


def models_dir() -> Path:
    """Where distilled models are kept: ``$XDG_CACHE_HOME/narratives/models`` (default ``~/.cache``)."""
    return user_cache("models")


def is_static_model(folder: Path) -> bool:
    """Whether ``folder`` holds a saved model2vec model (its config.json says so)."""
    config = folder / "config.json"
    if not config.is_file():
        return False
    try:
        return bool(json.loads(config.read_text(encoding="utf-8")).get("model_type") == "model2vec")
    except (OSError, ValueError, AttributeError):
        return False


def split_version(name: str) -> tuple[str, str | None]:
    """``"minilm-static@1a2b3c4d"`` -> ``("minilm-static", "1a2b3c4d")``; a name without one -> (name, None)."""
    found = _VERSIONED.match(name)
    return (found["base"], found["digest"]) if found else (name, None)


def weights_digest(folder: Path) -> str:
    """The first 8 hex digits of the SHA-256 of ``folder``'s weights (hashed once per file version)."""
    weights = folder / WEIGHTS_FILE
    stat = weights.stat()
    key = (str(weights.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _DIGESTS:
        digest = hashlib.sha256()
        with weights.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        _DIGESTS[key] = digest.hexdigest()[:DIGEST_LENGTH]
    return _DIGESTS[key]


def versioned_name(folder: Path) -> str:
    """What a static model is called as an embedder: ``FOLDER-NAME@DIGEST``."""
    return f"{folder.name}{VERSION_MARK}{weights_digest(folder)}"


def static_model_folder(name: str | Path, *, any_version: bool = False) -> Path | None:
    """The folder of the static model ``name`` (a distilled model's name or a folder, either with or
    without ``@DIGEST``), else None. A name with a digest the weights no longer have (the model was
    distilled again) finds nothing, unless ``any_version``: then the folder is returned, with a warning."""
    text, digest = split_version(str(name))
    candidates = [Path(text).expanduser()]
    if "/" not in text and os.sep not in text:
        candidates.append(models_dir() / text)
    for folder in candidates:
        if folder.is_dir() and is_static_model(folder):
            if digest is None or ((folder / WEIGHTS_FILE).is_file() and weights_digest(folder) == digest):
                return folder
            if any_version:
                logger.warning("%s was distilled again since; using %s", name, versioned_name(folder))
                return folder
    return None


def read_card(folder: Path) -> dict[str, Any]:
    """The card `narratives models distill` wrote beside the model (empty when there is none)."""
    path = folder / CARD_FILE
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return card if isinstance(card, dict) else {}


class StaticEmbedder:
    """A model2vec static model from a local folder; loaded on the first :meth:`encode`.

    Rows are L2-normalised float32, like :class:`~narratives.embed.SentenceTransformerEmbedder`'s;
    a text with no token the model knows (an empty one, say) gets a row of zeros, which is
    similar to nothing. ``name`` is ``FOLDER-NAME@DIGEST`` (:func:`versioned_name`), read when first
    asked for.
    """

    def __init__(self, folder: str | Path, name: str | None = None, batch_size: int = 1024):
        self.folder = Path(folder)
        self._name = name
        self.batch_size = batch_size
        self._model: Any = None

    @property
    def name(self) -> str:
        if self._name is None:
            self._name = (
                versioned_name(self.folder) if (self.folder / WEIGHTS_FILE).is_file() else self.folder.name
            )
        return self._name

    @property
    def dim(self) -> int:
        return int(self._load().dim)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._load().encode(
            list(texts),
            batch_size=self.batch_size,
            show_progress_bar=False,
            use_multiprocessing=False,  # a lookup and a mean: processes cost more than they save
        )
        return normalise_rows(np.asarray(vectors, dtype=np.float32))

    def _load(self) -> Any:
        if self._model is None:
            hide_kernels_transformers_cannot_use()
            try:
                from model2vec import StaticModel
            except ImportError:
                raise NotInstalled(DISTILL_PACKAGE, "a static embedding model") from None
            if not is_static_model(self.folder):
                raise ModelNotAvailable(
                    f"'{self.folder}' holds no static embedding model.",
                    fix="run `narratives models distill` again, or `narratives models list` to see the models.",
                )
            logger.info("loading static embedding model %s from %s", self.name, self.folder)
            self._model = StaticModel.from_pretrained(self.folder)
        return self._model

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_model": None}


def normalise_rows(vectors: np.ndarray) -> np.ndarray:
    """Each row divided by its L2 norm; rows of zeros stay zeros."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    np.divide(vectors, norms, out=vectors, where=norms > 0)
    return np.ascontiguousarray(vectors, dtype=np.float32)
