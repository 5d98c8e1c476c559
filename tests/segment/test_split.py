"""Segmentation: exact offsets for any text, for every unit, with and without speaker turns."""

from __future__ import annotations

import re

import pytest
import spacy
from hypothesis import given, settings
from hypothesis import strategies as st

from narratives.errors import SegmentError
from narratives.schema import Segment, SegmentUnit, Turn
from narratives.segment.nlp import LEMMATIZER_NOTE, load_pipeline, pipeline_description
from narratives.segment.split import segment_documents, segment_text

TRICKY = [
    "\r\n",
    "\n",
    "\n\n",
    "\r\n\r\n",
    "\r",
    "\u00a0",
    "“",
    "”",
    "‘",
    "’",
    "🙂",
    "\u200b",
    "\ufeff",
    "\t",
    "e\u0301",
    " ",
    ". ",
    "? ",
    "!",
    "\u2029",
    "I waited six months.",
    " Then the social worker rang! ",
    "Mum’s carer — Sandra — comes at 9 a.m.",
]
SPEAKERS = ["Interviewer", "P01", "P02"]

any_text = st.text()
mixed_text = st.lists(st.one_of(st.text(max_size=8), st.sampled_from(TRICKY)), max_size=30).map("".join)
texts = st.one_of(any_text, mixed_text)


@st.composite
def text_with_turns(draw: st.DrawFn) -> tuple[str, list[Turn]]:
    """A text and non-overlapping speaker turns over it, with gaps for speaker labels."""
    text = draw(texts)
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), min_size=2, max_size=12)))
    pairs = list(zip(cuts[::2], cuts[1::2], strict=False))
    speakers = draw(st.lists(st.sampled_from(SPEAKERS), min_size=len(pairs), max_size=len(pairs)))
    return text, [Turn(speaker=s, start=a, end=b) for s, (a, b) in zip(speakers, pairs, strict=True)]


@pytest.fixture(scope="module")
def nlp() -> spacy.Language:
    return load_pipeline()


def is_blank(value: str) -> bool:
    return not value.strip().strip("\u200b\u200c\u200d\u2060\ufeff").strip()


def assert_well_formed(text: str, segments: list[Segment], unit: SegmentUnit) -> None:
    previous_end = 0
    for index, segment in enumerate(segments):
        assert text[segment.start : segment.end] == segment.text
        assert 0 <= previous_end <= segment.start < segment.end <= len(text)
        assert not is_blank(segment.text)
        assert segment.text == segment.text.strip()
        assert segment.index == index
        assert segment.unit is unit
        previous_end = segment.end


def has_paragraph_break(value: str) -> bool:
    lines = value.replace("\r\n", "\n").replace("\r", "\n")
    return "\u2029" in value or re.search(r"\n\s*\n", lines) is not None


def inside_one_turn(segment: Segment, turns: list[Turn]) -> bool:
    return any(
        t.start <= segment.start and segment.end <= t.end and t.speaker == segment.speaker for t in turns
    )


@settings(max_examples=150, deadline=None)
@given(text=texts, unit=st.sampled_from([SegmentUnit.sentence, SegmentUnit.paragraph, SegmentUnit.response]))
def test_segment_offsets_round_trip_for_any_text(text: str, unit: SegmentUnit) -> None:
    segments = segment_text(text, unit)
    assert_well_formed(text, segments, unit)
    assert all(s.speaker is None for s in segments)


@settings(max_examples=150, deadline=None)
@given(text=texts)
def test_sentences_never_cross_a_paragraph_break(text: str) -> None:
    paragraphs = segment_text(text, "paragraph")
    sentences = segment_text(text, "sentence")
    assert not any(has_paragraph_break(p.text) for p in paragraphs)
    for sentence in sentences:
        assert not has_paragraph_break(sentence.text)
        assert any(p.start <= sentence.start and sentence.end <= p.end for p in paragraphs)


