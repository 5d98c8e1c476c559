"""Segment sentiments: the model's label per segment, and reviewers' corrections, which win.

:func:`current_sentiments` is the one definition of a segment's sentiment now: the latest
correction if a reviewer made one, else the model's label.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select

from narratives.kinds import SENTIMENTS
from narratives.schema import utcnow
from narratives.store.events import record_event
from narratives.store.rows import chunked, inserted_id
from narratives.store.tables import segment_sentiments, segments, sentiment_reviews


@dataclass(frozen=True)
class SegmentSentiment:
    label: str
    source: str  # "reviewer" or "machine"
    confidence: float | None  # the model's probability of ``label`` (None for a reviewer's)


def save_sentiments(connection: Connection, rows: Sequence[dict[str, Any]], model: str, version: str) -> int:
    """Replace the sentiments of the rows' segments; each row has ``segment_id``, ``label`` and the
    three probabilities. Returns how many were written."""
    created = utcnow()
    for chunk in chunked(list(rows), 500):
        ids = [int(row["segment_id"]) for row in chunk]
        connection.execute(delete(segment_sentiments).where(segment_sentiments.c.segment_id.in_(ids)))
        connection.execute(
            insert(segment_sentiments),
            [{**row, "model": model, "version": version, "created": created} for row in chunk],
        )
    return len(rows)


def record_sentiment_review(connection: Connection, segment_id: int, label: str, user: str) -> int:
    """A reviewer's correction of a segment's sentiment (and its audit event); returns its id."""
    if label not in SENTIMENTS:
        raise ValueError(f"unknown sentiment '{label}'")
    review_id = inserted_id(
        connection.execute(
            insert(sentiment_reviews).values(segment_id=segment_id, label=label, user=user, created=utcnow())
        )
    )
    record_event(
        connection,
        "sentiment.review",
        user,
        target=f"segment:{segment_id}",
        payload={"segment_id": segment_id, "label": label, "review_id": review_id},
    )
    return review_id


def _latest_corrections(connection: Connection, segment_ids: Sequence[int] | None) -> dict[int, str]:
    latest = select(sentiment_reviews.c.segment_id, func.max(sentiment_reviews.c.id).label("id")).group_by(
        sentiment_reviews.c.segment_id
    )
    if segment_ids is not None:
        latest = latest.where(sentiment_reviews.c.segment_id.in_(list(segment_ids)))
    chosen = latest.subquery()
    rows = connection.execute(
        select(sentiment_reviews.c.segment_id, sentiment_reviews.c.label).join(
            chosen, chosen.c.id == sentiment_reviews.c.id
        )
    )
    return {int(row.segment_id): str(row.label) for row in rows}


def current_sentiments(
    connection: Connection, segment_ids: Sequence[int] | None = None
) -> dict[int, SegmentSentiment]:
    """Segment id -> its sentiment now (a reviewer's correction wins); ``None`` ids: every segment."""
    found: dict[int, SegmentSentiment] = {}
    chunks = [None] if segment_ids is None else list(chunked(list(segment_ids), 500))
    for chunk in chunks:
        query = select(segment_sentiments)
        if chunk is not None:
            query = query.where(segment_sentiments.c.segment_id.in_(list(chunk)))
        for row in connection.execute(query):
            found[int(row.segment_id)] = SegmentSentiment(
                row.label, "machine", float(getattr(row, row.label))
            )
        for segment_id, label in _latest_corrections(connection, chunk).items():
            found[segment_id] = SegmentSentiment(label, "reviewer", None)
    return found


def sentiment_corrections(connection: Connection) -> list[tuple[str, str]]:
    """(segment text, label) of every segment's latest correction, oldest segment first."""
    corrections = _latest_corrections(connection, None)
    if not corrections:
        return []
    texts: dict[int, str] = {}
    for chunk in chunked(sorted(corrections), 500):
        rows = connection.execute(
            select(segments.c.id, segments.c.text).where(segments.c.id.in_(list(chunk)))
        )
        texts.update({int(row.id): str(row.text) for row in rows})
    return [
        (texts[segment_id], corrections[segment_id])
        for segment_id in sorted(corrections)
        if segment_id in texts
    ]
