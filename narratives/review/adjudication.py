"""Adjudication: the team settles a (segment, code) where coders disagree.

:func:`adjudicate` records an ``adjudication`` event (who, when, the final decision, the coders'
decisions it settled, a memo) and writes no review, so every coder's own coding stays as it was and
agreement between them (measured on :func:`~narratives.review.state.latest_by_reviewer`) is
unchanged. What a segment carries now follows the latest live adjudication of the pair over any
review (:mod:`narratives.review.state`). :func:`undo_adjudication` takes one back with an undo event
that lists it as withdrawn, as the audit log's other undos do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from narratives.errors import AdjudicationError
from narratives.review.state import adjudicated, latest_by_reviewer, withdrawn_ids
from narratives.schema import Decision
from narratives.store.adjudications import ADJUDICATION, adjudication_rows, insert_adjudication
from narratives.store.events import load_event, record_event
from narratives.store.project import Project
from narratives.store.reviews import code_exists, segment_exists

UNDO_KIND = "adjudication.undo"


def adjudicate(
    project: Project | Connection,
    *,
    codebook: str,
    segment_id: int,
    code_id: str,
    applies: bool,
    user: str,
    memo: str | None = None,
    also_settled: Mapping[str, Any] | None = None,
) -> int:
    """Record the team's final decision on (``segment_id``, ``code_id``); returns the event id.

    The decisions it settles are every reviewer's own latest live one on the pair, plus
    ``also_settled`` (a machine coder's, say: ``{"machine": {"decision": "accept", "score": 0.8}}``).
    """
    if isinstance(project, Connection):
        return _adjudicate(project, codebook, segment_id, code_id, applies, user, memo, also_settled)
    with project.begin() as connection:
        return _adjudicate(connection, codebook, segment_id, code_id, applies, user, memo, also_settled)


def _adjudicate(
    connection: Connection,
    codebook: str,
    segment_id: int,
    code_id: str,
    applies: bool,
    user: str,
    memo: str | None,
    also_settled: Mapping[str, Any] | None,
) -> int:
    if not user or not user.strip():
        raise AdjudicationError(
            "an adjudication needs the name of who decided.", fix="enter your name first."
        )
    if not segment_exists(connection, segment_id):
        raise AdjudicationError(f"segment {segment_id} does not exist.")
    if not code_exists(connection, codebook, code_id):
        raise AdjudicationError(
            f"code '{code_id}' is not in codebook '{codebook}'.",
            fix="check the code id (narratives codebook show FILE lists them).",
        )
    by_reviewer = latest_by_reviewer(connection, codebook, segment_ids=[segment_id]).get(
        (segment_id, code_id), {}
    )
    settled: dict[str, Any] = {
        reviewer: {"decision": review.decision, "review_id": review.review_id, "memo": review.memo}
        for reviewer, review in sorted(by_reviewer.items())
    }
    settled.update(dict(also_settled or {}))
    decision = Decision.accept if applies else Decision.reject
    return insert_adjudication(
        connection,
        codebook=codebook,
        segment_id=segment_id,
        code_id=code_id,
        decision=decision.value,
        user=user.strip(),
        settled=settled,
        memo=(memo or "").strip() or None,
    )


def undo_adjudication(project: Project | Connection, event_id: int, user: str) -> int:
    """Take back adjudication ``event_id``: an undo event listing it as withdrawn; returns its id."""
    if isinstance(project, Connection):
        return _undo(project, event_id, user)
    with project.begin() as connection:
        return _undo(connection, event_id, user)


def _undo(connection: Connection, event_id: int, user: str) -> int:
    if not user or not user.strip():
        raise AdjudicationError("undo needs your name.", fix="enter your name first.")
    try:
        entry = load_event(connection, event_id)
    except Exception as error:  # sqlalchemy's NoResultFound
        raise AdjudicationError(f"event {event_id} does not exist.") from error
    if entry.kind != ADJUDICATION:
        raise AdjudicationError(f"event {event_id} is a '{entry.kind}', not an adjudication.")
    if event_id in withdrawn_ids(connection, "withdrawn_adjudications"):
        raise AdjudicationError(f"adjudication {event_id} was already undone.")
    payload = {"undone_kind": ADJUDICATION, "undone_ids": [event_id], "withdrawn_adjudications": [event_id]}
    return record_event(
        connection, UNDO_KIND, user.strip(), target=entry.target, payload=payload, undoes=event_id
    )


def adjudications(connection: Connection, codebook: str) -> dict[tuple[int, str], dict[str, Any]]:
    """(segment, code) -> the live adjudication that holds: decision, who, memo, when, what it settled."""
    live = adjudicated(connection, codebook)
    rows = {row.event_id: row for row in adjudication_rows(connection, codebook)}
    found: dict[tuple[int, str], dict[str, Any]] = {}
    for pair, decided in live.items():
        row = rows[int(decided.adjudication_id or 0)]
        found[pair] = {
            "event_id": row.event_id,
            "decision": row.decision,
            "user": row.user,
            "memo": row.memo,
            "created": row.created.isoformat(),
            "settled": row.settled,
        }
    return found
