"""Panel rows in the store: chosen quotes and responses are written once and read back in order."""

from __future__ import annotations

from narratives.schema import Document, Segment, SegmentUnit, SourceKind
from narratives.store.documents import save_document
from narratives.store.panel import (
    insert_panel_quote,
    insert_panel_response,
    load_panel_quote,
    panel_quote_rows,
    panel_quote_texts,
    panel_response_rows,
)
from narratives.store.project import Project
from narratives.store.segments import load_segments, save_segments

TEXT = "Carers change every week. Nobody rings back."


def _segment_ids(project: Project) -> list[int]:
    with project.begin() as connection:
        saved = save_document(connection, Document(kind=SourceKind.survey, title="R1", text=TEXT))
        pieces = [
            Segment(
                document_id=saved.document_id,
                unit=SegmentUnit.sentence,
                index=0,
                start=0,
                end=25,
                text=TEXT[:25],
            ),
            Segment(
                document_id=saved.document_id,
                unit=SegmentUnit.sentence,
                index=1,
                start=26,
                end=44,
                text=TEXT[26:],
            ),
        ]
        save_segments(connection, pieces, pipeline="test")
        return [int(s.id or 0) for s in load_segments(connection)]


def test_quotes_come_back_by_codebook_and_code_oldest_first(backend_project: Project) -> None:
    first, second = _segment_ids(backend_project)
    with backend_project.begin() as connection:
        a = insert_panel_quote(connection, "care", "continuity", second, "ana")
        b = insert_panel_quote(connection, "care", "waiting", first, "ben")
        c = insert_panel_quote(connection, "care", "continuity", first, "ana")
        insert_panel_quote(connection, "other", "continuity", first, "ana")
    with backend_project.connect() as connection:
        every = panel_quote_rows(connection, "care")
        continuity = panel_quote_rows(connection, "care", "continuity")
        one = load_panel_quote(connection, b)
        missing = load_panel_quote(connection, c + 100)
        texts = panel_quote_texts(connection, "care")
    assert [q.id for q in every] == [a, b, c]
    assert [(q.id, q.segment_id, q.user) for q in continuity] == [(a, second, "ana"), (c, first, "ana")]
    assert one is not None and (one.codebook, one.code_id, one.segment_id, one.user) == (
        "care",
        "waiting",
        first,
        "ben",
    )
    assert missing is None
    assert [(t.id, t.code_id, t.text, t.source_kind) for t in texts] == [
        (a, "continuity", "Nobody rings back.", "survey"),
        (b, "waiting", "Carers change every week.", "survey"),
        (c, "continuity", "Carers change every week.", "survey"),
    ]


def test_responses_keep_every_field_and_stay_apart_per_codebook(backend_project: Project) -> None:
    with backend_project.begin() as connection:
        first = insert_panel_response(connection, "care", "continuity", "wrong", "P1", rename="Same faces")
        insert_panel_response(connection, "other", "continuity", "rings_true", "P1")
        second = insert_panel_response(
            connection, "care", "waiting", "misses_something", "P2", comment="Calls too"
        )
    with backend_project.connect() as connection:
        rows = panel_response_rows(connection, "care")
    assert [(r.id, r.code_id, r.verdict, r.rename, r.comment, r.user) for r in rows] == [
        (first, "continuity", "wrong", "Same faces", None, "P1"),
        (second, "waiting", "misses_something", None, "Calls too", "P2"),
    ]
    assert first < second and all(r.codebook == "care" and r.created is not None for r in rows)
