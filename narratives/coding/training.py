"""Reviewed examples for the learned coder and the ensemble, and saving/loading the learned coder.

Training examples are the reviewed labels (:func:`~narratives.review.reviewed_labels`) joined to their
segments' texts and cached embeddings. A trained learned coder is stored in ``learned_models``: one
``'*'`` row with the coder (vectorisers, training texts) and its digest, and one row per fitted code
with its estimator and model card. The next run loads it instead of training again when the digest
(reviews, codebook examples, model, seed) is unchanged. Older trainings keep their model cards but
lose their blobs, so the table does not grow without bound.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update

from narratives.coding.base import LabelledExamples
from narratives.coding.config import CodingConfig
from narratives.coding.learned import LearnedCoder
from narratives.embed import Embedder, EmbeddingCache
from narratives.review.state import reviewed_labels
from narratives.schema import Codebook, text_hash, utcnow
from narratives.store.project import Project
from narratives.store.segments import load_segments
from narratives.store.tables import learned_models


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
    with project.connect() as connection:
        labels = reviewed_labels(connection, codebook.name)
        ids = sorted({label.segment_id for label in labels})
        texts = {s.id: s.text for s in load_segments(connection, ids=ids, current_only=False)} if ids else {}
    ids = [i for i in ids if i in texts]
    accepted: dict[int, set[str]] = {i: set() for i in ids}
    rejected: dict[int, set[str]] = {i: set() for i in ids}
    for label in labels:
        if label.segment_id in texts:
            (accepted if label.applies else rejected)[label.segment_id].add(label.code_id)
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


def _dumps(value: Any) -> bytes:
    import joblib

    buffer = io.BytesIO()
    joblib.dump(value, buffer)
    return buffer.getvalue()


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
    now = utcnow()
    _prune_learned(connection, codebook)
    star = connection.execute(
        insert(learned_models).values(
            codebook=codebook, code_id="*", model=coder.model_, blob=shell, card=card, created=now
        )
    ).inserted_primary_key[0]  # type: ignore[index]
    for code_id, estimator in estimators.items():
        connection.execute(
            insert(learned_models).values(
                codebook=codebook,
                code_id=code_id,
                model=coder.model_,
                blob=_dumps(estimator),
                card={**coder.model_cards_[code_id], "training_id": star, "digest": training.digest},
                created=now,
            )
        )
    return int(star)


def _prune_learned(connection: Connection, codebook: str, keep: int = 2) -> None:
    """Empty the blobs of all but the newest ``keep`` trainings; their model cards stay for the audit."""
    newest = (
        connection.execute(
            select(learned_models.c.id)
            .where(learned_models.c.codebook == codebook, learned_models.c.code_id == "*")
            .order_by(learned_models.c.id.desc())
            .limit(keep)
        )
        .scalars()
        .all()
    )
    if len(newest) == keep:
        connection.execute(
            update(learned_models)
            .where(learned_models.c.codebook == codebook, learned_models.c.id < min(newest))
            .values(blob=b"")
        )


def load_learned(connection: Connection, codebook: str, model: str, digest: str) -> LearnedCoder | None:
    """The saved learned coder trained on exactly these examples with this model, if any."""
    import joblib

    star = connection.execute(
        select(learned_models)
        .where(
            learned_models.c.codebook == codebook,
            learned_models.c.code_id == "*",
            learned_models.c.model == model,
        )
        .order_by(learned_models.c.id.desc())
        .limit(1)
    ).first()
    if star is None or star.card.get("digest") != digest or not star.blob:
        return None
    coder = joblib.load(io.BytesIO(star.blob))
    rows = connection.execute(
        select(learned_models.c.code_id, learned_models.c.blob, learned_models.c.card).where(
            learned_models.c.codebook == codebook, learned_models.c.id > star.id
        )
    )
    coder.estimators_ = {
        code_id: joblib.load(io.BytesIO(blob))
        for code_id, blob, card in rows
        if card.get("training_id") == star.id
    }
    reused = object.__new__(_TrainedLearnedCoder)
    reused.__dict__.update(coder.__dict__)
    return reused
