"""The review queue: uncertain and rare-code items first, filters, reviewed pairs left out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from narratives.coding.runner import code_project
from narratives.review.queue import QueueFilters, review_queue
from narratives.review.record import record_review
from narratives.schema import Decision, Review, SourceKind
from narratives.store.codebooks import store_codebook
from narratives.store.project import Project, init_project
from narratives.store.segments import load_segments
from narratives.store.tables import suggestions
from tests.builders.project import Cell, ProjectBuilder
from tests.builders.themes import FakeEmbedder, add_documents, make_codebook, theme_documents

BOOK = "test-book"


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    made = init_project(tmp_path / "project")
    add_documents(made, theme_documents())
    add_documents(
        made,
        [["The survey answer says the wait was long.", "Another survey line here."]],
        kind=SourceKind.survey,
        prefix="survey",
    )
    with made.begin() as connection:
        store_codebook(connection, make_codebook(), "ana")
    yield made
    made.close()


def segment_ids(project: Project) -> list[int]:
    with project.connect() as connection:
        return [int(s.id) for s in load_segments(connection) if s.id is not None]


def add_run(
    project: Project, cells: list[tuple[int, str, float]], thresholds: dict[str, float] | None = None
) -> dict[tuple[int, str], int]:
    """A coding run with exactly these (segment, code, score) suggestions; returns their ids."""
    with project.begin() as connection:
        build = ProjectBuilder(
            connection, codebook=BOOK, user="ana", model="fake-bag-of-stems", config_hash="x" * 64
        )
        run = build.coding_run(
            [
                Cell(segment_id, code_id, score, evidence="why", evidence_start=0, evidence_end=3)
                for segment_id, code_id, score in cells
            ],
            thresholds=thresholds or {},
        )
    return {
        (segment_id, code_id): i
        for (segment_id, code_id, _), i in zip(cells, run.suggestion_ids, strict=True)
    }


def review(
    project: Project, segment_id: int, code_id: str, user: str, decision: Decision = Decision.accept
) -> None:
    with project.begin() as connection:
        record_review(
            connection,
            Review(segment_id=segment_id, code_id=code_id, decision=decision, user=user, codebook=BOOK),
        )


def test_uncertain_items_come_first(project: Project) -> None:
    s = segment_ids(project)
    add_run(project, [(s[0], "money", 0.97), (s[1], "money", 0.52), (s[2], "money", 0.25)])
    queue = review_queue(project, BOOK)
    assert [item.score for item in queue] == [0.52, 0.25, 0.97]
    assert "uncertain" in queue[0].reasons


def test_uncertainty_is_measured_from_the_codes_threshold(project: Project) -> None:
    s = segment_ids(project)
    add_run(project, [(s[0], "money", 0.5), (s[1], "money", 0.3)], thresholds={"money": 0.3})
    assert [item.score for item in review_queue(project, BOOK)] == [0.3, 0.5]


def test_rare_codes_are_boosted(project: Project) -> None:
    s = segment_ids(project)
    for segment_id in s[10:16]:
        review(project, segment_id, "waiting", "ben")
    add_run(project, [(s[0], "waiting", 0.5), (s[1], "isolation", 0.45)])
    queue = review_queue(project, BOOK)
    assert [item.code_id for item in queue] == ["isolation", "waiting"]
    assert "rare code (0 reviewed)" in queue[0].reasons


def test_pairs_reviewed_by_the_user_are_left_out(project: Project) -> None:
    s = segment_ids(project)
    add_run(project, [(s[0], "money", 0.5), (s[1], "money", 0.6)])
    review(project, s[0], "money", "ana", Decision.reject)
    assert [item.segment_id for item in review_queue(project, BOOK, user="ana")] == [s[1]]
    assert {item.segment_id for item in review_queue(project, BOOK, user="ben")} == {s[0], s[1]}
    reviewed = review_queue(project, BOOK, user="ben", filters=QueueFilters(reviewed_by="ana"))
    assert [item.segment_id for item in reviewed] == [s[0]]
    fresh = review_queue(project, BOOK, filters=QueueFilters(not_reviewed_by="ana"))
    assert [item.segment_id for item in fresh] == [s[1]]


def test_a_review_taken_back_by_an_undo_puts_the_pair_back_in_the_queue(project: Project) -> None:
    from narratives.review.audit import undo_last

    s = segment_ids(project)
    add_run(project, [(s[0], "money", 0.5), (s[1], "money", 0.6)])
    review(project, s[0], "money", "ana", Decision.reject)
    undo_last(project, "ana")
    assert {item.segment_id for item in review_queue(project, BOOK, user="ana")} == {s[0], s[1]}
    second = review_queue(project, BOOK, filters=QueueFilters(reviewed_by="ana"))
    assert second == []  # ana's only decision was taken back


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (QueueFilters(code_ids=["staff"]), {"staff"}),
        (QueueFilters(kinds=["survey"]), {"money"}),
        (QueueFilters(band="high"), {"isolation"}),
        (QueueFilters(band="low"), {"staff"}),
        (QueueFilters(min_score=0.4, max_score=0.6), {"waiting", "money"}),
        (QueueFilters(waves=[2]), {"staff"}),
    ],
)
def test_filters_narrow_the_queue(project: Project, filters: QueueFilters, expected: set[str]) -> None:
    s = segment_ids(project)
    # s[0] is in document 0 (wave 1), s[3] in document 1 (wave 2), s[-1] in the survey answer.
    add_run(
        project,
        [(s[0], "waiting", 0.5), (s[3], "staff", 0.3), (s[6], "isolation", 0.9), (s[-1], "money", 0.55)],
    )
    assert {item.code_id for item in review_queue(project, BOOK, filters=filters)} == expected


def test_one_item_per_segment_before_repeats(project: Project) -> None:
    s = segment_ids(project)
    add_run(project, [(s[0], "waiting", 0.5), (s[0], "money", 0.5), (s[1], "staff", 0.4)])
    queue = review_queue(project, BOOK, limit=2)
    assert {item.segment_id for item in queue} == {s[0], s[1]}
    assert len(review_queue(project, BOOK, limit=10)) == 3  # the repeat fills a short page


def test_items_carry_what_the_review_page_shows(project: Project) -> None:
    code_project(project, make_codebook(), embedder=FakeEmbedder(), user="ana")
    queue = review_queue(project, BOOK, limit=5)
    assert 0 < len(queue) <= 5
    item = queue[0]
    with project.connect() as connection:
        row = connection.execute(select(suggestions).where(suggestions.c.id == item.suggestion_id)).one()
    assert (row.segment_id, row.code_id, row.score) == (item.segment_id, item.code_id, item.score)
    assert item.text and item.document_title.startswith("doc") and item.document_kind == "blog"
    assert item.code_name in {c.name for c in make_codebook().codes} and item.coder == "ensemble"
