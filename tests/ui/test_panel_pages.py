"""The Panel pages in process (streamlit.testing.v1.AppTest): the researcher's quotes, rounds,
invitations and summary, and the panel member's own page."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from narratives.auth.accounts import add_user, get_account
from narratives.auth.invitations import accept_invitation, create_invitations
from narratives.auth.sessions import start_session
from narratives.kinds import Role
from narratives.review import panel, panel_rounds
from narratives.review.record import record_review
from narratives.schema import Code, Codebook, Decision, Document, Review, SourceKind, utcnow
from narratives.store.events import list_events
from narratives.store.panel_rounds import insert_invitation, mark_invitation_used
from narratives.store.project import init_project
from narratives.store.tables import panel_quotes, panel_responses
from tests.builders.demo_project import CODEBOOK, sentence_segments
from tests.builders.project import ProjectBuilder

APP = Path(__file__).resolve().parents[2] / "app.py"
PAGES = "narratives/ui/pages"
NEVER = "I never know who is coming."
BUDGET = "My personal budget gives me choice."
NAMED = "Mrs Higgins never knows who is coming."
PASSWORD = "a long enough password"


def open_app(monkeypatch, project_path, page: str | None = None, token: str | None = None) -> AppTest:
    """The explorer as the local researcher "ana", or, with ``token``, as that panel member's login."""
    monkeypatch.setenv("NARRATIVES_PROJECT", str(project_path))
    monkeypatch.setenv("NARRATIVES_USER", "ana")
    at = AppTest.from_file(str(APP), default_timeout=90)
    if token:
        at.session_state["project_path"] = str(project_path)
        at.session_state["explorer_mode"] = "login"
        at.session_state["local_user"] = "nobody"
        at.session_state["session_token"] = token
    at.run()
    if page:
        at.switch_page(f"{PAGES}/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def page_text(at: AppTest) -> str:
    return "\n".join(
        texts(kind)
        for kind in (
            at.title,
            at.header,
            at.subheader,
            at.markdown,
            at.caption,
            at.info,
            at.warning,
            at.success,
        )
    )


def accept(demo, segment_text: str, code_id: str) -> int:
    segment = demo.segment_ids[segment_text]
    with demo.project.begin() as connection:
        record_review(
            connection,
            Review(
                segment_id=segment, code_id=code_id, codebook=CODEBOOK, decision=Decision.accept, user="ana"
            ),
        )
    return segment


@pytest.fixture
def in_round(demo):
    """A round on continuity with a quote naming a person, and a panel member Pat invited to it."""
    with demo.project.begin() as c:
        build = ProjectBuilder(c, codebook=CODEBOOK)
        build.add_document(Document(kind=SourceKind.survey, title="R09", text=NAMED), sentence_segments)
        named = panel.choose_panel_quote(c, CODEBOOK, "continuity", build.segment_ids()[NAMED], "ana")
        never = panel.choose_panel_quote(c, CODEBOOK, "continuity", demo.segment_ids[NEVER], "ana")
        round_id = panel_rounds.create_round(
            c, CODEBOOK, "Spring round", ["continuity"], [named, never], utcnow() + timedelta(days=7), "ana"
        )
        (code,) = create_invitations(c, round_id, 1, "ana")
        token = start_session(c, accept_invitation(c, code, "Pat", PASSWORD))
    return round_id, token


# ------------------------------------------------------------------------------------ researchers


def test_theme_picker_shows_both_names_and_moves_on_after_adding(monkeypatch, demo):
    first = accept(demo, NEVER, "continuity")
    second = accept(demo, "But the carers change every week.", "continuity")
    at = open_app(monkeypatch, demo.project.path, "panel")
    picker = at.selectbox(key="panel_quote_code")
    assert "Seeing the same people (Continuity of care)" in picker.options
    assert "Being listened to" in picker.options  # no plain name: the codebook name alone
    picker.set_value("continuity").run()
    shown = at.selectbox(key="panel_quote_segment").value
    at.button(key="panel_quote_add").click().run()
    assert not at.exception
    after = at.selectbox(key="panel_quote_segment")
    assert after.value != shown and len(after.options) == 1  # the added quote is no longer offered
    at.button(key="panel_quote_add").click().run()
    with demo.project.connect() as connection:
        added = connection.execute(select(panel_quotes.c.segment_id)).scalars().all()
    assert sorted(added) == sorted([first, second]) and shown in added
    assert "No accepted segments left to choose" in texts(at.caption)


def test_researcher_opens_a_round_and_makes_invitation_links(monkeypatch, demo):
    with demo.project.begin() as c:
        quote = panel.choose_panel_quote(c, CODEBOOK, "continuity", demo.segment_ids[NEVER], "ana")
    at = open_app(monkeypatch, demo.project.path, "panel")
    at.text_input(key="panel_round_title").input("Spring round")
    at.multiselect(key="panel_round_codes").set_value(["continuity"]).run()
    at.multiselect(key="panel_round_quotes").set_value([quote])
    at.button(key="panel_round_create").click().run()
    assert not at.exception
    with demo.project.connect() as c:
        (made,) = panel_rounds.rounds_of(c, CODEBOOK)
    assert (made.title, made.code_ids, made.quote_ids) == ("Spring round", ["continuity"], [quote])
    assert at.text_input(key="panel_round_title").value == ""  # the form is empty for the next round
    assert at.multiselect(key="panel_round_codes").value == []
    assert "Round “Spring round” opened." in texts(at.success)
    at.number_input(key="panel_invite_count").set_value(3)
    at.button(key="panel_invite_make").click().run()
    links = at.code[0].value.splitlines()
    assert len(links) == 3 and all("/?invite=" in link for link in links)
    assert "shown only now" in texts(at.success)
    with demo.project.connect() as c:
        assert panel_rounds.rounds_of(c, CODEBOOK)[0].invitations == 3
        assert list_events(c, kinds=["panel.invite"])[0].user == "ana"


def test_a_round_without_a_title_is_refused_on_the_page(monkeypatch, demo):
    at = open_app(monkeypatch, demo.project.path, "panel")
    at.multiselect(key="panel_round_codes").set_value(["continuity"]).run()
    at.button(key="panel_round_create").click().run()
    assert "needs a title" in texts(at.error)


def test_researcher_sees_the_round_summary(monkeypatch, demo, in_round):
    round_id, _ = in_round
    with demo.project.begin() as c:
        panel_rounds.record_round_response(c, round_id, "continuity", "wrong", "Pat")
        panel_rounds.record_round_response(
            c, round_id, "continuity", "rings_true", "Pat", comment="Night visits"
        )
    at = open_app(monkeypatch, demo.project.path, "panel")
    assert "Panel rounds" in [h.value for h in at.header]
    rounds = at.table[0].value
    assert list(rounds.index) == ["Spring round"] and rounds.loc["Spring round", "Used"] == 1
    summary = at.table[1].value
    assert list(summary.index) == ["Seeing the same people"]
    row = summary.loc["Seeing the same people"]
    assert (row["This rings true"], row["This is wrong"], row["Members answered"]) == (1, 0, 1)
    assert "**1** panel members have answered" in texts(at.markdown)


def test_long_theme_lists_come_page_by_page(monkeypatch, tmp_path):
    project = init_project(tmp_path / "big")
    codes = [
        Code(id=f"t{i:02}", name=f"Theme {i:02}", plain_name=f"Plain {i:02}", definition="x")
        for i in range(30)
    ]
    with project.begin() as c:
        ProjectBuilder(c, codebook="big").store_codebook(Codebook(name="big", codes=codes))
    at = open_app(monkeypatch, project.path, "panel")
    assert len(at.expander) == 20 and at.expander[0].label.startswith("Plain 00")
    at.number_input(key="panel_themes_page").set_value(2).run()
    assert len(at.expander) == 10 and at.expander[0].label.startswith("Plain 20")
    project.close()


# ----------------------------------------------------------------------------------- panel members


def test_a_member_sees_their_round_in_plain_words_and_de_identified(monkeypatch, demo, in_round):
    _, token = in_round
    at = open_app(monkeypatch, demo.project.path, token=token)
    assert [t.value for t in at.title] == ["What we heard"]
    assert [h.value for h in at.header] == ["Spring round"]
    assert [s.value for s in at.subheader] == ["Seeing the same people"]
    shown = page_text(at)
    assert "never knows who is coming" in shown and "Higgins" not in shown
    for hidden in (
        "continuity",
        "Continuity of care",
        str(demo.project.path),
        "Summary for the research team",
    ):
        assert hidden not in shown
    assert not at.sidebar.selectbox  # no codebook selector
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(f"{PAGES}/panel.py")


def test_a_member_answers_then_changes_the_answer(monkeypatch, demo, in_round):
    round_id, token = in_round
    at = open_app(monkeypatch, demo.project.path, token=token)
    key = f"panel_view_{round_id}_0"
    at.button(key=f"{key}_submit").click().run()
    assert "choose one of the three answers" in texts(at.error)
    at.radio(key=f"{key}_verdict").set_value("misses_something")
    at.text_input(key=f"{key}_rename").input("Knowing who comes")
    at.button(key=f"{key}_submit").click().run()
    assert not at.exception
    assert "**Your answer now:** This misses something" in texts(at.markdown)
    assert "Thank you" in texts(at.success)
    at.radio(key=f"{key}_verdict").set_value("rings_true")
    at.button(key=f"{key}_submit").click().run()
    assert "**Your answer now:** This rings true" in texts(at.markdown)
    with demo.project.connect() as c:
        rows = c.execute(
            select(panel_responses.c.verdict, panel_responses.c.rename, panel_responses.c.round_id)
        )
        assert [tuple(r) for r in rows] == [
            ("misses_something", "Knowing who comes", round_id),
            ("rings_true", "Knowing who comes", round_id),  # the form keeps the earlier name
        ]
    again = open_app(monkeypatch, demo.project.path, token=token)  # a new session, as after a reload
    assert again.radio(key=f"{key}_verdict").value == "rings_true"
    assert again.text_input(key=f"{key}_rename").value == "Knowing who comes"


def test_a_member_without_a_round_is_told_so(monkeypatch, demo):
    with demo.project.begin() as c:
        add_user(c, "Kim", Role.panel, PASSWORD)
        token = start_session(c, get_account(c, "Kim"))
    at = open_app(monkeypatch, demo.project.path, token=token)
    assert "nothing to answer yet" in texts(at.info)
    assert not at.radio


def test_a_closed_round_shows_the_answers_without_a_form(monkeypatch, demo):
    with demo.project.begin() as c:
        quote = panel.choose_panel_quote(c, CODEBOOK, "choice", demo.segment_ids[BUDGET], "ana")
        month_ago = utcnow() - timedelta(days=30)
        round_id = panel_rounds.create_round(
            c,
            CODEBOOK,
            "Winter round",
            ["choice"],
            [quote],
            month_ago + timedelta(days=7),
            "ana",
            now=month_ago,
        )
        add_user(c, "Sam", Role.panel, PASSWORD)  # invited while the round was open
        invitation = insert_invitation(c, round_id, "0" * 64, "ana", month_ago)
        mark_invitation_used(c, invitation, "Sam", month_ago + timedelta(days=1))
        token = start_session(c, get_account(c, "Sam"))
    at = open_app(monkeypatch, demo.project.path, token=token)
    assert "This round closed on" in texts(at.warning)
    assert at.subheader[0].value == "Choice and control" and not at.radio


def test_a_round_of_many_themes_comes_a_few_at_a_time(monkeypatch, tmp_path):
    project = init_project(tmp_path / "many")
    codes = [
        Code(id=f"t{i:02}", name=f"Theme {i:02}", plain_name=f"Plain {i:02}", definition="x")
        for i in range(7)
    ]
    with project.begin() as c:
        ProjectBuilder(c, codebook="big").store_codebook(Codebook(name="big", codes=codes))
        round_id = panel_rounds.create_round(
            c, "big", "Long round", [code.id for code in codes], [], utcnow() + timedelta(days=2), "ana"
        )
        (code,) = create_invitations(c, round_id, 1, "ana")
        token = start_session(c, accept_invitation(c, code, "Lee", PASSWORD))
    at = open_app(monkeypatch, project.path, token=token)
    assert [s.value for s in at.subheader] == [f"Plain {i:02}" for i in range(5)]
    at.number_input(key=f"panel_view_{round_id}_page").set_value(2).run()
    assert [s.value for s in at.subheader] == ["Plain 05", "Plain 06"]
    at.radio(key=f"panel_view_{round_id}_6_verdict").set_value("wrong")
    at.button(key=f"panel_view_{round_id}_6_submit").click().run()
    with project.connect() as c:
        assert c.execute(select(panel_responses.c.code_id)).scalars().all() == ["t06"]
    project.close()
