"""Adjudication events in the store, on SQLite and PostgreSQL: written as events, read back by
codebook and segment, oldest first, with what they settled."""

from __future__ import annotations

from narratives.store.adjudications import ADJUDICATION, adjudication_rows, insert_adjudication
from narratives.store.events import list_events


def test_adjudications_are_events_read_back_by_codebook_and_segment(backend_project) -> None:
    with backend_project.begin() as connection:
        first = insert_adjudication(
            connection, codebook="care", segment_id=3, code_id="waiting", decision="accept", user=" team ",
            settled={"ana": {"decision": "accept", "review_id": 1}, "ben": {"decision": "reject", "review_id": 2}},
            memo="Zoë said so",
        )  # fmt: skip
        insert_adjudication(
            connection,
            codebook="other",
            segment_id=3,
            code_id="waiting",
            decision="reject",
            user="t",
            settled={},
        )
        second = insert_adjudication(
            connection,
            codebook="care",
            segment_id=4,
            code_id="access",
            decision="reject",
            user="t",
            settled={},
        )
    with backend_project.connect() as connection:
        rows = adjudication_rows(connection, "care")
        only_three = adjudication_rows(connection, "care", segment_ids=[3])
        events = list_events(connection, kinds=[ADJUDICATION])
    assert [row.event_id for row in rows] == [first, second]
    assert [row.event_id for row in only_three] == [first]
    row = rows[0]
    assert (row.segment_id, row.code_id, row.decision, row.user, row.memo) == (
        3,
        "waiting",
        "accept",
        "team",
        "Zoë said so",
    )
    assert row.settled["ben"] == {"decision": "reject", "review_id": 2}
    assert len(events) == 3 and {e.target for e in events} == {"segment/3", "segment/4"}
