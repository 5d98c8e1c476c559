"""Coding runs in the store: writing a run and its suggestions, superseding, reading back."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from narratives.schema import Code, Codebook, Document, Segment, SegmentUnit, SourceKind, Suggestion
from narratives.store import Project
from narratives.store.codebooks import store_codebook
from narratives.store.coding_runs import (
    coding_runs_of,
    finish_run,
    insert_suggestions,
    last_coded_unit,
    last_model,
    latest_run,
    record_coding_run,
    start_run,
    supersede,
)
from narratives.store.documents import save_document
from narratives.store.events import list_events
from narratives.store.segments import load_segments, save_segments
from narratives.store.suggestions import current_suggestions, scored_pairs
from narratives.store.tables import suggestions

BOOK = "runs"


@pytest.fixture
def coded(backend_project: Project) -> Project:
    """A document of three sentences (and one paragraph) and a codebook of two codes."""
    text = "One. Two. Three."
    with backend_project.begin() as connection:
        saved = save_document(connection, Document(kind=SourceKind.blog, title="t", text=text, path="t"))
        pieces = [
            Segment(
                document_id=saved.document_id,
                unit=SegmentUnit.sentence,
                index=i,
                start=s,
                end=s + len(w),
                text=w,
            )
            for i, (s, w) in enumerate([(0, "One."), (5, "Two."), (10, "Three.")])
        ]
        pieces.append(
            Segment(
                document_id=saved.document_id,
                unit=SegmentUnit.paragraph,
                index=0,
                start=0,
                end=len(text),
                text=text,
            )
        )
        save_segments(connection, pieces, pipeline="test")
        codes = [Code(id="x", name="X", definition="x."), Code(id="y", name="Y", definition="y.")]
        store_codebook(connection, Codebook(name=BOOK, version="1", codes=codes), "setup")
    return backend_project


def cells(project: Project, unit: SegmentUnit, scores: dict[tuple[int, str], float]) -> list[Suggestion]:
    with project.connect() as connection:
        ids = [int(s.id or 0) for s in load_segments(connection, unit=unit)]
    return [
        Suggestion(
            segment_id=ids[i], code_id=code, score=score, coder="ensemble", codebook=BOOK, config_hash="h"
        )
        for (i, code), score in scores.items()
    ]


def test_a_run_is_written_unfinished_then_finished_with_its_stats_and_event(coded: Project) -> None:
    items = cells(coded, SegmentUnit.sentence, {(0, "x"): 0.9, (1, "y"): 0.4})
    with coded.begin() as connection:
        run_id = start_run(
            connection,
            codebook=BOOK,
            codebook_version="1",
            unit="sentence",
            model="m",
            config={"settings": {"threshold": 0.6}},
            config_hash="h",
            codes=["x", "y"],
            stats={"max_segment_id": 3},
            user="ana",
        )
        assert latest_run(connection, BOOK) is None  # not finished yet
        assert insert_suggestions(connection, run_id, items) == 2
        finish_run(connection, run_id, {"thresholds": {"x": 0.7}}, "ana", event={"codes": ["x", "y"]})
    with coded.connect() as connection:
        run = latest_run(connection, BOOK)
        stored = current_suggestions(connection, BOOK, "x")
        [event] = list_events(connection, kinds=["coding.run"])
    assert run is not None and run.id == run_id and run.finished is not None
    assert run.stats == {"max_segment_id": 3, "thresholds": {"x": 0.7}}  # both kept
    assert run.config == {"settings": {"threshold": 0.6}} and run.model == "m" and run.unit == "sentence"
    assert [(s.run_id, s.score, s.codebook_version) for s in stored] == [(run_id, 0.9, "")]
    assert event.user == "ana" and event.payload == {
        "run_id": run_id,
        "unit": "sentence",
        "codes": ["x", "y"],
    }
    assert event.target == f"{BOOK}@1"


def test_superseding_stops_suggestions_of_the_unit_being_current(coded: Project) -> None:
    sentences = cells(coded, SegmentUnit.sentence, {(0, "x"): 0.9, (1, "y"): 0.4, (2, "x"): 0.2})
    paragraph = cells(coded, SegmentUnit.paragraph, {(0, "x"): 0.8})
    with coded.begin() as connection:
        record_coding_run(
            connection,
            codebook=BOOK,
            codebook_version="1",
            items=sentences,
            user="a",
            unit="sentence",
            model="m",
        )
        record_coding_run(
            connection,
            codebook=BOOK,
            codebook_version="1",
            items=paragraph,
            user="a",
            unit="paragraph",
            model="m",
        )
        assert supersede(connection, BOOK, "sentence", ["y"], full=False) == 1  # only code y
        assert supersede(connection, BOOK, "sentence", [], full=True) == 0  # nothing asked
        assert supersede(connection, BOOK, "sentence", ["x"], full=True) == 2  # every code of the unit
        current = connection.execute(select(func.count()).where(suggestions.c.current.is_(True))).scalar_one()
    assert current == 1  # the paragraph's suggestion is another unit's


def test_reading_runs_back(coded: Project) -> None:
    with coded.begin() as connection:
        assert last_coded_unit(connection, BOOK) is None and last_model(connection, BOOK) is None
        first = record_coding_run(
            connection,
            codebook=BOOK,
            codebook_version="1",
            items=cells(coded, SegmentUnit.sentence, {(0, "x"): 0.9}),
            user="a",
            unit="sentence",
            model="old",
        )
        second = record_coding_run(
            connection,
            codebook=BOOK,
            codebook_version="1+1",
            items=cells(coded, SegmentUnit.paragraph, {(0, "y"): 0.5}),
            user="a",
            unit="paragraph",
            model="new",
            stats={"thresholds": {"y": 0.4}},
        )
    with coded.connect() as connection:
        assert [r.id for r in coding_runs_of(connection, BOOK)] == [first, second]
        assert latest_run(connection, BOOK, "sentence").id == first
        assert latest_run(connection, BOOK).stats == {"thresholds": {"y": 0.4}}
        assert last_coded_unit(connection, BOOK) == "paragraph" and last_model(connection, BOOK) == "new"
        pairs = scored_pairs(connection, BOOK, "ensemble", unit="sentence")
        assert [(p.run_id, p.code_id, p.score, p.start, p.end) for p in pairs] == [(first, "x", 0.9, 0, 4)]
