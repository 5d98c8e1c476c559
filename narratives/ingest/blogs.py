"""A file holding several blog posts: split into one Document per post.

Each post's Document text is its body exactly as it stands in the file (a slice of the decoded
text), so offsets found later can be mapped back to the file. The split is visible
(:func:`preview_split`) and adjustable: choose a strategy with ``split=`` or add ``---`` lines or
``# Title`` headings to the file.

Strategies:

- ``headings``: a post starts at each Markdown heading of the highest level present (``# Title``).
- ``markers``: posts are separated by lines that are exactly ``---``; a post may start with a
  ``title: ...`` line (a chunk of only ``key: value`` lines is front matter for the next post).
- ``heuristic``: a post starts at a title-like line scored at :data:`ACCEPT_SCORE` or more by
  :func:`~narratives.ingest.blog_cues.title_score` and followed by at least :data:`MIN_POST_WORDS`
  words; the score is the post's ``confidence``. Page chrome (navigation, sharing, cookie, comment
  and tag lines, recognised in :mod:`.blog_cues`) is never a title and is trimmed from the start
  and end of each post; the lines left out are listed in :class:`BlogSplit` so a note can name them.
- ``auto``: headings if any, else markers if any, else the heuristic.
- ``none``: the whole file is one post.
"""

from __future__ import annotations

import logging
import re
from bisect import bisect_right
from dataclasses import dataclass, field, replace
from pathlib import Path

from narratives.errors import IngestError
from narratives.ingest.blog_cues import (
    MAX_TITLE_WORDS,
    Line,
    is_chrome,
    is_edge_furniture,
    post_facts,
    split_lines,
    title_score,
)
from narratives.ingest.text import HEADING_RE, source_format
from narratives.schema import Document, SourceKind

logger = logging.getLogger(__name__)

SPLIT_STRATEGIES = ("auto", "headings", "markers", "heuristic", "none")
MIN_POST_WORDS = 40
MARKER_RE = re.compile(r"^---[ \t]*$")
FRONT_MATTER_RE = re.compile(r"^\s*([A-Za-z_][\w-]*)\s*:\s*(.*?)\s*$")
ACCEPT_SCORE = 0.5
MIN_HEADER_WORDS = 12  # text before the first title shorter than this is a page header, not a post
LOW_CONFIDENCE = 0.7


@dataclass(frozen=True)
class PostSpan:
    """One post found in a file: its title and the ``[start, end)`` offsets of its body."""

    title: str
    start: int
    end: int
    line: int = 1  # 1-based line where the post (its title) starts, for previews
    confidence: float = 1.0  # 0..1: how strongly the cues say a post starts here with this title
    cues: tuple[str, ...] = ()  # the cues behind the confidence, for previews and notes
    date: str | None = None  # ISO date from a date line under (or just above) the title
    author: str | None = None  # from a byline under the title ("By Sam Okafor", "Posted ... by Sam")


@dataclass(frozen=True)
class BlogSplit:
    """The posts a strategy found and the page-chrome lines it left out of every post."""

    strategy: str
    posts: list[PostSpan]
    chrome: list[tuple[int, str]] = field(default_factory=list)  # (1-based line, text)


def split_posts(text: str, split: str = "auto") -> BlogSplit:
    """The posts a split strategy finds, and the page-chrome lines left out of them."""
    if split not in SPLIT_STRATEGIES:
        raise IngestError(
            f"unknown split strategy '{split}'.",
            fix=f"use one of: {', '.join(SPLIT_STRATEGIES)}.",
        )
    lines = split_lines(text)
    strategy = resolve_strategy(text, split, lines)
    chrome: list[tuple[int, str]] = []
    if strategy == "headings":
        spans = _split_headings(text, lines)
    elif strategy == "markers":
        spans = _split_markers(text, lines)
    elif strategy == "heuristic":
        spans = _split_heuristic(text, lines, chrome)
    else:
        spans = [_untitled_span(text, 0, len(text), 1)]
    posts = [replace(s, title=" ".join(s.title.split())) for s in spans if s is not None and s.end > s.start]
    return BlogSplit(strategy, posts, sorted(set(chrome)))


def preview_split(text: str, split: str = "auto") -> list[PostSpan]:
    """The posts a split strategy finds, without building Documents (for ``--split-preview``)."""
    return split_posts(text, split).posts


def blog_documents(
    text: str, path: str | Path, split: str = "auto", notes: list[str] | None = None
) -> list[Document]:
    """One Document per post; ``text`` is the post body exactly as in the file. With ``notes``,
    what the user should check is added to it (see :func:`split_notes`)."""
    result = split_posts(text, split)
    documents = []
    for index, span in enumerate(result.posts, start=1):
        documents.append(
            Document(
                kind=SourceKind.blog,
                title=span.title or f"{Path(path).stem} (post {index})",
                text=text[span.start : span.end],
                author=span.author,
                date=span.date,
                path=f"{path}#post-{index}",
                source_format=source_format(path),
            )
        )
    logger.info("%s: %d post(s) with split=%s", path, len(documents), result.strategy)
    if notes is not None:
        notes.extend(split_notes(path, result))
    return documents


