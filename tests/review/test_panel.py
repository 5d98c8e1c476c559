"""Co-production panel: chosen quotes, themes in plain words, responses kept apart, summary."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from narratives.errors import PanelError
from narratives.review import panel
from narratives.review.audit import undo_last
from narratives.store.events import list_events
from narratives.store.tables import panel_responses, reviews
from tests.builders.demo_project import CODEBOOK

NEVER = "I never know who is coming."


def test_themes_use_plain_names_and_chosen_quotes(demo):
    with demo.project.begin() as c:
        panel.choose_panel_quote(c, CODEBOOK, "continuity", demo.segment_ids[NEVER], "ana")
        panel.choose_panel_quote(
            c, CODEBOOK, "choice", demo.segment_ids["My personal budget gives me choice."], "ana"
        )
        themes = panel.panel_themes(c, CODEBOOK)
    by_id = {t.code_id: t for t in themes}
    # prepared themes only: a plain name (continuity, waiting) or a chosen quote (choice)
    assert set(by_id) == {"continuity", "waiting", "choice"}
    assert by_id["continuity"].name == "Seeing the same people"
    assert by_id["choice"].name == "Choice and control"
    assert [q.text for q in by_id["continuity"].quotes] == [NEVER]
    assert by_id["waiting"].quotes == []


def test_the_same_quote_is_refused_twice_for_a_theme_but_not_for_another(demo):
    with demo.project.begin() as c:
        panel.choose_panel_quote(c, CODEBOOK, "continuity", demo.segment_ids[NEVER], "ana")
        with pytest.raises(PanelError, match="already a panel quote") as refused:
            panel.choose_panel_quote(c, CODEBOOK, "continuity", demo.segment_ids[NEVER], "ana")
        panel.choose_panel_quote(c, CODEBOOK, "waiting", demo.segment_ids[NEVER], "ana")
        assert len(panel.panel_quotes_by_code(c, CODEBOOK)["continuity"]) == 1
    assert "take the chosen one away" in str(refused.value)


def test_a_quote_taken_away_can_be_chosen_again(demo):
    with demo.project.begin() as c:
        first = panel.choose_panel_quote(c, CODEBOOK, "continuity", demo.segment_ids[NEVER], "ana")
        panel.remove_panel_quote(c, first, "ana")
        again = panel.choose_panel_quote(c, CODEBOOK, "continuity", demo.segment_ids[NEVER], "ana")
        quotes = panel.panel_quotes_by_code(c, CODEBOOK)["continuity"]
    assert again != first and [q.quote_id for q in quotes] == [again]


def test_removed_quote_disappears(demo):
    with demo.project.begin() as c:
        quote = panel.choose_panel_quote(c, CODEBOOK, "continuity", demo.segment_ids[NEVER], "ana")
        panel.remove_panel_quote(c, quote, "ana")
        themes = {t.code_id: t for t in panel.panel_themes(c, CODEBOOK)}
    assert themes["continuity"].quotes == []


def test_response_stored_apart_from_coding_with_event(demo):
    with demo.project.begin() as c:
        response = panel.record_panel_response(
            c,
            CODEBOOK,
            "continuity",
            "misses_something",
            "Pat",
            rename="Knowing who comes",
            comment=" Night visits ",
        )
        row = c.execute(select(panel_responses).where(panel_responses.c.id == response)).one()
        event = list_events(c, kinds=["panel.response"])[0]
        review_rows = c.execute(select(reviews)).all()
    assert (row.verdict, row.rename, row.comment, row.user) == (
        "misses_something",
        "Knowing who comes",
        "Night visits",
        "Pat",
    )
    assert event.user == "Pat" and event.payload["response_id"] == response
    assert review_rows == []


def test_response_refuses_unknown_verdict_and_blank_name(demo):
    with demo.project.begin() as c:
        with pytest.raises(PanelError, match="not a panel answer"):
            panel.record_panel_response(c, CODEBOOK, "continuity", "maybe", "Pat")
        with pytest.raises(PanelError, match="name or pseudonym"):
            panel.record_panel_response(c, CODEBOOK, "continuity", "wrong", " ")


def test_summary_counts_each_verdict_and_leaves_out_withdrawn(demo):
    with demo.project.begin() as c:
        panel.record_panel_response(c, CODEBOOK, "continuity", "rings_true", "Pat")
        panel.record_panel_response(c, CODEBOOK, "continuity", "rings_true", "Sam", comment="So true")
        panel.record_panel_response(c, CODEBOOK, "continuity", "wrong", "Kim", rename="Same faces")
        panel.record_panel_response(c, CODEBOOK, "waiting", "misses_something", "Pat")
    undo_last(demo.project, "Kim")
    with demo.project.connect() as c:
        summary = {s.code_id: s for s in panel.panel_summary(c, CODEBOOK)}
    assert summary["continuity"].counts == {"rings_true": 2, "misses_something": 0, "wrong": 0}
    assert summary["continuity"].comments == ["So true"] and summary["continuity"].renames == []
    assert summary["waiting"].counts["misses_something"] == 1 and summary["waiting"].responses == 1
