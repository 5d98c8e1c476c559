"""A file holding several blog posts: split into one Document per post.

Each post's Document text is its body exactly as it stands in the file (a slice of the decoded
text), so offsets found later can be mapped back to the file. The split is visible
(:func:`preview_split`) and adjustable: choose a strategy with ``split=`` or add ``---`` lines or
``# Title`` headings to the file.

Strategies:

- ``headings``: a post starts at each Markdown heading of the highest level present (``# Title``).
- ``markers``: posts are separated by lines that are exactly ``---``; a post may start with a
  ``title: ...`` line (a chunk of only ``key: value`` lines is front matter for the next post).
- ``heuristic``: a post starts at a short title-like line standing alone (between blank lines, or
  with a date or byline straight under it) and followed by enough text. Each such line is scored
  from its cues (title case; a hashtag, colon, brackets or number; the start of the file or a line
  after page chrome, a "read more" line or a wide gap; a date or byline under it; prose after it),
  and the score is the post's ``confidence``. Page chrome (navigation, sharing, cookie, comment and
  tag lines) is never a title and is trimmed from the start and end of each post; the lines left
  out are listed in :class:`BlogSplit` so a note can name them.
- ``auto``: headings if any, else markers if any, else the heuristic.
- ``none``: the whole file is one post.
"""

from __future__ import annotations

import logging
import re
from bisect import bisect_right
from dataclasses import dataclass, field, replace
from datetime import datetime
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
# page chrome: whole lines (case-insensitive, a trailing ':' or '…' ignored) and line openings
_CHROME_LINES = r"""accessibility(?: statement)?|skip to (?:the )?(?:main )?content|skip (?:to )?navigation|
(?:main )?menu|navigation|search(?: for| this site)?|home|share(?: this)?(?: post| article| page| story)?|
tweet|pin it|e-?mail|print|like this|like|(?:like )?loading\.*|twitter|facebook|linkedin|whatsapp|reddit|
pinterest|tumblr|pocket|telegram|write|leave an? (?:comment|reply)|leave comment|
post a comment|add a comment|comments?|no comments|\d+ (?:comments?|likes?|responses?|followers)|reply|
follow|following|listen|sign (?:in|up)|log ?in|register|subscribe|get started|open in app|
previous(?: post)?|next(?: post)?|older posts|newer posts|read more|continue reading|back to top|
related(?: posts| articles| stories)?|you may also like|advertisements?|sponsored|cookie settings|
accept(?: all)?(?: cookies)?|reject(?: all)?|about the author|contact(?: us)?|privacy(?: policy)?|
terms(?: of use| and conditions)?|sitemap|powered by .{0,40}|(?:more|recommended) from .{0,40}|blog at wordpress\.com\.?"""
CHROME_LINE_RE = re.compile(rf"(?:{_CHROME_LINES.replace(chr(10), '')})[:…]?", re.IGNORECASE)
CHROME_START_RE = re.compile(
    r"(?:posted in|filed under|tagged|tags|categories|category|last updated|page author|we use cookies|"
    r"this (?:web)?site uses cookies|by continuing to use|cookies? (?:policy|settings|notice)|share this|"
    r"originally published|copyright|all rights reserved)\b|labels(?=\s*:)|email this|share (?:to|on) |©",
    re.IGNORECASE,
)
TAG_SEPARATORS_RE = re.compile(r"\s*[,|·•]\s*")
# a line that leads out of a post to another ("You can also see ...", "Read more")
LEAD_OUT_RE = re.compile(
    r"^(?:you can (?:also )?(?:see|read|watch|find|view|listen)|read more|see also|related|continue reading|"
    r"further reading|more (?:posts|from)|this (?:post|article) (?:was )?(?:first|originally))\b",
    re.IGNORECASE,
)
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
DATE_RE = re.compile(
    rf"\b(?:\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH},?\s+\d{{4}}|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    r"|\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4})\b",
    re.IGNORECASE,
)
DATE_FORMATS = ("%d %B %Y", "%d %b %Y", "%B %d %Y", "%b %d %Y", "%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y")
BY_NAME_RE = re.compile(r"\b[Bb]y\s+(?P<name>[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+){0,3})")
META_START_RE = re.compile(r"^(?:posted|published|updated|\d+\s+min(?:ute)?s?\s+read)\b", re.IGNORECASE)
STRONG_MARK_RE = re.compile(r"#\w|\w:\s+\w")  # "#socialcare", "Care at home: a guide"
WEAK_MARK_RE = re.compile(r"[()\[\]]|\d|\s[–—|]\s")
ACCEPT_SCORE = 0.5
MAX_SHORT_TITLE_WORDS = 8  # a first line with text straight under it: title case, or this short
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


@dataclass(frozen=True)
class _Line:
    start: int
    end: int  # offset after the line's content, before its newline
    next_start: int  # offset of the following line
    number: int  # 1-based
    content: str  # stripped


