"""Interview transcripts: plain text with speaker labels, WebVTT (.vtt) and SubRip (.srt).

Plain text keeps the file text exactly and records each turn's content as offsets
(``text[turn.start:turn.end]`` is what the speaker said, without the label). Caption files are
turned into a readable transcript (``Interviewer: ...`` paragraphs, consecutive cues of one speaker
merged) and the turn offsets index into that text.

Labels recognised at the start of a line, optionally after a timestamp (``[00:12:31]``,
``(00:12:31)`` or ``00:12:31``): roles (``Interviewer:``, ``Q:``, ``A:``, ``I:``, ``R:``,
``Respondent:``, ...), codes (``P03:``, ``Participant 3:``, ``Speaker 2:``) and names of up to four
capitalised words (``Jane Smith:``), the latter only when used as a label at least twice, so a
stray ``Note:`` in someone's speech does not start a turn.

Nothing is folded into a neighbour's turn by a damaged line: a label after a timestamp that cannot
be read (``[00:1x:22] Interviewer:``, ``00:12 -- P01:``), a timestamp line that cannot be read, and
a label with a typo (``Interviewr:``) each start a turn of their own with the speaker ``unknown``
(the whole line kept as its content), and are reported with their line numbers in the read notes.
Caption files report the cues they could not read as they are (a broken or missing timing line, an
empty cue, text outside any cue, timings that overlap or run backwards); text is always kept.
"""

from __future__ import annotations

import html
import logging
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from narratives.errors import IngestError
from narratives.ingest.checks import DEFAULT_MAX_BYTES, read_text_checked
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
INTERVIEWER_LABELS = frozenset({"interviewer", "q", "i", "int", "iv", "question"})
PARTICIPANT_LABELS = frozenset({"a", "r", "respondent", "interviewee", "participant", "answer"})
OTHER_ROLE_LABELS = frozenset({"researcher", "facilitator", "moderator", "carer", "note taker"})
CODE_LABEL_RE = re.compile(
    r"^(?:P|R|Participant|Respondent|Interviewee|Speaker|Interviewer)\s*\d+$", re.IGNORECASE
)
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
_NOT_SPEAKERS = "note notes nb ps update edit source example date time location title subject re e.g i.e"
NOT_SPEAKERS = frozenset(_NOT_SPEAKERS.split())


@dataclass(frozen=True)
class _Label:
    line_start: int
    content_start: int
    label: str
    timestamp: str | None


def normalise_speaker(label: str, participant: str | None = None) -> str:
    """Q and I become ``Interviewer``; A and R become the participant key (or ``Participant``)."""
    label = " ".join(label.split()).strip("*")
    lower = label.lower().rstrip(".")
    if lower in INTERVIEWER_LABELS:
        return "Interviewer"
    if lower in PARTICIPANT_LABELS:
        return participant or "Participant"
    if re.fullmatch(r"p\s*\d+", lower):
        return label.replace(" ", "").upper()
    return label


def _is_known_label(label: str) -> bool:
    lower = label.lower().rstrip(".")
    return (
        lower in INTERVIEWER_LABELS
        or lower in PARTICIPANT_LABELS
        or lower in OTHER_ROLE_LABELS
        or bool(CODE_LABEL_RE.match(label))
    )


def _is_name_label(label: str) -> bool:
    words = label.split()
    return (
        0 < len(words) <= 4
        and label.lower().rstrip(".") not in NOT_SPEAKERS
        and all(w[0].isupper() for w in words)
    )


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
        if _is_known_label(f.label)
        or (_is_name_label(f.label) and counts[f.label.lower()] >= 2 and _typo_of(f.label, set()) is None)
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
        if _is_known_label(label) or label.lower() in speakers:
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
    if _is_known_label(label) or lower in speakers or lower in NOT_SPEAKERS:
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
        participant=participant or _single_participant_code(turns),
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


def _single_participant_code(turns: list[Turn]) -> str | None:
    codes = {t.speaker for t in turns if re.fullmatch(r"P\d+", t.speaker)}
    return codes.pop() if len(codes) == 1 else None


# --- caption files ---------------------------------------------------------------------------

_STAMP = r"(?:\d{1,3}:)?\d{1,2}:\d{2}[.,]\d{1,3}"
TIMING_LINE_RE = re.compile(rf"^(?P<start>{_STAMP})[ \t]*-->[ \t]*(?P<end>{_STAMP})(?:[ \t]+\S.*)?$")
TIMING_LIKE_RE = re.compile(
    r"-->|->|=>|^[\d:.,]{4,}[ \t]*(?:-{1,3}|–|—|to)[ \t]*[\d:.,]{4,}$|^\d{1,2}:\d{2}[\d:.,]*$"
)
INDEX_RE = re.compile(r"^\d+$")
VOICE_RE = re.compile(r"<v(?:\.[\w.-]+)*\s+([^>]+)>")
TAG_RE = re.compile(r"</?[^>]*>|\{\\[^}]*\}")
PREFIX_RE = re.compile(r"^\s*-?\s*(?P<label>[^\W\d_][\w'’.\- ]{0,38}?)\s*:\s+")
PARAGRAPH_PAUSE_S = 2.0
# what each kind of cue problem is, and what became of the cue
CUE_PROBLEMS = {
    "timing": ("a timing line that cannot be read", "their text is kept, after the cue before"),
    "no-timing": ("no timing line", "their text is kept, after the cue before"),
    "outside": ("text outside any cue", "kept where it stands"),
    "empty": ("no text", "nothing to keep"),
    "overlap": ("a start before the previous cue ends", "kept in file order"),
    "backwards": ("an end before their start", "kept in file order"),
}


