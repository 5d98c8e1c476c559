""" "Code all these": one code on many segments as one undoable action (review.bulk)."""

from __future__ import annotations

import pytest

from narratives.errors import ReviewError
from narratives.review.audit import undo_last
from narratives.review.bulk import code_segments
from narratives.review.state import latest_reviews
from narratives.store.reviews import load_reviews
from tests.builders.study import CODEBOOK

SUGGESTED = "My budget gives me"  # an ensemble "choice" suggestion below the threshold, unreviewed
UNSUGGESTED = "Forms forms forms"  # no "choice" suggestion at all
ACCEPTED_ALREADY = "People deserve choice"  # the machine's, then accepted below


def test_accepts_suggestions_adds_the_rest_and_skips_what_carries_it(study) -> None:
    with study.project.begin() as connection:
        first = code_segments(connection, CODEBOOK, "choice", [study.segment(ACCEPTED_ALREADY)], "ana")
    targets = [study.segment(s) for s in (SUGGESTED, UNSUGGESTED, ACCEPTED_ALREADY, SUGGESTED)]
    with study.project.begin() as connection:
        done = code_segments(connection, CODEBOOK, "choice", targets, "ana")
        reviews = {r.id: r for r in load_reviews(connection, CODEBOOK) if r.id in done.recorded}
        holding = latest_reviews(connection, CODEBOOK)
    assert len(first.recorded) == 1 and done.already == (study.segment(ACCEPTED_ALREADY),)
    by_segment = {r.segment_id: r for r in reviews.values()}
    assert set(by_segment) == {study.segment(SUGGESTED), study.segment(UNSUGGESTED)}  # once each
    assert by_segment[study.segment(SUGGESTED)].decision.value == "accept"
    assert by_segment[study.segment(SUGGESTED)].suggestion_id is not None
    assert by_segment[study.segment(UNSUGGESTED)].decision.value == "add"
    assert {r.source for r in reviews.values()} == {"search"} and {r.user for r in reviews.values()} == {
        "ana"
    }
    assert all(holding[(segment, "choice")].applies for segment in targets)


def test_one_undo_takes_the_whole_action_back(study) -> None:
    targets = [study.segment(SUGGESTED), study.segment(UNSUGGESTED)]
    with study.project.begin() as connection:
        code_segments(connection, CODEBOOK, "choice", targets, "ana")
    undo_last(study.project, "ana")
    with study.project.connect() as connection:
        holding = latest_reviews(connection, CODEBOOK)
    assert all((segment, "choice") not in holding for segment in targets)


def test_nothing_selected_or_an_unknown_code_writes_nothing(study) -> None:
    with study.project.connect() as connection:
        before = len(load_reviews(connection, CODEBOOK))
    with pytest.raises(ReviewError, match="no segment is selected"), study.project.begin() as connection:
        code_segments(connection, CODEBOOK, "choice", [], "ana")
    with pytest.raises(ReviewError, match="not in codebook"), study.project.begin() as connection:
        code_segments(connection, CODEBOOK, "nope", [study.segment(SUGGESTED)], "ana")
    with pytest.raises(ReviewError, match="does not exist"), study.project.begin() as connection:
        code_segments(connection, CODEBOOK, "choice", [study.segment(SUGGESTED), 99_999], "ana")
    with study.project.connect() as connection:
        assert len(load_reviews(connection, CODEBOOK)) == before