def split_posts(text: str, split: str = "auto") -> BlogSplit:
    """The posts a split strategy finds, and the page-chrome lines left out of them."""
    if split not in SPLIT_STRATEGIES:
        raise IngestError(
            f"unknown split strategy '{split}'.",
            fix=f"use one of: {', '.join(SPLIT_STRATEGIES)}.",
        )
    lines = _lines(text)
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


def _split_heuristic(text: str, lines: list[_Line], chrome: list[tuple[int, str]]) -> list[PostSpan | None]:
    first_text = next(
        (i for i, line in enumerate(lines) if line.content and not _is_edge_furniture(line.content)), -1
    )
    scored = [(i, *_title_score(lines, i, first_text)) for i in range(len(lines))]
    candidates = [(i, score, cues) for i, score, cues in scored if score >= ACCEPT_SCORE]
    starts = []
    for position, (index, score, cues) in enumerate(candidates):
        stop = candidates[position + 1][0] if position + 1 < len(candidates) else len(lines)
        body = [line for line in lines[index + 1 : stop] if not _is_chrome(line.content)]
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
            title, start, end, lines[index].number, round(score, 2), cues, *_post_facts(lines, index)
        )
        spans.append(_without_chrome(text, lines, line_starts, span, chrome))
    return spans


def _is_chrome(content: str) -> bool:
    """Navigation, sharing, cookie, comment and tag lines of a web page."""
    if not content:
        return False
    if CHROME_LINE_RE.fullmatch(content) or CHROME_START_RE.match(content):
        return True
    words = content.split()
    if len(words) >= 3 and all(w.startswith("#") for w in words):
        return True
    items = TAG_SEPARATORS_RE.split(content)
    return len(items) >= 4 and all(0 < len(i.split()) <= 3 and i[-1:] not in ".!?" for i in items)


def _line_texts(lines: list[_Line], start: int, end: int) -> list[tuple[int, str]]:
    return [(line.number, line.content) for line in lines if line.content and start <= line.start < end]


def _is_meta(content: str) -> bool:
    """A date, byline or reading-time line (under a title)."""
    short = len(content.split()) <= 12
    return short and bool(DATE_RE.search(content) or BYLINE_RE.match(content) or META_START_RE.match(content))


