"""Themes by attribute and across waves on the hand-checked study of :mod:`tests.builders.study`."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from narratives.analysis.crosstab import (
    NOT_RECORDED,
    adjust_bh,
    group_test,
    most_common,
    most_common_by,
    themes_by_attribute,
    themes_by_wave,
    wave_pattern,
)
from narratives.errors import AnalysisError
from tests.builders.study import CODEBOOK, Study


def _cells(frame, code_id: str) -> dict[str, tuple[int, int]]:
    rows = frame[frame["code_id"] == code_id]
    return {r.group: (int(r.count), int(r.group_size)) for r in rows.itertuples()}


def test_participants_by_need_group(study: Study) -> None:
    with study.project.connect() as connection:
        frame = themes_by_attribute(connection, CODEBOOK, "need_group")
    # P1 and R2 learning disability, P2 and P3 physical, R1 mental health, the blog post not recorded
    assert _cells(frame, "continuity") == {
        "learning_disability": (1, 2),
        "mental_health": (1, 1),
        "physical": (1, 2),
        NOT_RECORDED: (0, 1),
    }
    assert _cells(frame, "waiting") == {
        "learning_disability": (1, 2),
        "mental_health": (0, 1),
        "physical": (2, 2),
        NOT_RECORDED: (1, 1),
    }
    assert frame["small_group"].all()
    waiting = frame[frame["code_id"] == "waiting"]
    assert set(waiting["share"].round(2)) == {0.5, 0.0, 1.0}


def test_council_counts_documents_and_segments(study: Study) -> None:
    with study.project.connect() as connection:
        documents = themes_by_attribute(connection, CODEBOOK, "council", unit_of_count="documents")
        segments = themes_by_attribute(connection, CODEBOOK, "council", unit_of_count="segments")
    # North: P1 w1, P1 w2, P2 w1, P2 w2, R2; South: P3, R1 (a document attribute); the blog none
    assert _cells(documents, "continuity") == {"North": (4, 5), "South": (1, 2), NOT_RECORDED: (0, 1)}
    # 15 sentences: North 10, South 3, the blog 2
    assert _cells(segments, "continuity") == {"North": (4, 10), "South": (1, 3), NOT_RECORDED: (0, 2)}


def test_kinds_filter_and_reviewed_only(study: Study) -> None:
    with study.project.connect() as connection:
        surveys = themes_by_attribute(connection, CODEBOOK, "need_group", kinds=["survey"])
        reviewed = themes_by_attribute(connection, CODEBOOK, "need_group", include_machine=False)
    assert _cells(surveys, "paperwork") == {"learning_disability": (1, 1), "mental_health": (0, 1)}
    assert _cells(reviewed, "continuity")["physical"] == (0, 2)
    assert _cells(reviewed, "waiting")["learning_disability"] == (1, 2)


def test_tests_and_adjusted_p_values(study: Study) -> None:
    with study.project.connect() as connection:
        frame = themes_by_attribute(connection, CODEBOOK, "council", unit_of_count="segments")
    per_code = frame.drop_duplicates("code_id").set_index("code_id")
    # "access" is applied to nothing itself: it counts its sub-codes' segments (4 waiting, 1 paperwork)
    assert _cells(frame, "access") == {"North": (3, 10), "South": (1, 3), NOT_RECORDED: (1, 2)}
    assert per_code.loc["access", "test"] == "fisher"
    assert per_code.loc["continuity", "test"] == "fisher"  # 2 groups, small counts
    assert (per_code["p_adjusted"].dropna() >= per_code["p_value"].dropna()).all()


def test_counts_without_tests_are_the_same_counts(study: Study) -> None:
    with study.project.connect() as connection:
        tested = themes_by_attribute(connection, CODEBOOK, "need_group")
        counted = themes_by_attribute(connection, CODEBOOK, "need_group", with_tests=False)
    counts = ["code_id", "group", "group_size", "count", "share", "small_group"]
    pd.testing.assert_frame_equal(counted[counts], tested[counts])
    assert set(counted["test"]) == {"not run"} and counted["p_adjusted"].isna().all()


def test_most_common_by_agrees_with_most_common_per_person() -> None:
    """Ties go to the first value in sorted text order; blanks are left out; numbers count as text."""
    rows = [("p1", "b"), ("p1", "a"), ("p1", "b"), ("p2", "c"), ("p2", "a"), ("p3", None), ("p3", 3)]
    rows += [("p4", 2.5), ("p4", "2.5"), ("p5", None)]
    frame = pd.DataFrame(rows, columns=["person", "need"])
    one_by_one = frame.dropna(subset=["need"]).groupby("person")["need"].agg(most_common)
    assert most_common_by(frame, "person", "need").to_dict() == one_by_one.to_dict()
    assert one_by_one.to_dict() == {"p1": "b", "p2": "a", "p3": "3", "p4": "2.5"}


def test_unknown_attribute_is_an_actionable_error(study: Study) -> None:
    with study.project.connect() as connection, pytest.raises(AnalysisError, match="need_group"):
        themes_by_attribute(connection, CODEBOOK, "postcode")


def test_group_test_picks_chi_square_for_large_counts() -> None:
    test, _, p = group_test(np.array([[40, 60], [70, 30]]))
    assert test == "chi-square" and p < 0.001
    assert group_test(np.array([[3, 1], [0, 4]]))[0] == "fisher"
    assert group_test(np.array([[1, 1], [1, 1], [2, 0]]))[0] == "fisher (monte carlo)"
    assert group_test(np.array([[0, 4], [0, 3]]))[0] == "none"


def test_benjamini_hochberg_by_hand() -> None:
    adjusted = adjust_bh([0.01, 0.04, float("nan"), 0.03])
    assert adjusted[0] == pytest.approx(0.03)  # 0.01 * 3 / 1
    assert adjusted[1] == pytest.approx(0.04)
    assert adjusted[3] == pytest.approx(0.04)  # min(0.03 * 3 / 2, 0.04)
    assert math.isnan(adjusted[2])


def test_waves_count_distinct_participants(study: Study) -> None:
    with study.project.connect() as connection:
        tables = themes_by_wave(connection, CODEBOOK)
    counts = {(r.code_id, r.wave): (r.participants, r.wave_participants) for r in tables.counts.itertuples()}
    assert counts[("continuity", 1)] == (3, 5)  # P1, P2, R1 of P1, P2, P3, R1, R2
    assert counts[("continuity", 2)] == (2, 2)
    assert counts[("waiting", 1)] == (2, 5)  # P1 (reviewed), P3
    assert counts[("waiting", 2)] == (1, 2)
    assert counts[("choice", 1)] == (0, 5)  # P2's rejected, P3's below threshold
    assert tables.counts.set_index(["code_id", "wave"]).loc[("continuity", 2), "small_group"]


def test_trajectories_and_changes(study: Study) -> None:
    with study.project.connect() as connection:
        tables = themes_by_wave(connection, CODEBOOK)
    patterns = {(r.participant, r.code_id): r.pattern for r in tables.trajectories.itertuples()}
    assert patterns == {
        ("P1", "choice"): "appears",
        ("P1", "continuity"): "every wave",
        ("P1", "waiting"): "disappears",
        ("P2", "continuity"): "every wave",
        ("P2", "waiting"): "appears",
        ("P3", "waiting"): "one wave",
        ("R1", "continuity"): "one wave",
        ("R2", "paperwork"): "one wave",
        # the parent "access" runs as its sub-codes do, R2's paperwork included
        ("P1", "access"): "disappears",
        ("P2", "access"): "appears",
        ("P3", "access"): "one wave",
        ("R2", "access"): "one wave",
    }
    changes = tables.changes.set_index("code_id")
    assert changes.loc[
        "waiting", ["participants_in_both", "persisted", "appeared", "disappeared"]
    ].tolist() == [
        2,
        0,
        1,
        1,
    ]
    assert changes.loc["continuity", "persisted"] == 2


@pytest.mark.parametrize(
    ("code_waves", "own", "pattern"),
    [
        ([1, 2, 3], [1, 2, 3], "every wave"),
        ([2, 3], [1, 2, 3], "appears"),
        ([1], [1, 2, 3], "disappears"),
        ([1, 3], [1, 2, 3], "intermittent"),
        ([2], [1, 2, 3], "intermittent"),
        ([1], [1], "one wave"),
    ],
)
def test_wave_pattern(code_waves: list[int], own: list[int], pattern: str) -> None:
    assert wave_pattern(code_waves, own) == pattern