def split_notes(path: str | Path, result: BlogSplit) -> list[str]:
    """Notes for the user: how many posts, which splits are unsure, which chrome lines were left out."""
    notes = []
    if len(result.posts) > 1:
        notes.append(
            f"{path}: split into {len(result.posts)} posts ({result.strategy}); check with --split-preview"
        )
    for index, post in enumerate(result.posts, start=1):
        if post.confidence < LOW_CONFIDENCE:
            why = f" ({', '.join(post.cues)})" if post.cues else ""
            notes.append(
                f"{path}: post {index} '{post.title}' (line {post.line}) found with low confidence "
                f"{post.confidence:.2f}{why}; check with --split-preview, or mark posts with "
                "'# Title' lines"
            )
    if result.chrome:
        shown = ", ".join(f"line {number} '{content}'" for number, content in result.chrome[:6])
        more = f" and {len(result.chrome) - 6} more" if len(result.chrome) > 6 else ""
        notes.append(
            f"{path}: left out {len(result.chrome)} line(s) of page chrome (navigation, sharing, "
            f"cookie, comment or tag lines) at the edges of posts: {shown}{more}"
        )
    return notes


def resolve_strategy(text: str, split: str = "auto", lines: list[Line] | None = None) -> str:
    """The strategy ``auto`` stands for in this text (other strategies are returned as given)."""
    if split != "auto":
        return split
    return _auto_strategy(lines if lines is not None else split_lines(text))


def _auto_strategy(lines: list[Line]) -> str:
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


def _spans_from_starts(text: str, lines: list[Line], starts: list[tuple[int, str]]) -> list[PostSpan | None]:
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


def _split_headings(text: str, lines: list[Line]) -> list[PostSpan | None]:
    headings = [(i, HEADING_RE.match(line.content)) for i, line in enumerate(lines)]
    found = [(i, m) for i, m in headings if m]
    if not found:
        return [_untitled_span(text, 0, len(text), 1)]
    top_level = min(len(m.group(1)) for _, m in found)
    starts = [(i, m.group(2).strip()) for i, m in found if len(m.group(1)) == top_level]
    return _spans_from_starts(text, lines, starts)


def _split_markers(text: str, lines: list[Line]) -> list[PostSpan | None]:
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


def _marker_post(text: str, chunk_lines: list[Line], chunk_end: int, title: str | None) -> PostSpan | None:
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


def _split_heuristic(text: str, lines: list[Line], chrome: list[tuple[int, str]]) -> list[PostSpan | None]:
    first_text = next(
        (i for i, line in enumerate(lines) if line.content and not is_edge_furniture(line.content)), -1
    )
    scored = [(i, *title_score(lines, i, first_text)) for i in range(len(lines))]
    candidates = [(i, score, cues) for i, score, cues in scored if score >= ACCEPT_SCORE]
    starts = []
    for position, (index, score, cues) in enumerate(candidates):
        stop = candidates[position + 1][0] if position + 1 < len(candidates) else len(lines)
        body = [line for line in lines[index + 1 : stop] if not is_chrome(line.content)]
        if sum(len(line.content.split()) for line in body) >= MIN_POST_WORDS:
            starts.append((index, lines[index].content, score, cues))
    spans: list[PostSpan | None] = []
    first = lines[starts[0][0]].start if starts else len(text)
    line_starts = [line.start for line in lines]
    preamble = _untitled_span(text, 0, first, 1)
    preamble = _without_chrome(text, lines, line_starts, preamble, chrome, untitled=True)
    if (
        preamble is not None
        and starts
        and len(text[preamble.start : preamble.end].split()) < MIN_HEADER_WORDS
    ):
        chrome.extend(_line_texts(lines, preamble.start, preamble.end))  # a site name or page header
        preamble = None
    if preamble is not None:
        cue = "text before the first title" if starts else "no title line found"
        spans.append(replace(preamble, confidence=0.5 if starts else 0.6, cues=(cue,)))
    for position, (index, title, score, cues) in enumerate(starts):
        body_end = lines[starts[position + 1][0]].start if position + 1 < len(starts) else len(text)
        start, end = _trim(text, lines[index].next_start, body_end)
        span = PostSpan(
            title, start, end, lines[index].number, round(score, 2), cues, *post_facts(lines, index)
        )
        spans.append(_without_chrome(text, lines, line_starts, span, chrome))
    return spans


def _line_texts(lines: list[Line], start: int, end: int) -> list[tuple[int, str]]:
    return [(line.number, line.content) for line in lines if line.content and start <= line.start < end]


def _without_chrome(
    text: str,
    lines: list[Line],
    line_starts: list[int],
    span: PostSpan | None,
    chrome: list[tuple[int, str]],
    untitled: bool = False,
) -> PostSpan | None:
    """The span with page-chrome lines trimmed from its start and end (each recorded in ``chrome``)."""
    if span is None:
        return None
    start, end = span.start, span.end
    first = bisect_right(line_starts, start) - 1
    while start < end and (not lines[first].content or is_chrome(lines[first].content)):
        if lines[first].content:
            chrome.append((lines[first].number, lines[first].content))
        start, end = _trim(text, lines[first].next_start, end)
        first = bisect_right(line_starts, start) - 1
    last = bisect_right(line_starts, end - 1) - 1
    while start < end and (not lines[last].content or is_edge_furniture(lines[last].content)):
        if lines[last].content:
            chrome.append((lines[last].number, lines[last].content))
        start, end = _trim(text, start, lines[last].start)
        last = bisect_right(line_starts, end - 1) - 1
    if start >= end:
        return None
    if untitled and start != span.start:  # its title came from a chrome line: take the new first line
        return replace(_untitled_span(text, start, end, lines[first].number) or span, start=start, end=end)
    return replace(span, start=start, end=end)
