"""Every page of the explorer renders on a populated project, shows its empty states, and writes
the right event for each action (streamlit.testing.v1.AppTest, in process)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from narratives.auth.accounts import add_user, get_account
from narratives.auth.sessions import start_session
from narratives.kinds import Role
from narratives.review.record import record_review
from narratives.schema import Decision, Review
from narratives.store.codebooks import current_codebook
from narratives.store.events import list_events
from narratives.store.project import init_project, open_project
from narratives.store.tables import panel_quotes, reviews
from narratives.store.users import load_user
from tests.builders.demo_project import CODEBOOK, build_demo_project

APP = Path(__file__).resolve().parents[2] / "app.py"
PAGES = "narratives/ui/pages"


def panel_login(project_path, name: str) -> str:
    """A panel member's account and a live session token for it, as a login would make."""
    project = open_project(project_path)
    with project.begin() as connection:
        if load_user(connection, name) is None:
            add_user(connection, name, Role.panel, "a long enough password")
        return start_session(connection, get_account(connection, name))


def open_app(
    monkeypatch, project_path, page: str | None = None, user: str | None = "ana", role: str | None = None
):
    """The explorer as the local researcher ``user`` (`narratives explore --user`), or, with
    ``role="panel"``, as the logged-in panel member ``user`` of the team server."""
    monkeypatch.setenv("NARRATIVES_PROJECT", str(project_path))
    monkeypatch.setenv("NARRATIVES_USER", user or "ana")
    at = AppTest.from_file(str(APP), default_timeout=90)
    if role == "panel":
        at.session_state["project_path"] = str(project_path)
        at.session_state["explorer_mode"] = "login"
        at.session_state["local_user"] = "nobody"
        at.session_state["session_token"] = panel_login(project_path, user or "Pat")
    at.run()
    if page:
        at.switch_page(f"{PAGES}/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def events_of(project, kind):
    with project.connect() as connection:
        return list_events(connection, kinds=[kind])


# ----------------------------------------------------------------------------------- empty states


def test_no_project_says_how_to_create_one(monkeypatch, tmp_path):
    at = open_app(monkeypatch, tmp_path / "nowhere")
    assert at.title[0].value == "No project open"
    assert "narratives init" in texts(at.info)


def test_overview_of_a_project_without_documents(monkeypatch, empty_project):
    at = open_app(monkeypatch, empty_project.path, "overview")
    assert "narratives ingest" in texts(at.info)


def test_pages_say_nothing_is_coded_yet(monkeypatch, tmp_path):
    built = build_demo_project(tmp_path / "uncoded", with_coding=False, with_discovery=False)
    at = open_app(monkeypatch, built.project.path, "overview")
    assert "narratives code" in texts(at.info)
    at.switch_page(f"{PAGES}/review.py").run()
    assert "narratives code" in texts(at.info)
    at.switch_page(f"{PAGES}/discover.py").run()
    assert "narratives discover" in texts(at.info)


# --------------------------------------------------------------------------------------- overview


def test_overview_shows_counts_coded_share_and_progress(monkeypatch, demo):
    at = open_app(monkeypatch, demo.project.path, "overview")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Documents"] == "4" and metrics["Participants"] == "3"
    assert metrics["Coded share"] == "64%"  # 7 of 11 sentences
    assert metrics["Suggestions"] == "8" and metrics["Pending"] == "8"
    assert at.radio(key="overview_measure").value == "Segments"
    at.radio(key="overview_measure").set_value("Participants").run()
    assert not at.exception


# ------------------------------------------------------------------------------------------ review


def test_accept_writes_a_review_event_with_the_user(monkeypatch, demo):
    at = open_app(monkeypatch, demo.project.path, "review")
    labels = [b.label for b in at.button]
    assert {"Accept (a)", "Reject (r)", "Next (n)", "Change code", "Add code"} <= set(labels)
    at.text_area(key=next(k for k in at.session_state if k.startswith("review_memo_"))).input("clear case")
    at.button(key="review_accept").click().run()
    assert not at.exception
    events = events_of(demo.project, "review")
    assert len(events) == 1
    assert events[0].user == "ana" and events[0].payload["decision"] == "accept"
    assert events[0].payload["memo"] == "clear case"
    assert "Accepted" in texts(at.success)


def test_reject_change_and_next(monkeypatch, demo):
    at = open_app(monkeypatch, demo.project.path, "review")
    at.button(key="review_reject").click().run()
    at.button(key="review_next").click().run()
    assert len(at.session_state["review_skipped"]) == 1
    at.selectbox(key="review_change_code").set_value("choice")
    at.button(key="review_change").click().run()
    with demo.project.connect() as connection:
        decisions = [(r.decision, r.user) for r in connection.execute(select(reviews).order_by(reviews.c.id))]
    assert decisions == [("reject", "ana"), ("reject", "ana"), ("add", "ana")]


def test_two_reviewers_of_the_same_suggestion_are_both_recorded(monkeypatch, demo):
    for user in ("ana", "ben"):
        at = open_app(monkeypatch, demo.project.path, "review", user=user)
        at.multiselect(key="review_filter_codes").set_value(["choice"]).run()
        at.button(key="review_accept").click().run()
    with demo.project.connect() as connection:
        rows = connection.execute(select(reviews.c.suggestion_id, reviews.c.user)).all()
    choice = demo.suggestion_ids[("My personal budget gives me choice.", "choice")]
    assert sorted(rows) == [(choice, "ana"), (choice, "ben")]


def test_retrain_calls_the_runner_and_clears_caches(monkeypatch, demo):
    calls = []

    class Result:
        suggestions_written = 3

    monkeypatch.setattr(
        "narratives.ui.common.retrain", lambda project, codebook, user: calls.append(user) or Result()
    )
    at = open_app(monkeypatch, demo.project.path, "review")
    at.number_input(key="review_batch_size").set_value(1)
    at.button(key="review_accept").click().run()
    assert not at.button(key="review_retrain").disabled
    at.button(key="review_retrain").click().run()
    from narratives.ui import background

    job = background.job_of(str(demo.project.path))
    assert job is not None and job.wait(timeout=120)  # the retrain runs in a worker thread
    at.run()
    assert calls == ["ana"]
    assert "Retrained" in texts(at.success)


# --------------------------------------------------------------------------------------- documents


def test_document_view_highlights_codes_and_codes_by_hand(monkeypatch, demo):
    at = open_app(monkeypatch, demo.project.path, "documents")
    interview = demo.document_ids["Interview P01"]
    at.selectbox(key="documents_document").set_value(interview).run()
    html = texts(at.markdown)
    assert 'class="code-mark"' in html and "Continuity of care (ensemble, confidence 0.95, suggested)" in html
    assert 'class="speaker">P01<' in html
    segment = demo.segment_ids["The social worker listened to me."]
    at.multiselect(key="documents_segments").set_value([segment]).run()
    at.selectbox(key="documents_code").set_value("choice")
    at.button(key="documents_code_button").click().run()
    events = events_of(demo.project, "code.hand")
    assert len(events) == 1 and events[0].payload["decision"] == "add" and events[0].user == "ana"
    assert "Choice and control (hand, hand)" in texts(at.markdown)


def test_document_view_escapes_text(monkeypatch, tmp_path):
    from narratives.ui.highlight import Mark, highlight_html

    html = highlight_html(
        "<b>x</b> & y", [Mark(0, 8, 1, "c", "ensemble", 0.9, "suggested")], {"c": "#000000"}, {}
    )
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>" not in html


# ---------------------------------------------------------------------------------------- codebook


def test_codebook_rename_and_edit_write_code_events(monkeypatch, demo):
    at = open_app(monkeypatch, demo.project.path, "codebook")
    at.selectbox(key="codebook_rename_code").set_value("choice")
    at.text_input(key="codebook_rename_name").input("Choice and say")
    at.button(key="codebook_rename_submit").click().run()
    assert events_of(demo.project, "code.rename")[0].user == "ana"
    at.selectbox(key="codebook_edit_code").set_value("waiting").run()
    at.text_area(key="codebook_edit_definition_waiting").input("Waiting for anything at all.")
    at.button(key="codebook_edit_submit").click().run()
    edit = events_of(demo.project, "code.edit")[0]
    assert edit.payload["after"]["definition"] == "Waiting for anything at all." and edit.user == "ana"
    with demo.project.connect() as connection:
        assert current_codebook(connection, CODEBOOK).code("choice").name == "Choice and say"


def test_codebook_move_into_own_child_shows_error(monkeypatch, demo):
    at = open_app(monkeypatch, demo.project.path, "codebook")
    at.selectbox(key="codebook_move_code").set_value("access")
    at.selectbox(key="codebook_move_parent").set_value("waiting")
    at.button(key="codebook_move_submit").click().run()
    assert "cycle" in texts(at.error)
    assert events_of(demo.project, "code.move") == []


def test_codebook_history_and_downloads(monkeypatch, demo):
    at = open_app(monkeypatch, demo.project.path, "codebook")
    assert at.selectbox(key="codebook_history_code").value == "continuity"
    assert len(at.dataframe) >= 1
    downloads = [e for e in at.get("download_button")]
    assert len(downloads) == 2


# ---------------------------------------------------------------------------------------- discover


def test_promote_and_dismiss_candidates_write_candidate_events(monkeypatch, demo):
    first, second = demo.candidate_ids
    at = open_app(monkeypatch, demo.project.path, "discover")
    at.text_input(key=f"discover_code_id_{first}").input("rushed")
    at.button(key=f"discover_promote_{first}").click().run()
    assert not at.exception
    promoted = events_of(demo.project, "candidate.promote")
    assert promoted[0].user == "ana" and promoted[0].payload["code_id"] == "rushed"
    at.button(key=f"discover_dismiss_{second}").click().run()
    assert events_of(demo.project, "candidate.dismiss")[0].payload["candidate_id"] == second
    assert "Already dismissed." in texts(at.info)


# ------------------------------------------------------------------------------------------- panel


@pytest.mark.parametrize("page", ["overview", "review", "documents", "codebook", "discover", "audit"])
def test_a_panel_member_is_shown_the_panel_page_only(monkeypatch, demo, page):
    at = open_app(monkeypatch, demo.project.path, user="Pat", role="panel")
    assert [t.value for t in at.title] == ["What we heard"]  # the panel is where a panel member starts
    with pytest.raises(ValueError, match="Could not find a navigation page"):  # no other page is registered
        at.switch_page(f"{PAGES}/{page}.py")


def test_panel_members_see_only_the_panel(monkeypatch, demo):
    at = open_app(monkeypatch, demo.project.path, user="Pat", role="panel")
    assert at.title[0].value == "What we heard"
    with pytest.raises(ValueError):
        at.switch_page(f"{PAGES}/review.py")


def test_researcher_chooses_quotes_and_sees_summary(monkeypatch, demo):
    segment = demo.segment_ids["My personal budget gives me choice."]
    with demo.project.begin() as connection:
        record_review(
            connection,
            Review(
                segment_id=segment, code_id="choice", codebook=CODEBOOK, decision=Decision.accept, user="ana"
            ),
        )
    at = open_app(monkeypatch, demo.project.path, "panel")
    at.selectbox(key="panel_quote_code").set_value("choice").run()
    at.button(key="panel_quote_add").click().run()
    with demo.project.connect() as connection:
        assert connection.execute(select(panel_quotes.c.segment_id)).scalars().all() == [segment]
    assert any(e.label.startswith("Choice and control") for e in at.expander)
    assert "Summary for the research team" in [h.value for h in at.header]


# ------------------------------------------------------------------------------------------- audit


def test_audit_lists_filters_and_undoes_my_last_action(monkeypatch, demo):
    at = open_app(monkeypatch, demo.project.path, "review")
    at.button(key="review_accept").click().run()
    at.switch_page(f"{PAGES}/audit.py").run()
    assert len(at.dataframe) == 1
    at.multiselect(key="audit_kinds").set_value(["review"]).run()
    assert len(at.dataframe[0].value) == 1
    at.button(key="audit_undo").click().run()
    assert not at.exception
    undo = events_of(demo.project, "review.undo")
    assert len(undo) == 1 and undo[0].user == "ana"
    with demo.project.connect() as connection:
        from narratives.store.tables import events

        assert (
            connection.execute(select(events.c.undoes).where(events.c.id == undo[0].id)).scalar() is not None
        )
    review_event = events_of(demo.project, "review")[0]
    assert undo[0].undoes == review_event.id
    assert f"Undone: review (event {review_event.id})." in texts(at.success)


def test_audit_of_a_fresh_project(monkeypatch, tmp_path):
    project = init_project(tmp_path / "fresh")
    at = open_app(monkeypatch, project.path, "audit", user=None)
    assert "Nothing has been recorded yet." in texts(at.info)
