"""The overview counts reviews made apart from the current suggestions (issue 12: after a retrain,
five rejections showed as one)."""

from __future__ import annotations

from narratives.analysis.overview import overview, reviews_made
from narratives.review.audit import undo_last
from narratives.schema import Decision
from narratives.store.suggestions import set_current
from tests.builders.demo_project import CODEBOOK
from tests.builders.project import ProjectBuilder

REJECTED = [
    ("The carers are always rushed.", "continuity"),
    ("I never know who is coming.", "continuity"),
    ("My personal budget gives me choice.", "choice"),
    ("The paperwork is exhausting.", "paperwork"),
    ("Getting an assessment took eight months.", "waiting"),
]


def reject_five(demo, user: str = "ana") -> None:
    with demo.project.begin() as connection:
        build = ProjectBuilder(connection, codebook=CODEBOOK)
        for text, code in REJECTED:
            build.review(
                demo.segment_ids[text],
                code,
                Decision.reject,
                user=user,
                suggestion_id=demo.suggestion_ids[(text, code)],
            )


def test_five_rejections_stay_five_after_a_retrain_drops_their_suggestions(demo) -> None:
    reject_five(demo)
    with demo.project.connect() as connection:
        before = overview(connection, CODEBOOK)
    assert before.made.reject == 5 and before.made.total == 5 and before.made.reviewers == 1
    assert before.progress.rejected == 5
    with demo.project.begin() as connection:  # a retrain: the new run no longer scores four of them
        set_current(connection, [demo.suggestion_ids[pair] for pair in REJECTED[1:]], False)
    with demo.project.connect() as connection:
        after = overview(connection, CODEBOOK)
    assert after.progress.rejected == 1  # what the current suggestions say now
    assert after.made.reject == 5 and after.made.accept == 0  # what reviewers did


def test_undone_reviews_and_undo_copies_are_not_reviews_made(demo) -> None:
    text, code = REJECTED[0]
    with demo.project.begin() as connection:
        build = ProjectBuilder(connection, codebook=CODEBOOK)
        segment, suggestion = demo.segment_ids[text], demo.suggestion_ids[(text, code)]
        build.review(segment, code, Decision.accept, user="ana", suggestion_id=suggestion)
        build.review(segment, code, Decision.reject, user="ana", suggestion_id=suggestion)
        build.review(segment, "choice", Decision.add, user="ben", source="hand")
    with demo.project.connect() as connection:
        made = reviews_made(connection, CODEBOOK)
    assert (made.accept, made.reject, made.add, made.reviewers) == (1, 1, 1, 2)
    undo_last(demo.project, "ana")  # the reject: a compensating accept is written, not a review made
    undo_last(demo.project, "ben")  # the hand code: withdrawn
    with demo.project.connect() as connection:
        made = reviews_made(connection, CODEBOOK)
    assert (made.accept, made.reject, made.add, made.total, made.reviewers) == (1, 0, 0, 1, 1)
