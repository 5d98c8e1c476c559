"""The review queue: which suggestions a reviewer should look at next (active learning).

Ranking, done in SQL over the current ensemble suggestions:

* uncertainty: ``1 - |score - threshold|``, highest where the ensemble is least sure;
* rare codes first: a code with few reviewed examples is weighted ``1 + rare_boost / (1 + reviewed)``;
* pairs the reviewer has already decided are left out.

A pool a few times the page size is then picked greedily for diversity: at most one item per
segment, and items close in meaning to ones already chosen (cached embeddings) are pushed down.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from sqlalchemy import Connection, and_, case, exists, false, func, select, true
from sqlalchemy.sql.elements import ColumnElement

from narratives.coding.runner import code_thresholds, last_model
from narratives.store.project import Project
from narratives.store.tables import codes, documents, embeddings, reviews, segments, suggestions

logger = logging.getLogger(__name__)

Band = Literal["low", "medium", "high"]
BANDS: dict[str, tuple[float, float]] = {"low": (0.0, 0.35), "medium": (0.35, 0.65), "high": (0.65, 1.01)}
RARE_BOOST = 1.0
DIVERSITY_PENALTY = 0.5
NEAR_DUPLICATE = 0.95


@dataclass
class QueueFilters:
    """Narrow the queue; every field left as None means "any"."""

    code_ids: list[str] | None = None
    kinds: list[str] | None = None
    waves: list[int] | None = None
    band: Band | None = None
    min_score: float | None = None
    max_score: float | None = None
    reviewed_by: str | None = None  # only pairs this reviewer has decided (second coding)
    not_reviewed_by: str | None = None
    document_id: int | None = None
    coder: str = "ensemble"


@dataclass
class QueueItem:
    suggestion_id: int
    segment_id: int
    text: str
    document_id: int
    document_title: str
    document_kind: str
    wave: int | None
    speaker: str | None
    code_id: str
    code_name: str
    score: float
    threshold: float
    priority: float
    evidence: str | None
    evidence_start: int | None
    evidence_end: int | None
    coder: str
    reasons: list[str] = field(default_factory=list)


def review_queue(
    project: Project,
    codebook_name: str,
    *,
    limit: int = 50,
    filters: QueueFilters | None = None,
    user: str | None = None,
) -> list[QueueItem]:
    """The ``limit`` suggestions whose review would teach the coders most, best first."""
    filters = filters or QueueFilters()
    with project.connect() as connection:
        thresholds = code_thresholds(connection, codebook_name)
        reviewed = reviewed_counts(connection, codebook_name)
        priority = _priority(thresholds, reviewed)
        query = _ranked_query(connection, codebook_name, priority, filters, user).limit(max(100, limit * 4))
        pool = _pool(connection, [(int(row[0]), float(row[1])) for row in connection.execute(query)])
        vectors = _pool_vectors(connection, codebook_name, pool)
    chosen = _diverse(pool, vectors, limit)
    return [_item(row, thresholds, reviewed) for row in chosen]


def reviewed_counts(connection: Connection, codebook_name: str) -> dict[str, int]:
    """code id -> number of distinct segments reviewed for it (by anyone)."""
    rows = connection.execute(
        select(reviews.c.code_id, func.count(func.distinct(reviews.c.segment_id)))
        .where(reviews.c.codebook == codebook_name)
        .group_by(reviews.c.code_id)
    )
    return {code_id: int(n) for code_id, n in rows}


def _weight(code_id: str, reviewed: dict[str, int]) -> float:
    return 1.0 + RARE_BOOST / (1.0 + reviewed.get(code_id, 0))


def _priority(thresholds: dict[str, float], reviewed: dict[str, int]) -> ColumnElement[Any]:
    """uncertainty × rarity weight, one CASE over the codes that have their own threshold or reviews."""
    score = suggestions.c.score
    default = (1.0 - func.abs(score - 0.5)) * (1.0 + RARE_BOOST)
    whens = [
        (
            suggestions.c.code_id == code_id,
            (1.0 - func.abs(score - thresholds.get(code_id, 0.5))) * _weight(code_id, reviewed),
        )
        for code_id in sorted(set(thresholds) | set(reviewed))
    ]
    if not whens:
        return default.label("priority")
    return case(*whens, else_=default).label("priority")


def _ranked_query(  # type: ignore[no-untyped-def]
    connection: Connection,
    codebook_name: str,
    priority: ColumnElement[Any],
    filters: QueueFilters,
    user: str | None,
):
    """Ids and priorities of the eligible suggestions, best first.

    Only the suggestions table is scanned; documents and codes enter through small uncorrelated
    subqueries or lists, so the sort handles narrow rows (100,000 suggestions in ~0.1 s on SQLite).
    """
    query = (
        select(suggestions.c.id, priority)
        .where(
            suggestions.c.codebook == codebook_name,
            suggestions.c.coder == filters.coder,
            suggestions.c.current == true(),
        )
        .order_by(priority.desc(), suggestions.c.id)
    )
    retired = (
        connection.execute(
            select(codes.c.code_id).where(codes.c.codebook == codebook_name, codes.c.retired == true())
        )
        .scalars()
        .all()
    )
    if retired:
        query = query.where(suggestions.c.code_id.not_in(retired))
    for condition in _filter_conditions(codebook_name, filters, user):
        query = query.where(condition)
    return query


def _pool(connection: Connection, ranked: list[tuple[int, float]]) -> list[dict]:
    """The details of the ranked suggestions, in rank order."""
    if not ranked:
        return []
    query = (
        select(
            suggestions.c.id.label("suggestion_id"),
            suggestions.c.segment_id,
            suggestions.c.code_id,
            suggestions.c.score,
            suggestions.c.evidence,
            suggestions.c.evidence_start,
            suggestions.c.evidence_end,
            suggestions.c.coder,
            segments.c.text,
            segments.c.text_hash,
            segments.c.speaker,
            documents.c.id.label("document_id"),
            documents.c.title.label("document_title"),
            documents.c.kind.label("document_kind"),
            documents.c.wave,
            codes.c.name.label("code_name"),
        )
        .join(segments, segments.c.id == suggestions.c.segment_id)
        .join(documents, documents.c.id == segments.c.document_id)
        .join(
            codes, and_(codes.c.codebook == suggestions.c.codebook, codes.c.code_id == suggestions.c.code_id)
        )
        .where(suggestions.c.id.in_([suggestion_id for suggestion_id, _ in ranked]))
    )
    rows = {row.suggestion_id: dict(row._mapping) for row in connection.execute(query)}
    return [
        {**rows[suggestion_id], "priority": value} for suggestion_id, value in ranked if suggestion_id in rows
    ]


def _reviewed_by(codebook_name: str, user: str) -> ColumnElement[bool]:
    """The (segment, code) pair has a review by ``user`` (a correlated EXISTS: an index probe per row;
    SQLite evaluates a row-value NOT IN far more slowly)."""
    return exists().where(
        reviews.c.segment_id == suggestions.c.segment_id,
        reviews.c.code_id == suggestions.c.code_id,
        reviews.c.codebook == codebook_name,
        reviews.c.user == user,
    )


def _segments_where(*conditions: ColumnElement[bool]) -> Any:
    return select(segments.c.id).join(documents, documents.c.id == segments.c.document_id).where(*conditions)


def _filter_conditions(
    codebook_name: str, filters: QueueFilters, user: str | None
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [
        suggestions.c.segment_id.not_in(_segments_where(documents.c.current == false()))
    ]
    for reviewer in {user, filters.not_reviewed_by} - {None}:
        conditions.append(~_reviewed_by(codebook_name, str(reviewer)))
    if filters.reviewed_by:
        conditions.append(_reviewed_by(codebook_name, filters.reviewed_by))
    if filters.code_ids:
        conditions.append(suggestions.c.code_id.in_(filters.code_ids))
    documents_wanted: list[ColumnElement[bool]] = []
    if filters.kinds:
        documents_wanted.append(documents.c.kind.in_([str(getattr(k, "value", k)) for k in filters.kinds]))
    if filters.waves:
        documents_wanted.append(documents.c.wave.in_(filters.waves))
    if filters.document_id is not None:
        documents_wanted.append(documents.c.id == filters.document_id)
    if documents_wanted:
        conditions.append(suggestions.c.segment_id.in_(_segments_where(*documents_wanted)))
    score = suggestions.c.score
    if filters.min_score is not None:
        conditions.append(score >= filters.min_score)
    if filters.max_score is not None:
        conditions.append(score <= filters.max_score)
    if filters.band:
        low, high = BANDS[filters.band]
        conditions.extend([score >= low, score < high])
    return conditions


def _pool_vectors(connection: Connection, codebook_name: str, pool: list[dict]) -> dict[str, np.ndarray]:
    model = last_model(connection, codebook_name)
    hashes = sorted({row["text_hash"] for row in pool})
    if model is None or not hashes:
        return {}
    rows = connection.execute(
        select(embeddings.c.text_hash, embeddings.c.vector).where(
            embeddings.c.model == model, embeddings.c.text_hash.in_(hashes)
        )
    )
    return {digest: np.frombuffer(blob, dtype="<f4") for digest, blob in rows}


def _diverse(pool: list[dict], vectors: dict[str, np.ndarray], limit: int) -> list[dict]:
    """Greedy pick: best priority minus a penalty for similarity to what is already chosen.

    One item per segment and no near-duplicates while the pool allows; what is left fills the page
    in priority order when the pool runs short (small projects).
    """
    if not pool:
        return []
    priority = np.array([float(row["priority"]) for row in pool])
    segment_ids = np.array([row["segment_id"] for row in pool])
    dim = len(next(iter(vectors.values()))) if vectors else 1
    matrix = np.zeros((len(pool), dim), dtype=np.float32)
    for index, row in enumerate(pool):
        if (vector := vectors.get(row["text_hash"])) is not None:
            matrix[index] = vector
    closest = np.zeros(len(pool))  # highest similarity to anything chosen so far
    available = np.ones(len(pool), dtype=bool)
    chosen: list[int] = []
    while len(chosen) < limit:
        open_ = available & (closest < NEAR_DUPLICATE)
        if not open_.any():
            break
        value = np.where(open_, priority - DIVERSITY_PENALTY * np.maximum(closest, 0.0), -np.inf)
        best = int(np.argmax(value))
        chosen.append(best)
        available[segment_ids == segment_ids[best]] = False
        closest = np.maximum(closest, matrix @ matrix[best])
    taken = set(chosen)
    rest = [index for index in range(len(pool)) if index not in taken]
    return [pool[index] for index in chosen + rest[: limit - len(chosen)]]


def _item(row: dict, thresholds: dict[str, float], reviewed: dict[str, int]) -> QueueItem:
    threshold = thresholds.get(row["code_id"], 0.5)
    reasons = []
    if abs(row["score"] - threshold) < 0.15:
        reasons.append("uncertain")
    count = reviewed.get(row["code_id"], 0)
    if count < 5:
        reasons.append(f"rare code ({count} reviewed)")
    return QueueItem(
        suggestion_id=row["suggestion_id"],
        segment_id=row["segment_id"],
        text=row["text"],
        document_id=row["document_id"],
        document_title=row["document_title"],
        document_kind=row["document_kind"],
        wave=row["wave"],
        speaker=row["speaker"],
        code_id=row["code_id"],
        code_name=row["code_name"],
        score=float(row["score"]),
        threshold=threshold,
        priority=round(float(row["priority"]), 4),
        evidence=row["evidence"],
        evidence_start=row["evidence_start"],
        evidence_end=row["evidence_end"],
        coder=row["coder"],
        reasons=reasons,
    )
