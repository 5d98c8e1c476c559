"""The audit log in the store: appending, filtering, and the undo records state is built from."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from narratives.store import Project
from narratives.store.events import (
    count_events,
    event_kinds,
    event_users,
    list_events,
    load_event,
    load_events,
    record_event,
    undo_records,
)


@pytest.fixture
def logged(backend_project: Project) -> Project:
    with backend_project.begin() as connection:
        record_event(
            connection, "code.edit", "ana", target="book/waiting", payload={"after": {"name": "Long waits"}}
        )
        record_event(connection, "code.rename", "ben", target="book/choice")
        review = record_event(connection, "review", "ana", target="segment/3", payload={"review_id": 1})
        record_event(connection, "review.undo", "ana", payload={"withdrawn_reviews": [1]}, undoes=review)
        record_event(connection, "panel.quote.remove", "ben", payload={"withdrawn_quotes": [4]})
    return backend_project


def test_events_filter_by_family_exact_kind_user_date_and_text(logged: Project) -> None:
    with logged.connect() as connection:
        assert [e.kind for e in load_events(connection, kinds=["code"])] == ["code.rename", "code.edit"]
        assert [e.kind for e in load_events(connection, kinds=["review"])] == ["review.undo", "review"]
        assert [e.kind for e in list_events(connection, kinds=["review"])] == ["review"]  # exact kinds only
        assert {e.user for e in load_events(connection, user="ben")} == {"ben"}
        assert [e.kind for e in load_events(connection, text="LONG WAITS")] == ["code.edit"]
        assert load_events(connection, until=date.today() - timedelta(days=1)) == []
        assert len(load_events(connection, since=date.today(), until=date.today())) == 5
        assert [e.kind for e in load_events(connection, limit=2, offset=1)] == ["review.undo", "review"]
        assert event_users(connection) == ["ana", "ben"] and "panel.quote.remove" in event_kinds(connection)
        assert count_events(connection) == 5


def test_undo_records_carry_what_they_withdraw(logged: Project) -> None:
    with logged.connect() as connection:
        records = undo_records(connection)
        undo = load_event(connection, records[0].event_id)
    assert [(r.payload, r.undoes is not None) for r in records] == [
        ({"withdrawn_reviews": [1]}, True),
        ({"withdrawn_quotes": [4]}, False),
    ]
    assert undo.kind == "review.undo" and undo.undoes == records[0].undoes and undo.undone_by is None


def test_an_event_needs_a_user(backend_project: Project) -> None:
    with pytest.raises(ValueError), backend_project.begin() as connection:
        record_event(connection, "review", " ")
