"""Panel rounds: what a round may hold, who may answer it, and what its summary counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from narratives.auth.invitations import accept_invitation, create_invitations
from narratives.errors import AuthError, PanelError
from narratives.review import panel, panel_rounds
from narratives.review.audit import undo_last
from narratives.schema import Document, SourceKind, utcnow
from narratives.store.events import list_events
from narratives.store.tables import panel_responses
from tests.builders.demo_project import CODEBOOK, sentence_segments
from tests.builders.project import ProjectBuilder

NEVER = "I never know who is coming."
CHANGE = "But the carers change every week."
BUDGET = "My personal budget gives me choice."
NAMED = "Mrs Higgins never knows who is coming."
PASSWORD = "a long enough password"


@pytest.fixture
def prepared(demo):
    """Quotes chosen for continuity (one naming a person) and choice; returns quote ids by text."""
    with demo.project.begin() as c:
        build = ProjectBuilder(c, codebook=CODEBOOK)
        build.add_document(Document(kind=SourceKind.survey, title="R09", text=NAMED), sentence_segments)
        named = build.segment_ids()[NAMED]
        ids = {
            NEVER: panel.choose_panel_quote(c, CODEBOOK, "continuity", demo.segment_ids[NEVER], "ana"),
            CHANGE: panel.choose_panel_quote(c, CODEBOOK, "continuity", demo.segment_ids[CHANGE], "ana"),
            NAMED: panel.choose_panel_quote(c, CODEBOOK, "continuity", named, "ana"),
            BUDGET: panel.choose_panel_quote(c, CODEBOOK, "choice", demo.segment_ids[BUDGET], "ana"),
        }
    return ids


def _round(connection, quotes, *, codes=("continuity",), texts=(NEVER, NAMED), title="Spring round"):
    closes = utcnow() + timedelta(days=14)
    return panel_rounds.create_round(
        connection, CODEBOOK, title, list(codes), [quotes[t] for t in texts], closes, "ana"
    )


def _member(connection, round_id, name):
    (code,) = create_invitations(connection, round_id, 1, "ana")
    accept_invitation(connection, code, name, PASSWORD)


def test_a_round_keeps_its_themes_quotes_and_closing_date_with_an_event(demo, prepared):
    with demo.project.begin() as c:
        round_id = _round(c, prepared, codes=("continuity", "choice"), texts=(NEVER, BUDGET))
        (made,) = panel_rounds.rounds_of(c, CODEBOOK)
        event = list_events(c, kinds=["panel.round"])[0]
    assert (made.id, made.title, made.code_ids) == (round_id, "Spring round", ["continuity", "choice"])
    assert made.quote_ids == [prepared[NEVER], prepared[BUDGET]]
    assert made.is_open() and (made.invitations, made.used) == (0, 0)
    assert event.user == "ana" and event.payload["code_ids"] == ["continuity", "choice"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"code_ids": ["nothing_like_it"]}, "not active codes"),
        ({"code_ids": []}, "at least one theme"),
        ({"title": "  "}, "needs a title"),
        ({"quote_ids": "choice-quote"}, "not chosen quotes of the round's themes"),
        ({"quote_ids": [99999]}, "not chosen quotes"),
        ({"closes": "past"}, "closing date has passed"),
    ],
)
def test_a_round_is_refused_with_a_fix(demo, prepared, change, message):
    arguments = {
        "title": "Spring round",
        "code_ids": ["continuity"],
        "quote_ids": [prepared[NEVER]],
        "closes": utcnow() + timedelta(days=3),
    }
    arguments.update(change)
    if change.get("quote_ids") == "choice-quote":  # a chosen quote, but of a theme not in the round
        arguments["quote_ids"] = [prepared[BUDGET]]
    if change.get("closes") == "past":
        arguments["closes"] = utcnow() - timedelta(minutes=1)
    with demo.project.begin() as c, pytest.raises(PanelError, match=message) as refused:
        panel_rounds.create_round(c, CODEBOOK, user="ana", **arguments)
    assert refused.value.fix


def test_a_quote_taken_away_cannot_join_a_round(demo, prepared):
    with demo.project.begin() as c:
        panel.remove_panel_quote(c, prepared[CHANGE], "ana")
        with pytest.raises(PanelError, match="taken away"):
            _round(c, prepared, texts=(CHANGE,))


def test_an_invited_member_sees_that_round_only_with_deidentified_quotes(demo, prepared):
    with demo.project.begin() as c:
        theirs = _round(c, prepared)
        _round(c, prepared, codes=("choice",), texts=(BUDGET,), title="Another round")
        _member(c, theirs, "Pat")
        (seen,) = panel_rounds.member_view(c, "Pat")
        assert panel_rounds.member_view(c, "Sam") == []
        (counted,) = [r for r in panel_rounds.rounds_of(c) if r.id == theirs]
    assert (seen.round_id, seen.title, seen.is_open) == (theirs, "Spring round", True)
    (theme,) = seen.themes
    assert (theme.code_id, theme.name) == ("continuity", "Seeing the same people")  # the plain name
    assert theme.description.startswith("Whether the same care workers come")
    texts = [q.text for q in theme.quotes]
    assert texts[0] == NEVER and len(texts) == 2  # CHANGE was chosen but not put in the round
    assert "Higgins" not in texts[1] and "never knows who is coming" in texts[1]
    assert theme.answers == [] and theme.latest is None
    assert (counted.invitations, counted.used) == (1, 1)


def test_changed_answers_are_appended_and_the_summary_counts_the_latest(demo, prepared):
    with demo.project.begin() as c:
        round_id = _round(c, prepared, codes=("continuity", "choice"), texts=(NEVER, BUDGET))
        _member(c, round_id, "Pat")
        _member(c, round_id, "Sam")
        panel_rounds.record_round_response(c, round_id, "continuity", "wrong", "Pat", comment="Not me")
        panel_rounds.record_round_response(
            c, round_id, "continuity", "rings_true", "Pat", rename="Same faces", comment="On reflection"
        )
        panel_rounds.record_round_response(c, round_id, "continuity", "misses_something", "Sam")
        rows = c.execute(select(panel_responses.c.user, panel_responses.c.verdict)).all()
        (seen,) = panel_rounds.member_view(c, "Pat")
        summary = panel_rounds.round_summary(c, round_id)
    assert [tuple(r) for r in rows] == [
        ("Pat", "wrong"),
        ("Pat", "rings_true"),
        ("Sam", "misses_something"),
    ]
    continuity = seen.themes[0]
    assert [a.verdict for a in continuity.answers] == ["wrong", "rings_true"]
    assert continuity.latest is not None and continuity.latest.rename == "Same faces"
    by_code = {s.code_id: s for s in summary.themes}
    assert [s.code_id for s in summary.themes] == ["continuity", "choice"]  # the round's order
    assert by_code["continuity"].counts == {"rings_true": 1, "misses_something": 1, "wrong": 0}
    assert by_code["continuity"].members == 2 and by_code["continuity"].renames == ["Same faces"]
    assert by_code["continuity"].comments == ["On reflection"]
    assert by_code["choice"].responses == 0 and summary.members == 2


def test_an_undone_change_brings_the_earlier_answer_back(demo, prepared):
    with demo.project.begin() as c:
        round_id = _round(c, prepared)
        _member(c, round_id, "Pat")
        panel_rounds.record_round_response(c, round_id, "continuity", "wrong", "Pat")
        panel_rounds.record_round_response(c, round_id, "continuity", "rings_true", "Pat")
    undo_last(demo.project, "Pat")
    with demo.project.connect() as c:
        (theme,) = panel_rounds.round_summary(c, round_id).themes
    assert theme.counts == {"rings_true": 0, "misses_something": 0, "wrong": 1}


def test_a_closed_round_refuses_answers(demo, prepared):
    with demo.project.begin() as c:
        round_id = _round(c, prepared)
        _member(c, round_id, "Pat")
        later = utcnow() + timedelta(days=15)
        with pytest.raises(PanelError, match="has closed"):
            panel_rounds.record_round_response(c, round_id, "continuity", "wrong", "Pat", now=later)
        (seen,) = panel_rounds.member_view(c, "Pat", now=later)
    assert seen.is_open is False


def test_answers_are_refused_from_the_uninvited_and_for_themes_not_in_the_round(demo, prepared):
    with demo.project.begin() as c:
        round_id = _round(c, prepared)
        other = _round(c, prepared, codes=("choice",), texts=(BUDGET,), title="Another round")
        _member(c, other, "Sam")
        _member(c, round_id, "Pat")
        with pytest.raises(PanelError, match="not invited"):
            panel_rounds.record_round_response(c, round_id, "continuity", "wrong", "Sam")
        with pytest.raises(PanelError, match="not part of the round"):
            panel_rounds.record_round_response(c, round_id, "choice", "wrong", "Pat")
        with pytest.raises(PanelError, match="not a panel answer"):
            panel_rounds.record_round_response(c, round_id, "continuity", "maybe", "Pat")
        with pytest.raises(PanelError, match="no panel round"):
            panel_rounds.record_round_response(c, 12345, "continuity", "wrong", "Pat")
        assert c.execute(select(panel_responses)).all() == []


def test_a_used_invitation_is_refused(demo, prepared):
    with demo.project.begin() as c:
        round_id = _round(c, prepared)
        (code,) = create_invitations(c, round_id, 1, "ana")
        accept_invitation(c, code, "Pat", PASSWORD)
        with pytest.raises(AuthError, match="already been used"):
            accept_invitation(c, code, "Kim", PASSWORD)
