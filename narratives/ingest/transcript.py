"""Interview transcripts in plain text with speaker labels (caption files: :mod:`.captions`).

The file text is kept exactly and each turn's content is recorded as offsets
(``text[turn.start:turn.end]`` is what the speaker said, without the label).
:func:`read_transcript` reads either kind of file, handing .vtt/.srt to
:func:`~narratives.ingest.captions.captions_document`.

Labels recognised at the start of a line, optionally after a timestamp (``[00:12:31]``,
``(00:12:31)`` or ``00:12:31``): roles (``Interviewer:``, ``Q:``, ``A:``, ``I:``, ``R:``,
``Respondent:``, ...), codes (``P03:``, ``Participant 3:``, ``Speaker 2:``) and names of up to four
capitalised words (``Jane Smith:``), the latter only when used as a label at least twice, so a
stray ``Note:`` in someone's speech does not start a turn.

Nothing is folded into a neighbour's turn by a damaged line: a label after a timestamp that cannot
be read (``[00:1x:22] Interviewer:``, ``00:12 -- P01:``), a timestamp line that cannot be read, and
a label with a typo (``Interviewr:``) each start a turn of their own with the speaker ``unknown``
(the whole line kept as its content), and are reported with their line numbers in the read notes.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from narratives.ingest.captions import captions_document
from narratives.ingest.checks import DEFAULT_MAX_BYTES, read_text_checked
from narratives.ingest.speakers import (
    NOT_SPEAKERS,
    is_known_label,
    is_name_label,
    normalise_speaker,
    single_participant_code,
)
from narratives.ingest.text import MAX_TITLE_WORDS, source_format
from narratives.schema import Attribute, Document, SourceKind, Turn

logger = logging.getLogger(__name__)

_TS = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?"
TIMESTAMP_RE = re.compile(
    rf"\[(?P<a>{_TS})\]|\((?P<b>{_TS})\)|(?P<c>\d{{1,2}}:\d{{2}}:\d{{2}}(?:[.,]\d{{1,3}})?)"
)
LABEL_LINE_RE = re.compile(
    rf"^[ \t]*(?:(?P<ts>\[{_TS}\]|\({_TS}\)|\d{{1,2}}:\d{{2}}:\d{{2}}(?:[.,]\d{{1,3}})?)[ \t]*)?"
    r"(?:\*\*)?(?P<label>[^\W\d_][\w'’.\- ]{0,38}?)(?:\*\*)?[ \t]*:(?:\*\*)?(?=[ \t]|$)",
    re.MULTILINE,
)
TRAILING_TIMESTAMP_RE = re.compile(rf"\s*(?:\[{_TS}\]|\({_TS}\)|\d{{1,2}}:\d{{2}}:\d{{2}})\s*$")
UNKNOWN_SPEAKER = "unknown"
# junk (digits, brackets, colons, dashes) then a label: a label after a timestamp that does not parse
DAMAGED_LABEL_RE = re.compile(
    r"^[ \t]*(?P<junk>[\[\](){}\d:.,;xXoO \t|*_~>–—-]{1,24}?)[ \t]*"
    r"(?P<label>[^\W\d_][\w'’.\- ]{0,38}?)[ \t]*:(?=[ \t]|$)"
)
STAMP_FORMS = "is not one this reader knows ([hh:mm:ss], (hh:mm:ss) or hh:mm:ss)"
# a line opening with what was meant as a timestamp ("[00:1x:22]", "(0:0x)", "00:1x:22")
STAMP_START_RE = re.compile(
    r"^[ \t]*(?P<stamp>[\[(][ \t]*\d[\dxXoO:.,; \t]*[\])]?|\d{1,2}:[\dxXoO]{1,2}(?::[\dxXoO]{1,3})?(?:[.,]\d{1,3})?)"
    r"(?=[\s:|–—-]|$)"
)
READABLE_TIMESTAMP_LINE_RE = re.compile(rf"[ \t]*(?:\[{_TS}\]|\({_TS}\)|{_TS})[ \t]*")
CODE_TYPO_RE = re.compile(r"^(?:P|R)\s*(?=[\dOoIl]*\d)[\dOoIl]*[OoIl][\dOoIl]*$")  # PO1, P0l; not Pool
TYPO_TARGETS = frozenset({"interviewer", "respondent", "interviewee", "participant", "researcher"})


@dataclass(frozen=True)
class _Label:
    line_start: int
    content_start: int
    label: str
    timestamp: str | None


def find_labels(text: str) -> list[_Label]:
    """Speaker labels at line starts that are roles, codes or names used at least twice."""
    found = [
        _Label(m.start(), m.end(), " ".join(m.group("label").split()), m.group("ts"))
        for m in LABEL_LINE_RE.finditer(text)
    ]
    counts = Counter(f.label.lower() for f in found)
    return [
        f
        for f in found
        if is_known_label(f.label)
        or (is_name_label(f.label) and counts[f.label.lower()] >= 2 and _typo_of(f.label, set()) is None)
    ]


@dataclass(frozen=True)
class UnrecognisedLine:
    """A line that looks like the start of a turn but whose label or timestamp cannot be read."""

    line: int  # 1-based
    start: int  # offset of the line's first non-blank character
    text: str
    reason: str


def find_turns(text: str, participant: str | None = None) -> list[Turn]:
    """Turns with offsets of their content; a turn runs until the next speaker label or
    unrecognised line (see :func:`find_unrecognised_lines`), which starts an ``unknown`` turn."""
    labels = find_labels(text)
    starts: list[tuple[int, int, str | None]] = [(lb.line_start, lb.content_start, lb.label) for lb in labels]
    starts += [(line.start, line.start, None) for line in find_unrecognised_lines(text, labels)]
    starts.sort(key=lambda start: start[0])
    turns = []
    for position, (_, content_start, label) in enumerate(starts):
        stop = starts[position + 1][0] if position + 1 < len(starts) else len(text)
        start, end = _content_bounds(text, content_start, stop)
        if end > start:
            speaker = normalise_speaker(label, participant) if label is not None else UNKNOWN_SPEAKER
            turns.append(Turn(speaker=speaker, start=start, end=end))
    return turns


def find_unrecognised_lines(text: str, labels: list[_Label] | None = None) -> list[UnrecognisedLine]:
    """Lines that look like a turn's start but are not a readable label: a label after a damaged
    timestamp, a timestamp line that does not parse, or a label with a typo."""
    labels = find_labels(text) if labels is None else labels
    at_label = {label.line_start for label in labels}
    speakers = {label.label.lower() for label in labels}
    found = []
    offset = 0
    for number, raw in enumerate(text.splitlines(keepends=True), start=1):
        line = raw.rstrip("\r\n")
        if offset not in at_label and line.strip():
            reason = _unrecognised_reason(line, speakers)
            if reason:
                start = offset + len(line) - len(line.lstrip())
                found.append(UnrecognisedLine(number, start, line.strip(), reason))
        offset += len(raw)
    return found


def _unrecognised_reason(line: str, speakers: set[str]) -> str | None:
    damaged = DAMAGED_LABEL_RE.match(line)
    if damaged and any(ch.isdigit() for ch in damaged["junk"]):
        label = " ".join(damaged["label"].split())
        if is_known_label(label) or label.lower() in speakers:
            return f"the timestamp '{damaged['junk'].strip()}' before '{label}:' {STAMP_FORMS}"
    stamp = STAMP_START_RE.match(line)
    if stamp and ":" in stamp["stamp"] and not READABLE_TIMESTAMP_LINE_RE.fullmatch(stamp["stamp"]):
        return f"the timestamp '{stamp['stamp'].strip()}' {STAMP_FORMS}"
    plain = LABEL_LINE_RE.match(line)
    if plain:
        label = " ".join(plain["label"].split())
        meant = _typo_of(label, speakers)
        if meant:
            return f"'{label}:' looks like the speaker label '{meant}' with a typo"
    return None


def _typo_of(label: str, speakers: set[str]) -> str | None:
    """The known label or speaker ``label`` is a near miss of (not equal to), if any."""
    lower = label.lower().rstrip(".")
    if is_known_label(label) or lower in speakers or lower in NOT_SPEAKERS:
        return None
    if CODE_TYPO_RE.match(label):
        return label.upper().replace("O", "0").replace("I", "1").replace("L", "1").replace(" ", "")
    if len(lower) < 4:
        return None
    near = [
        (distance, target not in speakers, target)
        for target in TYPO_TARGETS | {s for s in speakers if len(s) >= 4}
        if (distance := _edit_distance(lower, target)) <= (1 if len(target) <= 6 else 2)
    ]
    return min(near)[2].title() if near else None


def _edit_distance(a: str, b: str) -> int:
    """Levenshtein distance with adjacent swaps counted as one edit."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


