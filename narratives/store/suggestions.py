"""Reading suggestions, and switching them on and off (merge, split, undo).

Suggestions are written by coding runs (:mod:`narratives.store.coding_runs`). A suggestion row is
never edited except for its ``current`` flag: a later run, a merge or a split makes old rows stop
being current, and an undo can make them current again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from sqlalchemy import Connection, func, insert, select, update

from narratives.schema import Suggestion, utcnow
from narratives.store.rows import chunked, inserted_id
from narratives.store.tables import documents, segments, suggestions


class ScoredPair(NamedTuple):
    """One current suggestion's score, with where its segment sits: what the current state is made of."""

    segment_id: int
    document_id: int
    code_id: str
    run_id: int
    score: float
    start: int  # the segment's offsets in its document
    end: int


def scored_pairs(
    connection: Connection,
    codebook: str,
    coder: str,
    *,
    min_score: float | None = None,
    below: float | None = None,
    unit: str | None = None,
    segment_ids: Iterable[int] | None = None,
    document_id: int | None = None,
) -> list[ScoredPair]:
    """Current suggestions of ``coder`` on segments of current documents, narrowed as asked
    (``min_score`` and ``below`` bound the score: at least the one, under the other)."""
    query = (
        select(
            suggestions.c.segment_id,
            segments.c.document_id,
            suggestions.c.code_id,
            suggestions.c.run_id,
            suggestions.c.score,
            segments.c.start,
            segments.c.end,
        )
        .join(segments, segments.c.id == suggestions.c.segment_id)
        .join(documents, documents.c.id == segments.c.document_id)
        .where(
            suggestions.c.codebook == codebook,
            suggestions.c.current.is_(True),
            suggestions.c.coder == coder,
            documents.c.current.is_(True),
        )
    )
    if min_score is not None:
        query = query.where(suggestions.c.score >= min_score)
    if below is not None:
        query = query.where(suggestions.c.score < below)
    if unit is not None:
        query = query.where(segments.c.unit == unit)
    if document_id is not None:
        query = query.where(segments.c.document_id == document_id)
    if segment_ids is None:
        return [ScoredPair(*row) for row in connection.execute(query).all()]
    found: list[ScoredPair] = []
    for chunk in chunked(sorted(set(segment_ids))):
        narrowed = query.where(suggestions.c.segment_id.in_(chunk))
        found.extend(ScoredPair(*row) for row in connection.execute(narrowed).all())
    return found


def suggestion_pair_count(
    connection: Connection, codebook: str, coder: str, *, min_score: float = 0.0, unit: str | None = None
) -> int:
    """(Segment, code) pairs with a current suggestion of ``coder`` scoring ``min_score`` or more, on
    segments of current documents (of ``unit``, when given).

    Every writer keeps at most one current suggestion per (segment, code, coder): a run supersedes
    before it writes, a merge keeps the higher score, an undo brings a suggestion back only where
    nothing newer stands (``tests/review/test_state_replay.py`` checks it), so rows are pairs.
    """
    in_scope = (
        select(segments.c.id)
        .join(documents, documents.c.id == segments.c.document_id)
        .where(documents.c.current.is_(True))
    )
    if unit is not None:
        in_scope = in_scope.where(segments.c.unit == unit)
    # An uncorrelated IN: SQLite builds the set of segments once and reads the suggestions' index.
    query = select(func.count()).where(
        suggestions.c.codebook == codebook,
        suggestions.c.current.is_(True),
        suggestions.c.coder == coder,
        suggestions.c.score >= min_score,
        suggestions.c.segment_id.in_(in_scope),
    )
    return int(connection.execute(query).scalar_one())


def coder_counts(connection: Connection, codebook: str) -> dict[str, int]:
    """coder -> number of current suggestions of ``codebook``."""
    rows = connection.execute(
        select(suggestions.c.coder, func.count())
        .where(suggestions.c.codebook == codebook, suggestions.c.current.is_(True))
        .group_by(suggestions.c.coder)
    )
    return {str(coder): int(n) for coder, n in rows}