@dataclass
class _Cue:
    start: str | None  # None: the timing line was missing or could not be read
    end: str | None
    seconds: float
    end_seconds: float
    pieces: list[tuple[str | None, str]]  # (speaker or None to continue, text)


@dataclass
class _RawCue:
    number: int | None  # the cue's number in the file (SRT index, or counted); None: stray text
    line: int
    start: str | None
    end: str | None
    text: list[str]


@dataclass(frozen=True)
class CueProblem:
    """A cue that could not be read as it is: ``kind`` is a key of :data:`CUE_PROBLEMS`."""

    kind: str
    cue: int | None
    line: int


def _seconds(stamp: str) -> float | None:
    """Seconds of ``hh:mm:ss.mmm`` or ``mm:ss,mmm``; None when minutes or seconds reach 60."""
    parts = [float(p) for p in stamp.replace(",", ".").split(":")]
    if any(p >= 60 for p in parts[1:]):
        return None
    return sum(p * 60**i for i, p in enumerate(reversed(parts)))


def _raw_cues(text: str) -> tuple[list[_RawCue], list[CueProblem]]:
    """Cues as they stand in the file, line by line, so a broken cue never swallows its neighbours;
    the header and NOTE, STYLE and REGION blocks are skipped."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    vtt = text.lstrip("\ufeff \t\n").startswith("WEBVTT")
    raw: list[_RawCue] = []
    problems: list[CueProblem] = []
    current: _RawCue | None = None
    skipping, block_start, counted, pending = False, True, 0, None
    for index, line in enumerate(lines):
        content, number = line.strip(), index + 1
        if not content:
            current, skipping, block_start = None, False, True
            continue
        first_of_block, block_start = block_start, False
        if skipping or (first_of_block and _is_header_block(content, index)):
            skipping = True
            continue
        following = lines[index + 1].strip() if index + 1 < len(lines) else ""
        if _timing_like(content):
            counted = pending if pending is not None else counted + 1
            timing = TIMING_LINE_RE.match(content)
            current = _RawCue(counted, number, *_valid_timing(timing), [])
            if current.start is None:
                problems.append(CueProblem("timing", counted, number))
            raw.append(current)
            pending = None
        elif _timing_like(following) and (INDEX_RE.match(content) or (first_of_block and vtt)):
            pending = int(content) if INDEX_RE.match(content) else None  # a cue number or a VTT cue id
        elif first_of_block and INDEX_RE.match(content):
            counted = int(content)
            current = _RawCue(counted, number, None, None, [])
            raw.append(current)
            problems.append(CueProblem("no-timing", counted, number))
        elif current is not None:
            current.text.append(content)
        else:
            current = _RawCue(None, number, None, None, [content])
            raw.append(current)
            problems.append(CueProblem("outside", None, number))
    return raw, problems


def _is_header_block(content: str, index: int) -> bool:
    word = content.split()[0]
    return (index == 0 and word.startswith("WEBVTT")) or word in ("NOTE", "STYLE", "REGION")


def _timing_like(content: str) -> bool:
    return bool(TIMING_LIKE_RE.search(content))


def _valid_timing(timing: re.Match[str] | None) -> tuple[str | None, str | None]:
    if timing is None or _seconds(timing["start"]) is None or _seconds(timing["end"]) is None:
        return None, None
    return timing["start"], timing["end"]


def parse_cues(text: str, path: str | Path, problems: list[CueProblem] | None = None) -> list[_Cue]:
    """Cues of a WebVTT or SRT file with their text; cues that could not be read as they are go
    into ``problems`` (their text is kept, after the cue before)."""
    raw, found = _raw_cues(text)
    cues: list[_Cue] = []
    previous_end: float | None = None
    for cue in raw:
        pieces = _voice_pieces(" ".join(cue.text))
        if not pieces:
            if cue.text or not any(p.line == cue.line for p in found):
                found.append(CueProblem("empty", cue.number, cue.line))
            continue
        if cue.start is None or cue.end is None:
            at = previous_end or 0.0
            cues.append(_Cue(None, None, at, at, pieces))
            continue
        start, end = _seconds(cue.start) or 0.0, _seconds(cue.end) or 0.0
        if end < start:
            found.append(CueProblem("backwards", cue.number, cue.line))
        elif previous_end is not None and start < previous_end:
            found.append(CueProblem("overlap", cue.number, cue.line))
        previous_end = max(previous_end or 0.0, end)
        cues.append(_Cue(cue.start, cue.end, start, end, pieces))
    if not any(cue.start for cue in cues):
        raise IngestError(
            "no cues with '-->' timings found.",
            where=path,
            fix="check the file is a WebVTT or SRT caption file, or save it as .txt.",
        )
    if problems is not None:
        problems.extend(sorted(found, key=lambda p: p.line))
    return cues


def cue_notes(path: str | Path, problems: list[CueProblem], shown: int = 5) -> list[str]:
    """One note per kind of cue problem, naming the cues and lines."""
    notes = []
    for kind, (what, outcome) in CUE_PROBLEMS.items():
        of_kind = [p for p in problems if p.kind == kind]
        if not of_kind:
            continue
        where = ", ".join(
            f"cue {p.cue} (line {p.line})" if p.cue else f"line {p.line}" for p in of_kind[:shown]
        )
        more = f" and {len(of_kind) - shown} more" if len(of_kind) > shown else ""
        notes.append(
            f"{path}: {len(of_kind)} cue(s) with {what}: {where}{more}; {outcome}. Fix: correct the "
            "caption file and ingest it again if the timings or order matter."
        )
    return notes


def _voice_pieces(payload: str) -> list[tuple[str | None, str]]:
    pieces: list[tuple[str | None, str]] = []
    parts = VOICE_RE.split(payload)  # [before, name1, text1, name2, text2, ...]
    chunks = [(None, parts[0]), *zip(parts[1::2], parts[2::2], strict=True)]
    for speaker, chunk in chunks:
        clean = " ".join(html.unescape(TAG_RE.sub("", chunk)).split())
        if clean:
            pieces.append((speaker.strip() if speaker else None, clean))
    return pieces


def _apply_name_prefixes(cues: list[_Cue]) -> None:
    """Take ``Name:`` prefixes as speakers where no voice tag gave one (names seen twice)."""
    found = [PREFIX_RE.match(text) for cue in cues for speaker, text in cue.pieces if not speaker]
    counts = Counter(m["label"].lower() for m in found if m)
    for cue in cues:
        for i, (speaker, piece) in enumerate(cue.pieces):
            match = None if speaker else PREFIX_RE.match(piece)
            if match and (
                _is_known_label(match["label"])
                or (_is_name_label(match["label"]) and counts[match["label"].lower()] >= 2)
            ):
                cue.pieces[i] = (match["label"], piece[match.end() :])


def captions_document(
    text: str,
    path: str | Path,
    participant: str | None = None,
    wave: int | None = None,
    notes: list[str] | None = None,
) -> Document:
    """One interview Document built from caption cues, with turn offsets into the built text.
    Cues that could not be read as they are are logged and, with ``notes``, noted."""
    problems: list[CueProblem] = []
    cues = parse_cues(text, path, problems)
    if notes is not None:
        notes.extend(cue_notes(path, problems))
    else:
        for note in cue_notes(path, problems):
            logger.warning("%s", note)
    timed = [cue for cue in cues if cue.start and cue.end]
    _apply_name_prefixes(cues)
    paragraphs = _merge_turns(cues, participant)
    built, turns = "", []
    for speaker, content in paragraphs:
        if built:
            built += "\n\n"
        if speaker:
            built += f"{speaker}: "
            turns.append(Turn(speaker=speaker, start=len(built), end=len(built) + len(content)))
        built += content
    return Document(
        kind=SourceKind.interview,
        title=Path(path).stem,
        text=built,
        participant=participant or _single_participant_code(turns),
        wave=wave,
        path=str(path),
        source_format=source_format(path),
        turns=turns,
        attributes=[
            Attribute.of("first_timestamp", (timed[0].start or "").replace(",", ".")),
            Attribute.of("last_timestamp", (timed[-1].end or "").replace(",", ".")),
        ],
    )


def _merge_turns(cues: list[_Cue], participant: str | None) -> list[tuple[str | None, str]]:
    """Consecutive pieces of one speaker joined; unlabelled ones continue the last speaker."""
    merged: list[tuple[str | None, list[str]]] = []
    current: str | None = None
    previous_end = 0.0
    for cue in cues:
        for raw_speaker, piece in cue.pieces:
            speaker = normalise_speaker(raw_speaker, participant) if raw_speaker else current
            paused = speaker is None and cue.seconds - previous_end >= PARAGRAPH_PAUSE_S
            if merged and merged[-1][0] == speaker and not paused:
                merged[-1][1].append(piece)
            else:
                merged.append((speaker, [piece]))
            current = speaker
        previous_end = cue.end_seconds
    return [(speaker, " ".join(pieces)) for speaker, pieces in merged]


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
