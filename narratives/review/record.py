"""Recording human decisions on (segment, code): reviews of suggestions and hand coding.

A review is never updated or deleted; what the reviews add up to now is
:mod:`narratives.review.state`. Every write goes through :func:`record_review`, from the explorer,
the command line, a CSV import or an undo, and writes the review and its audit event in the
caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection

from narratives.errors import ReviewError
from narratives.schema import Decision, Review, Segment
from narratives.store.events import record_event
from narratives.store.reviews import code_exists, insert_review, segment_exists, suggestion_exists


def record_review(connection: Connection, review: Review, source: str | None = None) -> int:
    """Write one review and its audit event in the caller's transaction; returns the review id.

    ``source`` (ui, cli, csv, hand, merge, undo) replaces ``review.source`` when given.
    """
    if not review.user.strip():
        raise ReviewError("a review needs the reviewer's name.", fix="enter your name first.")
    review = review.model_copy(update={"user": review.user.strip(), "source": source or review.source})
    _check_targets(connection, review)
    review_id = insert_review(connection, review)
    hand = review.decision in (Decision.add, Decision.remove) and review.source == "hand"
    record_event(
        connection,
        "code.hand" if hand else "review",
        review.user,
        target=f"segment/{review.segment_id}",
        payload={
            "review_id": review_id,
            "decision": review.decision.value,
            "codebook": review.codebook,
            "code_id": review.code_id,
            "suggestion_id": review.suggestion_id,
            "memo": review.memo,
            "source": review.source,
        },
    )
    return review_id


def _check_targets(connection: Connection, review: Review) -> None:
    if not segment_exists(connection, review.segment_id):
        raise ReviewError(f"segment {review.segment_id} does not exist.")
    if not code_exists(connection, review.codebook, review.code_id):
        raise ReviewError(
            f"code '{review.code_id}' is not in codebook '{review.codebook}'.",
            fix="check the code id (narratives codebook show FILE lists them).",
        )
    if review.suggestion_id is not None and not suggestion_exists(connection, review.suggestion_id):
        raise ReviewError(f"suggestion {review.suggestion_id} does not exist.")


def clip_to_segments(segments: Sequence[Segment], start: int, end: int) -> list[tuple[Segment, int, int]]:
    """The segments a character range of their document overlaps, each with the part it covers.

    ``[(segment, max(start, segment.start), min(end, segment.end)), ...]``; nothing for an empty range.
    """
    if end <= start:
        return []
    return [(s, max(start, s.start), min(end, s.end)) for s in segments if s.start < end and s.end > start]


def hand_coding(
    targets: Sequence[tuple[Segment, int | None, int | None]],
    *,
    codebook: str,
    code_id: str,
    decision: Decision,
    user: str,
) -> list[Review]:
    """The reviews that code (``add``) or uncode (``remove``) these segments or parts of them by hand."""
    if decision not in (Decision.add, Decision.remove):
        raise ReviewError(f"hand coding adds or removes a code, not '{decision.value}'.")
    return [
        Review(
            segment_id=int(segment.id or 0),
            code_id=code_id,
            codebook=codebook,
            decision=decision,
            user=user,
            start=start,
            end=end,
            source="hand",
        )
        for segment, start, end in targets
    ]
