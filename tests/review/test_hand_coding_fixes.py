"""Hand coding codes one unit and undoes as one action (issue 12: a character range coded the
sentence and the turn covering it, twice, crossed speakers, and undo took back 1 of 8 segments)."""

from __future__ import annotations

import pytest

from narratives.errors import ReviewError
from narratives.review.audit import last_action, undo_last
from narratives.review.marks import document_marks
from narratives.review.record import hand_coding, range_targets, record_hand_coding
from narratives.review.state import latest_reviews
from narratives.schema import Decision, Segment, SegmentUnit
from narratives.store.documents import load_document
from narratives.store.project import Project
from narratives.store.segments import load_segments, save_segments
from tests.builders.demo_project import CODEBOOK

INTERVIEW = "Interview P01"
BLOG = "Waiting for an assessment"


def add_turn_segments(project: Project, document_ids: dict[str, int]) -> dict[int, list[Segment]]:
    """Turn segments beside the demo's sentences, as `narratives demo` makes (units sentence and
    turn): one per speaker turn of a transcript, one for the whole text of any other document."""
    found: dict[int, list[Segment]] = {}
    with project.begin() as connection:
        for document_id in document_ids.values():
            document = load_document(connection, document_id)
            spans = [(t.start, t.end, t.speaker) for t in document.turns] or [(0, len(document.text), None)]
            turns = [
                Segment(
                    document_id=document_id,
                    unit=SegmentUnit.turn,
                    index=index,
                    start=start,
                    end=end,
                    text=document.text[start:end],
                    speaker=speaker,
                )
                for index, (start, end, speaker) in enumerate(spans)
            ]
            save_segments(connection, turns, pipeline="test-turns")
            found[document_id] = turns
    return found


def segments_of(demo, title: str) -> list[Segment]:
    with demo.project.connect() as connection:
        return load_segments(connection, document_id=demo.document_ids[title])


def test_a_range_codes_the_chosen_unit_only_once(demo) -> None:
    add_turn_segments(demo.project, demo.document_ids)
    segments = segments_of(demo, BLOG)
    assert {s.unit for s in segments} == {SegmentUnit.sentence, SegmentUnit.turn}
    targets = range_targets(segments, 0, 60, "sentence")
    assert [s.unit for s, _, _ in targets] == [SegmentUnit.sentence, SegmentUnit.sentence]
    assert [s.text for s, _, _ in targets] == [
        "Getting an assessment took eight months.",
        "Nobody returned my calls.",
    ]
    turn = range_targets(segments, 0, 60, "turn")
    assert len(turn) == 1 and turn[0][0].unit == SegmentUnit.turn and turn[0][1:] == (0, 60)


def test_a_range_across_speakers_is_refused_with_a_fix(demo) -> None:
    add_turn_segments(demo.project, demo.document_ids)
    with demo.project.connect() as connection:
        document = load_document(connection, demo.document_ids[INTERVIEW])
    segments = segments_of(demo, INTERVIEW)
    first, second = document.turns[0], document.turns[1]
    for unit in ("sentence", "turn"):
        with pytest.raises(ReviewError, match="one speaker") as refused:
            range_targets(segments, first.end - 5, second.start + 10, unit, document.turns)
        assert refused.value.fix and "one speaker" in refused.value.fix
    inside = range_targets(segments, second.start, second.end, "sentence", document.turns)
    assert len(inside) == 2 and {s.speaker for s, _, _ in inside} == {"P01"}


def test_hand_coding_refuses_segments_of_two_units() -> None:
    sentence = Segment(id=1, document_id=1, unit=SegmentUnit.sentence, index=0, start=0, end=4, text="abcd")
    turn = sentence.model_copy(update={"id": 2, "unit": SegmentUnit.turn})
    with pytest.raises(ReviewError, match="one unit"):
        hand_coding(
            [(sentence, None, None), (turn, None, None)],
            codebook=CODEBOOK,
            code_id="access",
            decision=Decision.add,
            user="ben",
        )


def test_one_undo_takes_back_every_segment_of_one_hand_coding_action(demo) -> None:
    add_turn_segments(demo.project, demo.document_ids)
    segments = segments_of(demo, BLOG)
    whole = len(next(s for s in segments if s.unit == SegmentUnit.turn).text)
    targets = range_targets(segments, 0, whole, "sentence")
    assert len(targets) == 3
    reviews = hand_coding(targets, codebook=CODEBOOK, code_id="access", decision=Decision.add, user="ben")
    with demo.project.begin() as connection:
        ids = record_hand_coding(connection, reviews)
        assert len(last_action(connection, "ben")) == 3
    assert len(ids) == 3
    with demo.project.connect() as connection:
        hand = [
            m for m in document_marks(connection, CODEBOOK, demo.document_ids[BLOG]) if m.code_id == "access"
        ]
    assert len(hand) == 3 and {m.status for m in hand} == {"hand"}
    undo_last(demo.project, "ben")
    with demo.project.connect() as connection:
        assert not [p for p, r in latest_reviews(connection, CODEBOOK).items() if r.review_id in ids]
        assert not any(
            m.code_id == "access" for m in document_marks(connection, CODEBOOK, demo.document_ids[BLOG])
        )


def test_an_earlier_action_survives_undoing_a_later_grouped_one(demo) -> None:
    segments = segments_of(demo, BLOG)
    first = hand_coding(
        range_targets(segments, 0, 10, "sentence"),
        codebook=CODEBOOK,
        code_id="choice",
        decision=Decision.add,
        user="ben",
    )
    second = hand_coding(
        range_targets(segments, 0, 60, "sentence"),
        codebook=CODEBOOK,
        code_id="access",
        decision=Decision.add,
        user="ben",
    )
    with demo.project.begin() as connection:
        kept = record_hand_coding(connection, first)
        record_hand_coding(connection, second)
    undo_last(demo.project, "ben")
    with demo.project.connect() as connection:
        latest = latest_reviews(connection, CODEBOOK)
    assert {r.code_id for r in latest.values() if r.user == "ben"} == {"choice"}
    assert [r.review_id for r in latest.values() if r.user == "ben"] == kept


def test_recording_nothing_is_refused(demo) -> None:
    with demo.project.begin() as connection, pytest.raises(ReviewError, match="nothing to code"):
        record_hand_coding(connection, [])
