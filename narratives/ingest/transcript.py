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
        if _is_known_label(f.label) or (_is_name_label(f.label) and counts[f.label.lower()] >= 2)
    ]


def find_turns(text: str, participant: str | None = None) -> list[Turn]:
    """Turns with offsets of their content; a turn runs until the next speaker label."""
    labels = find_labels(text)
    turns = []
    for position, label in enumerate(labels):
        stop = labels[position + 1].line_start if position + 1 < len(labels) else len(text)
        start, end = _content_bounds(text, label.content_start, stop)
        if end > start:
            turns.append(Turn(speaker=normalise_speaker(label.label, participant), start=start, end=end))
    return turns


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
) -> Document:
    """One interview Document for labelled plain text (the text kept exactly)."""
    turns = find_turns(text, participant)
    if not turns:
        logger.warning("%s: no speaker labels found; read as one undivided transcript", path)
    labels = find_labels(text)
    header = text[: labels[0].line_start] if labels else ""
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

CUE_TIMING_RE = re.compile(r"(?P<start>[\d:.,]+)\s*-->\s*(?P<end>[\d:.,]+)")
VOICE_RE = re.compile(r"<v(?:\.[\w.-]+)*\s+([^>]+)>")
TAG_RE = re.compile(r"</?[^>]*>|\{\\[^}]*\}")
PREFIX_RE = re.compile(r"^\s*-?\s*(?P<label>[^\W\d_][\w'’.\- ]{0,38}?)\s*:\s+")
PARAGRAPH_PAUSE_S = 2.0


@dataclass
class _Cue:
    start: str
    end: str
    seconds: float
    end_seconds: float
    pieces: list[tuple[str | None, str]]  # (speaker or None to continue, text)


def _seconds(stamp: str) -> float:
    parts = stamp.replace(",", ".").split(":")
    try:
        return sum(float(p) * 60**i for i, p in enumerate(reversed(parts)))
    except ValueError:
        return 0.0


def parse_cues(text: str, path: str | Path) -> list[_Cue]:
    """Cues of a WebVTT or SRT file; NOTE, STYLE and REGION blocks are skipped."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    cues = []
    for block in re.split(r"\n[ \t]*\n", text.strip()):
        lines = block.split("\n")
        if lines[0].startswith(("WEBVTT", "NOTE", "STYLE", "REGION")):
            continue
        timing_at = next((i for i, line in enumerate(lines) if "-->" in line), None)
        timing = CUE_TIMING_RE.search(lines[timing_at]) if timing_at is not None else None
        if timing is None or timing_at is None:
            continue
        payload = " ".join(line.strip() for line in lines[timing_at + 1 :] if line.strip())
        pieces = _voice_pieces(payload)
        if pieces:
            cues.append(
                _Cue(
                    timing["start"], timing["end"], _seconds(timing["start"]), _seconds(timing["end"]), pieces
                )
            )
    if not cues:
        raise IngestError(
            "no cues with '-->' timings found.",
            where=path,
            fix="check the file is a WebVTT or SRT caption file, or save it as .txt.",
        )
    return cues


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
    text: str, path: str | Path, participant: str | None = None, wave: int | None = None
) -> Document:
    """One interview Document built from caption cues, with turn offsets into the built text."""
    cues = parse_cues(text, path)
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
            Attribute.of("first_timestamp", cues[0].start.replace(",", ".")),
            Attribute.of("last_timestamp", cues[-1].end.replace(",", ".")),
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
) -> Document:
    """Read a .txt/.md transcript or a .vtt/.srt caption file into one interview Document."""
    decoded = read_text_checked(path, max_bytes, encoding)
    if Path(path).suffix.lower() in (".vtt", ".srt"):
        return captions_document(decoded.text, path, participant, wave)
    return transcript_document(decoded.text, path, participant, wave)
