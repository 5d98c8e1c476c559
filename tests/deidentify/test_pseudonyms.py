"""Numbered pseudonyms: one person one number across documents and waves; offsets carried onto the text."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from narratives.deidentify import (
    PseudonymBook,
    PseudonymKey,
    Span,
    deidentification_settings,
    deidentify_document,
)
from narratives.interop.deidentified_export import deidentified_documents, export_deidentified
from narratives.review.record import record_review
from narratives.schema import Code, Codebook, Decision, Document, Review, Segment, SegmentUnit, SourceKind
from narratives.store.codebooks import store_codebook
from narratives.store.documents import save_document
from narratives.store.project import Project, init_project
from narratives.store.segments import load_segments, save_segments

CODEBOOK = "care"

# ------------------------------------------------------------------------------------------ the book


def test_one_person_one_number_whatever_the_case_title_or_possessive() -> None:
    book = PseudonymBook()
    book.know_full_names(["Sarah Jones"])
    found = [book.pseudonym("name", n) for n in ("Sarah Jones", "sarah", "SARAH JONES", "Mrs Sarah Jones's")]
    assert found == ["[Person 1]"] * 4
    assert book.pseudonym("place", "Fenbury") == "[Place 1]"
    assert book.pseudonym("name", "Tariq") == "[Person 2]"
    assert book.pseudonym("organisation", "Acorn Care") == "[Organisation 1]"
    assert book.pseudonym("phone", "07700 900123") == "[phone]"
    assert book.pseudonym("person", "Aoife") == "[Person 3]"  # another detector's kind, one numbering
    assert book.pseudonym("council", "Kirklees Council") == "[Council 1]"
    assert book.pseudonym("care_home", "Rose Court") == "[Organisation 2]"
    assert book.key.find("[Person 1]").originals == ["Sarah Jones", "sarah", "Mrs Sarah Jones's"]


def test_a_first_name_shared_by_two_known_people_stays_apart() -> None:
    book = PseudonymBook()
    book.know_full_names(["Sarah Jones", "Sarah Khan"])
    numbers = [book.pseudonym("name", n) for n in ("Sarah Jones", "Sarah Khan", "Sarah")]
    assert numbers == ["[Person 1]", "[Person 2]", "[Person 3]"]


def test_a_first_name_seen_before_its_full_name_keeps_its_number() -> None:
    book = PseudonymBook()
    book.know_full_names(["Sarah Jones"])
    assert book.pseudonym("name", "Sarah") == "[Person 1]"
    assert book.pseudonym("name", "Sarah Jones") == "[Person 1]"


def test_a_key_carried_over_keeps_every_number_and_numbers_newcomers_after_them() -> None:
    first = PseudonymBook()
    for name in ("Kev Brown", "Tamsin"):
        first.pseudonym("name", name)
    later = PseudonymBook(PseudonymKey.from_json(first.key.to_json()))
    assert later.pseudonym("name", "Aoife") == "[Person 3]"
    assert later.pseudonym("name", "tamsin") == "[Person 2]"
    assert later.pseudonym("name", "Kev") == "[Person 1]"  # "Kev Brown" in the key: its first name


# ------------------------------------------------------------------------------------------ offsets

FILLER = st.text(alphabet="abc xyz,.\n", max_size=12)
IDENTIFIER = st.sampled_from(
    [
        ("name", "Sarah Jones"),
        ("name", "sarah"),
        ("place", "Fenbury"),
        ("phone", "07700 900123"),
        ("name", "Li"),
    ]
)


@st.composite
def planted(draw: st.DrawFn) -> tuple[str, list[Span], int, int]:
    text, spans = "", []
    for _ in range(draw(st.integers(0, 6))):
        text += draw(FILLER)
        kind, words = draw(IDENTIFIER)
        spans.append(Span(len(text), len(text) + len(words), kind, words))
        text += words
    text += draw(FILLER)
    start = draw(st.integers(0, len(text)))
    return text, spans, start, draw(st.integers(start, len(text)))


def _snapped(spans: list[Span], start: int, end: int) -> tuple[int, int]:
    """The segment grown to the edges of any identifier its ends fall inside."""
    for span in spans:
        if span.start < start < span.end:
            start = span.start
        if span.start < end < span.end:
            end = span.end
    return start, max(start, end)


@settings(max_examples=300, deadline=None)
@given(planted())
def test_mapped_segments_cover_exactly_the_replaced_version_of_their_text(
    case: tuple[str, list[Span], int, int],
) -> None:
    text, spans, start, end = case
    book = PseudonymBook()
    book.know_full_names(["Sarah Jones"])
    mapped = deidentify_document(text, spans, book)
    new_start, new_end = mapped.offsets.span(start, end)
    low, high = _snapped(spans, start, end)
    inside = [
        Span(s.start - low, s.end - low, s.kind, s.text) for s in spans if low <= s.start and s.end <= high
    ]
    expected = deidentify_document(text[low:high], inside, book).text
    assert mapped.text[new_start:new_end] == expected
    assert mapped.offsets.span(0, len(text)) == (0, len(mapped.text))


def test_a_segment_inside_an_identifier_covers_its_replacement() -> None:
    text = "I rang Sarah Jones today."
    mapped = deidentify_document(text, [Span(7, 18, "name", "Sarah Jones")], PseudonymBook())
    assert mapped.text == "I rang [Person 1] today."
    start, end = mapped.offsets.span(9, 12)  # "rah"
    assert mapped.text[start:end] == "[Person 1]"
    start, end = mapped.offsets.span(19, 24)  # "today"
    assert mapped.text[start:end] == "today"


# ------------------------------------------------------------------------------------------ a project

TEXTS = {
    ("P2", 1): "Sarah Jones from Fenbury council came round and we talked for an hour.",
    ("P1", 1): "Tamsin Reed helps me shop on Tuesdays.",
    ("P1", 2): "Sarah came back in the spring. Tamsin Reed still helps me.",
}


def _add(project: Project, participant: str, wave: int, text: str) -> None:
    with project.begin() as connection:
        saved = save_document(
            connection,
            Document(
                kind=SourceKind.interview,
                title=f"Interview {participant} wave {wave}",
                text=text,
                participant=participant,
                wave=wave,
                path=f"{participant}-{wave}.txt",
            ),
        )
        first = text.index(".") + 1
        pieces = [(0, first), (first, len(text))] if first < len(text) else [(0, len(text))]
        items = [
            Segment(
                document_id=saved.document_id,
                unit=SegmentUnit.sentence,
                index=i,
                start=a,
                end=b,
                text=text[a:b],
            )
            for i, (a, b) in enumerate(pieces)
        ]
        save_segments(connection, items, pipeline="test")
        for segment in load_segments(connection, document_id=saved.document_id):
            record_review(
                connection,
                Review(
                    segment_id=segment.id,
                    code_id="support",
                    decision=Decision.add,
                    user="ana",
                    codebook=CODEBOOK,
                ),
            )


@pytest.fixture
def waves(tmp_path: Path) -> Iterator[Project]:
    project = init_project(tmp_path / "waves")
    (project.path / "deidentify.toml").write_text(
        'names = ["Sarah Jones", "Tamsin Reed"]\nplaces = ["Fenbury"]\n', encoding="utf-8"
    )
    with project.begin() as connection:
        store_codebook(
            connection, Codebook(name=CODEBOOK, codes=[Code(id="support", name="Support")]), "setup"
        )
    for (participant, wave), text in TEXTS.items():
        _add(project, participant, wave, text)
    yield project
    project.close()


def _texts(project: Project, key: PseudonymKey) -> dict[str, str]:
    settings = deidentification_settings(project)
    with project.connect() as connection:
        return {d.title: d.mapped.text for d in deidentified_documents(connection, settings, key)}


def test_one_person_has_one_number_across_documents_and_waves(waves: Project) -> None:
    key = PseudonymKey()
    texts = _texts(waves, key)
    # numbered in document order: participant, then wave (P1 before P2)
    assert texts["Interview P1 wave 1"] == "[Person 1] helps me shop on Tuesdays."
    assert texts["Interview P1 wave 2"] == "[Person 2] came back in the spring. [Person 1] still helps me."
    assert (
        texts["Interview P2 wave 1"]
        == "[Person 2] from [Place 1] council came round and we talked for an hour."
    )
    assert _texts(waves, PseudonymKey()) == texts  # the same project gives the same numbers


def test_new_documents_keep_the_numbers_already_given(waves: Project) -> None:
    key = PseudonymKey()
    before = _texts(waves, key)
    _add(waves, "P0", 1, "Aoife Byrne and Tamsin Reed came with Sarah Jones.")
    after = _texts(waves, key)
    assert {t: after[t] for t in before} == before
    assert after["Interview P0 wave 1"].endswith("and [Person 1] came with [Person 2].")
    assert "[Person 3]" in after["Interview P0 wave 1"]


def test_export_writes_private_files_with_offsets_valid_in_the_new_text(
    waves: Project, tmp_path: Path
) -> None:
    settings = deidentification_settings(waves)
    with waves.connect() as connection:
        summary = export_deidentified(connection, settings, PseudonymKey(), tmp_path / "out")
    assert summary.documents == 3 and summary.segments == 4 and summary.codings == 4
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o700
    for path in summary.files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for path in summary.files[:-1]:
        content = json.loads(path.read_text(encoding="utf-8"))
        text = content["text"]
        assert not any(word in text for word in ("Sarah", "Tamsin", "Fenbury"))
        by_id = {s["id"]: s for s in content["segments"]}
        assert "".join(s["text"] for s in content["segments"]) == text
        for segment in content["segments"]:
            assert text[segment["start"] : segment["end"]] == segment["text"]
        for coding in content["codings"]:
            assert (coding["start"], coding["end"]) == (
                by_id[coding["segment_id"]]["start"],
                by_id[coding["segment_id"]]["end"],
            )
