"""Adjudication: the team's final decision holds now, and neither coder's reviews change."""

from __future__ import annotations

import pytest

from narratives.errors import AdjudicationError
from narratives.review.adjudication import adjudicate, adjudications, undo_adjudication
from narratives.review.audit import audit_log
from narratives.review.record import record_review
from narratives.review.state import coding_state, latest_by_reviewer, latest_reviews, live_reviews
from narratives.schema import Decision, Review
from tests.builders.demo_project import CODEBOOK

NEVER = "I never know who is coming."
CALLS = "Nobody returned my calls."


def review(demo, text: str, decision: str, user: str, code_id: str = "continuity") -> int:
    with demo.project.begin() as connection:
        return record_review(
            connection,
            Review(
                segment_id=demo.segment_ids[text],
                code_id=code_id,
                codebook=CODEBOOK,
                decision=Decision(decision),
                user=user,
                memo=f"{user}'s reason",
            ),
        )


def current(demo, text: str, code_id: str = "continuity"):
    with demo.project.connect() as connection:
        pair = (demo.segment_ids[text], code_id)
        return (
            latest_reviews(connection, CODEBOOK).get(pair),
            latest_by_reviewer(connection, CODEBOOK).get(pair, {}),
            coding_state(connection, CODEBOOK).pairs[pair],
        )


def test_an_adjudication_decides_the_pair_and_leaves_both_coders_reviews(demo) -> None:
    review(demo, NEVER, "accept", "ana")
    review(demo, NEVER, "reject", "ben")  # the latest review: off
    with demo.project.connect() as connection:
        before = [r.model_dump() for r in live_reviews(connection, CODEBOOK)]
    assert current(demo, NEVER)[0].applies is False
    event_id = adjudicate(
        demo.project,
        codebook=CODEBOOK,
        segment_id=demo.segment_ids[NEVER],
        code_id="continuity",
        applies=True,
        user="team",
        memo="the sentence is about not knowing who comes",
    )
    latest, by_reviewer, state = current(demo, NEVER)
    assert latest.applies and latest.adjudication_id == event_id and latest.user == "team"
    assert state.applies and state.status == "accepted"
    assert {user: r.decision for user, r in by_reviewer.items()} == {"ana": "accept", "ben": "reject"}
    with demo.project.connect() as connection:
        assert [r.model_dump() for r in live_reviews(connection, CODEBOOK)] == before
        settled = adjudications(connection, CODEBOOK)[(demo.segment_ids[NEVER], "continuity")]
        logged = audit_log(connection, kinds=["adjudication"])
    assert (
        settled["settled"]["ana"]["decision"] == "accept"
        and settled["settled"]["ben"]["decision"] == "reject"
    )
    assert settled["memo"].startswith("the sentence") and settled["user"] == "team"
    assert [e.id for e in logged] == [event_id]


def test_an_adjudication_holds_over_a_later_review_and_the_latest_adjudication_wins(demo) -> None:
    segment_id = demo.segment_ids[NEVER]
    adjudicate(
        demo.project, codebook=CODEBOOK, segment_id=segment_id, code_id="continuity", applies=False, user="t"
    )
    review(demo, NEVER, "accept", "ana")
    assert current(demo, NEVER)[0].applies is False
    adjudicate(
        demo.project, codebook=CODEBOOK, segment_id=segment_id, code_id="continuity", applies=True, user="t"
    )
    assert current(demo, NEVER)[0].applies is True


def test_an_adjudication_of_a_pair_only_the_machine_scored_enters_the_state(demo) -> None:
    segment_id = demo.segment_ids[CALLS]  # waiting 0.4: below the threshold, nobody reviewed it
    with demo.project.connect() as connection:
        assert (segment_id, "waiting") not in coding_state(connection, CODEBOOK).pairs  # below the floor
    adjudicate(
        demo.project, codebook=CODEBOOK, segment_id=segment_id, code_id="waiting", applies=True, user="t"
    )
    with demo.project.connect() as connection:
        state = coding_state(connection, CODEBOOK)
        by_document = coding_state(
            connection, CODEBOOK, document_id=demo.document_ids["Waiting for an assessment"]
        )
    assert state.pairs[(segment_id, "waiting")].applies
    assert by_document.pairs[(segment_id, "waiting")].applies


def test_undoing_an_adjudication_brings_back_the_reviews_decision(demo) -> None:
    review(demo, NEVER, "accept", "ana")
    review(demo, NEVER, "reject", "ben")
    segment_id = demo.segment_ids[NEVER]
    event_id = adjudicate(
        demo.project, codebook=CODEBOOK, segment_id=segment_id, code_id="continuity", applies=True, user="t"
    )
    undo_adjudication(demo.project, event_id, "t")
    latest, _, state = current(demo, NEVER)
    assert latest.adjudication_id is None and latest.user == "ben" and not state.applies
    with pytest.raises(AdjudicationError, match="already undone"):
        undo_adjudication(demo.project, event_id, "t")
    with demo.project.connect() as connection:
        assert adjudications(connection, CODEBOOK) == {}
        [entry] = audit_log(connection, kinds=["adjudication"], limit=None)[-1:]
    assert entry.undone_by is not None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"user": " "}, "needs the name"),
        ({"segment_id": 10**6}, "does not exist"),
        ({"code_id": "nope"}, "not in codebook"),
    ],
)
def test_a_bad_adjudication_is_refused_and_writes_nothing(demo, changes: dict, message: str) -> None:
    arguments = {
        "codebook": CODEBOOK,
        "segment_id": demo.segment_ids[NEVER],
        "code_id": "continuity",
        "applies": True,
        "user": "team",
        **changes,
    }
    with pytest.raises(AdjudicationError, match=message) as raised:
        adjudicate(demo.project, **arguments)
    assert raised.value.code == "E1110"
    with demo.project.connect() as connection:
        assert adjudications(connection, CODEBOOK) == {}
