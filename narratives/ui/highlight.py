"""Coloured highlights of a document's codes, as escaped HTML (no Streamlit here: testable alone).

:func:`document_marks` reads what each span of a document carries (machine suggestions with their
review state, and hand-coded spans); :func:`highlight_html` turns the text and the marks into spans
coloured by code, with a hover title saying code, coder, confidence and status; speaker turns of a
transcript become their own blocks.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

from sqlalchemy import Connection, select

from narratives.review.audit import withdrawn_review_ids
from narratives.review.record import POSITIVE
from narratives.schema import Code, Turn
from narratives.store.tables import reviews, segments, suggestions

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22")


@dataclass(frozen=True)
class Mark:
    start: int  # offsets into the document text
    end: int
    segment_id: int
    code_id: str
    coder: str
    score: float | None
    status: str  # suggested, accepted, rejected, hand


def code_colours(codes: Sequence[Code]) -> dict[str, str]:
    return {code.id: code.colour or PALETTE[i % len(PALETTE)] for i, code in enumerate(codes)}


def document_marks(
    connection: Connection,
    codebook: str,
    document_id: int,
    *,
    thresholds: Mapping[str, float] | None = None,
    default_threshold: float = 0.5,
    coder: str = "ensemble",
) -> list[Mark]:
    """Every code on the document: suggestions at/above threshold or reviewed, and hand-coded spans."""
    thresholds = thresholds or {}
    withdrawn = withdrawn_review_ids(connection)
    spans = {
        r.id: (r.start, r.end)
        for r in connection.execute(
            select(segments.c.id, segments.c.start, segments.c.end).where(
                segments.c.document_id == document_id
            )
        )
    }
    latest: dict[tuple[int, str], tuple[str, int | None, int | None]] = {}
    for row in connection.execute(
        select(reviews)
        .where(reviews.c.codebook == codebook, reviews.c.segment_id.in_(list(spans)))
        .order_by(reviews.c.id)
    ):
        if row.id not in withdrawn:
            latest[(row.segment_id, row.code_id)] = (row.decision, row.start, row.end)
    marks: list[Mark] = []
    seen: set[tuple[int, str]] = set()
    for row in connection.execute(
        select(
            suggestions.c.segment_id, suggestions.c.code_id, suggestions.c.coder, suggestions.c.score
        ).where(
            suggestions.c.codebook == codebook,
            suggestions.c.current.is_(True),
            suggestions.c.coder == coder,
            suggestions.c.segment_id.in_(list(spans)),
        )
    ):
        pair = (row.segment_id, row.code_id)
        decision = latest.get(pair, (None, None, None))[0]
        if decision is None and row.score < thresholds.get(row.code_id, default_threshold):
            continue
        status = "suggested" if decision is None else ("accepted" if decision in POSITIVE else "rejected")
        seen.add(pair)
        marks.append(Mark(*spans[row.segment_id], row.segment_id, row.code_id, row.coder, row.score, status))
    for (segment_id, code_id), (decision, start, end) in latest.items():
        if (segment_id, code_id) in seen or decision not in POSITIVE:
            continue
        span = (start, end) if start is not None and end is not None else spans[segment_id]
        marks.append(Mark(span[0], span[1], segment_id, code_id, "hand", None, "hand"))
    return sorted(marks, key=lambda m: (m.start, m.end, m.code_id))


def _title(mark: Mark, names: Mapping[str, str]) -> str:
    confidence = f", confidence {mark.score:.2f}" if mark.score is not None else ""
    return f"{names.get(mark.code_id, mark.code_id)} ({mark.coder}{confidence}, {mark.status})"


def _span(text: str, covering: list[Mark], colours: Mapping[str, str], names: Mapping[str, str]) -> str:
    body = html.escape(text)
    if not covering:
        return body
    colours_here = [colours.get(m.code_id, PALETTE[0]) for m in covering]
    if len(colours_here) == 1:
        background = f"{colours_here[0]}40"
    else:
        stops = ", ".join(f"{c}55" for c in colours_here)
        background = f"linear-gradient(180deg, {stops})"
    rejected = all(m.status == "rejected" for m in covering)
    style = f"background:{background};border-bottom:2px solid {colours_here[0]};" + (
        "text-decoration:line-through;" if rejected else ""
    )
    title = html.escape("; ".join(_title(m, names) for m in covering), quote=True)
    codes = html.escape(" ".join(sorted({m.code_id for m in covering})), quote=True)
    return f'<span class="code-mark" data-codes="{codes}" title="{title}" style="{style}">{body}</span>'


def _highlight_range(
    text: str,
    start: int,
    end: int,
    marks: Sequence[Mark],
    colours: Mapping[str, str],
    names: Mapping[str, str],
) -> str:
    inside = [m for m in marks if m.start < end and m.end > start]
    cuts = sorted({start, end, *(max(start, m.start) for m in inside), *(min(end, m.end) for m in inside)})
    pieces = []
    for left, right in pairwise(cuts):
        covering = [m for m in inside if m.start <= left and m.end >= right]
        pieces.append(_span(text[left:right], covering, colours, names))
    return "".join(pieces)


def highlight_html(
    text: str,
    marks: Sequence[Mark],
    colours: Mapping[str, str],
    names: Mapping[str, str],
    turns: Sequence[Turn] = (),
) -> str:
    """The text with every mark as a coloured span; transcripts one block per speaker turn."""
    if not turns:
        body = _highlight_range(text, 0, len(text), marks, colours, names)
        return f'<div class="doc-text" style="white-space:pre-wrap;line-height:1.7">{body}</div>'
    blocks = []
    for turn in turns:
        body = _highlight_range(text, turn.start, turn.end, marks, colours, names)
        speaker = html.escape(turn.speaker)
        blocks.append(
            f'<div class="turn" style="margin-bottom:0.6em;white-space:pre-wrap;line-height:1.7">'
            f'<strong class="speaker">{speaker}</strong><br>{body}</div>'
        )
    return "".join(blocks)


def legend_html(codes: Sequence[Code], colours: Mapping[str, str]) -> str:
    items = [
        f'<span style="display:inline-block;margin:0 0.8em 0.3em 0">'
        f'<span style="display:inline-block;width:0.9em;height:0.9em;background:{colours.get(c.id, PALETTE[0])};'
        f'margin-right:0.3em;vertical-align:middle"></span>{html.escape(c.name)}</span>'
        for c in codes
    ]
    return f'<div class="legend">{"".join(items)}</div>'


def evidence_html(text: str, start: int | None, end: int | None) -> str:
    """The segment with the matched evidence phrase marked."""
    if start is None or end is None or not (0 <= start < end <= len(text)):
        return html.escape(text)
    return (
        html.escape(text[:start]) + f"<mark>{html.escape(text[start:end])}</mark>" + html.escape(text[end:])
    )


def document_choices(connection: Connection) -> list[tuple[int, str, str]]:
    """(id, title, kind) of every current document, for pickers."""
    from narratives.store.tables import documents

    rows = connection.execute(
        select(documents.c.id, documents.c.title, documents.c.kind)
        .where(documents.c.current.is_(True))
        .order_by(documents.c.kind, documents.c.title, documents.c.id)
    )
    return [(int(i), str(t), str(k)) for i, t, k in rows]
