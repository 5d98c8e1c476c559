"""Coloured highlights of a document's codes, as escaped HTML (no Streamlit here: testable alone).

The marks come from :func:`narratives.review.marks.document_marks` and are cut into pieces by
:func:`narratives.review.marks.pieces`; :func:`highlight_html` only renders them: spans coloured by
code, with a hover title saying code, coder, confidence and status; speaker turns of a transcript
become their own blocks.

Colour is never the only sign of a code: where a mark begins, a text label names the code and its
status (read by screen readers, focusable with the keyboard, with the same title), and the line
under a span says its status (solid: accepted or coded by hand, dashed: suggested, struck through:
rejected).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

from narratives.review.marks import Mark, pieces
from narratives.schema import Code, Turn

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22")


def code_colours(codes: Sequence[Code]) -> dict[str, str]:
    return {code.id: code.colour or PALETTE[i % len(PALETTE)] for i, code in enumerate(codes)}


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
    line = "dashed" if all(m.status == "suggested" for m in covering) else "solid"
    style = f"background:{background};border-bottom:2px {line} {colours_here[0]};" + (
        "text-decoration:line-through;" if rejected else ""
    )
    title = html.escape("; ".join(_title(m, names) for m in covering), quote=True)
    codes = html.escape(" ".join(sorted({m.code_id for m in covering})), quote=True)
    return f'<span class="code-mark" data-codes="{codes}" title="{title}" style="{style}">{body}</span>'


def _label(mark: Mark, colours: Mapping[str, str], names: Mapping[str, str]) -> str:
    """The visible name of a code where its mark begins (the title repeats the details)."""
    name = html.escape(names.get(mark.code_id, mark.code_id))
    status = "coded by hand" if mark.status == "hand" else mark.status
    title = html.escape(_title(mark, names), quote=True)
    colour = colours.get(mark.code_id, PALETTE[0])
    return (
        f'<span class="code-label" tabindex="0" data-code="{html.escape(mark.code_id, quote=True)}" '
        f'title="{title}" style="border:1px solid {colour};border-left:0.45em solid {colour};'
        f"border-radius:3px;padding:0 0.3em;margin:0 0.2em;font-size:0.75em;background:#ffffff;"
        f'color:#262730;white-space:nowrap">{name} · {html.escape(status)}</span>'
    )


def _highlight_range(
    text: str,
    start: int,
    end: int,
    marks: Sequence[Mark],
    colours: Mapping[str, str],
    names: Mapping[str, str],
) -> str:
    parts: list[str] = []
    for piece in pieces(start, end, marks):
        starting = [m for m in piece.marks if m.start == piece.start or piece.start == start]
        parts.extend(_label(m, colours, names) for m in starting)
        parts.append(_span(text[piece.start : piece.end], list(piece.marks), colours, names))
    return "".join(parts)


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
