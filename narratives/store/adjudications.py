"""Adjudications: the team's final decision on a (segment, code) where coders disagree.

An adjudication is an ``adjudication`` event in the append-only events table (no table of its own):
its payload names the codebook, segment, code, the decision, the coders' decisions it settled and a
memo. Nothing here touches a review; which decision holds now is worked out in
:mod:`narratives.review.state`, and an undo lists the adjudications it withdraws in its payload.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, select

from narratives.store.events import record_event
from narratives.store.tables import events

ADJUDICATION = "adjudication"


class AdjudicationRow(NamedTuple):
    """One recorded adjudication, as the current state and the disagreement list need it."""

    event_id: int
    codebook: str
    segment_id: int
    code_id: str
    decision: str
    user: str
    memo: str | None
    settled: dict[str, Any]  # coder -> {"decision": ..., "review_id": ...} it settled
    created: datetime


def insert_adjudication(
    connection: Connection,
    *,
    codebook: str,
    segment_id: int,
    code_id: str,
    decision: str,
    user: str,
    settled: Mapping[str, Any],
    memo: str | None = None,
) -> int:
    """Append one adjudication event inside the caller's transaction; returns its event id."""
    payload = {
        "codebook": codebook,
        "segment_id": int(segment_id),
        "code_id": code_id,
        "decision": decision,
        "settled": dict(settled),
        "memo": memo,
    }
    return record_event(connection, ADJUDICATION, user, target=f"segment/{int(segment_id)}", payload=payload)


def adjudication_rows(
    connection: Connection, codebook: str, *, segment_ids: Iterable[int] | None = None
) -> list[AdjudicationRow]:
    """The adjudications of ``codebook`` (of ``segment_ids`` when given), oldest first."""
    query = select(events.c.id, events.c.user, events.c.payload, events.c.created).where(
        events.c.kind == ADJUDICATION
    )
    wanted = None if segment_ids is None else {int(i) for i in segment_ids}
    found: list[AdjudicationRow] = []
    for event_id, user, payload, created in connection.execute(query.order_by(events.c.id)):
        payload = payload or {}
        if payload.get("codebook") != codebook:
            continue
        if wanted is not None and int(payload.get("segment_id", -1)) not in wanted:
            continue
        found.append(
            AdjudicationRow(
                int(event_id),
                codebook,
                int(payload["segment_id"]),
                str(payload["code_id"]),
                str(payload["decision"]),
                user,
                payload.get("memo"),
                dict(payload.get("settled") or {}),
                created,
            )
        )
    return found
