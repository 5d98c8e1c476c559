"""Codebook edits: history, cycles refused, merge moves suggestions and reviews, split re-suggests."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from narratives.codebook import edits, merge_split
from narratives.errors import CodebookEditError
from narratives.review.record import record_review
from narratives.review.state import latest_decisions
from narratives.schema import Code, Decision, Review
from narratives.store.codebooks import code_history, current_codebook
from narratives.store.events import list_events
from narratives.store.tables import codebook_events, reviews, suggestions
from tests.builders.demo_project import CODEBOOK

RUSHED = "The carers are always rushed."
NEVER = "I never know who is coming."
CHANGE = "But the carers change every week."


def _review(connection, demo, text, code_id, decision, user, suggestion=True):
    return record_review(
        connection,
        Review(
            segment_id=demo.segment_ids[text],
            code_id=code_id,
            codebook=CODEBOOK,
            decision=Decision(decision),
            user=user,
            suggestion_id=demo.suggestion_ids.get((text, code_id)) if suggestion else None,
        ),
    )


def test_create_edit_rename_are_history_entries_with_user(demo):
    with demo.project.begin() as c:
        edits.create_code(c, CODEBOOK, Code(id="money", name="Money", definition="Costs and charges."), "ana")
        edits.edit_code(c, CODEBOOK, "money", "ben", definition="Costs, charges and budgets.")
        edits.rename_code(c, CODEBOOK, "money", "Money worries", "ana")
    with demo.project.connect() as c:
        history = code_history(c, CODEBOOK, "money")
        book = current_codebook(c, CODEBOOK)
        kinds = [e.kind for e in list_events(c, kinds=["code.create", "code.edit", "code.rename"])]
    assert [(h["action"], h["user"]) for h in history] == [
        ("create", "ana"),
        ("edit", "ben"),
        ("rename", "ana"),
    ]
    assert history[1]["before"]["definition"] == "Costs and charges."
    assert history[1]["after"]["definition"] == "Costs, charges and budgets."
    assert book.code("money").name == "Money worries"
    assert kinds.count("code.edit") == 1 and "code.rename" in kinds


def test_edit_refuses_unknown_field_and_duplicate_id(demo):
    with demo.project.begin() as c, pytest.raises(CodebookEditError, match="cannot edit 'colur'"):
        edits.edit_code(c, CODEBOOK, "choice", "ana", colur="#fff")
    with demo.project.begin() as c, pytest.raises(CodebookEditError, match="already used"):
        edits.create_code(c, CODEBOOK, Code(id="choice", name="X", definition="Y."), "ana")


def test_move_refuses_cycles_and_moves_otherwise(demo):
    with demo.project.begin() as c:
        with pytest.raises(CodebookEditError, match="cycle: access -> waiting -> access"):
            edits.move_code(c, CODEBOOK, "access", "waiting", "ana")
        with pytest.raises(CodebookEditError, match="own parent"):
            edits.move_code(c, CODEBOOK, "access", "access", "ana")
        edits.move_code(c, CODEBOOK, "paperwork", "choice", "ana")
        assert current_codebook(c, CODEBOOK).code("paperwork").parent == "choice"
        edits.move_code(c, CODEBOOK, "paperwork", None, "ana")
        assert current_codebook(c, CODEBOOK).code("paperwork").parent is None


def test_merge_moves_current_suggestions_and_copies_reviews(demo):
    with demo.project.begin() as c:
        _review(c, demo, RUSHED, "continuity", "accept", "ana")
        _review(c, demo, NEVER, "continuity", "reject", "ben")
        result = merge_split.merge_codes(c, CODEBOOK, "continuity", "listening", "ana")
    assert result.suggestions_moved == 5  # three ensemble rows and two phrase-coder rows
    with demo.project.connect() as c:
        current = c.execute(
            select(suggestions.c.code_id, suggestions.c.segment_id).where(
                suggestions.c.current.is_(True), suggestions.c.coder == "ensemble"
            )
        ).all()
        book = current_codebook(c, CODEBOOK)
        copied = c.execute(select(reviews).where(reviews.c.source == "merge")).all()
        state = latest_decisions(c, CODEBOOK)
        merge_event = (
            c.execute(select(codebook_events.c.action).where(codebook_events.c.code_id == "continuity"))
            .scalars()
            .all()
        )
    assert not [1 for code_id, _ in current if code_id == "continuity"]
    assert sum(1 for code_id, _ in current if code_id == "listening") == 4
    assert book.code("continuity").retired
    assert "A different carer every day." in book.code("listening").examples
    assert {(r.user, r.decision) for r in copied} == {("ana", "accept"), ("ben", "reject")}
    assert state[(demo.segment_ids[RUSHED], "listening")] == {"ana": "accept"}
    assert merge_event[-1] == "merge"
    # the original reviews are untouched (append-only)
    with demo.project.connect() as c:
        originals = c.execute(select(reviews.c.code_id).where(reviews.c.source != "merge")).scalars().all()
    assert originals == ["continuity", "continuity"]


def test_merge_keeps_target_positive_decision(demo):
    with demo.project.begin() as c:
        _review(c, demo, RUSHED, "listening", "add", "ana", suggestion=False)
        _review(c, demo, RUSHED, "continuity", "reject", "ana")
        merge_split.merge_codes(c, CODEBOOK, "continuity", "listening", "ana")
        state = latest_decisions(c, CODEBOOK)
    assert state[(demo.segment_ids[RUSHED], "listening")] == {"ana": "add"}


def test_merge_refuses_itself_and_descendants(demo):
    with demo.project.begin() as c:
        with pytest.raises(CodebookEditError, match="into itself"):
            merge_split.merge_codes(c, CODEBOOK, "choice", "choice", "ana")
        with pytest.raises(CodebookEditError, match="own descendant"):
            merge_split.merge_codes(c, CODEBOOK, "access", "waiting", "ana")


def test_merge_moves_children_to_target(demo):
    with demo.project.begin() as c:
        merge_split.merge_codes(c, CODEBOOK, "access", "choice", "ana")
        book = current_codebook(c, CODEBOOK)
    assert book.code("waiting").parent == "choice" and book.code("paperwork").parent == "choice"


class KeywordEmbedder:
    """Two dimensions: 'week' pulls towards one axis, everything else towards the other."""

    name = "keyword-fake"
    dim = 2

    def encode(self, texts):
        rows = [[1.0, 0.0] if ("week" in t.lower() or "rota" in t.lower()) else [0.0, 1.0] for t in texts]
        return np.asarray(rows, dtype=np.float32)


def test_split_with_embedder_resuggests_between_the_two(demo):
    new = Code(id="rota", name="Changing rota", definition="The rota changes every week.")
    with demo.project.begin() as c:
        result = merge_split.split_code(c, CODEBOOK, "continuity", new, "ana", embedder=KeywordEmbedder())
        rows = c.execute(
            select(
                suggestions.c.segment_id, suggestions.c.code_id, suggestions.c.score, suggestions.c.coder
            ).where(suggestions.c.current.is_(True), suggestions.c.code_id.in_(["continuity", "rota"]))
        ).all()
        book = current_codebook(c, CODEBOOK)
    change = demo.segment_ids[CHANGE]
    assert result.to_new == 1 and result.to_old == 2 and result.segments == 3
    assert {(s, code) for s, code, _, coder in rows if coder == "ensemble"} == {
        (demo.segment_ids[RUSHED], "continuity"),
        (demo.segment_ids[NEVER], "continuity"),
        (change, "rota"),
    }
    assert next(score for s, code, score, coder in rows if s == change and coder == "ensemble") == 0.95
    assert book.code("rota").parent is None and not book.code("rota").retired


def test_split_without_embedder_flags_segments_for_review(demo):
    new = Code(id="rota", name="Changing rota", definition="The rota changes every week.")
    with demo.project.begin() as c:
        result = merge_split.split_code(c, CODEBOOK, "continuity", new, "ana")
        still = c.execute(
            select(suggestions.c.id).where(
                suggestions.c.current.is_(True),
                suggestions.c.code_id == "continuity",
                suggestions.c.coder == "ensemble",
            )
        ).all()
        events = list_events(c, kinds=["code.split"])
    assert len(still) == 3
    assert sorted(result.needs_review) == sorted(demo.segment_ids[t] for t in (RUSHED, NEVER, CHANGE))
    assert events[0].payload["needs_review"] == result.needs_review


def test_retire_moves_children_up(demo):
    with demo.project.begin() as c:
        edits.retire_code(c, CODEBOOK, "access", "ana")
        book = current_codebook(c, CODEBOOK)
    assert book.code("access").retired
    assert book.code("waiting").parent is None


def test_add_example_needs_an_accepted_segment(demo):
    with demo.project.begin() as c:
        with pytest.raises(CodebookEditError, match="not been accepted"):
            edits.add_example_from_segment(c, CODEBOOK, "choice", demo.segment_ids[RUSHED], "ana")
        _review(c, demo, "My personal budget gives me choice.", "choice", "accept", "ana")
        code = edits.add_example_from_segment(
            c, CODEBOOK, "choice", demo.segment_ids["My personal budget gives me choice."], "ana"
        )
        history = code_history(c, CODEBOOK, "choice")
    assert code.examples == ["My personal budget gives me choice."]
    assert history[-1]["action"] == "example"


def test_export_then_import_round_trip(demo):
    with demo.project.begin() as c:
        edits.rename_code(c, CODEBOOK, "choice", "Choice", "ana")
        text = edits.export_codebook(c, CODEBOOK, "yaml")
        csv_text = edits.export_codebook(c, CODEBOOK, "csv")
    assert "name: Choice" in text and "choice,Choice" in csv_text
    changed = text.replace("name: Choice\n", "name: Choice and say\n")
    with demo.project.begin() as c:
        edits.import_codebook(c, changed, "yaml", "ben")
        assert current_codebook(c, CODEBOOK).code("choice").name == "Choice and say"
        edits.import_codebook(c, csv_text, "csv", "ben", name=CODEBOOK)
        assert current_codebook(c, CODEBOOK).code("choice").name == "Choice"
