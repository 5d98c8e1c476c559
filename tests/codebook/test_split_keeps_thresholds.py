"""A split re-suggests the old code's scores in a run that records the threshold they were judged by,
so what applies after the split is what applied before it (not the 0.5 every unrecorded run falls to)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from narratives.codebook.merge_split import split_code
from narratives.review.audit import undo_last
from narratives.review.state import coding_state
from narratives.schema import Code, Codebook, Document, Segment, SegmentUnit, SourceKind, Suggestion
from narratives.store.codebooks import store_codebook
from narratives.store.coding_runs import coding_runs_of, record_coding_run
from narratives.store.documents import save_document
from narratives.store.events import list_events
from narratives.store.project import Project
from narratives.store.segments import load_segments, save_segments
from narratives.store.suggestions import current_suggestions

BOOK = "split-book"
SENTENCES = (
    "The rota changes every week.",  # closer to the new code, scored 0.9
    "Nobody told me who was coming.",  # stays with the old code, scored 0.95
    "A new rota again this week.",  # closer to the new code, scored 0.93
)
CONTINUITY = Code(id="continuity", name="Continuity of care", definition="The same carers come.")
ROTA = Code(id="rota", name="Changing rota", definition="The rota changes every week.")


class KeywordEmbedder:
    """Two dimensions: 'week' or 'rota' pulls towards one axis, everything else towards the other."""

    name = "keyword-fake"
    dim = 2

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        rows = [[1.0, 0.0] if ("week" in t.lower() or "rota" in t.lower()) else [0.0, 1.0] for t in texts]
        return np.asarray(rows, dtype=np.float32)


def _segments(project: Project) -> list[int]:
    text = " ".join(SENTENCES)
    with project.begin() as connection:
        saved = save_document(connection, Document(kind=SourceKind.blog, title="b", text=text, path="b.md"))
        pieces = []
        for index, sentence in enumerate(SENTENCES):
            start = text.index(sentence)
            pieces.append(
                Segment(
                    document_id=saved.document_id,
                    unit=SegmentUnit.sentence,
                    index=index,
                    start=start,
                    end=start + len(sentence),
                    text=sentence,
                )
            )
        save_segments(connection, pieces, pipeline="test")
        store_codebook(connection, Codebook(name=BOOK, version="1", codes=[CONTINUITY]), "setup")
        return [int(s.id or 0) for s in load_segments(connection)]


def _run(project: Project, scores: dict[int, float], threshold: float) -> int:
    items = [
        Suggestion(
            segment_id=segment_id,
            code_id="continuity",
            score=score,
            coder="ensemble",
            codebook=BOOK,
            codebook_version="1",
            config_hash="h",
        )
        for segment_id, score in scores.items()
    ]
    with project.begin() as connection:
        return record_coding_run(
            connection,
            codebook=BOOK,
            codebook_version="1",
            items=items,
            user="coder",
            unit="sentence",
            model="fake",
            stats={"thresholds": {"continuity": threshold}},
        )


def _carried(project: Project) -> set[tuple[int, str]]:
    with project.connect() as connection:
        return {(p.segment_id, p.code_id) for p in coding_state(connection, BOOK).carried()}


def _current(project: Project, code_id: str) -> list[Suggestion]:
    with project.connect() as connection:
        return current_suggestions(connection, BOOK, code_id)


def test_split_scores_are_judged_by_the_threshold_of_their_run(tmp_project: Project) -> None:
    weekly, nobody, again = _segments(tmp_project)
    _run(tmp_project, {weekly: 0.9, nobody: 0.95, again: 0.93}, threshold=0.92)
    assert _carried(tmp_project) == {(nobody, "continuity"), (again, "continuity")}
    with tmp_project.begin() as connection:
        result = split_code(connection, BOOK, "continuity", ROTA, "ana", embedder=KeywordEmbedder())
    assert (result.to_old, result.to_new) == (1, 2)
    # 0.9 stays below 0.92 now that it belongs to 'rota'; judged by 0.5 it would apply
    assert _carried(tmp_project) == {(nobody, "continuity"), (again, "rota")}
    with tmp_project.connect() as connection:
        split_run = coding_runs_of(connection, BOOK)[-1]
        [event] = list_events(connection, kinds=["code.split"])
    assert split_run.stats["thresholds"] == {"continuity": 0.92, "rota": 0.92}
    assert split_run.finished is not None and split_run.codes == ["continuity", "rota"]
    assert event.payload["run_id"] == split_run.id
    rota, continuity = _current(tmp_project, "rota"), _current(tmp_project, "continuity")
    assert sorted(event.payload["suggestions_created"]) == sorted(int(s.id or 0) for s in rota + continuity)
    assert all(s.run_id == split_run.id for s in rota + continuity)
    assert {s.segment_id: s.score for s in rota} == {weekly: 0.9, again: 0.93}


def test_undoing_the_split_brings_back_the_old_suggestions(tmp_project: Project) -> None:
    weekly, nobody, again = _segments(tmp_project)
    _run(tmp_project, {weekly: 0.9, nobody: 0.95, again: 0.93}, threshold=0.92)
    before = {int(s.id or 0) for s in _current(tmp_project, "continuity")}
    with tmp_project.begin() as connection:
        split_code(connection, BOOK, "continuity", ROTA, "ana", embedder=KeywordEmbedder())
    undo_last(tmp_project, "ana")
    assert {int(s.id or 0) for s in _current(tmp_project, "continuity")} == before
    assert _current(tmp_project, "rota") == []
    assert _carried(tmp_project) == {(nobody, "continuity"), (again, "continuity")}


@pytest.mark.parametrize(("first", "second"), [(0.3, 0.8), (0.8, 0.3)])
def test_suggestions_of_several_runs_keep_the_threshold_of_their_own_run(
    tmp_project: Project, first: float, second: float
) -> None:
    weekly, nobody, _ = _segments(tmp_project)
    _run(tmp_project, {weekly: 0.6}, threshold=first)
    _run(tmp_project, {nobody: 0.6}, threshold=second)
    applied_before = {segment for segment, _ in _carried(tmp_project)}
    with tmp_project.begin() as connection:
        split_code(connection, BOOK, "continuity", ROTA, "ana", embedder=KeywordEmbedder())
        split_runs = coding_runs_of(connection, BOOK)[-2:]
        [event] = list_events(connection, kinds=["code.split"])
    assert [r.stats["thresholds"] for r in split_runs] == [
        {"continuity": first, "rota": first},
        {"continuity": second, "rota": second},
    ]
    assert event.payload["run_ids"] == [r.id for r in split_runs]
    # weekly moved to 'rota', nobody stayed: each still applies exactly when it did before
    assert {segment for segment, _ in _carried(tmp_project)} == applied_before
    assert len(applied_before) == 1
