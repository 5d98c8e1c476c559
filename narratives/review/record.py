"""Recording human decisions on (segment, code): reviews of suggestions and hand coding.

A review is never updated or deleted; what the reviews add up to now is
:mod:`narratives.review.state`. Every write goes through :func:`record_review`, from the explorer,
the command line, a CSV import or an undo, and writes the review and its audit event in the
caller's transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Connection

from narratives.errors import ReviewError
from narratives.schema import Decision, Review, Segment, Turn
from narratives.store.events import record_event
from narratives.store.reviews import code_exists, insert_review, segment_exists, suggestion_exists


def record_review(
    connection: Connection, review: Review, source: str | None = None, *, group: str | None = None
) -> int:
    """Write one review and its audit event in the caller's transaction; returns the review id.

    ``source`` (ui, cli, csv, hand, merge, undo) replaces ``review.source`` when given; ``group``
    tags the event as part of one action of several reviews (undo takes them back together).
    """
    check_review(connection, review)
    review = review.model_copy(update={"user": review.user.strip(), "source": source or review.source})
    review_id = insert_review(connection, review)
    hand = review.decision in (Decision.add, Decision.remove) and review.source == "hand"
    payload = {
        "review_id": review_id,
        "decision": review.decision.value,
        "codebook": review.codebook,
        "code_id": review.code_id,
        "suggestion_id": review.suggestion_id,
        "memo": review.memo,
        "source": review.source,
    }
    if group is not None:
        payload["group"] = group
    record_event(
        connection,
        "code.hand" if hand else "review",
        review.user,
        target=f"segment/{review.segment_id}",
        payload=payload,
    )
    return review_id


def record_hand_coding(connection: Connection, reviews: Sequence[Review]) -> list[int]:
    """Write the reviews of one hand-coding action (from :func:`hand_coding`) as one action: their
    events share a ``group``, so "undo my last action" takes all of them back. Returns review ids."""
    if not reviews:
        raise ReviewError("nothing to code: the selection covers no segment.", fix="select some text.")
    group = uuid.uuid4().hex[:16] if len(reviews) > 1 else None
    return [record_review(connection, review, group=group) for review in reviews]


def check_review(connection: Connection, review: Review) -> None:
    """Raise the :class:`ReviewError` :func:`record_review` would raise for ``review``, writing nothing."""
    if not review.user.strip():
        raise ReviewError("a review needs the reviewer's name.", fix="enter your name first.")
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


def range_targets(
    segments: Sequence[Segment],
    start: int,
    end: int,
    unit: str,
    turns: Sequence[Turn] = (),
) -> list[tuple[Segment, int, int]]:
    """What one hand-coding action on ``[start, end)`` codes: the parts of the ``unit`` segments
    (the unit the researcher codes in) the range covers, never those of another unit.

    Refuses a range that reaches into more than one speaker's turn, or covers segments of
    different speakers: a code belongs to what one person said.
    """
    if end <= start:
        return []
    touched = [t for t in turns if t.start < end and t.end > start]
    if len(touched) > 1:
        raise ReviewError(
            f"characters {start}-{end} cross from {touched[0].speaker}'s turn into "
            f"{touched[1].speaker}'s; a hand code covers what one speaker said.",
            fix="select a range inside one speaker's turn, and code the other turn separately.",
        )
    targets = clip_to_segments([s for s in segments if s.unit.value == unit], start, end)
    speakers = sorted({s.speaker or "" for s, _, _ in targets})
    if len(speakers) > 1:
        raise ReviewError(
            f"characters {start}-{end} cover segments of {' and '.join(repr(p) for p in speakers)}; "
            "a hand code covers what one speaker said.",
            fix="select a range inside one speaker's turn.",
        )
    return targets


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
    units = sorted({segment.unit.value for segment, _, _ in targets})
    if len(units) > 1:
        raise ReviewError(
            f"one hand-coding action codes one unit, not {' and '.join(units)} segments at once.",
            fix="choose the unit you code in (the project's coding unit) and select segments of it.",
        )
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
