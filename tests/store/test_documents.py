"""Documents in the store: idempotent saves, versions, attributes, participants, transactions."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from narratives.schema import Attribute, Document, SourceKind, Turn
from narratives.store.documents import current_document_ids, load_document, save_document
from narratives.store.events import list_events, record_event
from narratives.store.tables import documents, events, participants


def make_document(
    text: str = "I waited “six months” for a review – 🙂\r\nThen nothing.", **extra
) -> Document:
    values = {
        "kind": SourceKind.interview,
        "title": "P01 wave 1",
        "text": text,
        "participant": "P01",
        "wave": 1,
        "path": "interviews/p01_w1.txt",
        "turns": [Turn(speaker="P01", start=0, end=len(text))],
        "attributes": [Attribute.of("words", 9)],
        "participant_attributes": [Attribute.of("age_band", "65-79"), Attribute.of("budget_holder", True)],
    }
    values.update(extra)
    return Document(**values)


def count(connection, table) -> int:
    return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def test_saved_document_round_trips_exactly(backend_project) -> None:
    document = make_document()
    with backend_project.begin() as connection:
        saved = save_document(connection, document)
    with backend_project.connect() as connection:
        loaded = load_document(connection, saved.document_id)
    assert saved.outcome == "added"
    assert loaded.text == document.text  # curly quotes, emoji and CRLF survive
    assert loaded.participant == "P01" and loaded.wave == 1
    assert loaded.turns == document.turns
    assert {a.key: a.value for a in loaded.participant_attributes} == {
        "age_band": "65-79",
        "budget_holder": True,
    }
    assert {a.key: a.value for a in loaded.attributes} == {"words": 9}


def test_same_content_twice_is_stored_once(backend_project) -> None:
    with backend_project.begin() as connection:
        first = save_document(connection, make_document())
        second = save_document(connection, make_document(path="elsewhere.txt"))
    assert second.outcome == "unchanged" and second.document_id == first.document_id
    with backend_project.connect() as connection:
        assert count(connection, documents) == 1
        assert count(connection, participants) == 1


def test_changed_file_becomes_a_new_version(backend_project) -> None:
    with backend_project.begin() as connection:
        first = save_document(connection, make_document("Version one."))
        second = save_document(connection, make_document("Version two, edited."))
    assert second.outcome == "new_version"
    with backend_project.connect() as connection:
        assert current_document_ids(connection) == [second.document_id]
        assert load_document(connection, second.document_id).version == 2
        assert load_document(connection, first.document_id).text == "Version one."


def test_failed_transaction_leaves_nothing_behind(backend_project) -> None:
    with backend_project.begin() as connection:
        save_document(connection, make_document("Kept."))
    with pytest.raises(RuntimeError), backend_project.begin() as connection:
        save_document(connection, make_document("Half written.", path="b.txt", participant="P02"))
        record_event(connection, "ingest.file", "tester")
        raise RuntimeError("disk full")
    with backend_project.connect() as connection:
        assert count(connection, documents) == 1
        assert count(connection, participants) == 1
        assert count(connection, events) == 0


def test_events_are_appended_with_user_and_time(backend_project) -> None:
    with backend_project.begin() as connection:
        record_event(connection, "ingest.file", "ana", target="a.txt", payload={"documents": 2})
        record_event(connection, "segment.run", "ben")
    with backend_project.connect() as connection:
        listed = list_events(connection)
        only_ana = list_events(connection, user="ana")
    assert [e.kind for e in listed] == ["segment.run", "ingest.file"]
    assert only_ana[0].payload == {"documents": 2} and only_ana[0].created is not None


def test_event_without_user_is_refused(backend_project) -> None:
    with pytest.raises(ValueError), backend_project.begin() as connection:
        record_event(connection, "review", "  ")
