"""A file holding several blog posts: split into one Document per post.

Each post's Document text is its body exactly as it stands in the file (a slice of the decoded
text), so offsets found later can be mapped back to the file. The split is visible
(:func:`preview_split`) and adjustable: choose a strategy with ``split=`` or add ``---`` lines or
``# Title`` headings to the file.

Strategies:

- ``headings``: a post starts at each Markdown heading of the highest level present (``# Title``).
- ``markers``: posts are separated by lines that are exactly ``---``; a post may start with a
  ``title: ...`` line (a chunk of only ``key: value`` lines is front matter for the next post).
- ``heuristic``: a post starts at a short title-like line standing alone between blank lines
  (see :func:`_is_title_line`) and followed by enough text.
- ``auto``: headings if any, else markers if any, else the heuristic.
- ``none``: the whole file is one post.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from pathlib import Path

from narratives.errors import IngestError
from narratives.ingest.text import HEADING_RE, source_format
from narratives.schema import Document, SourceKind

logger = logging.getLogger(__name__)

SPLIT_STRATEGIES = ("auto", "headings", "markers", "heuristic", "none")
MAX_TITLE_WORDS = 15
MIN_POST_WORDS = 40
MARKER_RE = re.compile(r"^---[ \t]*$")
FRONT_MATTER_RE = re.compile(r"^\s*([A-Za-z_][\w-]*)\s*:\s*(.*?)\s*$")
LIST_ITEM_RE = re.compile(r"^\s*(?:[-*+•–—]|\d+[.)])")
CREDIT_RE = re.compile(
    r"@|\bflickr\b|\bvia wikipedia\b|^(?:image|photo|picture)(?: credit)?\b|©|\bcredits?:",
    re.IGNORECASE,
)
BYLINE_RE = re.compile(r"^(?:[Bb]y|[Pp]osted by|[Ww]ritten by)\s+[A-Z]")
_STOPWORDS = """a an the and or but nor of in on at to for with by from as is are was were be been it its
i my me we our you your he his she her they their this that these those so not no do does did vs via
than then"""
STOPWORDS = frozenset(_STOPWORDS.split())
# a line ending in one of these leads into what follows ("The main recommendations are")
_LEAD_IN = "a an the and or of to with for as by is are was were says said include includes including that"
LEAD_IN_ENDINGS = frozenset(_LEAD_IN.split())
_DISCOURSE = "and but so also firstly secondly thirdly finally lastly however meanwhile anyway"
DISCOURSE_WORDS = frozenset(_DISCOURSE.split())


@dataclass(frozen=True)
class PostSpan:
    """One post found in a file: its title and the ``[start, end)`` offsets of its body."""

    title: str
    start: int
    end: int
    line: int = 1  # 1-based line where the post (its title) starts, for previews


@dataclass(frozen=True)
class _Line:
    start: int
    end: int  # offset after the line's content, before its newline
    next_start: int  # offset of the following line
    number: int  # 1-based
    content: str  # stripped


def preview_split(text: str, split: str = "auto") -> list[PostSpan]:
    """The posts a split strategy finds, without building Documents (for ``--split-preview``)."""
    if split not in SPLIT_STRATEGIES:
        raise IngestError(
            f"unknown split strategy '{split}'.",
            fix=f"use one of: {', '.join(SPLIT_STRATEGIES)}.",
        )
    lines = _lines(text)
    split = resolve_strategy(text, split, lines)
    if split == "headings":
        spans = _split_headings(text, lines)
    elif split == "markers":
        spans = _split_markers(text, lines)
    elif split == "heuristic":
        spans = _split_heuristic(text, lines)
    else:
        spans = [_untitled_span(text, 0, len(text), 1)]
    return [replace(s, title=" ".join(s.title.split())) for s in spans if s is not None and s.end > s.start]


def blog_documents(text: str, path: str | Path, split: str = "auto") -> list[Document]:
    """One Document per post; ``text`` is the post body exactly as in the file."""
    documents = []
    for index, span in enumerate(preview_split(text, split), start=1):
        documents.append(
            Document(
                kind=SourceKind.blog,
                title=span.title or f"{Path(path).stem} (post {index})",
                text=text[span.start : span.end],
                path=f"{path}#post-{index}",
                source_format=source_format(path),
            )
        )
    logger.info("%s: %d post(s) with split=%s", path, len(documents), split)
    return documents


def resolve_strategy(text: str, split: str = "auto", lines: list[_Line] | None = None) -> str:
    """The strategy ``auto`` stands for in this text (other strategies are returned as given)."""
    if split != "auto":
        return split
    return _auto_strategy(lines if lines is not None else _lines(text))


def _lines(text: str) -> list[_Line]:
    lines, offset = [], 0
    for number, raw in enumerate(text.splitlines(keepends=True), start=1):
        content = raw.rstrip("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
        lines.append(_Line(offset, offset + len(content), offset + len(raw), number, content.strip()))
        offset += len(raw)
    return lines


def _auto_strategy(lines: list[_Line]) -> str:
    if any(HEADING_RE.match(line.content) for line in lines):
        return "headings"
    if any(MARKER_RE.match(line.content) for line in lines):
        return "markers"
    return "heuristic"


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _untitled_span(text: str, start: int, end: int, line: int) -> PostSpan | None:
    start, end = _trim(text, start, end)
    if start == end:
        return None
    first_line = text[start:end].splitlines()[0].strip()
    words = first_line.split()
    title = first_line if len(words) <= MAX_TITLE_WORDS else " ".join(words[:8]) + " …"
    return PostSpan(title.lstrip("#").strip(), start, end, line)


def _spans_from_starts(text: str, lines: list[_Line], starts: list[tuple[int, str]]) -> list[PostSpan | None]:
    """Posts from (line index of title, title) pairs; text before the first is a preamble post."""
    spans: list[PostSpan | None] = []
    if not starts:
        return [_untitled_span(text, 0, len(text), 1)]
    spans.append(_untitled_span(text, 0, lines[starts[0][0]].start, 1))
    for position, (index, title) in enumerate(starts):
        body_end = lines[starts[position + 1][0]].start if position + 1 < len(starts) else len(text)
        start, end = _trim(text, lines[index].next_start, body_end)
        spans.append(PostSpan(title, start, end, lines[index].number))
    return spans


def _split_headings(text: str, lines: list[_Line]) -> list[PostSpan | None]:
    headings = [(i, HEADING_RE.match(line.content)) for i, line in enumerate(lines)]
    found = [(i, m) for i, m in headings if m]
    if not found:
        return [_untitled_span(text, 0, len(text), 1)]
    top_level = min(len(m.group(1)) for _, m in found)
    starts = [(i, m.group(2).strip()) for i, m in found if len(m.group(1)) == top_level]
    return _spans_from_starts(text, lines, starts)


def _split_markers(text: str, lines: list[_Line]) -> list[PostSpan | None]:
    chunks, chunk_start = [], 0
    for i, line in enumerate(lines):
        if MARKER_RE.match(line.content):
            chunks.append((chunk_start, i))
            chunk_start = i + 1
    chunks.append((chunk_start, len(lines)))
    spans: list[PostSpan | None] = []
    pending_title: str | None = None
    for first, stop in chunks:
        chunk_lines = [line for line in lines[first:stop] if line.content]
        if not chunk_lines:
            continue
        meta = [FRONT_MATTER_RE.match(line.content) for line in chunk_lines]
        if all(meta):
            fields = {m.group(1).lower(): m.group(2) for m in meta if m}
            pending_title = fields.get("title", pending_title)
            continue
        spans.append(_marker_post(text, chunk_lines, lines[stop - 1].next_start, pending_title))
        pending_title = None
    return spans


def _marker_post(text: str, chunk_lines: list[_Line], chunk_end: int, title: str | None) -> PostSpan | None:
    first = chunk_lines[0]
    title_match = re.match(r"(?i)^title\s*:\s*(.+)$", first.content)
    heading = HEADING_RE.match(first.content)
    found = title_match or heading
    if found is not None:
        title = found.group(1 if title_match else 2).strip()
        start, end = _trim(text, first.next_start, chunk_end)
        return PostSpan(title, start, end, first.number)
    span = _untitled_span(text, first.start, chunk_end, first.number)
    if span is not None and title:
        return PostSpan(title, span.start, span.end, span.line)
    return span


def _split_heuristic(text: str, lines: list[_Line]) -> list[PostSpan | None]:
    candidates = [i for i in range(len(lines)) if _is_title_line(lines, i)]
    starts = []
    for position, index in enumerate(candidates):
        stop = candidates[position + 1] if position + 1 < len(candidates) else len(lines)
        words = sum(len(line.content.split()) for line in lines[index + 1 : stop])
        if words >= MIN_POST_WORDS:
            starts.append((index, lines[index].content))
    return _spans_from_starts(text, lines, starts)


def _is_title_line(lines: list[_Line], index: int) -> bool:
    """A short, title-cased line alone between blank lines that is not a caption or lead-in."""
    content = lines[index].content
    before_blank = index == 0 or not lines[index - 1].content
    after_blank = index + 1 < len(lines) and not lines[index + 1].content
    if not (content and before_blank and after_blank):
        return False
    next_text = next((line.content for line in lines[index + 1 :] if line.content), "")
    if CREDIT_RE.search(content) or CREDIT_RE.search(next_text) or BYLINE_RE.match(content):
        return False
    if next_text[:1].islower():  # the paragraph after continues a sentence
        return False
    return _looks_like_title(content)


def _looks_like_title(content: str) -> bool:
    words = [w.strip("‘’'\"“”()[],.;:!?–—-") for w in content.split()]
    words = [w for w in words if any(ch.isalpha() for ch in w)]
    first_letter = next((ch for ch in content if ch.isalpha()), "")
    if not words or len(words) > MAX_TITLE_WORDS or not first_letter.isupper():
        return False
    if content[-1] in ".,;:…" or LIST_ITEM_RE.match(content) or "http" in content.lower():
        return False
    if words[-1].lower() in LEAD_IN_ENDINGS:
        return False
    if words[0].lower() in DISCOURSE_WORDS:
        return False
    content_words = [w for w in words if w.lower() not in STOPWORDS]
    if not content_words:
        return False
    capitalised = sum(1 for w in content_words if w[0].isupper() or w[0].isdigit())
    return capitalised / len(content_words) >= 0.6
