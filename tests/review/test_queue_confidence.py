"""The queue shows each suggestion's own confidence (not a pile of scores equal to the threshold)
and the size of the whole queue, not of the page it fetched."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from narratives.coding.ensemble import best_code_score
from narratives.coding.runner import code_project
from narratives.review.queue import QueueFilters, best_code_probability, queue_size, review_queue
from narratives.review.record import record_review
from narratives.schema import Decision, Review, SourceKind
from narratives.store.codebooks import store_codebook
from narratives.store.project import Project, init_project
from narratives.store.tables import suggestions
from tests.builders.themes import FakeEmbedder, add_documents, make_codebook, theme_documents

BOOK = "test-book"


@pytest.fixture
def coded(tmp_path: Path) -> Iterator[Project]:
    made = init_project(tmp_path / "project")
    add_documents(made, theme_documents())
    add_documents(made, [["The survey answer says the wait was long."]], kind=SourceKind.survey, prefix="s")
    with made.begin() as connection:
        store_codebook(connection, make_codebook(), "ana")
    code_project(made, make_codebook(), embedder=FakeEmbedder(), user="ana")
    yield made
    made.close()


@pytest.mark.parametrize("top", [0.1, 0.2, 0.35])
@pytest.mark.parametrize("threshold", [0.5, 0.6, 0.8])
def test_best_code_probability_undoes_best_code_score(top: float, threshold: float) -> None:
    probabilities = np.linspace(top, 1.0, 9)
    scores = best_code_score(probabilities, np.full(9, threshold), top)
    assert (scores >= threshold - 1e-6).all()  # a best code that reaches top passes its threshold
    assert (np.diff(scores) > 0).all()  # and keeps its place in the order: no pile on the threshold
    back = [best_code_probability(float(s), threshold, top) for s in scores]
    assert back == pytest.approx(probabilities.tolist(), abs=1e-5)


def test_coded_scores_do_not_pile_up_on_the_threshold(coded: Project) -> None:
    with coded.connect() as connection:
        scores = connection.execute(select(suggestions.c.score).where(suggestions.c.coder == "ensemble"))
        values = [row[0] for row in scores]
    assert values
    assert sum(1 for v in values if v == pytest.approx(0.5, abs=1e-6)) <= 1


def test_queue_items_show_the_probability_and_the_rule_they_pass(coded: Project) -> None:
    items = review_queue(coded, BOOK, limit=200)
    assert items
    assert len({round(item.confidence, 4) for item in items}) > 1
    best = [item for item in items if item.probability is not None]
    assert best, "some items are their text's best code"
    for item in best:
        assert item.applies_from == pytest.approx(0.2)  # the ensemble's top_threshold
        assert item.confidence_needed == pytest.approx(0.2)
        assert item.probability == pytest.approx(
            best_code_probability(item.score, item.threshold, 0.2), abs=1e-4
        )
        assert item.probability <= item.score
    for item in items:
        if item.probability is None:
            assert item.confidence == item.score and item.confidence_needed == item.threshold


def test_queue_size_counts_the_whole_queue_for_the_filters_and_the_user(coded: Project) -> None:
    everything = review_queue(coded, BOOK, limit=10_000, user="ana")
    assert queue_size(coded, BOOK, user="ana") == len(everything) > 3
    assert len(review_queue(coded, BOOK, limit=2, user="ana")) == 2  # a page, while the size is all
    code = everything[0].code_id
    one_code = QueueFilters(code_ids=[code])
    assert queue_size(coded, BOOK, filters=one_code, user="ana") == sum(i.code_id == code for i in everything)
    item = everything[0]
    with coded.begin() as connection:
        review = Review(
            segment_id=item.segment_id,
            code_id=item.code_id,
            codebook=BOOK,
            decision=Decision.accept,
            user="ana",
            suggestion_id=item.suggestion_id,
        )
        record_review(connection, review)
    assert queue_size(coded, BOOK, user="ana") == len(everything) - 1
    assert queue_size(coded, BOOK, user="ben") == len(everything)  # ben has not decided it
