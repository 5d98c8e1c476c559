"""An admin may undo another person's last action; the undo is recorded as the admin's."""

from __future__ import annotations

from sqlalchemy import select

from narratives.review.audit import last_action, undo_last
from narratives.review.record import record_review
from narratives.review.state import withdrawn_review_ids
from narratives.schema import Decision, Review
from narratives.store.tables import reviews
from tests.builders.demo_project import CODEBOOK


def _accept(project, segment_id: int, user: str) -> int:
    with project.begin() as connection:
        return record_review(
            connection,
            Review(
                segment_id=segment_id,
                code_id="choice",
                codebook=CODEBOOK,
                decision=Decision.accept,
                user=user,
            ),
        )


def test_an_admin_undoes_someone_elses_last_action_under_their_own_name(demo) -> None:
    segment = demo.segment_ids["My personal budget gives me choice."]
    review_id = _accept(demo.project, segment, "ana")
    event = undo_last(demo.project, "ana", by="morgan")
    assert event.user == "morgan" and event.payload["undone_user"] == "ana"
    with demo.project.connect() as connection:
        assert review_id in withdrawn_review_ids(connection)
        assert last_action(connection, "ana") == []  # nothing of ana's is left to undo
        assert last_action(connection, "morgan") == []  # and the admin's undo is not an action to undo
        users = connection.execute(select(reviews.c.user)).scalars().all()
    assert set(users) == {"ana"}  # no review written under the admin's name


def test_ones_own_undo_carries_no_other_user(demo) -> None:
    segment = demo.segment_ids["My personal budget gives me choice."]
    _accept(demo.project, segment, "ana")
    event = undo_last(demo.project, "ana")
    assert event.user == "ana" and "undone_user" not in event.payload