@settings(max_examples=100, deadline=None)
@given(text=texts)
def test_response_is_the_whole_trimmed_text(text: str) -> None:
    segments = segment_text(text, SegmentUnit.response)
    if is_blank(text):
        assert segments == []
    else:
        assert len(segments) == 1
        assert segments[0].text.strip("\u200b\u200c\u200d\u2060\ufeff") in text


@settings(max_examples=150, deadline=None)
@given(case=text_with_turns(), unit=st.sampled_from([SegmentUnit.sentence, SegmentUnit.paragraph]))
def test_transcript_segments_stay_inside_one_turn(case: tuple[str, list[Turn]], unit: SegmentUnit) -> None:
    text, turns = case
    segments = segment_text(text, unit, turns=turns)
    assert_well_formed(text, segments, unit)
    assert all(inside_one_turn(s, turns) for s in segments)


@settings(max_examples=150, deadline=None)
@given(case=text_with_turns())
def test_turn_segments_keep_their_speaker(case: tuple[str, list[Turn]]) -> None:
    text, turns = case
    segments = segment_text(text, SegmentUnit.turn, turns=turns)
    assert_well_formed(text, segments, SegmentUnit.turn)
    assert all(inside_one_turn(s, turns) for s in segments)
    spoken = [t for t in turns if not is_blank(text[t.start : t.end])]
    assert [s.speaker for s in segments] == [t.speaker for t in spoken]


@settings(max_examples=60, deadline=None)
@given(
    docs=st.lists(st.tuples(st.integers(1, 5), texts), max_size=8),
    unit=st.sampled_from([SegmentUnit.sentence, SegmentUnit.paragraph, SegmentUnit.response]),
    batch_size=st.integers(1, 5),
)
def test_segment_documents_matches_segment_text(
    docs: list[tuple[int, str]], unit: SegmentUnit, batch_size: int
) -> None:
    batched = list(segment_documents(((i, t, []) for i, t in docs), unit, batch_size=batch_size))
    one_by_one = [s for i, t in docs for s in segment_text(t, unit, document_id=i)]
    assert batched == one_by_one


@settings(max_examples=60, deadline=None)
@given(text=texts)
def test_paragraphs_longer_than_max_length_are_cut_safely(text: str) -> None:
    small = load_pipeline.__wrapped__()
    small.max_length = 16
    segments = segment_text(text * 3, SegmentUnit.sentence, nlp=small)
    assert_well_formed(text * 3, segments, SegmentUnit.sentence)
    assert all(len(s.text) <= 16 for s in segments)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "I waited six months. Then the social worker rang!",
            ["I waited six months.", "Then the social worker rang!"],
        ),
        ("She said “I can’t cope.” Nobody came.", ["She said “I can’t cope.”", "Nobody came."]),
        (
            "Mum’s carer comes at 9 a.m. and leaves at 10. Is that it?",
            ["Mum’s carer comes at 9 a.m. and leaves at 10.", "Is that it?"],
        ),
        ("Why?! Because… they said so 🙂", ["Why?!", "Because… they said so 🙂"]),
        ("no full stop at all", ["no full stop at all"]),
        ("  \u00a0Padded.\u200b  ", ["Padded."]),
        ("Line one\nline two. New sentence.", ["Line one\nline two.", "New sentence."]),
        ("First.\n\nSecond without a stop\n\nThird.", ["First.", "Second without a stop", "Third."]),
    ],
)
def test_sentence_splits(nlp: spacy.Language, text: str, expected: list[str]) -> None:
    segments = segment_text(text, "sentence", nlp=nlp)
    assert [s.text for s in segments] == expected
    assert_well_formed(text, segments, SegmentUnit.sentence)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "First para.\r\n\r\nSecond para.\r\nStill second.",
            ["First para.", "Second para.\r\nStill second."],
        ),
        ("One\r\n \t\r\nTwo", ["One", "Two"]),
        ("One\n\u00a0\nTwo", ["One", "Two"]),
        ("One\u00a0two\nthree", ["One\u00a0two\nthree"]),
        ("One\r\rTwo", ["One", "Two"]),
        ("One\u2029Two", ["One", "Two"]),
        ("\n\n\n", []),
    ],
)
def test_paragraphs_split_on_blank_lines_of_any_ending(text: str, expected: list[str]) -> None:
    segments = segment_text(text, "paragraph")
    assert [s.text for s in segments] == expected
    assert_well_formed(text, segments, SegmentUnit.paragraph)


