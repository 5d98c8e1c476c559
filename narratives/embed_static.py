"""Static embedders: a model2vec model distilled from the local MiniLM (`narratives models distill`).

A static model keeps one vector per token of MiniLM's vocabulary, so embedding a text is a lookup
and a mean, not a transformer pass. Distilled models live in the user cache,
``$XDG_CACHE_HOME/narratives/models/NAME`` (default ``~/.cache``), and are named by their folder:
``load_embedder("minilm-static")`` finds them there, as does the folder's path. The name is the
embedding cache key and is recorded on every suggestion, so a project coded with a static model
finds it again (search, retraining) by that name.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from narratives.errors import ModelNotAvailable, NotInstalled

logger = logging.getLogger(__name__)

DISTILL_PACKAGE = "model2vec[distill]==0.10.0"
CARD_FILE = "narratives-card.json"  # what `narratives models distill` writes beside the model


def models_dir() -> Path:
    """Where distilled models are kept: ``$XDG_CACHE_HOME/narratives/models`` (default ``~/.cache``)."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache).expanduser() / "narratives" / "models"


def is_static_model(folder: Path) -> bool:
    """Whether ``folder`` holds a saved model2vec model (its config.json says so)."""
    config = folder / "config.json"
    if not config.is_file():
        return False
    try:
        return bool(json.loads(config.read_text(encoding="utf-8")).get("model_type") == "model2vec")
    except (OSError, ValueError, AttributeError):
        return False


def static_model_folder(name: str | Path) -> Path | None:
    """The folder of the static model ``name`` (a distilled model's name or a folder), else None."""
    text = str(name)
    candidates = [Path(text).expanduser()]
    if "/" not in text and os.sep not in text:
        candidates.append(models_dir() / text)
    for folder in candidates:
        if folder.is_dir() and is_static_model(folder):
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
    similar to nothing. ``name`` is the folder's name.
    """

    def __init__(self, folder: str | Path, name: str | None = None, batch_size: int = 1024):
        self.folder = Path(folder)
        self.name = name or self.folder.name
        self.batch_size = batch_size
        self._model: Any = None

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
