"""Reviewed examples for the learned coder and the ensemble, and saving/loading the learned coder.

Training examples are the reviewed labels (:func:`~narratives.review.state.reviewed_labels`) joined to their
segments' texts and cached embeddings. A trained learned coder is stored through
:mod:`narratives.store.learned_models`: one ``'*'`` row with the coder (vectorisers, training texts)
and its digest, and one row per fitted code with its estimator and model card; joblib turns them
into the bytes the store keeps. The next run loads it instead of training again when the digest
(reviews, codebook examples, model, seed) is unchanged. Older trainings keep their model cards but
lose their blobs, so the table does not grow without bound.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from narratives.coding.base import LabelledExamples
from narratives.coding.config import CodingConfig
from narratives.coding.learned import LearnedCoder
from narratives.embed import Embedder, EmbeddingCache
from narratives.review.state import reviewed_labels
from narratives.schema import Codebook, text_hash
from narratives.store.learned_models import latest_training, save_training, training_estimators
from narratives.store.project import Project
from narratives.store.segments import load_segments


@dataclass
class Training:
    """Reviewed examples for the learned coder and the ensemble, and the learned coder to use."""

    examples: LabelledExamples | None
    digest: str  # what the learned coder was (or would be) trained on: reviews and codebook examples
    reviews_digest: str = ""  # the reviews alone: new reviews re-code everything, codebook edits do not
    learned: LearnedCoder | None = None  # loaded from the project, reviews unchanged
    trained: LearnedCoder | None = None  # trained in this run, to be saved
    status: str = "off"


class _TrainedLearnedCoder(LearnedCoder):
    """A learned coder loaded from the project: ``fit`` keeps what it learned."""

    def fit(
        self, codebook: Codebook, embedder: Embedder, examples: LabelledExamples | None = None
    ) -> LearnedCoder:
        return self


def prepare_training(
    project: Project, codebook: Codebook, embedder: Embedder, cache: EmbeddingCache, config: CodingConfig
) -> Training:
    """Reviewed labels joined to segment texts and embeddings; a saved learned coder if still valid."""
    ids, texts, accepted, rejected = reviewed_segments(project, codebook.name)
    examples = None  # with no reviews, the learned coder trains on the codebook's examples alone
    if ids:
        examples = LabelledExamples(
            texts=[texts[i] for i in ids],
            embeddings=cache.embed(embedder, [texts[i] for i in ids]),
            labels=[accepted[i] for i in ids],
            rejected=[rejected[i] for i in ids],
        )
    basis = {
        "labels": [[text_hash(texts[i]), sorted(accepted[i]), sorted(rejected[i])] for i in ids],
        "codebook_examples": {c.id: [c.examples, c.near_misses] for c in codebook.active_codes},
        "embedder": embedder.name,
        "seed": config.seed,
    }
    digest = hashlib.sha256(json.dumps(basis, sort_keys=True).encode()).hexdigest()
    reviews_basis = {k: v for k, v in basis.items() if k != "codebook_examples"}
    reviews_digest = hashlib.sha256(json.dumps(reviews_basis, sort_keys=True).encode()).hexdigest()
    training = Training(examples=examples, digest=digest, reviews_digest=reviews_digest)
    if "learned" in config.coders:
        with project.connect() as connection:
            training.learned = load_learned(connection, codebook.name, embedder.name, digest)
        training.status = "loaded" if training.learned is not None else "off"
    return training


def reviewed_segments(
    project: Project, codebook: str
) -> tuple[list[int], dict[int, str], dict[int, set[str]], dict[int, set[str]]]:
    """The reviewed segments' ids (in id order), texts, and the codes accepted and rejected for each."""
    with project.connect() as connection:
        labels = reviewed_labels(connection, codebook)
        ids = sorted({label.segment_id for label in labels})
        found = load_segments(connection, ids=ids, current_only=False) if ids else []
    texts = {s.id: s.text for s in found if s.id is not None}
    ids = [i for i in ids if i in texts]
    accepted: dict[int, set[str]] = {i: set() for i in ids}
    rejected: dict[int, set[str]] = {i: set() for i in ids}
    for label in labels:
        if label.segment_id in texts:
            (accepted if label.applies else rejected)[label.segment_id].add(label.code_id)
    return ids, texts, accepted, rejected


def _dumps(value: Any) -> bytes:
    import joblib

    buffer = io.BytesIO()
    joblib.dump(value, buffer)
    return buffer.getvalue()


def _loads(blob: bytes) -> Any:
    import joblib

    return joblib.load(io.BytesIO(blob))


def save_learned(connection: Connection, codebook: str, training: Training) -> int:
    """Store the trained coder ('*' row) and one row per fitted code with its estimator and model card."""
    coder = training.trained
    assert coder is not None
    estimators, coder.estimators_ = coder.estimators_, {}
    try:
        shell = _dumps(coder)
    finally:
        coder.estimators_ = estimators
    card = {
        "digest": training.digest,
        "fitted_codes": coder.fitted_codes_,
        "skipped_codes": coder.skipped_codes_,
        "n_reviewed": coder.n_reviewed_,
        "config": coder.get_config(),
    }
    per_code = {
        code_id: (_dumps(estimator), {**coder.model_cards_[code_id], "digest": training.digest})
        for code_id, estimator in estimators.items()
    }
    return save_training(connection, codebook, coder.model_, shell, card, per_code)


def load_learned(connection: Connection, codebook: str, model: str, digest: str) -> LearnedCoder | None:
    """The saved learned coder trained on exactly these examples with this model, if any."""
    star = latest_training(connection, codebook, model)
    if star is None or star.card.get("digest") != digest or not star.blob:
        return None
    coder = _loads(star.blob)
    coder.estimators_ = {
        code_id: _loads(blob) for code_id, blob in training_estimators(connection, codebook, star.id).items()
    }
    reused = object.__new__(_TrainedLearnedCoder)
    reused.__dict__.update(coder.__dict__)
    return reused
