"""The audit log: filters, CSV export, and undo of one's own last action (nothing deleted)."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from narratives.codebook import edits, merge_split
from narratives.errors import UndoError
from narratives.review import panel
from narratives.review.audit import audit_csv, audit_log, last_action, undo_last
from narratives.review.record import record_review
from narratives.review.state import latest_decisions, withdrawn_review_ids
from narratives.schema import Decision, Review
from narratives.store.codebooks import current_codebook
from narratives.store.tables import events, reviews, suggestions
from tests.builders.demo_project import CODEBOOK

NEVER = "I never know who is coming."


def review(demo, decision, user, text=NEVER, code_id="continuity"):
    with demo.project.begin() as c:
        return record_review(
            c,
            Review(
                segment_id=demo.segment_ids[text],
                code_id=code_id,
                codebook=CODEBOOK,
                decision=Decision(decision),
                user=user,
                suggestion_id=demo.suggestion_ids.get((text, code_id)),
            ),
        )


def decisions(demo, text=NEVER, code_id="continuity"):
    with demo.project.connect() as c:
        withdrawn = withdrawn_review_ids(c)
        rows = c.execute(
            select(reviews.c.user, reviews.c.decision)
            .where(reviews.c.segment_id == demo.segment_ids[text], reviews.c.code_id == code_id)
            .order_by(reviews.c.id)
        )
        state = {}
        for user, decision in [r for r in rows]:
            state[user] = decision
        ids = c.execute(
            select(reviews.c.id, reviews.c.user, reviews.c.decision)
            .where(reviews.c.segment_id == demo.segment_ids[text], reviews.c.code_id == code_id)
            .order_by(reviews.c.id)
        ).all()
    effective = {}
    for review_id, user, decision in ids:
        if review_id not in withdrawn:
            effective[user] = decision
    return effective


def test_filters_by_kind_family_user_date_and_text(demo):
    review(demo, "accept", "ana")
    with demo.project.begin() as c:
        edits.rename_code(c, CODEBOOK, "choice", "Having a choice", "ben")
    with demo.project.connect() as c:
        assert [e.kind for e in audit_log(c, kinds=["review"])] == ["review"]
        assert {e.kind for e in audit_log(c, kinds=["code"])} >= {"code.rename", "code.create"}
        assert [e.user for e in audit_log(c, user="ben")] == ["ben"]
        assert [e.kind for e in audit_log(c, text="having a CHOICE")] == ["code.rename"]
        assert audit_log(c, until=date.today() - timedelta(days=1)) == []
        assert len(audit_log(c, since=date.today(), until=date.today())) == len(audit_log(c))


def test_csv_export_has_a_row_per_event(demo):
    review(demo, "accept", "ana")
    with demo.project.connect() as c:
        rows = list(csv.DictReader(io.StringIO(audit_csv(c, user="ana"))))
    assert len(rows) == 1 and rows[0]["kind"] == "review" and '"decision": "accept"' in rows[0]["payload"]


def test_undo_review_without_earlier_decision_withdraws_it(demo):
    review(demo, "accept", "ana")
    event = undo_last(demo.project, "ana")
    assert event.kind == "review.undo" and event.undoes is not None and event.undoes > 0
    assert decisions(demo) == {}
    with demo.project.connect() as c:
        assert c.execute(select(func.count()).select_from(reviews)).scalar_one() == 1  # nothing deleted
        assert c.execute(select(events.c.undoes).where(events.c.id == event.id)).scalar() == event.undoes


def test_undo_restores_previous_decision_then_the_one_before(demo):
    review(demo, "accept", "ana")
    review(demo, "reject", "ana")
    undo_last(demo.project, "ana")
    assert decisions(demo) == {"ana": "accept"}
    with demo.project.connect() as c:
        assert latest_decisions(c, CODEBOOK)[(demo.segment_ids[NEVER], "continuity")] == {"ana": "accept"}
    undo_last(demo.project, "ana")
    assert decisions(demo) == {}
    with pytest.raises(UndoError, match="nothing left to undo"):
        undo_last(demo.project, "ana")


def test_undo_touches_only_the_same_user(demo):
    review(demo, "accept", "ana")
    review(demo, "reject", "ben")
    undo_last(demo.project, "ana")
    assert decisions(demo) == {"ben": "reject"}


def test_undo_code_edit_applies_before_state(demo):
    with demo.project.begin() as c:
        edits.edit_code(c, CODEBOOK, "choice", "ana", definition="Changed.")
    event = undo_last(demo.project, "ana")
    with demo.project.connect() as c:
        assert current_codebook(c, CODEBOOK).code("choice").definition == "Having a say over one's support."
        kinds = [e.kind for e in audit_log(c, limit=3)]
    assert event.kind == "code.undo" and kinds[:2] == ["code.undo", "code.revert"]


def test_undo_create_retires_the_code(demo):
    from narratives.schema import Code

    with demo.project.begin() as c:
        edits.create_code(c, CODEBOOK, Code(id="money", name="Money", definition="Costs."), "ana")
    undo_last(demo.project, "ana")
    with demo.project.connect() as c:
        assert current_codebook(c, CODEBOOK).code("money").retired


def test_undo_merge_restores_codes_suggestions_and_withdraws_copied_reviews(demo):
    review(demo, "accept", "ana")
    with demo.project.begin() as c:
        merge_split.merge_codes(c, CODEBOOK, "continuity", "listening", "ana")
        assert len(last_action(c, "ana")) == 2  # target edit + source merge, one group
    undo_last(demo.project, "ana")
    with demo.project.connect() as c:
        book = current_codebook(c, CODEBOOK)
        current = (
            c.execute(
                select(suggestions.c.code_id).where(
                    suggestions.c.current.is_(True), suggestions.c.coder == "ensemble"
                )
            )
            .scalars()
            .all()
        )
    assert not book.code("continuity").retired
    assert "A different carer every day." not in book.code("listening").examples
    assert current.count("continuity") == 3 and current.count("listening") == 1
    assert decisions(demo, code_id="listening") == {}
    assert decisions(demo) == {"ana": "accept"}  # the merge was undone, not the review


def test_undo_panel_response_withdraws_it(demo):
    with demo.project.begin() as c:
        panel.record_panel_response(c, CODEBOOK, "continuity", "wrong", "Pat")
    event = undo_last(demo.project, "Pat")
    with demo.project.connect() as c:
        assert panel.panel_summary(c, CODEBOOK) == []
    assert event.kind == "panel.undo" and event.payload["withdrawn_responses"]


def test_codebook_load_is_not_undone_code_by_code(demo):
    with pytest.raises(UndoError, match="nothing left to undo"):
        undo_last(demo.project, "setup")


def test_undone_first_review_no_longer_counts_as_reviewed(demo):
    from narratives.review.state import reviewed_labels

    review(demo, "accept", "ana")
    with demo.project.connect() as c:
        assert (demo.segment_ids[NEVER], "continuity") in latest_decisions(c, CODEBOOK)
    undo_last(demo.project, "ana")
    with demo.project.connect() as c:
        assert (demo.segment_ids[NEVER], "continuity") not in latest_decisions(c, CODEBOOK)
        assert all(label.segment_id != demo.segment_ids[NEVER] for label in reviewed_labels(c, CODEBOOK))
