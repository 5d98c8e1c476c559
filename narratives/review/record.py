"""Append-only reviews: human decisions on (segment, code), and the state derived from them.

A review is never updated or deleted. What a segment carries now is the latest decision of each
reviewer; where reviewers disagree, both decisions stay visible (agreement figures, audit).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select

from narratives.errors import ReviewError
from narratives.schema import Decision, Review, utcnow
from narratives.store.events import record_event
from narratives.store.tables import codes, reviews, segments, suggestions

POSITIVE = {Decision.accept.value, Decision.add.value}


def record_review(connection: Connection, review: Review, source: str = "ui") -> int:
    """Write one review and its audit event in the caller's transaction; returns the review id."""
    if not review.user.strip():
        raise ReviewError("a review needs the reviewer's name.", fix="enter your name first.")
    _check_targets(connection, review)
    result = connection.execute(
        insert(reviews).values(
            segment_id=review.segment_id,
            codebook=review.codebook,
            code_id=review.code_id,
            decision=review.decision.value,
            suggestion_id=review.suggestion_id,
            user=review.user.strip(),
            memo=review.memo,
            start=review.start,
            end=review.end,
            source=source,
            created=utcnow(),
        )
    )
    review_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    kind = (
        "code.hand" if review.decision in (Decision.add, Decision.remove) and source == "hand" else "review"
    )
    record_event(
        connection,
        kind,
        review.user,
        target=f"segment/{review.segment_id}",
        payload={
            "review_id": review_id,
            "decision": review.decision.value,
            "codebook": review.codebook,
            "code_id": review.code_id,
            "suggestion_id": review.suggestion_id,
            "memo": review.memo,
            "source": source,
        },
    )
    return review_id


def _check_targets(connection: Connection, review: Review) -> None:
    if connection.execute(select(segments.c.id).where(segments.c.id == review.segment_id)).scalar() is None:
        raise ReviewError(f"segment {review.segment_id} does not exist.")
    known = connection.execute(
        select(codes.c.id).where(codes.c.codebook == review.codebook, codes.c.code_id == review.code_id)
    ).scalar()
    if known is None:
        raise ReviewError(
            f"code '{review.code_id}' is not in codebook '{review.codebook}'.",
            fix="check the code id (narratives codebook show FILE lists them).",
        )
    if review.suggestion_id is not None:
        found = connection.execute(
            select(suggestions.c.id).where(suggestions.c.id == review.suggestion_id)
        ).scalar()
        if found is None:
            raise ReviewError(f"suggestion {review.suggestion_id} does not exist.")


@dataclass(frozen=True)
class ReviewedLabel:
    segment_id: int
    code_id: str
    applies: bool  # the latest decision of the latest reviewer
    users: tuple[str, ...]
    disagreement: bool


def _withdrawn(connection: Connection) -> set[int]:
    """Reviews taken back by an undo (imported here: audit builds on this module)."""
    from narratives.review.audit import withdrawn_review_ids

    return withdrawn_review_ids(connection)


def latest_decisions(connection: Connection, codebook: str) -> dict[tuple[int, str], dict[str, str]]:
    """(segment, code) -> {reviewer: latest decision}, leaving out reviews withdrawn by an undo."""
    withdrawn = _withdrawn(connection)
    rows = connection.execute(
        select(reviews.c.id, reviews.c.segment_id, reviews.c.code_id, reviews.c.user, reviews.c.decision)
        .where(reviews.c.codebook == codebook)
        .order_by(reviews.c.id)
    )
    state: dict[tuple[int, str], dict[str, str]] = defaultdict(dict)
    for review_id, segment_id, code_id, user, decision in rows:
        if review_id not in withdrawn:
            state[(segment_id, code_id)][user] = decision
    return state


def reviewed_labels(connection: Connection, codebook: str) -> list[ReviewedLabel]:
    """One label per reviewed (segment, code): applies if the most recent decision says so."""
    withdrawn = _withdrawn(connection)
    latest_by_pair: dict[tuple[int, str], tuple[int, str]] = {}
    for review_id, segment_id, code_id, decision in connection.execute(
        select(reviews.c.id, reviews.c.segment_id, reviews.c.code_id, reviews.c.decision)
        .where(reviews.c.codebook == codebook)
        .order_by(reviews.c.id)
    ):
        if review_id not in withdrawn:
            latest_by_pair[(segment_id, code_id)] = (review_id, decision)
    per_user = latest_decisions(connection, codebook)
    labels = []
    for pair, (_, decision) in latest_by_pair.items():
        votes = per_user[pair]
        verdicts = {v in POSITIVE for v in votes.values()}
        labels.append(
            ReviewedLabel(
                segment_id=pair[0],
                code_id=pair[1],
                applies=decision in POSITIVE,
                users=tuple(sorted(votes)),
                disagreement=len(verdicts) > 1,
            )
        )
    return labels


def accepted_segment_texts(connection: Connection, codebook: str, code_id: str) -> dict[int, str]:
    """Segments whose latest review says ``code_id`` applies: segment id -> text."""
    from narratives.store.segments import load_segments

    ids = [
        lab.segment_id
        for lab in reviewed_labels(connection, codebook)
        if lab.code_id == code_id and lab.applies
    ]
    return {int(s.id or 0): s.text for s in load_segments(connection, ids=ids)} if ids else {}
