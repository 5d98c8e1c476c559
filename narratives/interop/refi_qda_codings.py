"""Who coded what, span by span: the codings a REFI-QDA export writes.

Other QDA programs keep every coder's codings apart, each on its own span. So an export writes, for
each reviewer, each (segment, code) whose latest decision by that reviewer applies
(:func:`~narratives.review.state.latest_by_reviewer`, the one definition of a reviewer's state),
every span that reviewer coded it with since their last ``reject`` or ``remove`` of it: two
hand-coded parts of one sentence are two codings, and two reviewers of one segment are two codings
with their own ``creatingUser``. Machine codings (unreviewed pairs the machine applies, as
:func:`~narratives.analysis.coded.coded_segments` says) are the machine user's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import datetime
from typing import NamedTuple

import pandas as pd
from sqlalchemy import Connection

from narratives.review.state import POSITIVE, latest_by_reviewer, live_reviews
from narratives.schema import Review
from narratives.store.segments import segment_spans

MACHINE_USER = "narratives (machine)"


class ExportCoding(NamedTuple):
    """One coding as exported: a span of a document, a code, who coded it, when, and their memo."""

    document_id: int
    start: int
    end: int
    user: str
    code_id: str
    created: datetime | None = None
    memo: str | None = None
    review_id: int | None = None


def reviewer_codings(connection: Connection, codebook: str, codes: Collection[str]) -> list[ExportCoding]:
    """Every reviewer's live codings of ``codes`` on current documents, one per span they coded."""
    latest = latest_by_reviewer(connection, codebook)
    spans_of: dict[tuple[int, str, str], list[Review]] = defaultdict(list)
    for review in live_reviews(connection, codebook):  # oldest first
        key = (review.segment_id, review.code_id, review.user)
        if review.decision.value in POSITIVE:
            spans_of[key].append(review)
        else:
            spans_of[key] = []
    segments = segment_spans(connection, ids={segment_id for segment_id, _, _ in spans_of})
    found: dict[tuple[int, int, int, str, str], ExportCoding] = {}
    for (segment_id, code_id, user), reviews in spans_of.items():
        state = latest.get((segment_id, code_id), {}).get(user)
        span = segments.get(segment_id)
        if code_id not in codes or span is None or state is None or not state.applies:
            continue
        for review in reviews:
            start, end = (
                (span.start, span.end)
                if review.start is None or review.end is None
                else (review.start, review.end)
            )
            place = (span.document_id, start, end, user, code_id)
            earlier = found.get(place)
            memo = review.memo if review.memo and review.memo.strip() else None
            if earlier is None or (memo is not None and earlier.memo is None):
                found[place] = ExportCoding(
                    span.document_id, start, end, user, code_id, review.created, memo, review.id
                )
    return sorted(found.values(), key=lambda c: (c.document_id, c.start, c.end, c.user, c.code_id))


def machine_codings(coded: pd.DataFrame) -> list[ExportCoding]:
    """The unreviewed pairs the machine applies, from :func:`coded_segments`' rows."""
    rows = coded[coded["source"] == "machine"]
    return [
        ExportCoding(int(r.document_id), int(r.start), int(r.end), MACHINE_USER, str(r.code_id))
        for r in rows.itertuples(index=False)
    ]
