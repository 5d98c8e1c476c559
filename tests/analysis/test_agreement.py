"""Agreement between coders on a real project: who the coders are, which segments count, the
disagreement list and the character-level overlap (hand-checked on the small demo project)."""

from __future__ import annotations

import json

import pytest

from narratives.analysis.agreement import MACHINE, available_coders, coder_agreement, disagreements
from narratives.analysis.agreement_characters import character_agreement, intersection, merged
from narratives.errors import AgreementError
from narratives.review.adjudication import adjudicate
from narratives.review.record import record_review
from narratives.schema import Decision, Review
from tests.builders.demo_project import CODEBOOK

RUSHED = "The carers are always rushed."
NEVER = "I never know who is coming."
BUDGET = "My personal budget gives me choice."
PAPER = "The paperwork is exhausting."
CALLS = "Nobody returned my calls."


def review(demo, text: str, code_id: str, decision: str, user: str, **extra) -> int:
    with demo.project.begin() as connection:
        return record_review(
            connection,
            Review(
                segment_id=demo.segment_ids[text],
                code_id=code_id,
                codebook=CODEBOOK,
                decision=Decision(decision),
                user=user,
                **extra,
            ),
        )


@pytest.fixture
def coded(demo):
    """ana and ben double-code four segments and differ on one; carl codes one other segment."""
    for user, rushed in (("ana", "accept"), ("ben", "reject")):
        review(demo, RUSHED, "continuity", rushed, user, memo=f"{user}: about rushing")
        review(demo, NEVER, "continuity", "accept", user)
        review(demo, BUDGET, "choice", "accept", user)
        review(demo, PAPER, "paperwork", "accept", user)
    review(demo, CALLS, "waiting", "accept", "carl")
    return demo


def test_the_coders_are_the_reviewers_then_the_machine_coders(coded) -> None:
    with coded.project.connect() as connection:
        assert available_coders(connection, CODEBOOK) == ["ana", "ben", "carl", MACHINE, "ensemble", "phrase"]


def test_two_reviewers_agree_on_the_segments_both_saw(coded) -> None:
    with coded.project.connect() as connection:
        report = coder_agreement(connection, CODEBOOK, ["ana", "ben"], n_boot=200)
    assert report.n_units == 4 and report.statistics == ["percent", "kappa", "alpha", "ac1"]
    by_code = {c.code_id: c for c in report.per_code}
    continuity = by_code["continuity"]
    assert continuity.applied == {"ana": 2, "ben": 1}
    assert continuity.stats.percent.value == pytest.approx(0.75)
    assert continuity.stats.kappa is not None and continuity.stats.kappa.value == pytest.approx(0.5)
    assert by_code["choice"].stats.kappa.value == 1.0 and not by_code["listening"].used
    # overall pools the 3 codes someone applied: 12 decisions, 1 differs
    assert report.overall is not None and report.overall.percent.value == pytest.approx(11 / 12)
    assert report.overall.percent.low <= 11 / 12 <= report.overall.percent.high
    rows = {row["code"]: row for row in report.rows()}
    assert rows["overall"]["percent"] == pytest.approx(11 / 12) and "kappa_low" in rows["continuity"]
    assert json.loads(json.dumps(report.as_dict()))["coders"][0] == {"name": "ana", "kind": "reviewer"}


def test_segments_a_coder_did_not_see_do_not_count(coded) -> None:
    with coded.project.connect() as connection:
        with pytest.raises(AgreementError, match="no segment was seen by every one") as raised:
            coder_agreement(connection, CODEBOOK, ["ana", "ben", "carl"], n_boot=0)
        assert raised.value.code == "E1100"
        with pytest.raises(AgreementError, match="no coder called 'zoe'"):
            coder_agreement(connection, CODEBOOK, ["ana", "zoe"], n_boot=0)
        with pytest.raises(AgreementError, match="no live code 'nope'"):
            coder_agreement(connection, CODEBOOK, ["ana", "ben"], codes=["nope"], n_boot=0)


def test_a_reviewer_against_the_machine_uses_what_the_machine_says_now(coded) -> None:
    with coded.project.connect() as connection:
        report = coder_agreement(connection, CODEBOOK, ["ana", MACHINE], codes=["continuity"], n_boot=0)
        against_ben = coder_agreement(connection, CODEBOOK, ["ben", MACHINE], codes=["continuity"], n_boot=0)
    assert report.n_units == 4 and report.coder_kinds == {"ana": "reviewer", MACHINE: "machine"}
    assert report.per_code[0].applied == {"ana": 2, MACHINE: 2}  # rushed 0.55 and never 0.9 reach 0.5
    assert report.per_code[0].stats.percent.value == 1.0
    assert against_ben.per_code[0].stats.percent.value == pytest.approx(0.75)


def test_the_disagreement_list_names_each_coders_decision_memo_and_adjudication(coded) -> None:
    with coded.project.connect() as connection:
        [found] = disagreements(connection, CODEBOOK, ["ana", "ben"])
    assert (found.text, found.code_id, found.applies) == (RUSHED, "continuity", {"ana": True, "ben": False})
    assert found.memos == {"ana": "ana: about rushing", "ben": "ben: about rushing"}
    assert found.adjudication is None
    adjudicate(
        coded.project,
        codebook=CODEBOOK,
        segment_id=found.segment_id,
        code_id="continuity",
        applies=True,
        user="t",
    )
    with coded.project.connect() as connection:
        [settled] = disagreements(connection, CODEBOOK, ["ana", "ben"])
        report = coder_agreement(connection, CODEBOOK, ["ana", "ben"], codes=["continuity"], n_boot=0)
    assert settled.adjudication is not None and settled.adjudication["decision"] == "accept"
    assert report.per_code[0].stats.percent.value == pytest.approx(0.75)  # coders' agreement unchanged


def test_intervals_merge_and_intersect_by_hand() -> None:
    assert merged([(5, 9), (0, 3), (2, 4), (9, 9)]) == [(0, 4), (5, 9)]
    assert intersection([(0, 4), (5, 9)], [(3, 6), (8, 20)]) == 1 + 1 + 1


def test_character_overlap_of_hand_coded_spans(demo) -> None:
    start = 30  # "I never know who is coming." in "The carers are always rushed. I never know who is coming."
    review(demo, NEVER, "continuity", "add", "ana", start=start, end=start + 27, source="hand")
    review(demo, NEVER, "continuity", "add", "ben", start=start + 2, end=start + 15, source="hand")
    review(
        demo, BUDGET, "choice", "add", "ben", start=0, end=10, source="hand"
    )  # a document ana did not code
    with demo.project.connect() as connection:
        [found] = character_agreement(connection, CODEBOOK, ["ana", "ben"])
    assert (found.code_id, found.n_documents, found.characters_a, found.characters_b) == (
        "continuity",
        1,
        27,
        13,
    )
    assert (found.both, found.either) == (13, 27) and found.overlap == pytest.approx(13 / 27)
    assert found.as_dict()["measure"].startswith("character level")
