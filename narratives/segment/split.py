"""Split document text into segments with exact character offsets.

Pure functions, no database. For every segment ``text[segment.start:segment.end] == segment.text``:
offsets count Python characters (code points), as spaCy's ``token.idx`` and ``span.start_char`` do,
so curly quotes, emoji, combining marks, CRLF line endings and zero-width characters keep their
place.

Units:

- ``response``: the whole text as one segment.
- ``paragraph``: pieces between blank lines (``\\n\\n``, ``\\r\\n\\r\\n``, a line holding only
  whitespace such as tabs or no-break spaces, or U+2029).
- ``sentence``: spaCy's sentences inside each paragraph, so a sentence never crosses a blank line.
- ``turn``: one segment per speaker turn of a transcript.

Every segment is trimmed of leading and trailing whitespace (``str.isspace``, which includes
U+00A0) and zero-width characters (U+200B, U+200C, U+200D, U+2060, U+FEFF); a piece with nothing
left is not a segment. When a document has speaker turns, only the text inside turns is segmented
(the text between turns holds speaker labels and timestamps), except for ``response``; every
sentence and paragraph then lies inside one turn and carries its speaker.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from spacy.language import Language
from spacy.tokens import Doc

from narratives.errors import SegmentError
from narratives.schema import Segment, SegmentUnit, Turn
from narratives.segment.nlp import load_pipeline

logger = logging.getLogger(__name__)

# A line break, then optional whitespace, then another line break; or a paragraph separator.
# The first break may not be the "\r" of a "\r\n", so a single CRLF is never a paragraph break.
PARAGRAPH_BREAK = re.compile(r"(?:\r\n|\r(?!\n)|\n)\s*(?:\r\n|\r|\n)|\u2029")

ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff")

# Components that do not help find sentences: switched off while segmenting, for speed.
NOT_FOR_SENTENCES = frozenset(
    {"lemmatizer", "ner", "entity_ruler", "entity_linker", "attribute_ruler", "tagger", "morphologizer"}
    | {"textcat", "textcat_multilabel", "spancat", "span_finder", "coref"}
)

DEFAULT_BATCH_SIZE = 256

TurnLike = Turn | Mapping[str, Any]


class Piece(NamedTuple):
    """A trimmed span of a document's text and the speaker whose turn holds it."""

    start: int
    end: int
    speaker: str | None


def segment_text(
    text: str,
    unit: SegmentUnit | str,
    *,
    turns: Sequence[TurnLike] | None = None,
    nlp: Language | None = None,
    document_id: int = 0,
) -> list[Segment]:
    """The segments of one document's ``text`` for ``unit``, numbered from 0.

    ``turns`` are the speaker turns of a transcript (offsets into ``text``); ``nlp`` is used only
    for sentences and defaults to :func:`narratives.segment.nlp.load_pipeline`.
    """
    return list(segment_documents([(document_id, text, turns)], unit, nlp=nlp))


