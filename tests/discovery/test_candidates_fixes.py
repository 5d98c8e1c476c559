"""A candidate's overlap with codes is worked out on character spans, across units (issue 12: the
demo codes sentences and discovers turns, so overlap by segment id was always empty)."""

from __future__ import annotations

import numpy as np

from narratives.discovery.candidates import CodedSpans, coded_spans, current_overlaps, describe_candidates
from narratives.schema import Decision, SegmentUnit
from narratives.store.codebooks import current_codebook
from narratives.store.segments import load_segments
from tests.builders.demo_project import CODEBOOK
from tests.builders.project import ProjectBuilder
from tests.review.test_hand_coding_fixes import add_turn_segments

INTERVIEW = "Interview P01"


def turns_of(demo):
    add_turn_segments(demo.project, demo.document_ids)
    with demo.project.connect() as connection:
        return [s for s in load_segments(connection) if s.unit == SegmentUnit.turn]


def test_turn_candidates_overlap_the_codes_of_the_sentences_inside_them(demo) -> None:
    turns = turns_of(demo)
    vectors = np.eye(len(turns), dtype=np.float32)
    topics = np.zeros(len(turns), dtype=int)
    with demo.project.connect() as connection:
        codebook = current_codebook(connection, CODEBOOK)
        [candidate] = describe_candidates(
            connection, turns, vectors, topics, {0: ["care"]}, {0: "Care"}, codebook
        )
    shares = {o["code_id"]: o["share"] for o in candidate.overlap}
    # Continuity is suggested (at or above 0.5) on two sentences of survey answer R01 and one of
    # P01's turn: 2 of the 6 turns (R01, R02, the blog, three interview turns) overlap it.
    assert shares and shares["continuity"] == round(2 / len(turns), 3)
    assert candidate.overlap[0]["code_id"] == "continuity"
    assert candidate.overlap[0]["name"] == "Continuity of care"


def test_overlap_follows_reviews_now_and_leaves_other_documents_out(demo) -> None:
    turns = turns_of(demo)
    interview = [t for t in turns if t.document_id == demo.document_ids[INTERVIEW]]
    names = {"listening": "Being listened to", "continuity": "Continuity of care"}
    with demo.project.connect() as connection:
        before = current_overlaps(connection, CODEBOOK, [(7, [int(t.id or 0) for t in interview])], names)
    assert {o["code_id"] for o in before[7]} == {"listening", "continuity"}
    with demo.project.begin() as connection:
        ProjectBuilder(connection, codebook=CODEBOOK).review(
            demo.segment_ids["The social worker listened to me."],
            "listening",
            Decision.reject,
            user="ana",
            suggestion_id=demo.suggestion_ids[("The social worker listened to me.", "listening")],
        )
    with demo.project.connect() as connection:
        after = current_overlaps(connection, CODEBOOK, [(7, [int(t.id or 0) for t in interview])], names)
    assert {o["code_id"] for o in after[7]} == {"continuity"}


def test_coded_spans_meet_only_overlapping_spans_of_the_same_document() -> None:
    spans = CodedSpans({1: [(10, 20, "a"), (0, 100, "long"), (30, 40, "b")], 2: [(10, 20, "c")]})
    assert spans.codes_over(1, 15, 16) == {"a", "long"}
    assert spans.codes_over(1, 20, 30) == {"long"}  # touching ends do not overlap
    assert spans.codes_over(1, 35, 200) == {"b", "long"}
    assert spans.codes_over(3, 0, 1000) == set()


def test_a_hand_coded_span_counts_where_it_lies_not_over_its_whole_segment(demo) -> None:
    with demo.project.begin() as connection:
        segment = demo.segment_ids["Nobody returned my calls."]
        [found] = load_segments(connection, ids=[segment])
        ProjectBuilder(connection, codebook=CODEBOOK).review(
            segment, "access", Decision.add, user="ana", source="hand", start=found.start, end=found.start + 6
        )
        spans = coded_spans(connection, CODEBOOK)
    assert "access" in spans.codes_over(found.document_id, found.start, found.start + 3)
    assert "access" not in spans.codes_over(found.document_id, found.start + 6, found.end)
