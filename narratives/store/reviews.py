"""Reviews: human decisions on (segment, code), append-only.

A review row is never updated or deleted. What the reviews add up to now (the latest decision on each
pair, reviews withdrawn by an undo) is worked out in :mod:`narratives.review.state`, from the rows
these functions return as :class:`~narratives.schema.Review` values, oldest first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from sqlalchemy import Connection, func, insert, select

from narratives.schema import Decision, Review, utcnow
from narratives.store.rows import chunked, inserted_id
from narratives.store.tables import codes, documents, reviews, segments, suggestions


def insert_review(connection: Connection, review: Review) -> int:
    """Write one review row (its ``source`` says where it came from); returns its id."""
    result = connection.execute(
        insert(reviews).values(
            segment_id=review.segment_id,
            codebook=review.codebook,
            code_id=review.code_id,
            decision=review.decision.value,
            suggestion_id=review.suggestion_id,
            user=review.user,
            memo=review.memo,
            start=review.start,
            end=review.end,
            source=review.source,
            created=utcnow(),
        )
    )
    return inserted_id(result)


def _review(row: Any) -> Review:
    return Review(
        id=row.id,
        segment_id=row.segment_id,
        code_id=row.code_id,
        decision=Decision(row.decision),
        user=row.user,
        suggestion_id=row.suggestion_id,
        memo=row.memo,
        codebook=row.codebook,
        start=row.start,
        end=row.end,
        source=row.source,
        created=row.created,
    )


def load_reviews(
    connection: Connection,
    codebook: str | None = None,
    *,
    segment_ids: Iterable[int] | None = None,
    code_id: str | None = None,
    user: str | None = None,
    ids: Iterable[int] | None = None,
) -> list[Review]:
    """Review rows, oldest first, narrowed by any of the arguments given."""
    query = select(reviews).order_by(reviews.c.id)
    if codebook is not None:
        query = query.where(reviews.c.codebook == codebook)
    if code_id is not None:
        query = query.where(reviews.c.code_id == code_id)
    if user is not None:
        query = query.where(reviews.c.user == user)
    if ids is not None:
        query = query.where(reviews.c.id.in_(sorted(set(ids))))
    if segment_ids is None:
        return [_review(row) for row in connection.execute(query).all()]
    found: list[Review] = []
    for chunk in chunked(sorted(set(segment_ids))):
        narrowed = query.where(reviews.c.segment_id.in_(chunk))
        found.extend(_review(row) for row in connection.execute(narrowed).all())
    return sorted(found, key=lambda review: int(review.id or 0))


class ReviewRow(NamedTuple):
    """What the current state needs of a review, without building a full :class:`Review`."""

    id: int
    segment_id: int
    code_id: str
    decision: str
    user: str
    start: int | None
    end: int | None
    memo: str | None


def review_rows(
    connection: Connection, codebook: str, *, segment_ids: Iterable[int] | None = None
) -> list[ReviewRow]:
    """The reviews of ``codebook`` as light rows, oldest first (the state of thousands at once)."""
    query = (
        select(
            reviews.c.id,
            reviews.c.segment_id,
            reviews.c.code_id,
            reviews.c.decision,
            reviews.c.user,
            reviews.c.start,
            reviews.c.end,
            reviews.c.memo,
        )
        .where(reviews.c.codebook == codebook)
        .order_by(reviews.c.id)
    )
    if segment_ids is None:
        return [ReviewRow(*row) for row in connection.execute(query).all()]
    found: list[ReviewRow] = []
    for chunk in chunked(sorted(set(segment_ids))):
        narrowed = query.where(reviews.c.segment_id.in_(chunk))
        found.extend(ReviewRow(*row) for row in connection.execute(narrowed).all())
    return sorted(found, key=lambda row: row.id)


def reviewed_segment_counts(
    connection: Connection, codebook: str, leave_out: Iterable[int] = ()
) -> dict[str, int]:
    """code id -> distinct segments with a review of it, leaving out the reviews ``leave_out`` names."""
    query = (
        select(reviews.c.code_id, func.count(reviews.c.segment_id.distinct()))
        .where(reviews.c.codebook == codebook)
        .group_by(reviews.c.code_id)
    )
    left_out = sorted(set(leave_out))
    if left_out:
        query = query.where(reviews.c.id.not_in(left_out))
    return {str(code_id): int(n) for code_id, n in connection.execute(query).all()}


def review_counts(connection: Connection, codebook: str) -> tuple[int, int]:
    """(review rows, distinct reviewers) of ``codebook``, withdrawn ones included: the raw record."""
    rows, users = connection.execute(
        select(func.count(), func.count(reviews.c.user.distinct())).where(reviews.c.codebook == codebook)
    ).one()
    return int(rows), int(users)


def decision_counts(
    connection: Connection,
    codebook: str,
    leave_out: Iterable[int] = (),
    skip_sources: Iterable[str] = (),
) -> tuple[dict[str, int], int]:
    """({decision: review rows}, distinct reviewers) of ``codebook``, leaving out the reviews
    ``leave_out`` names (those an undo took back) and rows written from ``skip_sources`` (copies a
    merge or an undo wrote): the reviews people made, one row per decision taken."""
    query = (
        select(reviews.c.decision, reviews.c.user, func.count())
        .where(reviews.c.codebook == codebook)
        .group_by(reviews.c.decision, reviews.c.user)
    )
    skipped = sorted(set(skip_sources))
    if skipped:
        query = query.where(reviews.c.source.is_(None) | reviews.c.source.not_in(skipped))
    left_out = sorted(set(leave_out))
    if left_out:
        query = query.where(reviews.c.id.not_in(left_out))
    counts: dict[str, int] = {}
    users: set[str] = set()
    for decision, user, n in connection.execute(query).all():
        counts[str(decision)] = counts.get(str(decision), 0) + int(n)
        users.add(str(user))
    return counts, len(users)


def copy_reviews(connection: Connection, originals: Sequence[Review]) -> list[int]:
    """Write each review as a new row (a merge copies reviews to the code merged into); returns ids."""
    return [insert_review(connection, review) for review in originals]


def segment_exists(connection: Connection, segment_id: int) -> bool:
    return connection.execute(select(segments.c.id).where(segments.c.id == segment_id)).scalar() is not None


def code_exists(connection: Connection, codebook: str, code_id: str) -> bool:
    found = connection.execute(
        select(codes.c.id).where(codes.c.codebook == codebook, codes.c.code_id == code_id)
    ).scalar()
    return found is not None


def suggestion_exists(connection: Connection, suggestion_id: int) -> bool:
    found = connection.execute(select(suggestions.c.id).where(suggestions.c.id == suggestion_id)).scalar()
    return found is not None


def review_history_rows(connection: Connection, codebook: str | None = None) -> list[dict[str, Any]]:
    """Every review with its segment, document and code name, oldest first (the reviews CSV export)."""
    query = (
        select(
            reviews.c.id.label("review_id"),
            reviews.c.segment_id,
            documents.c.path.label("document_path"),
            documents.c.title.label("document_title"),
            segments.c.start,
            segments.c.end,
            segments.c.text,
            reviews.c.code_id.label("code"),
            codes.c.name.label("code_name"),
            reviews.c.decision,
            reviews.c.user,
            reviews.c.memo,
            reviews.c.source,
            reviews.c.suggestion_id,
            reviews.c.created,
        )
        .join(segments, segments.c.id == reviews.c.segment_id)
        .join(documents, documents.c.id == segments.c.document_id)
        .outerjoin(codes, (codes.c.codebook == reviews.c.codebook) & (codes.c.code_id == reviews.c.code_id))
        .order_by(reviews.c.id)
    )
    if codebook:
        query = query.where(reviews.c.codebook == codebook)
    return [dict(row._mapping) for row in connection.execute(query)]
