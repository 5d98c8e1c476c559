"""The document view's marks (what holds on each span of a text) and how a text is cut into pieces."""

from __future__ import annotations

from narratives.codebook.edits import retire_code
from narratives.review.audit import undo_last
from narratives.review.marks import Mark, document_marks, pieces
from narratives.review.record import clip_to_segments, hand_coding, record_review
from narratives.schema import Decision, Review
from narratives.store.segments import load_segments
from tests.builders.demo_project import CODEBOOK

GETTING = "Getting an assessment took eight months."
CALLS = "Nobody returned my calls."
HELP = "When help came it was good."
BLOG = "Waiting for an assessment"


def marks_of(demo, **options) -> set[tuple[str, str, str, int, int]]:
    text_of = {i: text for text, i in demo.segment_ids.items()}
    with demo.project.connect() as connection:
        found = document_marks(connection, CODEBOOK, demo.document_ids[BLOG], **options)
    return {(text_of[m.segment_id], m.code_id, m.status, m.start, m.end) for m in found}


def review(demo, text: str, code_id: str, decision: Decision, user: str = "ana") -> None:
    with demo.project.begin() as connection:
        record_review(
            connection,
            Review(
                segment_id=demo.segment_ids[text],
                code_id=code_id,
                codebook=CODEBOOK,
                decision=decision,
                user=user,
                suggestion_id=demo.suggestion_ids.get((text, code_id)),
            ),
        )


def test_marks_follow_thresholds_reviews_hand_coding_undo_and_retiring(demo) -> None:
    assert {(t, c, s) for t, c, s, _, _ in marks_of(demo)} == {(GETTING, "waiting", "suggested")}
    assert (CALLS, "waiting", "suggested") in {(t, c, s) for t, c, s, _, _ in marks_of(demo, threshold=0.3)}
    review(demo, CALLS, "waiting", Decision.accept)  # 0.4: below the threshold, shown once accepted
    review(demo, GETTING, "waiting", Decision.reject)
    statuses = {(t, c, s) for t, c, s, _, _ in marks_of(demo)}
    assert statuses == {(GETTING, "waiting", "rejected"), (CALLS, "waiting", "accepted")}
    with demo.project.begin() as connection:
        segments = load_segments(connection, document_id=demo.document_ids[BLOG])
        helped = next(s for s in segments if s.text == HELP)
        targets = clip_to_segments(segments, helped.start + 5, helped.end + 40)
        for hand in hand_coding(
            targets, codebook=CODEBOOK, code_id="access", decision=Decision.add, user="ben"
        ):
            record_review(connection, hand)
    assert (HELP, "access", "hand", helped.start + 5, helped.end) in marks_of(demo)
    undo_last(demo.project, "ben")
    assert not any(code == "access" for _, code, _, _, _ in marks_of(demo))
    with demo.project.begin() as connection:
        retire_code(connection, CODEBOOK, "waiting", "ana")
    assert marks_of(demo) == set()


def test_clip_to_segments_keeps_the_part_of_each_segment_a_range_covers(demo) -> None:
    with demo.project.connect() as connection:
        segments = load_segments(connection, document_id=demo.document_ids[BLOG])
    first, second = segments[0], segments[1]
    clipped = clip_to_segments(segments, first.end - 3, second.start + 4)
    assert [(s.id, start, end) for s, start, end in clipped] == [
        (first.id, first.end - 3, first.end),
        (second.id, second.start, second.start + 4),
    ]
    assert clip_to_segments(segments, 10, 10) == [] and clip_to_segments(segments, 10, 5) == []


def test_pieces_cut_at_every_mark_boundary() -> None:
    one = Mark(2, 8, 1, "a", "ensemble", 0.9, "suggested")
    two = Mark(5, 12, 1, "b", "hand", None, "hand")
    outside = Mark(20, 30, 2, "c", "ensemble", 0.7, "suggested")
    cut = [(p.start, p.end, [m.code_id for m in p.marks]) for p in pieces(0, 10, [one, two, outside])]
    assert cut == [(0, 2, []), (2, 5, ["a"]), (5, 8, ["a", "b"]), (8, 10, ["b"])]
    assert [(p.start, p.end) for p in pieces(3, 3, [one])] == []