def unrecognised_notes(path: str | Path, lines: list[UnrecognisedLine], limit: int = 10) -> list[str]:
    """One note per unrecognised line (up to ``limit``, then a count), naming the file and line."""
    notes = [
        f"{path} line {line.line}: {line.reason}; kept as its own turn with speaker "
        f"'{UNKNOWN_SPEAKER}' ('{line.text[:60]}'). Fix: correct the line and ingest the file again."
        for line in lines[:limit]
    ]
    if len(lines) > limit:
        notes.append(
            f"{path}: {len(lines) - limit} more unrecognised line(s), also kept as '{UNKNOWN_SPEAKER}' turns"
        )
    return notes


def _content_bounds(text: str, start: int, stop: int) -> tuple[int, int]:
    """Trim whitespace, and a timestamp standing alone before the next label, from a turn."""
    while start < stop and text[start].isspace():
        start += 1
    end = stop
    while True:
        while end > start and text[end - 1].isspace():
            end -= 1
        tail = TRAILING_TIMESTAMP_RE.search(text, start, end)
        if not tail or tail.start() == start or "\n" not in text[tail.start() : tail.end()]:
            return start, end
        end = tail.start()


def looks_like_transcript(text: str) -> bool:
    """Speaker labels dominate: two or more speakers and labels on a good share of paragraphs."""
    labels = find_labels(text)
    speakers = {normalise_speaker(label.label) for label in labels}
    paragraphs = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    return len(labels) >= 4 and len(speakers) >= 2 and len(labels) >= 0.3 * len(paragraphs)


