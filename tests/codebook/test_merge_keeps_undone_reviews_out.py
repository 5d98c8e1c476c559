"""A merge copies only live reviews: a review withdrawn by an undo stays withdrawn after the merge."""

from __future__ import annotations

from narratives.codebook.merge_split import merge_codes
from narratives.review.audit import undo_last
from narratives.review.record import record_review
from narratives.review.state import latest_by_reviewer, latest_reviews
from narratives.schema import Decision, Review
from narratives.store.events import list_events
from narratives.store.reviews import load_reviews
from tests.builders.demo_project import CODEBOOK

RUSHED = "The carers are always rushed."
NEVER = "I never know who is coming."


def _review(connection, demo, text: str, code_id: str, decision: str, user: str) -> int:
    return record_review(
        connection,
        Review(
            segment_id=demo.segment_ids[text],
            code_id=code_id,
            codebook=CODEBOOK,
            decision=Decision(decision),
            user=user,
            suggestion_id=demo.suggestion_ids.get((text, code_id)) if decision != "add" else None,
        ),
    )


def test_a_review_undone_before_the_merge_is_not_copied_to_the_target(demo) -> None:
    rushed, never = demo.segment_ids[RUSHED], demo.segment_ids[NEVER]
    with demo.project.begin() as c:
        _review(c, demo, RUSHED, "continuity", "accept", "ana")
        undo_last(c, "ana")  # ana takes her accept back: it no longer counts anywhere
        _review(c, demo, NEVER, "continuity", "reject", "ben")
        merge_codes(c, CODEBOOK, "continuity", "listening", "ana")
    with demo.project.connect() as c:
        latest = latest_reviews(c, CODEBOOK)
        copied = [r for r in load_reviews(c, CODEBOOK) if r.source == "merge"]
        [merge_event] = list_events(c, kinds=["code.merge"])
    assert (rushed, "listening") not in latest
    assert [(r.segment_id, r.user, r.decision.value) for r in copied] == [(never, "ben", "reject")]
    assert latest[(never, "listening")].decision == "reject"
    assert merge_event.payload["reviews_copied"] == [int(r.id or 0) for r in copied]


def test_an_undone_target_review_does_not_stop_the_source_decision_from_carrying_over(demo) -> None:
    rushed = demo.segment_ids[RUSHED]
    with demo.project.begin() as c:
        _review(c, demo, RUSHED, "listening", "add", "ana")
        undo_last(c, "ana")  # the add on the target is withdrawn
        _review(c, demo, RUSHED, "continuity", "reject", "ana")
        merge_codes(c, CODEBOOK, "continuity", "listening", "ana")
    with demo.project.connect() as c:
        by_reviewer = latest_by_reviewer(c, CODEBOOK)
    assert {user: r.decision for user, r in by_reviewer[(rushed, "listening")].items()} == {"ana": "reject"}


def test_a_live_positive_target_review_still_wins_over_a_source_reject(demo) -> None:
    rushed = demo.segment_ids[RUSHED]
    with demo.project.begin() as c:
        _review(c, demo, RUSHED, "listening", "add", "ana")
        _review(c, demo, RUSHED, "continuity", "accept", "ana")
        undo_last(c, "ana")  # the source accept is withdrawn; the target add stays
        merge_codes(c, CODEBOOK, "continuity", "listening", "ana")
    with demo.project.connect() as c:
        latest = latest_reviews(c, CODEBOOK)
        copied = [r for r in load_reviews(c, CODEBOOK) if r.source == "merge"]
    assert latest[(rushed, "listening")].decision == "add"
    assert copied == []


def test_a_panel_quote_taken_away_before_the_merge_is_not_copied(demo) -> None:
    from narratives.review.panel import choose_panel_quote, panel_quotes_by_code, remove_panel_quote

    with demo.project.begin() as c:
        kept = choose_panel_quote(c, CODEBOOK, "continuity", demo.segment_ids[NEVER], "ana")
        removed = choose_panel_quote(c, CODEBOOK, "continuity", demo.segment_ids[RUSHED], "ana")
        remove_panel_quote(c, removed, "ana")
        merge_codes(c, CODEBOOK, "continuity", "listening", "ana")
    with demo.project.connect() as c:
        quotes = panel_quotes_by_code(c, CODEBOOK)
    assert kept and [q.segment_id for q in quotes["listening"]] == [demo.segment_ids[NEVER]]
