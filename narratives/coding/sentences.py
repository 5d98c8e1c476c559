"""Where a text's sentences are: the one splitter the ensemble's sentence pooling and the passage
coder share (a break after ., ! or ? and white space, or at a line break)."""

from __future__ import annotations

import re

SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+|\s*\n\s*")


def sentence_spans(text: str, min_chars: int = 15) -> list[tuple[int, int]]:
    """(start, end) of the sentences of ``text`` with at least ``min_chars`` characters, trimmed;
    [] when there are fewer than two."""
    spans, start = [], 0
    for found in [*SENTENCE_BREAK.finditer(text), None]:
        end = found.start() if found is not None else len(text)
        piece = text[start:end]
        left = start + len(piece) - len(piece.lstrip())
        right = start + len(piece.rstrip())
        if right - left >= min_chars:
            spans.append((left, right))
        start = found.end() if found is not None else len(text)
    return spans if len(spans) > 1 else []
