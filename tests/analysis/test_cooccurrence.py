"""Code co-occurrence on the hand-checked study, with two codes added by hand to sentences that
already carry one (see :mod:`tests.builders.study` for what each sentence carries)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from narratives.analysis.cooccurrence import COOCCURRENCE_COLUMNS, code_cooccurrence
from narratives.errors import AnalysisError
from narratives.schema import Decision
from tests.builders.project import ProjectBuilder
from tests.builders.study import CODEBOOK, REVIEWER, Study


@pytest.fixture
def paired(study: Study) -> Study:
    """P1's first interview: 'The carers change every week' carries continuity and now choice;
    'I waited eight months' carries waiting and now paperwork (both sub-codes of access)."""
    with study.project.begin() as connection:
        build = ProjectBuilder(connection, codebook=CODEBOOK, user=REVIEWER)
        build.review(study.segment("The carers change every week"), "choice", Decision.add, user=REVIEWER)
        build.review(study.segment("I waited eight months"), "paperwork", Decision.add, user=REVIEWER)
    return study


def pairs(frame: pd.DataFrame) -> dict[tuple[str, str], tuple[int, int]]:
    """(code a, code b) -> (units with both, people) for pairs found at least once."""
    return {(r.code_a, r.code_b): (r.both, r.people) for r in frame.itertuples() if r.both}


def cooccurrence(study: Study, **options) -> pd.DataFrame:
    with study.project.connect() as connection:
        return code_cooccurrence(connection, CODEBOOK, **options)


def test_same_segment_counts_applied_codes(paired: Study) -> None:
    frame = cooccurrence(paired, level="segment", carried=False)
    assert list(frame.columns) == COOCCURRENCE_COLUMNS
    assert pairs(frame) == {("continuity", "choice"): (1, 1), ("waiting", "paperwork"): (1, 1)}
    assert len(frame) == 10  # every pair of the 5 codes, found or not


def test_carried_codes_pair_parents_but_not_a_code_with_its_own_parent(paired: Study) -> None:
    frame = cooccurrence(paired, level="segment")
    found = set(zip(frame["code_a"], frame["code_b"], strict=True))
    assert ("access", "waiting") not in found and ("access", "paperwork") not in found
    assert len(frame) == 8
    assert pairs(frame) == {("continuity", "choice"): (1, 1), ("waiting", "paperwork"): (1, 1)}
    # in tree order: continuity, access, waiting, paperwork, choice
    assert frame.iloc[0][["code_a", "code_b"]].tolist() == ["continuity", "access"]


def test_same_document(paired: Study) -> None:
    frame = cooccurrence(paired, level="document")
    assert pairs(frame) == {
        ("continuity", "access"): (2, 2),  # P1 wave 1, P2 wave 2
        ("continuity", "waiting"): (2, 2),
        ("continuity", "paperwork"): (1, 1),
        ("continuity", "choice"): (2, 1),  # both interviews of P1
        ("access", "choice"): (2, 2),  # P1 wave 1 and the blog post
        ("waiting", "paperwork"): (1, 1),
        ("waiting", "choice"): (2, 2),
        ("paperwork", "choice"): (1, 1),
    }
    row = frame[(frame["code_a"] == "continuity") & (frame["code_b"] == "choice")].iloc[0]
    # continuity in 5 documents, choice in 3 (P1 w1, P1 w2, the blog): 2 with both of 6 with either
    assert (row.units_a, row.units_b) == (5, 3)
    assert math.isclose(row.jaccard, 2 / 6)


def test_same_participant(paired: Study) -> None:
    frame = cooccurrence(paired, level="participant")
    assert pairs(frame) == {
        ("continuity", "access"): (2, 2),  # P1, P2
        ("continuity", "waiting"): (2, 2),
        ("continuity", "paperwork"): (1, 1),
        ("continuity", "choice"): (1, 1),  # P1
        ("access", "choice"): (2, 2),  # P1 and the blog post's author
        ("waiting", "paperwork"): (1, 1),
        ("waiting", "choice"): (2, 2),
        ("paperwork", "choice"): (1, 1),
    }
    access = frame[frame["code_a"] == "access"].iloc[0]
    assert access.units_a == 5  # P1, P2, P3, R2 and the blog


def test_reviewed_only_and_kinds(paired: Study) -> None:
    reviewed = cooccurrence(paired, level="document", include_machine=False)
    # reviewed: waiting, paperwork and choice on P1 w1 (its continuity is the machine's), paperwork on R2
    assert pairs(reviewed) == {
        ("access", "choice"): (1, 1),
        ("waiting", "paperwork"): (1, 1),
        ("waiting", "choice"): (1, 1),
        ("paperwork", "choice"): (1, 1),
    }
    surveys = cooccurrence(paired, level="document", kinds=["survey"])
    assert pairs(surveys) == {}


def test_unknown_level_is_an_analysis_error(study: Study) -> None:
    with pytest.raises(AnalysisError, match="segment, document or participant"):
        cooccurrence(study, level="sentence")