def current_counts_by_code(connection: Connection, codebook: str) -> dict[str, int]:
    """code id -> number of current suggestions (any coder), for warnings before a retire or merge."""
    rows = connection.execute(
        select(suggestions.c.code_id, func.count())
        .where(suggestions.c.codebook == codebook, suggestions.c.current.is_(True))
        .group_by(suggestions.c.code_id)
    )
    return {str(code_id): int(n) for code_id, n in rows}


def _suggestion(row: Any) -> Suggestion:
    return Suggestion(
        id=row.id,
        run_id=row.run_id,
        segment_id=row.segment_id,
        code_id=row.code_id,
        score=row.score,
        evidence=row.evidence,
        evidence_start=row.evidence_start,
        evidence_end=row.evidence_end,
        reason=row.reason,
        coder=row.coder,
        coder_version=row.coder_version,
        codebook=row.codebook,
        codebook_version=row.codebook_version,
        model=row.model,
        config_hash=row.config_hash,
    )


def current_suggestions(
    connection: Connection, codebook: str, code_id: str, *, coder: str | None = None
) -> list[Suggestion]:
    """The current suggestions of one code, oldest first."""
    query = (
        select(suggestions)
        .where(
            suggestions.c.codebook == codebook,
            suggestions.c.code_id == code_id,
            suggestions.c.current.is_(True),
        )
        .order_by(suggestions.c.id)
    )
    if coder is not None:
        query = query.where(suggestions.c.coder == coder)
    return [_suggestion(row) for row in connection.execute(query)]


def load_suggestions(connection: Connection, ids: Sequence[int]) -> list[Suggestion]:
    """Suggestions by id, in the order asked for (unknown ids left out)."""
    found: dict[int, Suggestion] = {}
    wanted = list(dict.fromkeys(ids))
    for chunk in chunked(wanted):
        rows = connection.execute(select(suggestions).where(suggestions.c.id.in_(chunk)))
        found.update({int(row.id): _suggestion(row) for row in rows})
    return [found[i] for i in wanted if i in found]


def best_current_suggestion(
    connection: Connection, segment_id: int, codebook: str, code_id: str
) -> int | None:
    """The id of the current suggestion of this (segment, code): the ensemble's if there is one."""
    found = connection.execute(
        select(suggestions.c.id)
        .where(
            suggestions.c.segment_id == segment_id,
            suggestions.c.codebook == codebook,
            suggestions.c.code_id == code_id,
            suggestions.c.current.is_(True),
        )
        .order_by((suggestions.c.coder == "ensemble").desc(), suggestions.c.id.desc())
        .limit(1)
    ).scalar()
    return None if found is None else int(found)


def copy_suggestion(connection: Connection, original: Suggestion, **changes: Any) -> int:
    """Write a current copy of a suggestion with some fields changed (a merge or split); returns its id."""
    values = original.model_dump(exclude={"id"}) | changes
    result = connection.execute(insert(suggestions).values(**values, current=True, created=utcnow()))
    return inserted_id(result)


def set_current(connection: Connection, ids: Sequence[int], current: bool) -> None:
    """Switch suggestions on or off (the only change a suggestion row ever sees)."""
    for chunk in chunked(list(ids)):
        connection.execute(update(suggestions).where(suggestions.c.id.in_(chunk)).values(current=current))


def with_current_sibling(connection: Connection, ids: Sequence[int]) -> set[int]:
    """Those of these suggestions whose (segment, codebook, code, coder) has another current one now."""
    found: set[int] = set()
    for chunk in chunked(list(dict.fromkeys(ids))):
        mine = (
            select(
                suggestions.c.id,
                suggestions.c.segment_id,
                suggestions.c.codebook,
                suggestions.c.code_id,
                suggestions.c.coder,
            )
            .where(suggestions.c.id.in_(chunk))
            .subquery()
        )
        same = (
            (suggestions.c.segment_id == mine.c.segment_id)
            & (suggestions.c.codebook == mine.c.codebook)
            & (suggestions.c.code_id == mine.c.code_id)
            & (suggestions.c.coder == mine.c.coder)
            & (suggestions.c.id != mine.c.id)
        )
        rows = connection.execute(
            select(mine.c.id).join(suggestions, same).where(suggestions.c.current.is_(True)).distinct()
        )
        found.update(int(i) for i in rows.scalars())
    return found
