"""The Agreement page (AppTest on a real project): the table with intervals, the disagreement list,
and an adjudication recorded through the library without touching either coder's reviews."""

from __future__ import annotations

from narratives.review.record import record_review
from narratives.review.state import latest_reviews, live_reviews
from narratives.schema import Decision, Review
from narratives.store.events import list_events
from tests.builders.demo_project import CODEBOOK
from tests.ui.test_pages import open_app, texts

RUSHED = "The carers are always rushed."
NEVER = "I never know who is coming."


def double_code(demo) -> None:
    with demo.project.begin() as connection:
        for user, rushed in (("ana", Decision.accept), ("ben", Decision.reject)):
            for text, decision in ((RUSHED, rushed), (NEVER, Decision.accept)):
                record_review(
                    connection,
                    Review(
                        segment_id=demo.segment_ids[text],
                        code_id="continuity",
                        codebook=CODEBOOK,
                        decision=decision,
                        user=user,
                        memo="why" if user == "ana" else None,
                    ),
                )


def test_the_page_shows_agreement_and_records_an_adjudication(demo, monkeypatch) -> None:
    double_code(demo)
    at = open_app(monkeypatch, demo.project.path, "agreement", user="carol")
    assert "Agreement between coders" in texts(at.title)
    assert at.multiselect(key="agreement_coders").value == ["ana", "ben"]
    assert "On 2 segments every one of them saw" in texts(at.subheader)
    table = at.dataframe[0].value
    assert list(table["Code"]) == ["continuity", "overall"]
    assert table.iloc[0]["percent"].startswith("0.50 [")
    assert "Disagreements (1)" in texts(at.subheader)
    with demo.project.connect() as connection:
        before = [r.model_dump() for r in live_reviews(connection, CODEBOOK)]
    at.radio(key="agreement_decision").set_value("The code applies")
    at.text_input(key="agreement_memo").input("rushing is about continuity")
    at.button(key="agreement_adjudicate").click().run()
    assert not at.exception, [e.value for e in at.exception]
    with demo.project.connect() as connection:
        [event] = list_events(connection, kinds=["adjudication"])
        assert [r.model_dump() for r in live_reviews(connection, CODEBOOK)] == before
        assert latest_reviews(connection, CODEBOOK)[(demo.segment_ids[RUSHED], "continuity")].applies
    assert event.user == "carol" and event.payload["memo"] == "rushing is about continuity"
    assert set(event.payload["settled"]) == {"ana", "ben"}
    assert "Adjudicated segment" in texts(at.success)
    assert at.dataframe[1].value.iloc[0]["Adjudicated"] == "accept"
    at.button(key="agreement_undo").click().run()
    with demo.project.connect() as connection:
        assert not latest_reviews(connection, CODEBOOK)[
            (demo.segment_ids[RUSHED], "continuity")
        ].applies  # ben's
    assert at.dataframe[1].value.iloc[0]["Adjudicated"] == ""


def test_with_fewer_than_two_reviewers_the_page_says_what_to_do(demo, monkeypatch) -> None:
    at = open_app(monkeypatch, demo.project.path, "agreement")
    assert "Choose two coders or more" in texts(at.info)
