"""What the blog-split heuristic sees in a line: page chrome, date and byline lines, and how much
a line looks like a post's title.

:func:`title_score` scores a short title-like line standing alone (between blank lines, or with a
date or byline straight under it) from its cues: title case; a hashtag, colon, brackets or number;
the start of the file or a line after page chrome, a "read more" line or a wide gap; a date or
byline under it; prose after it. :func:`is_chrome` knows navigation, sharing, cookie, comment and
tag lines, which are never a title; :func:`post_facts` takes a post's date and author from the lines
around its title. Lines are :class:`Line` records from :func:`split_lines`, whose offsets index the
file's text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

MAX_TITLE_WORDS = 15
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
MAX_SHORT_TITLE_WORDS = 8  # a first line with text straight under it: title case, or this short


@dataclass(frozen=True)
class Line:
    """One line of a file's text, with its offsets and its stripped content."""

    start: int
    end: int  # offset after the line's content, before its newline
    next_start: int  # offset of the following line
    number: int  # 1-based
    content: str  # stripped


def split_lines(text: str) -> list[Line]:
    """Every line of ``text`` (split as ``str.splitlines`` does), numbered from 1."""
    lines, offset = [], 0
    for number, raw in enumerate(text.splitlines(keepends=True), start=1):
        content = raw.rstrip("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
        lines.append(Line(offset, offset + len(content), offset + len(raw), number, content.strip()))
        offset += len(raw)
    return lines


def is_chrome(content: str) -> bool:
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


def _is_meta(content: str) -> bool:
    """A date, byline or reading-time line (under a title)."""
    short = len(content.split()) <= 12
    return short and bool(DATE_RE.search(content) or BYLINE_RE.match(content) or META_START_RE.match(content))


def post_facts(lines: list[Line], index: int) -> tuple[str | None, str | None]:
    """Date and author from the date, byline and chrome lines straight under the title at
    ``index`` (a date may also stand on the line just above it, as blog platforms print it)."""
    near: list[str] = []
    after = index + 1
    while after < len(lines) and len(near) < 3:
        content = lines[after].content
        if content and not is_edge_furniture(content):
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


def is_edge_furniture(content: str) -> bool:
    """Chrome, or a date or byline line, that ends a post ("Posted by Ruth at 09:14")."""
    return is_chrome(content) or _is_meta(content)


def _neighbours(lines: list[Line], index: int) -> tuple[int | None, int, int | None]:
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


def title_score(lines: list[Line], index: int, first_text: int) -> tuple[float, tuple[str, ...]]:
    """0..1: how much line ``index`` looks like the title of a post, and the cues that say so
    (``first_text``: the index of the file's first line that is not chrome, a date or a byline)."""
    content = lines[index].content
    if not content or is_chrome(content) or _is_meta(content) or not _title_shape(content):
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
    elif is_edge_furniture(context.before) or LEAD_OUT_RE.match(context.before) or context.blanks >= 2:
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


def _context(lines: list[Line], index: int, first_text: int) -> _Context | None:
    """The line's surroundings, or None where they rule out a title: text straight above it, a
    caption next to it, a paragraph after it that continues a sentence, text straight under it
    (allowed only under a date or byline, or for a short or title-cased first line)."""
    content = lines[index].content
    previous, blanks, following = _neighbours(lines, index)
    before = lines[previous].content if previous is not None else ""
    if blanks == 0 and not is_edge_furniture(before):
        return None
    after = index + 1
    while after < len(lines) and (not lines[after].content or is_edge_furniture(lines[after].content)):
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
