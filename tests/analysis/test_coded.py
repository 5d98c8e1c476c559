"""Which codes a segment carries now, on the small study of :mod:`tests.builders.study`, checked by hand."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from narratives.analysis.coded import coded_segments, document_table
from narratives.review.state import machine_coder, thresholds
from narratives.schema import Codebook, Document, Segment, SegmentUnit, SourceKind
from narratives.store.codebooks import store_codebook
from narratives.store.project import init_project
from narratives.store.segments import load_segments
from tests.builders.project import Cell, ProjectBuilder
from tests.builders.study import CODEBOOK, CODED, CODES, DOCUMENTS, REVIEWER, USER, Study, add_coding_run


def _pairs(study: Study, frame) -> dict[tuple[str, str], str]:
    text_of = {i: text for text, i in study.segment_ids.items()}
    found = {}
    for row in frame.itertuples():
        start = (
            next(s for s, _ in CODED if text_of[row.segment_id].startswith(s))
            if any(text_of[row.segment_id].startswith(s) for s, _ in CODED)
            else text_of[row.segment_id]
        )
        found[(start, row.code_id)] = row.source
    return found


def test_reviews_override_machine_and_thresholds_come_from_the_run(study: Study) -> None:
    with study.project.connect() as connection:
        coded = coded_segments(connection, CODEBOOK)
    assert _pairs(study, coded) == CODED
    assert list(coded.columns[:5]) == ["segment_id", "document_id", "code_id", "source", "score"]


def test_reviewed_rows_keep_the_machine_score_and_the_reviewer(study: Study) -> None:
    with study.project.connect() as connection:
        coded = coded_segments(connection, CODEBOOK)
    accepted = coded[coded["segment_id"] == study.segment("I waited eight months")].iloc[0]
    assert accepted["score"] == pytest.approx(0.65)
    assert accepted["reviewer"] == REVIEWER
    hand = coded[coded["code_id"] == "paperwork"].iloc[0]
    assert math.isnan(hand["score"])
    assert DOCUMENTS[6].text[hand["start"] : hand["end"]] == "explains the paperwork"


def test_reviewed_only_leaves_machine_suggestions_out(study: Study) -> None:
    with study.project.connect() as connection:
        coded = coded_segments(connection, CODEBOOK, include_machine=False)
    assert sorted(coded["code_id"]) == ["paperwork", "waiting"]
    assert set(coded["source"]) == {"reviewed"}


@pytest.mark.parametrize(("threshold", "machine_rows"), [(0.0, 12), (0.5, 10), (0.8, 7), (0.96, 0)])
def test_a_given_threshold_replaces_the_runs(study: Study, threshold: float, machine_rows: int) -> None:
    with study.project.connect() as connection:
        coded = coded_segments(connection, CODEBOOK, threshold=threshold)
    assert (coded["source"] == "machine").sum() == machine_rows


def test_run_thresholds_and_coder(study: Study) -> None:
    with study.project.connect() as connection:
        runs = thresholds(connection, CODEBOOK).runs
        assert [(r.default, r.of("waiting"), r.of("choice")) for r in runs.values()] == [(0.5, 0.7, 0.5)]
        assert machine_coder(connection, CODEBOOK) == "ensemble"
        assert machine_coder(connection, "unknown") is None
        assert coded_segments(connection, "unknown").empty


def test_retired_codes_are_left_out_unless_asked(study: Study) -> None:
    with study.project.begin() as connection:
        store_codebook(connection, Codebook(name=CODEBOOK, version="2", codes=CODES[:4]), USER)
        assert "paperwork" not in set(coded_segments(connection, CODEBOOK)["code_id"])
        assert "paperwork" in set(coded_segments(connection, CODEBOOK, include_retired=True)["code_id"])


def test_document_table_merges_participant_and_document_attributes(study: Study) -> None:
    with study.project.connect() as connection:
        docs = document_table(connection).set_index("title")
        surveys = document_table(connection, kinds=["survey"])
    assert docs.loc["Survey answer R1", "council"] == "South"  # the document's own attribute
    assert docs.loc["Interview P3 wave 1", "council"] == "South"  # the participant's
    assert docs.loc["Interview P1 wave 2", "need_group"] == "learning_disability"
    assert docs.loc["Waiting lists", "person"] == f"document {study.document_ids['Waiting lists']}"
    assert len(surveys) == 2


def test_coded_segments_on_100000_suggestions_keeps_those_at_their_threshold(tmp_path: Path) -> None:
    project = init_project(tmp_path / "big")
    with project.begin() as connection:
        build = ProjectBuilder(connection, codebook=CODEBOOK, user=USER)
        build.store_codebook(Codebook(name=CODEBOOK, version="1", codes=CODES))
        build.add_document(
            Document(kind=SourceKind.blog, title="t", text="x" * 20_000, path="t"),
            split=lambda document_id, _: [
                Segment(
                    document_id=document_id, unit=SegmentUnit.sentence, index=i, start=i, end=i + 1, text="x"
                )
                for i in range(20_000)
            ],
        )
        first = min(int(s.id or 0) for s in load_segments(connection))
        cells = [Cell(first + i % 20_000, CODES[i // 20_000].id, (i % 100) / 100) for i in range(100_000)]
        add_coding_run(build, cells, {"waiting": 0.7}, with_ids=False)
    with project.connect() as connection:
        coded = coded_segments(connection, CODEBOOK)
    project.close()
    assert len(coded) == 4 * 10_000 + 6_000  # scores 0.5..0.99, and 0.7..0.99 for "waiting"