def _without_chrome(
    text: str,
    lines: list[_Line],
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
    while start < end and (not lines[first].content or _is_chrome(lines[first].content)):
        if lines[first].content:
            chrome.append((lines[first].number, lines[first].content))
        start, end = _trim(text, lines[first].next_start, end)
        first = bisect_right(line_starts, start) - 1
    last = bisect_right(line_starts, end - 1) - 1
    while start < end and (not lines[last].content or _is_edge_furniture(lines[last].content)):
        if lines[last].content:
            chrome.append((lines[last].number, lines[last].content))
        start, end = _trim(text, start, lines[last].start)
        last = bisect_right(line_starts, end - 1) - 1
    if start >= end:
        return None
    if untitled and start != span.start:  # its title came from a chrome line: take the new first line
        return replace(_untitled_span(text, start, end, lines[first].number) or span, start=start, end=end)
    return replace(span, start=start, end=end)


def _post_facts(lines: list[_Line], index: int) -> tuple[str | None, str | None]:
    """Date and author from the date, byline and chrome lines straight under the title at
    ``index`` (a date may also stand on the line just above it, as blog platforms print it)."""
    near: list[str] = []
    after = index + 1
    while after < len(lines) and len(near) < 3:
        content = lines[after].content
        if content and not _is_edge_furniture(content):
            break
        if content:
            near.append(content)
        after += 1
    previous, _, _ = _neighbours(lines, index)
    if previous is not None and _is_meta(lines[previous].content):
        near.append(lines[previous].content)
    date = next((iso for content in near if (iso := _iso_date(content))), None)
    bylines = [BY_NAME_RE.search(c) for c in near if BYLINE_RE.match(c) or META_START_RE.match(c)]
    return date, next((m["name"] for m in bylines if m), None)


def _iso_date(content: str) -> str | None:
    """The date a line gives, as YYYY-MM-DD (day before month where it is written with slashes)."""
    match = DATE_RE.search(content)
    if match is None:
        return None
    raw = re.sub(r"(?<=\d)(?:st|nd|rd|th)\b", "", match.group(0)).replace(",", " ").replace(".", " ")
    raw = re.sub(r"(?i)\bsept\b", "Sep", " ".join(raw.split()))
    for date_format in DATE_FORMATS:
        try:
            return datetime.strptime(raw, date_format).date().isoformat()
        except ValueError:
            continue
    return None


def _is_edge_furniture(content: str) -> bool:
    """Chrome, or a date or byline line, that ends a post ("Posted by Ruth at 09:14")."""
    return _is_chrome(content) or _is_meta(content)


def _neighbours(lines: list[_Line], index: int) -> tuple[int | None, int, int | None]:
    """The previous content line, the blank lines before this one, and the next content line."""
    previous, blanks = index - 1, 0
    while previous >= 0 and not lines[previous].content:
        previous, blanks = previous - 1, blanks + 1
    following = index + 1
    while following < len(lines) and not lines[following].content:
        following += 1
    return (
        previous if previous >= 0 else None,
        blanks if previous >= 0 else 99,
        following if following < len(lines) else None,
    )


@dataclass(frozen=True)
class _Context:
    """What stands around a title-like line."""

    before: str  # the previous non-blank line
    blanks: int  # blank lines between it and this one
    at_top: bool  # nothing but blanks, chrome, dates and bylines before this line
    meta_below: bool  # the next non-blank line is a date or byline
    next_text: str  # the next line that is neither chrome nor date nor byline


def _title_score(lines: list[_Line], index: int, first_text: int) -> tuple[float, tuple[str, ...]]:
    """0..1: how much line ``index`` looks like the title of a post, and the cues that say so
    (``first_text``: the index of the file's first line that is not chrome, a date or a byline)."""
    content = lines[index].content
    if not content or _is_chrome(content) or _is_meta(content) or not _title_shape(content):
        return 0.0, ()
    context = _context(lines, index, first_text)
    if context is None:
        return 0.0, ()
    title_cased = _title_cased(content)
    cues = [("title case", 0.3)] if title_cased else []
    if STRONG_MARK_RE.search(content):
        cues.append(("hashtag or colon", 0.15))
    if WEAK_MARK_RE.search(content):
        cues.append(("brackets, number or dash", 0.1))
    if context.at_top:
        cues.append(("start of the file", 0.2))
    elif _is_edge_furniture(context.before) or LEAD_OUT_RE.match(context.before) or context.blanks >= 2:
        cues.append(("after page chrome, a date, a 'read more' line or a gap", 0.2))
    if context.meta_below:
        cues.append(("date or byline under it", 0.3))
    if len(context.next_text.split()) >= 12 and context.next_text[-1:] in '.!?”’"':
        cues.append(("prose follows", 0.1))
    if content[-1] in "?!":
        cues.append(("ends like a sentence", -0.25))
    if len(content.split()) > 10 and not title_cased:
        cues.append(("long for a title", -0.15))
    score = 0.35 + sum(weight for _, weight in cues)
    return max(0.0, min(1.0, score)), tuple(cue for cue, _ in cues)


def _context(lines: list[_Line], index: int, first_text: int) -> _Context | None:
    """The line's surroundings, or None where they rule out a title: text straight above it, a
    caption next to it, a paragraph after it that continues a sentence, text straight under it
    (allowed only under a date or byline, or for a short or title-cased first line)."""
    content = lines[index].content
    previous, blanks, following = _neighbours(lines, index)
    before = lines[previous].content if previous is not None else ""
    if blanks == 0 and not _is_edge_furniture(before):
        return None
    after = index + 1
    while after < len(lines) and (not lines[after].content or _is_edge_furniture(lines[after].content)):
        after += 1
    next_text = lines[after].content if after < len(lines) else ""
    if CREDIT_RE.search(content) or CREDIT_RE.search(next_text) or BYLINE_RE.match(content):
        return None
    if next_text[:1].islower():
        return None
    at_top = index == first_text
    meta_below = following is not None and _is_meta(lines[following].content)
    alone = following is None or following > index + 1
    short = len(content.split()) <= MAX_SHORT_TITLE_WORDS or _title_cased(content)
    if not (alone or meta_below or (at_top and short)):
        return None
    return _Context(before, blanks, at_top, meta_below, next_text)


def _title_shape(content: str) -> bool:
    """Short, starts with a capital, digit or hashtag, and does not end or begin like running prose."""
    words = [w.strip("‘’'\"“”()[],.;:!?–—-#") for w in content.split()]
    words = [w for w in words if any(ch.isalpha() for ch in w)]
    first_letter = next((ch for ch in content if ch.isalpha()), "")
    if not words or len(content.split()) > MAX_TITLE_WORDS:
        return False
    if not (first_letter.isupper() or content[0].isdigit() or content[0] == "#"):
        return False
    if content[-1] in ".,;:…" or LIST_ITEM_RE.match(content) or "http" in content.lower():
        return False
    if words[-1].lower() in LEAD_IN_ENDINGS or words[0].lower() in DISCOURSE_WORDS:
        return False
    return any(w.lower() not in STOPWORDS for w in words)


def _title_cased(content: str) -> bool:
    """Most content words start with a capital (or are numbers)."""
    words = [w.strip("‘’'\"“”()[],.;:!?–—-#") for w in content.split()]
    content_words = [w for w in words if any(ch.isalpha() for ch in w) and w.lower() not in STOPWORDS]
    if not content_words:
        return False
    capitalised = sum(1 for w in content_words if w[0].isupper() or w[0].isdigit())
    return capitalised / len(content_words) >= 0.6
