"""The review queue's queries: rank the eligible suggestions, then fetch the details of the best.

Only the suggestions table is scanned for the ranking; documents and codes enter through small
uncorrelated subqueries or lists, so the sort handles narrow rows (100,000 suggestions in ~0.1 s on
SQLite). What the priority means (uncertainty around the threshold times a weight for rare codes)
is :mod:`narratives.review.queue`'s; this module turns the numbers it is given into SQL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Connection, Select, and_, case, exists, false, func, select, true
from sqlalchemy.sql.elements import ColumnElement

from narratives.store.tables import codes, documents, reviews, segments, suggestions

Band = Literal["low", "medium", "high"]
BANDS: dict[str, tuple[float, float]] = {"low": (0.0, 0.35), "medium": (0.35, 0.65), "high": (0.65, 1.01)}


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


@dataclass(frozen=True)
class Priority:
    """``(1 - |score - threshold|) * weight`` with thresholds and weights per code and defaults:
    one CASE over the codes, so the ranking reads the covering index ``ix_suggestions_queue`` only."""

    thresholds: Mapping[str, float]
    default_threshold: float
    weights: Mapping[str, float]
    default_weight: float

    def column(self) -> ColumnElement[Any]:
        score, code = suggestions.c.score, suggestions.c.code_id
        whens = [
            (
                code == c,
                (1.0 - func.abs(score - self.thresholds.get(c, self.default_threshold)))
                * self.weights.get(c, self.default_weight),
            )
            for c in sorted(set(self.thresholds) | set(self.weights))
        ]
        otherwise = (1.0 - func.abs(score - self.default_threshold)) * self.default_weight
        return (case(*whens, else_=otherwise) if whens else otherwise).label("priority")


def ranked_suggestions(
    connection: Connection,
    codebook_name: str,
    priority: Priority,
    filters: QueueFilters,
    user: str | None,
    limit: int,
    withdrawn: Sequence[int] = (),
) -> list[tuple[int, float]]:
    """(suggestion id, priority) of the ``limit`` best eligible suggestions, best first; the reviews
    named in ``withdrawn`` (taken back by an undo) do not count as a reviewer having decided."""
    query = _ranked_query(connection, codebook_name, priority.column(), filters, user, withdrawn).limit(limit)
    return [(int(row[0]), float(row[1])) for row in connection.execute(query)]


def count_eligible(
    connection: Connection,
    codebook_name: str,
    filters: QueueFilters,
    user: str | None,
    withdrawn: Sequence[int] = (),
) -> int:
    """How many suggestions the queue holds with these filters for ``user`` (all of them, not a page)."""
    query = _eligible(
        connection, select(func.count()).select_from(suggestions), codebook_name, filters, user, withdrawn
    )
    return int(connection.execute(query).scalar() or 0)


def _ranked_query(
    connection: Connection,
    codebook_name: str,
    priority: ColumnElement[Any],
    filters: QueueFilters,
    user: str | None,
    withdrawn: Sequence[int] = (),
) -> Select[Any]:
    """Ids and priorities of the eligible suggestions, best first."""
    query = select(suggestions.c.id, priority).order_by(priority.desc(), suggestions.c.id)
    return _eligible(connection, query, codebook_name, filters, user, withdrawn)


def _eligible(
    connection: Connection,
    query: Select[Any],
    codebook_name: str,
    filters: QueueFilters,
    user: str | None,
    withdrawn: Sequence[int],
) -> Select[Any]:
    """``query`` narrowed to the current suggestions of the codebook's coder the queue may show."""
    query = query.where(
        suggestions.c.codebook == codebook_name,
        suggestions.c.coder == filters.coder,
        suggestions.c.current == true(),
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
    for condition in _filter_conditions(codebook_name, filters, user, withdrawn):
        query = query.where(condition)
    return query


def queue_rows(connection: Connection, ranked: list[tuple[int, float]]) -> list[dict[str, Any]]:
    """The details of the ranked suggestions (text, document, code name, whether it is its segment's
    best-scoring code, ...), in rank order."""
    if not ranked:
        return []
    rival = suggestions.alias("rival")
    best_in_segment = (
        select(func.max(rival.c.score))
        .where(
            rival.c.segment_id == suggestions.c.segment_id,
            rival.c.current == true(),
            rival.c.coder == suggestions.c.coder,
            rival.c.codebook == suggestions.c.codebook,
        )
        .scalar_subquery()
    )
    query = (
        select(
            suggestions.c.id.label("suggestion_id"),
            suggestions.c.run_id,
            suggestions.c.coder_version,
            (suggestions.c.score >= best_in_segment).label("best_in_segment"),
            suggestions.c.segment_id,
            suggestions.c.code_id,
            suggestions.c.score,
            suggestions.c.evidence,
            suggestions.c.evidence_start,
            suggestions.c.evidence_end,
            suggestions.c.reason,
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


def _reviewed_by(codebook_name: str, user: str, withdrawn: Sequence[int]) -> ColumnElement[bool]:
    """The (segment, code) pair has a live review by ``user`` (a correlated EXISTS: an index probe per
    row; SQLite evaluates a row-value NOT IN far more slowly)."""
    conditions = [
        reviews.c.segment_id == suggestions.c.segment_id,
        reviews.c.code_id == suggestions.c.code_id,
        reviews.c.codebook == codebook_name,
        reviews.c.user == user,
    ]
    if withdrawn:
        conditions.append(reviews.c.id.not_in(list(withdrawn)))
    return exists().where(*conditions)


def _segments_where(*conditions: ColumnElement[bool]) -> Any:
    return select(segments.c.id).join(documents, documents.c.id == segments.c.document_id).where(*conditions)


def _filter_conditions(
    codebook_name: str, filters: QueueFilters, user: str | None, withdrawn: Sequence[int]
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [
        suggestions.c.segment_id.not_in(_segments_where(documents.c.current == false()))
    ]
    for reviewer in {user, filters.not_reviewed_by} - {None}:
        conditions.append(~_reviewed_by(codebook_name, str(reviewer), withdrawn))
    if filters.reviewed_by:
        conditions.append(_reviewed_by(codebook_name, filters.reviewed_by, withdrawn))
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
