"""Coding many segments with one code in one action ("code all these" on search results).

Each segment gets a review through :func:`narratives.review.record.record_review`: ``accept`` of the
current suggestion when the machine made one, else ``add``. Segments whose latest decision already
applies the code are left as they are and counted. The reviews share one event group, so "undo my
last action" takes them all back together.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from narratives.errors import ReviewError
from narratives.review.record import record_review
from narratives.review.state import latest_reviews
from narratives.schema import Decision, Review
from narratives.store.reviews import code_exists
from narratives.store.suggestions import best_current_suggestion


@dataclass(frozen=True)
class BulkCoding:
    code_id: str
    recorded: tuple[int, ...]  # the new review ids
    already: tuple[int, ...]  # segments whose latest decision applied the code already


def code_segments(
    connection: Connection,
    codebook: str,
    code_id: str,
    segment_ids: Sequence[int],
    user: str,
    *,
    source: str = "search",
    memo: str | None = None,
) -> BulkCoding:
    """Apply ``code_id`` to every segment of ``segment_ids`` as ``user`` (the caller's transaction)."""
    wanted = list(dict.fromkeys(segment_ids))
    if not wanted:
        raise ReviewError("nothing to code: no segment is selected.", fix="tick the results to code.")
    if not code_exists(connection, codebook, code_id):
        raise ReviewError(f"code '{code_id}' is not in codebook '{codebook}'.", fix="pick one of its codes.")
    holding = latest_reviews(connection, codebook, segment_ids=wanted)
    already = [s for s in wanted if (h := holding.get((s, code_id))) is not None and h.applies]
    skip = set(already)
    group = uuid.uuid4().hex[:16]
    recorded = []
    for segment_id in (s for s in wanted if s not in skip):
        suggestion = best_current_suggestion(connection, segment_id, codebook, code_id)
        decision = Decision.accept if suggestion is not None else Decision.add
        review = Review(
            segment_id=segment_id,
            code_id=code_id,
            decision=decision,
            user=user,
            suggestion_id=suggestion,
            memo=memo,
            codebook=codebook,
        )
        recorded.append(record_review(connection, review, source, group=group))
    return BulkCoding(code_id, tuple(recorded), tuple(already))