def test_crlf_sentences_keep_offsets(nlp: spacy.Language) -> None:
    text = "I rang.\r\n\r\nNobody “answered”. 🙂 Again?\r\n\r\n"
    segments = segment_text(text, "sentence", nlp=nlp)
    assert [s.text for s in segments] == ["I rang.", "Nobody “answered”.", "🙂 Again?"]
    assert [(s.start, s.end) for s in segments] == [(0, 7), (11, 29), (30, 38)]


def test_transcript_sentences_carry_the_speaker(nlp: spacy.Language) -> None:
    text = "Interviewer: How was it? Tell me.\nP01: Awful. We waited"
    turns = [Turn(speaker="Interviewer", start=13, end=33), Turn(speaker="P01", start=39, end=len(text))]
    segments = segment_text(text, "sentence", turns=turns, nlp=nlp, document_id=7)
    assert [(s.speaker, s.text) for s in segments] == [
        ("Interviewer", "How was it?"),
        ("Interviewer", "Tell me."),
        ("P01", "Awful."),
        ("P01", "We waited"),
    ]
    assert {s.document_id for s in segments} == {7}


def test_turns_given_as_stored_dicts_are_accepted() -> None:
    text = "A: yes\nB: no"
    turns = [{"speaker": "B", "start": 10, "end": 12}, {"speaker": "A", "start": 3, "end": 6}]
    segments = segment_text(text, "turn", turns=turns)
    assert [(s.speaker, s.text) for s in segments] == [("A", "yes"), ("B", "no")]


@pytest.mark.parametrize("turns", [None, []])
def test_turn_unit_without_turns_says_what_to_do(turns: list[Turn] | None) -> None:
    with pytest.raises(SegmentError, match=r"E300: document 3: .*no speaker turns.*--unit paragraph"):
        segment_text("A survey answer.", "turn", turns=turns, document_id=3)


@pytest.mark.parametrize(
    ("turns", "message"),
    [
        ([Turn(speaker="A", start=0, end=99)], "outside the text"),
        ([Turn(speaker="A", start=0, end=5), Turn(speaker="B", start=3, end=8)], "inside the previous turn"),
    ],
)
def test_bad_turns_are_reported(turns: list[Turn], message: str) -> None:
    with pytest.raises(SegmentError, match=message):
        segment_text("Hello there, you.", "paragraph", turns=turns)


def test_unknown_unit_is_reported() -> None:
    with pytest.raises(SegmentError, match=r"unknown segment unit 'word'.*sentence, paragraph"):
        segment_text("Text.", "word")


def test_pipeline_description_is_recorded(nlp: spacy.Language) -> None:
    assert re.fullmatch(
        r"spacy-3\.\d+\.\d+\S* blank:en \[sentencizer, lemmatizer\(lookup\)\]", pipeline_description(nlp)
    )
    assert load_pipeline() is nlp
    assert [t.lemma_ for t in nlp("workers rang")] == ["worker", "ring"]


def test_pipeline_without_lookup_tables_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(*args: object, **kwargs: object) -> None:
        raise ValueError("no lookups")

    monkeypatch.setattr("spacy.pipeline.lemmatizer.load_lookups", missing)
    nlp = load_pipeline.__wrapped__()
    assert nlp.pipe_names == ["sentencizer"]
    assert nlp.meta[LEMMATIZER_NOTE]
    assert pipeline_description(nlp).endswith(
        "[sentencizer] (no lemmatizer: spacy-lookups-data is not installed)"
    )
    assert [s.text for s in segment_text("One. Two.", "sentence", nlp=nlp)] == ["One.", "Two."]


def test_missing_pipeline_gives_the_install_command() -> None:
    with pytest.raises(SegmentError, match=r"not installed.*pip install en_core_web_xx_missing"):
        load_pipeline("en_core_web_xx_missing")
