"""Caption files, WebVTT (.vtt) and SubRip (.srt), read into one interview Document.

The cues become a readable transcript (``Interviewer: ...`` paragraphs, consecutive cues of one
speaker merged, a speaker from a ``<v Name>`` voice tag or a ``Name:`` prefix) and the turn offsets
index into that built text. Cues are read line by line, so a broken cue never swallows its
neighbours. The cues that could not be read as they are (a broken or missing timing line, an empty
cue, text outside any cue, timings that overlap or run backwards) are reported; text is always kept.
"""

from __future__ import annotations

import html
import logging
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from narratives.errors import IngestError
from narratives.ingest.speakers import (
    is_known_label,
    is_name_label,
    normalise_speaker,
    single_participant_code,
)
from narratives.ingest.text import source_format
from narratives.schema import Attribute, Document, SourceKind, Turn

logger = logging.getLogger(__name__)

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
                is_known_label(match["label"])
                or (is_name_label(match["label"]) and counts[match["label"].lower()] >= 2)
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
        participant=participant or single_participant_code(turns),
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