def _first_timestamp(text: str) -> str | None:
    match = TIMESTAMP_RE.search(text)
    return next((g for g in match.groups() if g), None) if match else None


def transcript_document(
    text: str,
    path: str | Path,
    participant: str | None = None,
    wave: int | None = None,
    fmt: str | None = None,
    notes: list[str] | None = None,
) -> Document:
    """One interview Document for labelled plain text (the text kept exactly). Lines that could
    not be read as they are become ``unknown`` turns; each is logged and, with ``notes``, noted."""
    turns = find_turns(text, participant)
    if not turns:
        logger.warning("%s: no speaker labels found; read as one undivided transcript", path)
    labels = find_labels(text)
    unrecognised = find_unrecognised_lines(text, labels)
    if notes is not None:
        notes.extend(unrecognised_notes(path, unrecognised))
    else:
        for note in unrecognised_notes(path, unrecognised):
            logger.warning("%s", note)
    first_start = min(
        [label.line_start for label in labels] + [line.start for line in unrecognised], default=0
    )
    header = text[:first_start]
    first_ts = labels[0].timestamp.strip("[]()") if labels and labels[0].timestamp else None
    first_ts = first_ts or _first_timestamp(text)
    return Document(
        kind=SourceKind.interview,
        title=_header_title(header) or Path(path).stem,
        text=text,
        participant=participant or single_participant_code(turns),
        wave=wave,
        path=str(path),
        source_format=fmt or source_format(path),
        turns=turns,
        attributes=[Attribute.of("first_timestamp", first_ts)] if first_ts else [],
    )


def _header_title(header: str) -> str | None:
    lines = [line.strip() for line in header.splitlines() if line.strip()]
    if lines and len(lines[0].split()) <= MAX_TITLE_WORDS:
        return lines[0].lstrip("#").strip()
    return None


def read_transcript(
    path: str | Path,
    participant: str | None = None,
    wave: int | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    encoding: str | None = None,
    notes: list[str] | None = None,
) -> Document:
    """Read a .txt/.md transcript or a .vtt/.srt caption file into one interview Document; what
    could not be read as it is goes into ``notes`` (or the log)."""
    decoded = read_text_checked(path, max_bytes, encoding)
    if Path(path).suffix.lower() in (".vtt", ".srt"):
        return captions_document(decoded.text, path, participant, wave, notes)
    return transcript_document(decoded.text, path, participant, wave, notes=notes)
