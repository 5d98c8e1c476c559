"""The document and segment lookups exports and imports use, on the hand-checked study."""

from __future__ import annotations

from narratives.schema import text_hash
from narratives.store.documents import (
    author_names,
    case_rows,
    document_text,
    document_texts,
    first_content_hash,
    participant_keys,
)
from narratives.store.segments import (
    segment_counts_by_document,
    segment_text_hashes,
    segments_at,
    segments_with_text,
)
from tests.builders.study import DOCUMENTS, Study


def test_document_texts_are_current_documents_in_id_order(study: Study) -> None:
    with study.project.connect() as connection:
        found = document_texts(connection)
        one = document_texts(connection, ids=[study.document_ids["Waiting lists"]])
        text = document_text(connection, study.document_ids["Survey answer R1"])
    assert [d.title for d in found] == [d.title for d in DOCUMENTS]
    assert [d.id for d in found] == sorted(d.id for d in found)
    assert [(d.kind, d.wave) for d in one] == [("blog", None)]
    assert text == DOCUMENTS[5].text


def test_cases_are_by_participant_key_then_document(study: Study) -> None:
    with study.project.connect() as connection:
        cases = case_rows(connection)
        keys = participant_keys(connection)
        authors = author_names(connection)
        first = first_content_hash(connection)
    assert [c.participant for c in cases] == ["P1", "P1", "P2", "P2", "P3", "R1", "R2"]
    assert [c.document_id for c in cases[:2]] == [
        study.document_ids["Interview P1 wave 1"],
        study.document_ids["Interview P1 wave 2"],
    ]
    assert keys == ["P1", "P2", "P3", "R1", "R2"] and authors == ["A blogger"]
    assert first == DOCUMENTS[0].content_hash


def test_segments_are_found_by_offsets_and_by_text(study: Study) -> None:
    segment_id = study.segment("I waited ages")
    text = next(t for t, i in study.segment_ids.items() if i == segment_id)
    document = DOCUMENTS[4]
    start = document.text.index(text)
    with study.project.connect() as connection:
        at = segments_at(connection, str(document.path), start, start + len(text))
        same = segments_with_text(connection, text)
        nowhere = segments_at(connection, str(document.path), start, start + 1)
        counts = segment_counts_by_document(connection)
        hashes = segment_text_hashes(connection)
    assert [(m.id, m.unit) for m in at] == [(segment_id, "sentence")] == [(m.id, m.unit) for m in same]
    assert nowhere == []
    assert counts[study.document_ids["Survey answer R2"]] == 2  # "Forms forms forms." and the next
    assert len(hashes) == len(study.segment_ids) and text_hash(text) in hashes
