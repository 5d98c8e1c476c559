"""What the document view marks on a text: each code on each span, with its review status.

:func:`document_marks` reads the marks of one document from :func:`~narratives.review.state.coding_state`
(so the view shows exactly what the overview counts and the exports write); :func:`pieces` cuts a
stretch of text at every mark boundary, so that a renderer only has to colour each piece by the
marks that cover it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from sqlalchemy import Connection

from narratives.review.state import ENSEMBLE, Threshold, coding_state

HAND = "hand"


@dataclass(frozen=True)
class Mark:
    start: int  # offsets into the document text
    end: int
    segment_id: int
    code_id: str
    coder: str
    score: float | None
    status: str  # suggested, accepted, rejected, hand


def document_marks(
    connection: Connection,
    codebook: str,
    document_id: int,
    *,
    threshold: Threshold = None,
    coder: str = ENSEMBLE,
) -> list[Mark]:
    """Every active code on the document: machine suggestions at or above their threshold or reviewed
    (accepted or rejected, over the whole segment), and codes applied by hand (over their span)."""
    state = coding_state(
        connection, codebook, document_id=document_id, coder=coder, threshold=threshold, all_scores=True
    )
    marks: list[Mark] = []
    for pair in state.pairs.values():
        if pair.code_id in state.retired:
            continue
        if pair.score is not None:
            if pair.status == "below":
                continue
            marks.append(
                Mark(
                    pair.segment_start,
                    pair.segment_end,
                    pair.segment_id,
                    pair.code_id,
                    coder,
                    pair.score,
                    pair.status,
                )
            )
        elif pair.applies:
            start, end = pair.span
            marks.append(Mark(start, end, pair.segment_id, pair.code_id, HAND, None, HAND))
    return sorted(marks, key=lambda m: (m.start, m.end, m.code_id))


@dataclass(frozen=True)
class Piece:
    """A stretch of text no mark starts or ends inside, with the marks covering all of it."""

    start: int
    end: int
    marks: tuple[Mark, ...]


def pieces(start: int, end: int, marks: Sequence[Mark]) -> list[Piece]:
    """``[start, end)`` cut at every boundary of the marks that overlap it, in order."""
    inside = [m for m in marks if m.start < end and m.end > start]
    cuts = sorted({start, end, *(max(start, m.start) for m in inside), *(min(end, m.end) for m in inside)})
    return [
        Piece(left, right, tuple(m for m in inside if m.start <= left and m.end >= right))
        for left, right in pairwise(cuts)
    ]