def segment_documents(
    docs: Iterable[tuple[int, str, Sequence[TurnLike] | None]],
    unit: SegmentUnit | str,
    nlp: Language | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> Iterator[Segment]:
    """Segments of many ``(document_id, text, turns)``, lazily and in document order.

    Sentences run through ``nlp.pipe`` one paragraph at a time, in batches of ``batch_size``, so
    thousands of short survey answers go through spaCy together.
    """
    unit = as_unit(unit)
    if unit is SegmentUnit.sentence:
        yield from _sentence_segments(docs, nlp or load_pipeline(), batch_size)
        return
    for document_id, text, turns in docs:
        pieces = _pieces(text, unit, _checked_turns(text, turns, document_id, unit), document_id)
        yield from _numbered(document_id, text, unit, pieces)


def as_unit(unit: SegmentUnit | str) -> SegmentUnit:
    """``unit`` as a :class:`SegmentUnit`, or a :class:`SegmentError` naming the allowed units."""
    try:
        return SegmentUnit(unit)
    except ValueError:
        allowed = ", ".join(u.value for u in SegmentUnit)
        raise SegmentError(f"unknown segment unit '{unit}'.", fix=f"use one of: {allowed}.") from None


def trim(text: str, start: int, end: int) -> tuple[int, int]:
    """``(start, end)`` moved inwards past whitespace and zero-width characters."""
    while start < end and _is_blank(text[start]):
        start += 1
    while end > start and _is_blank(text[end - 1]):
        end -= 1
    return start, end


def paragraph_pieces(text: str, start: int = 0, end: int | None = None) -> Iterator[tuple[int, int]]:
    """Trimmed, non-empty paragraphs of ``text[start:end]``, as offsets into ``text``."""
    end = len(text) if end is None else end
    position = start
    for match in PARAGRAPH_BREAK.finditer(text, start, end):
        yield from _trimmed(text, position, match.start())
        position = match.end()
    yield from _trimmed(text, position, end)


def _is_blank(char: str) -> bool:
    return char.isspace() or char in ZERO_WIDTH


def _trimmed(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    start, end = trim(text, start, end)
    if start < end:
        yield start, end


def _checked_turns(
    text: str, turns: Sequence[TurnLike] | None, document_id: int, unit: SegmentUnit
) -> list[Turn]:
    """Turns in order of start, each inside the text and none overlapping another."""
    where = f"document {document_id}"
    if not turns:
        if unit is SegmentUnit.turn:
            raise SegmentError(
                "the document has no speaker turns, so it cannot be segmented by turn.",
                where=where,
                fix="use --unit paragraph or --unit sentence for texts that are not transcripts.",
            )
        return []
    checked = sorted((t if isinstance(t, Turn) else Turn.model_validate(t) for t in turns), key=_turn_key)
    previous_end = 0
    for number, turn in enumerate(checked):
        if not 0 <= turn.start <= turn.end <= len(text):
            raise SegmentError(
                f"speaker turn {number} ({turn.speaker}) runs from {turn.start} to {turn.end}, "
                f"outside the text of {len(text)} characters.",
                where=where,
                fix="re-ingest the transcript so its turns match its text.",
            )
        if turn.start < previous_end:
            raise SegmentError(
                f"speaker turn {number} ({turn.speaker}) starts at {turn.start}, "
                f"inside the previous turn, which ends at {previous_end}.",
                where=where,
                fix="re-ingest the transcript so that speaker turns do not overlap.",
            )
        previous_end = turn.end
    return checked


def _turn_key(turn: Turn) -> tuple[int, int]:
    return turn.start, turn.end


def _regions(text: str, turns: list[Turn]) -> list[Piece]:
    """The spans to segment: the speaker turns, or the whole text when there are none."""
    if not turns:
        return [Piece(0, len(text), None)]
    return [Piece(t.start, t.end, t.speaker) for t in turns]


def _pieces(text: str, unit: SegmentUnit, turns: list[Turn], document_id: int) -> Iterator[Piece]:
    """Trimmed pieces for every unit but sentences."""
    if unit is SegmentUnit.response:
        for start, end in _trimmed(text, 0, len(text)):
            yield Piece(start, end, None)
    elif unit is SegmentUnit.turn:
        for turn in turns:
            for start, end in _trimmed(text, turn.start, turn.end):
                yield Piece(start, end, turn.speaker)
    elif unit is SegmentUnit.paragraph:
        yield from _paragraphs(text, turns)
    else:  # pragma: no cover - sentences go through spaCy in _sentence_segments
        raise SegmentError(f"unit '{unit.value}' needs spaCy.", where=f"document {document_id}")


def _paragraphs(text: str, turns: list[Turn]) -> Iterator[Piece]:
    for region in _regions(text, turns):
        for start, end in paragraph_pieces(text, region.start, region.end):
            yield Piece(start, end, region.speaker)


def _numbered(document_id: int, text: str, unit: SegmentUnit, pieces: Iterable[Piece]) -> Iterator[Segment]:
    for index, piece in enumerate(pieces):
        yield Segment(
            document_id=document_id,
            unit=unit,
            index=index,
            start=piece.start,
            end=piece.end,
            text=text[piece.start : piece.end],
            speaker=piece.speaker,
        )


class _Chunk(NamedTuple):
    """A paragraph sent to spaCy, with the document it came from."""

    ordinal: int  # position of the document in the input, so equal ids still count apart
    document_id: int
    text: str
    piece: Piece


def _chunks(docs: Iterable[tuple[int, str, Sequence[TurnLike] | None]], max_length: int) -> Iterator[_Chunk]:
    for ordinal, (document_id, text, turns) in enumerate(docs):
        checked = _checked_turns(text, turns, document_id, SegmentUnit.sentence)
        for paragraph in _paragraphs(text, checked):
            for start, end in _windows(text, paragraph.start, paragraph.end, max_length):
                yield _Chunk(ordinal, document_id, text, Piece(start, end, paragraph.speaker))


def _windows(text: str, start: int, end: int, limit: int) -> Iterator[tuple[int, int]]:
    """``(start, end)`` cut at whitespace into spans spaCy accepts (at most ``limit`` characters)."""
    if end - start > limit:
        logger.warning("A paragraph of %d characters is cut into pieces of %d for spaCy.", end - start, limit)
    while end - start > limit:
        cut = max(text.rfind(space, start + limit // 2, start + limit) for space in (" ", "\n", "\t"))
        cut = cut + 1 if cut > start else start + limit
        yield from _trimmed(text, start, cut)
        start = cut
    yield from _trimmed(text, start, end)


def _sentence_segments(
    docs: Iterable[tuple[int, str, Sequence[TurnLike] | None]], nlp: Language, batch_size: int
) -> Iterator[Segment]:
    chunks = (
        (chunk.text[chunk.piece.start : chunk.piece.end], chunk) for chunk in _chunks(docs, nlp.max_length)
    )
    disable = [name for name in nlp.pipe_names if name in NOT_FOR_SENTENCES]
    parsed = nlp.pipe(chunks, as_tuples=True, batch_size=batch_size, disable=disable)
    for _, group in itertools.groupby(parsed, key=lambda pair: pair[1].ordinal):
        yield from _numbered_sentences(pair for doc, chunk in group for pair in _sentence_pieces(doc, chunk))


def _numbered_sentences(pieces: Iterable[tuple[_Chunk, Piece]]) -> Iterator[Segment]:
    for index, (chunk, piece) in enumerate(pieces):
        yield Segment(
            document_id=chunk.document_id,
            unit=SegmentUnit.sentence,
            index=index,
            start=piece.start,
            end=piece.end,
            text=chunk.text[piece.start : piece.end],
            speaker=piece.speaker,
        )


def _sentence_pieces(doc: Doc, chunk: _Chunk) -> Iterator[tuple[_Chunk, Piece]]:
    offset = chunk.piece.start
    if len(doc.text) != chunk.piece.end - offset:
        raise SegmentError(
            "spaCy changed the length of the text, so sentence offsets would be wrong.",
            where=f"document {chunk.document_id}",
            fix="use the default pipeline 'blank_en_sentencizer'.",
        )
    for sentence in doc.sents:
        for start, end in _trimmed(chunk.text, offset + sentence.start_char, offset + sentence.end_char):
            yield chunk, Piece(start, end, chunk.piece.speaker)
