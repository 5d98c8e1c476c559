"""The one definition of what holds now (:mod:`narratives.review.state`), on small cases checked by hand."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from narratives.review.audit import undo_last
from narratives.review.record import record_review
from narratives.review.state import (
    RunThresholds,
    Thresholds,
    coding_state,
    latest_by_reviewer,
    latest_reviews,
    machine_coder,
    reviewed_counts,
    reviewed_labels,
    run_thresholds_of,
    thresholds,
    withdrawn_review_ids,
)
from narratives.schema import Decision, Review, Suggestion
from narratives.store.coding_runs import CodingRun, record_coding_run, supersede
from tests.builders.demo_project import CODEBOOK

NEVER = "I never know who is coming."
RUSHED = "The carers are always rushed."
CALLS = "Nobody returned my calls."


def run(config: dict, stats: dict) -> CodingRun:
    now = datetime.now(timezone.utc)
    return CodingRun(1, "b", "1", "sentence", "m", config, "h", [], stats, "u", now, now)


@pytest.mark.parametrize(
    ("config", "stats", "expected"),
    [
        ({}, {}, (0.5, 0.5)),
        ({"threshold": 0.4}, {}, (0.4, 0.4)),
        ({"threshold": 0.4, "settings": {"threshold": 0.3}}, {}, (0.3, 0.3)),
        ({"thresholds": {"x": 0.6}, "settings": {"threshold": 0.3}}, {}, (0.3, 0.6)),
        ({"thresholds": {"x": 0.6}, "settings": {"thresholds": {"x": 0.7}}}, {}, (0.5, 0.7)),
        ({"settings": {"thresholds": {"x": 0.7}}}, {"thresholds": {"x": 0.8}}, (0.5, 0.8)),
    ],
)
def test_a_runs_thresholds_come_in_the_documented_order(
    config: dict,
    stats: dict,
    expected: tuple[float, float],
) -> None:
    found = run_thresholds_of(run(config, stats))
    assert (found.default, found.of("x")) == expected


def test_an_override_replaces_the_runs_and_the_floor_is_the_lowest_in_play() -> None:
    runs = {1: RunThresholds(0.5, {"x": 0.7}), 2: RunThresholds(0.6, {"y": 0.35})}
    assert Thresholds(runs).of(1, "x") == 0.7 and Thresholds(runs).of(2, "x") == 0.6
    assert Thresholds(runs).of(99, "x") == 0.5  # a run with no record: the default
    assert Thresholds(runs, 0.9).of(1, "x") == 0.9 and Thresholds(runs, 0.9).floor() == 0.9
    assert Thresholds(runs, {"x": 0.2}).of(1, "x") == 0.2 and Thresholds(runs, {"x": 0.2}).of(2, "y") == 0.35
    assert Thresholds(runs).floor() == 0.35 and Thresholds(runs, {"z": 0.1}).floor() == 0.1


def add(demo, text: str, decision: str, user: str, code_id: str = "continuity") -> int:
    with demo.project.begin() as connection:
        return record_review(
            connection,
            Review(
                segment_id=demo.segment_ids[text],
                code_id=code_id,
                codebook=CODEBOOK,
                decision=Decision(decision),
                user=user,
            ),
        )


def test_latest_reviews_leave_withdrawn_ones_out_and_keep_each_reviewer(demo) -> None:
    add(demo, NEVER, "accept", "ana")
    add(demo, NEVER, "reject", "ben")
    add(demo, RUSHED, "reject", "ana")
    undo_last(demo.project, "ana")  # takes back ana's reject of RUSHED
    pair = (demo.segment_ids[NEVER], "continuity")
    with demo.project.connect() as connection:
        latest = latest_reviews(connection, CODEBOOK)
        by_user = latest_by_reviewer(connection, CODEBOOK)
        labels = {(label.segment_id, label.code_id): label for label in reviewed_labels(connection, CODEBOOK)}
        assert len(withdrawn_review_ids(connection)) == 1
        assert reviewed_counts(connection, CODEBOOK) == {"continuity": 1}
    assert list(latest) == [pair] and latest[pair].user == "ben" and not latest[pair].applies
    assert {user: r.decision for user, r in by_user[pair].items()} == {"ana": "accept", "ben": "reject"}
    assert labels[pair].disagreement and labels[pair].users == ("ana", "ben") and not labels[pair].applies


def test_each_suggestion_is_judged_by_the_threshold_of_the_run_that_wrote_it(demo) -> None:
    """A later run that re-codes one code does not move the threshold of another code's suggestions."""
    never = demo.segment_ids[NEVER]
    with demo.project.begin() as connection:
        record_coding_run(
            connection,
            codebook=CODEBOOK,
            codebook_version="1",
            items=[
                Suggestion(segment_id=never, code_id="choice", score=0.6, coder="ensemble", codebook=CODEBOOK)
            ],
            user="t",
            unit="sentence",
            model="fake",
            stats={"thresholds": {"continuity": 0.95, "choice": 0.65}},
        )
    with demo.project.connect() as connection:
        state = coding_state(connection, CODEBOOK)
        assert thresholds(connection, CODEBOOK).floor() == 0.5
    continuity = state.pairs[(never, "continuity")]  # the first run's 0.9 against its 0.5
    assert continuity.applies and continuity.threshold == 0.5
    choice = state.pairs[(never, "choice")]  # the new run's 0.6 against its own 0.65
    assert choice.score == 0.6 and choice.threshold == 0.65 and not choice.applies


def test_state_keeps_to_the_unit_asked_for_and_superseded_suggestions_count_for_nothing(demo) -> None:
    with demo.project.begin() as connection:
        supersede(connection, CODEBOOK, "sentence", ["paperwork"], full=False)
    with demo.project.connect() as connection:
        everything = coding_state(connection, CODEBOOK)
        with_low = coding_state(connection, CODEBOOK, all_scores=True)
        assert coding_state(connection, CODEBOOK, unit="paragraph").pairs == {}
        assert coding_state(connection, CODEBOOK, coder="phrase").coder == "phrase"
        assert machine_coder(connection, CODEBOOK) == "ensemble" and machine_coder(connection, "none") is None
    assert not any(p.code_id == "paperwork" for p in everything.pairs.values())
    assert {p.status for p in everything.pairs.values()} == {"suggested"}  # only what can apply is read
    assert with_low.pairs[(demo.segment_ids[CALLS], "waiting")].status == "below"
