"""Fine-tuning the embedder on reviews, SetFit-style: pairs of reviewed texts that share a code are
pulled together, pairs with no code in common pushed apart (cosine-similarity loss), on the CPU.

:func:`review_pairs` draws the pairs; :func:`fine_tune` trains a copy of the base model
(sentence-transformers' own trainer) within a time budget and saves it with a model card
(``narratives-card.json``, as a distilled model's) into a folder named by its weights, ``fine-tuned-1a2b3c4d``, so the name that goes
on every suggestion and keys the embedding cache changes whenever the weights do. Nothing is
downloaded: the base is a local folder (by default the bundled all-MiniLM-L6-v2).
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from narratives.coding.held_out import held_out_f1, split_holdout
from narratives.embed_static import CARD_FILE, read_card  # the card file every local model carries
from narratives.errors import CodingError, NotInstalled
from narratives.hf_compat import hide_kernels_transformers_cannot_use

logger = logging.getLogger(__name__)

FOLDER_PREFIX = "fine-tuned-"
TRAIN_PACKAGE = "sentence-transformers[train]"
MIN_REVIEWS_PER_CODE = 8  # codes with fewer accepted reviews give no positive pairs of their own
Progress = Callable[[int, int], None]  # (training steps done, steps in all)


@dataclass(frozen=True)
class FineTuneSettings:
    """How to fine-tune. ``pairs_per_text`` pairs are drawn for each reviewed text, half of them
    positive, up to ``max_pairs``; training stops early once ``max_seconds`` have passed. Only the
    top ``trainable_layers`` transformer layers learn (the token embeddings and the lower layers
    stay as they are): on two CPU cores a step then costs about half as much. ``holdout`` of the
    reviewed texts are kept out of the pairs and score the result
    (:func:`~narratives.coding.held_out.held_out_f1`)."""

    pairs_per_text: int = 8
    max_pairs: int = 4000
    epochs: int = 1
    batch_size: int = 16
    # k = 25, seed 0 on evals/ (macro-F1): 2e-5 0.578, 1e-4 0.592, 2e-4 0.599, 5e-4 0.585
    learning_rate: float = 2e-4
    max_seq_length: int = 64
    trainable_layers: int = 3  # the top transformer layers trained; the embeddings and the rest stay
    max_seconds: float = 170.0
    holdout: float = 0.2  # share of the reviewed texts kept out of training to score it on; 0: none
    min_reviews_per_code: int = MIN_REVIEWS_PER_CODE  # accepted reviews a code needs to give positive pairs
    seed: int = 0


@dataclass(frozen=True)
class ReviewedTexts:
    """What the pairs are drawn from: texts, the codes accepted for each and the codes rejected."""

    texts: list[str]
    accepted: list[set[str]]
    rejected: list[set[str]]

    def subset(self, rows: Sequence[int]) -> ReviewedTexts:
        return ReviewedTexts(
            [self.texts[i] for i in rows], [self.accepted[i] for i in rows], [self.rejected[i] for i in rows]
        )

    def codes_with_enough(self, least: int = MIN_REVIEWS_PER_CODE) -> list[str]:
        """Codes accepted on at least ``least`` texts: those the fine-tuning learns from."""
        counts: dict[str, int] = {}
        for codes in self.accepted:
            for code in codes:
                counts[code] = counts.get(code, 0) + 1
        return sorted(code for code, count in counts.items() if count >= least)


@dataclass(frozen=True)
class FineTuned:
    """A saved fine-tuned model: its folder (named by its weights) and its card."""

    path: Path
    card: dict[str, Any]

    @property
    def name(self) -> str:
        return self.path.name


def review_pairs(
    reviewed: ReviewedTexts, settings: FineTuneSettings, codes: Sequence[str] | None = None
) -> list[tuple[int, int, float]]:
    """Pairs ``(i, j, label)``: 1.0 when texts i and j share an accepted code, 0.0 when they share
    none and j says something about i's codes (j was rejected for one, or carries codes of its own).

    Positive pairs come from ``codes`` (default: those with ``settings.min_reviews_per_code`` accepted
    reviews or more); texts with none of them take part only as negatives. The same reviews and seed
    give the same pairs.
    """
    rng = np.random.default_rng(settings.seed)
    learnable: set[str] = set(
        reviewed.codes_with_enough(settings.min_reviews_per_code) if codes is None else codes
    )
    holders: dict[str, list[int]] = {code: [] for code in learnable}
    for i, accepted in enumerate(reviewed.accepted):
        for code in accepted & learnable:
            holders[code].append(i)
    anchors = [i for i, accepted in enumerate(reviewed.accepted) if accepted & learnable]
    half = max(1, settings.pairs_per_text // 2)
    budget = max(2, settings.max_pairs) // (2 * half)
    if len(anchors) > budget:
        anchors = sorted(rng.choice(anchors, size=budget, replace=False).tolist())
    pairs: list[tuple[int, int, float]] = []
    everyone = np.arange(len(reviewed.texts))
    for i in anchors:
        mine = sorted(reviewed.accepted[i] & learnable)
        for _ in range(half):
            code = mine[int(rng.integers(len(mine)))]
            others = [j for j in holders[code] if j != i]
            if others:
                pairs.append((i, others[int(rng.integers(len(others)))], 1.0))
        negatives = [int(j) for j in everyone if _is_negative(reviewed, i, int(j))]
        if negatives:
            for j in rng.choice(negatives, size=min(half, len(negatives)), replace=False):
                pairs.append((i, int(j), 0.0))
    order = rng.permutation(len(pairs))
    return [pairs[k] for k in order]


def _is_negative(reviewed: ReviewedTexts, i: int, j: int) -> bool:
    if i == j or reviewed.accepted[i] & reviewed.accepted[j]:
        return False
    return bool(reviewed.accepted[j] or reviewed.rejected[j] & reviewed.accepted[i])


def fine_tune(
    reviewed: ReviewedTexts,
    into: Path,
    *,
    base: str | Path | None = None,
    settings: FineTuneSettings | None = None,
    progress: Progress | None = None,
    extra_card: dict[str, Any] | None = None,
) -> FineTuned:
    """Fine-tune ``base`` (a local sentence-transformers folder; None: the bundled MiniLM) on pairs
    from ``reviewed`` and save it under ``into`` as ``fine-tuned-DIGEST`` with its card.

    Raises :class:`~narratives.errors.CodingError` when no code has enough reviews to draw
    positive pairs from, and :class:`~narratives.errors.NotInstalled` without the trainer's extras.
    """
    settings = settings or FineTuneSettings()
    train_rows, test_rows = split_holdout(len(reviewed.texts), settings.holdout, settings.seed)
    training = reviewed.subset(train_rows)
    learnable = reviewed.codes_with_enough(settings.min_reviews_per_code)  # counted before the holdout
    pairs = review_pairs(training, settings, learnable)
    if not learnable or not any(label == 1.0 for *_, label in pairs):
        least = settings.min_reviews_per_code
        raise CodingError(
            f"no code has {least} accepted reviews yet ({len(reviewed.texts)} segments reviewed), "
            "so there is nothing to fine-tune on.",
            fix=f"review until some codes have at least {least} accepted segments each.",
        )
    base_path = _base_folder(base)
    started = time.perf_counter()
    model = _load(base_path, settings)
    before = _encode(model, reviewed.texts) if test_rows else None
    steps = _train(model, training, pairs, settings, progress)
    seconds = time.perf_counter() - started
    card = {
        "kind": "fine-tuned",
        "base_model": _base_name(base_path),
        "base_path": str(base_path),
        "method": "SetFit-style contrastive pairs, CosineSimilarityLoss (sentence-transformers trainer)",
        "reviewed_texts": len(reviewed.texts),
        "trained_on_texts": len(train_rows),
        "held_out_texts": len(test_rows),
        "codes_learned": learnable,
        "pairs": len(pairs),
        "positive_pairs": sum(1 for *_, label in pairs if label == 1.0),
        "steps": steps,
        "settings": asdict(settings),
        "seconds": round(seconds, 1),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        **(extra_card or {}),
    }
    if before is not None:
        after = _encode(model, reviewed.texts)
        card["held_out_f1"] = {
            "base": held_out_f1(before, reviewed.accepted, train_rows, test_rows),
            "fine_tuned": held_out_f1(after, reviewed.accepted, train_rows, test_rows),
            "what": "per-code logistic heads trained on the other reviews, scored on the held-out ones",
        }
    return save_fine_tuned(model, into, card)


def _base_name(base_path: Path) -> str:
    from narratives.embed import DEFAULT_MODEL, default_model_path

    return DEFAULT_MODEL if base_path.resolve() == default_model_path().resolve() else base_path.name


def _base_folder(base: str | Path | None) -> Path:
    from narratives.embed import DEFAULT_NAMES, default_model_path

    if base in DEFAULT_NAMES:
        return default_model_path()
    path = Path(str(base)).expanduser()
    if not (path / "config.json").is_file():
        raise CodingError(
            f"'{base}' is not a local sentence-transformers model, so it cannot be fine-tuned.",
            fix="fine-tune the bundled all-MiniLM-L6-v2 (the default) or another fine-tuned model; "
            "static (distilled) models have no transformer to train.",
        )
    return path


def _load(base_path: Path, settings: FineTuneSettings) -> Any:
    hide_kernels_transformers_cannot_use()
    try:
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError:
        raise NotInstalled(TRAIN_PACKAGE, "fine-tuning the embedder") from None
    from narratives.embed import _quiet_model_loading

    _quiet_model_loading()
    torch.manual_seed(settings.seed)
    model = SentenceTransformer(str(base_path), device="cpu")
    model.max_seq_length = min(model.max_seq_length or settings.max_seq_length, settings.max_seq_length)
    _freeze_lower_layers(model, settings.trainable_layers)
    return model


def _encode(model: Any, texts: Sequence[str]) -> np.ndarray:
    vectors = model.encode(list(texts), batch_size=64, normalize_embeddings=True, show_progress_bar=False)
    return np.asarray(vectors, dtype=np.float32)


def _train(
    model: Any,
    reviewed: ReviewedTexts,
    pairs: Sequence[tuple[int, int, float]],
    settings: FineTuneSettings,
    progress: Progress | None,
) -> int:
    try:
        from datasets import Dataset
        from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
        from sentence_transformers.sentence_transformer.losses import CosineSimilarityLoss
    except ImportError:
        raise NotInstalled(TRAIN_PACKAGE, "fine-tuning the embedder") from None
    data = Dataset.from_dict(
        {
            "sentence1": [reviewed.texts[i] for i, _, _ in pairs],
            "sentence2": [reviewed.texts[j] for _, j, _ in pairs],
            "label": [label for *_, label in pairs],
        }
    )
    with tempfile.TemporaryDirectory(prefix="narratives-fine-tune-") as scratch:
        arguments = SentenceTransformerTrainingArguments(
            output_dir=scratch,
            num_train_epochs=settings.epochs,
            per_device_train_batch_size=settings.batch_size,
            learning_rate=settings.learning_rate,
            warmup_steps=0.1,
            seed=settings.seed,
            data_seed=settings.seed,
            save_strategy="no",
            report_to="none",
            logging_strategy="no",
            disable_tqdm=True,
            use_cpu=True,
            dataloader_num_workers=0,
        )

        class Trainer(SentenceTransformerTrainer):
            def add_model_card_callback(self, default_args_dict: dict[str, Any]) -> None:
                """No model card from the training pairs: it would copy reviewed text into the model."""

        trainer = Trainer(
            model=model,
            args=arguments,
            train_dataset=data,
            loss=CosineSimilarityLoss(model),
            callbacks=[_budget_callback(settings.max_seconds, progress)],
        )
        _quiet(trainer)
        state = trainer.train()
    return int(state.global_step)


def _quiet(trainer: Any) -> None:
    """No printed log lines: the caller shows progress."""
    from transformers import PrinterCallback, ProgressCallback

    for callback in list(trainer.callback_handler.callbacks):
        if isinstance(callback, PrinterCallback | ProgressCallback):
            trainer.remove_callback(callback)


def _freeze_lower_layers(model: Any, trainable: int) -> None:
    """Keep the token embeddings and all but the top ``trainable`` layers of a BERT-like model fixed;
    a model of another shape trains whole."""
    transformer = getattr(model[0], "auto_model", None)
    layers = getattr(getattr(transformer, "encoder", None), "layer", None)
    embeddings = getattr(transformer, "embeddings", None)
    if layers is None or embeddings is None:
        return
    for module in [embeddings, *list(layers)[: max(0, len(layers) - trainable)]]:
        for parameter in module.parameters():
            parameter.requires_grad = False


def _budget_callback(max_seconds: float, progress: Progress | None) -> Any:
    """A trainer callback that reports each step and stops training once ``max_seconds`` have passed."""
    from transformers import TrainerCallback

    class Budget(TrainerCallback):
        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.started = time.perf_counter()

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if progress is not None:
                progress(int(state.global_step), int(state.max_steps))
            if time.perf_counter() - self.started > max_seconds:
                logger.info(
                    "fine-tuning stopped at step %s of %s: time budget", state.global_step, state.max_steps
                )
                control.should_training_stop = True

    return Budget()


def save_fine_tuned(model: Any, into: Path, card: dict[str, Any]) -> FineTuned:
    """Save ``model`` in a scratch folder under ``into``, then rename it ``fine-tuned-DIGEST`` (the
    weights' SHA-256), so a failed save leaves nothing half-written and equal weights share a name."""
    into.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=".partial-", dir=into))
    try:
        model.save(str(partial))
        digest = _weights_digest(partial)
        card = {**card, "name": f"{FOLDER_PREFIX}{digest}", "weights_sha256_8": digest}
        (partial / CARD_FILE).write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
        target = into / card["name"]
        if target.exists():
            shutil.rmtree(target)
        partial.rename(target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return FineTuned(path=target, card=card)


def _weights_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for weights in sorted(folder.rglob("*.safetensors")):
        with weights.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:8]


def fine_tuned_models(folder: Path) -> list[FineTuned]:
    """The fine-tuned models saved under ``folder`` (a project's ``models/``), oldest first."""
    if not folder.is_dir():
        return []
    found = [
        FineTuned(path, read_card(path))
        for path in folder.iterdir()
        if path.is_dir() and path.name.startswith(FOLDER_PREFIX) and (path / "config.json").is_file()
    ]
    return sorted(found, key=lambda model: (str(model.card.get("created", "")), model.name))
