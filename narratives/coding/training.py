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
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from narratives.coding.base import LabelledExamples
from narratives.coding.config import CodingConfig
from narratives.coding.learned import LearnedCoder
from narratives.embed import Embedder, EmbeddingCache
from narratives.kinds import UNIT_ORDER
from narratives.review.state import reviewed_labels
from narratives.schema import Codebook, Segment, SegmentUnit, text_hash
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
    project: Project,
    codebook: Codebook,
    embedder: Embedder,
    cache: EmbeddingCache,
    config: CodingConfig,
    unit: SegmentUnit | None = None,
) -> Training:
    """Reviewed labels joined to segment texts and embeddings; a saved learned coder if still valid.
    With the coding ``unit``, decisions on passages count for the segments of it they lie in
    (:func:`reviewed_set`)."""
    reviewed = reviewed_set(project, codebook.name, unit)
    ids, texts, accepted, rejected = reviewed.ids, reviewed.texts, reviewed.accepted, reviewed.rejected
    examples = None  # with no reviews, the learned coder trains on the codebook's examples alone
    if ids:
        examples = LabelledExamples(
            texts=[texts[i] for i in ids],
            embeddings=cache.embed(embedder, [texts[i] for i in ids]),
            labels=[accepted[i] for i in ids],
            rejected=[rejected[i] for i in ids],
            spans=[reviewed.spans.get(i, {}) for i in ids],
        )
    basis = {
        "labels": [[text_hash(texts[i]), sorted(accepted[i]), sorted(rejected[i])] for i in ids],
        "codebook_examples": {c.id: [c.examples, c.near_misses] for c in codebook.active_codes},
        "embedder": embedder.name,
        "seed": config.seed,
    }
    if reviewed.spans:  # hand-coded passages (only then, so digests without them stay as they were)
        basis["spans"] = [
            [i, sorted((c, sorted(s)) for c, s in reviewed.spans.get(i, {}).items())] for i in ids
        ]
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
    found = reviewed_set(project, codebook)
    return found.ids, found.texts, found.accepted, found.rejected


@dataclass
class ReviewedSet:
    """Reviewed segments (ids in id order) with their texts, the codes accepted and rejected for
    each, and per segment the passages (offsets into its text) coded by hand, per code."""

    ids: list[int]
    texts: dict[int, str]
    accepted: dict[int, set[str]]
    rejected: dict[int, set[str]]
    spans: dict[int, dict[str, list[tuple[int, int]]]] = field(default_factory=dict)


def reviewed_set(project: Project, codebook: str, unit: SegmentUnit | None = None) -> ReviewedSet:
    """Every reviewed segment with its decisions (see :class:`ReviewedSet`). A hand-coded span is a
    decision on a passage of its segment. With ``unit`` (the unit a run codes), a code accepted for a
    finer segment (a sentence of a turn) also counts for the segment of ``unit`` it lies in, as a
    passage of it, unless that segment has its own decision on the code."""
    with project.connect() as connection:
        labels = reviewed_labels(connection, codebook)
        ids = sorted({label.segment_id for label in labels})
        found = {s.id: s for s in (load_segments(connection, ids=ids, current_only=False) if ids else [])}
        ids = [i for i in ids if i in found]
        result = ReviewedSet(
            ids, {i: found[i].text for i in ids}, {i: set() for i in ids}, {i: set() for i in ids}
        )
        for label in labels:
            segment = found.get(label.segment_id)
            if segment is None:
                continue
            (result.accepted if label.applies else result.rejected)[label.segment_id].add(label.code_id)
            if label.applies and label.start is not None and label.end is not None:
                span = (
                    max(0, label.start - segment.start),
                    min(len(segment.text), label.end - segment.start),
                )
                if span[1] > span[0]:
                    result.spans.setdefault(label.segment_id, {}).setdefault(label.code_id, []).append(span)
        if unit is not None:
            _lift_passages(connection, result, [found[i] for i in ids], unit)
    result.ids = sorted(result.ids)
    return result


def _lift_passages(
    connection: Connection, result: ReviewedSet, reviewed: list[Segment], unit: SegmentUnit
) -> None:
    """Codes accepted for segments finer than ``unit`` counted for the ``unit`` segments holding them."""
    finer = {u.value for u in UNIT_ORDER[: UNIT_ORDER.index(unit)]} if unit in UNIT_ORDER else set()
    passages = [s for s in reviewed if s.unit.value in finer and result.accepted.get(int(s.id or 0))]
    holders: dict[int, list[Segment]] = {}
    for passage in passages:
        if passage.document_id not in holders:
            holders[passage.document_id] = load_segments(
                connection, unit=unit, document_id=passage.document_id, current_only=False
            )
        holder = next(
            (h for h in holders[passage.document_id] if h.start <= passage.start and passage.end <= h.end),
            None,
        )
        if holder is None or holder.id is None:
            continue
        story = int(holder.id)
        if story not in result.texts:
            result.ids.append(story)
            result.texts[story] = holder.text
            result.accepted[story], result.rejected[story] = set(), set()
        span = (passage.start - holder.start, passage.end - holder.start)
        for code_id in sorted(result.accepted[int(passage.id or 0)]):
            if code_id in result.rejected[story]:
                continue  # the story's own decision holds
            result.accepted[story].add(code_id)
            result.spans.setdefault(story, {}).setdefault(code_id, []).append(span)


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
