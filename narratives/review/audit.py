"""The audit log, read back: filter it, export it, and undo one's own last action.

Nothing is deleted or edited by an undo. Each undo is a new event (``undoes=<event id>``) that
restores the state from before the action:

- a review: a compensating review (``source="undo"``) with the reviewer's previous decision on that
  (segment, code), or, where there was none, the reviews are listed as withdrawn in the undo event;
- a code change: the ``before`` state is applied as a new change (``code.revert``); for a merge or
  split the suggestions it moved are switched back and the reviews it copied are withdrawn;
- a panel response or quote: listed as withdrawn in the undo event.

Withdrawn ids are read back with :func:`withdrawn_ids`. Undoing again undoes the action before.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import Connection, Text, cast, func, or_, select, update

from narratives.errors import ReviewError
from narratives.review.record import record_review
from narratives.schema import Code, Decision, Event, Review
from narratives.store.codebooks import apply_code_change, current_codes
from narratives.store.events import record_event
from narratives.store.project import Project
from narratives.store.tables import candidates, events, reviews, suggestions

WITHDRAWN_KEYS = ("withdrawn_reviews", "withdrawn_responses", "withdrawn_quotes")
UNDOABLE_KINDS = ("review", "code.hand", "panel.response", "panel.quote")
NOT_UNDOABLE_CODE_KINDS = ("code.revert",)


@dataclass
class AuditEntry:
    id: int
    created: datetime
    user: str
    kind: str
    target: str | None
    payload: dict[str, Any]
    undoes: int | None
    undone_by: int | None = None


# -------------------------------------------------------------------------------------- reading


def _as_utc(moment: date | datetime, end_of_day: bool = False) -> datetime:
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment + timedelta(days=1) if end_of_day else moment, time())
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def audit_log(
    connection: Connection,
    *,
    kinds: list[str] | None = None,
    user: str | None = None,
    since: date | datetime | None = None,
    until: date | datetime | None = None,
    text: str | None = None,
    limit: int | None = 1000,
) -> list[AuditEntry]:
    """Events newest first. ``kinds`` match exactly or as a family ("code" matches "code.edit");
    ``until`` given as a date includes that whole day; ``text`` searches target, kind, user, payload."""
    query = select(events).order_by(events.c.id.desc())
    if kinds:
        query = query.where(or_(*[or_(events.c.kind == k, events.c.kind.like(f"{k}.%")) for k in kinds]))
    if user:
        query = query.where(events.c.user == user)
    if since is not None:
        query = query.where(events.c.created >= _as_utc(since))
    if until is not None:
        query = query.where(events.c.created < _as_utc(until, end_of_day=True))
    if text:
        needle = f"%{text.lower()}%"
        fields = (events.c.target, events.c.kind, events.c.user, cast(events.c.payload, Text))
        query = query.where(or_(*[func.lower(f).like(needle) for f in fields]))
    if limit is not None:
        query = query.limit(limit)
    undone = _undone_by(connection)
    return [
        AuditEntry(
            id=row.id,
            created=row.created,
            user=row.user,
            kind=row.kind,
            target=row.target,
            payload=row.payload or {},
            undoes=row.undoes,
            undone_by=undone.get(row.id),
        )
        for row in connection.execute(query)
    ]


def audit_csv(connection: Connection, **filters: Any) -> str:
    """The filtered log as CSV text (payload as JSON), for the research record."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "created", "user", "kind", "target", "undoes", "undone_by", "payload"])
    for entry in audit_log(connection, **{"limit": None, **filters}):
        writer.writerow(
            [
                entry.id,
                entry.created.isoformat(),
                entry.user,
                entry.kind,
                entry.target or "",
                entry.undoes or "",
                entry.undone_by or "",
                json.dumps(entry.payload, ensure_ascii=False, sort_keys=True),
            ]
        )
    return buffer.getvalue()


def audit_users(connection: Connection) -> list[str]:
    return sorted(connection.execute(select(events.c.user).distinct()).scalars())


def audit_kinds(connection: Connection) -> list[str]:
    return sorted(connection.execute(select(events.c.kind).distinct()).scalars())


def data_version(connection: Connection) -> str:
    """Changes whenever anything is written (events, suggestions, reviews, candidates): a cache key."""
    parts = [
        connection.execute(select(func.max(table.c.id))).scalar() or 0
        for table in (events, suggestions, reviews, candidates)
    ]
    return ":".join(str(p) for p in parts)


def _undo_payloads(connection: Connection) -> Iterator[tuple[int, int, dict[str, Any]]]:
    rows = connection.execute(
        select(events.c.id, events.c.undoes, events.c.payload).where(
            or_(events.c.undoes.is_not(None), events.c.kind == "panel.quote.remove")
        )
    )
    for event_id, undoes, payload in rows:
        yield event_id, undoes, payload or {}


def _undone_by(connection: Connection) -> dict[int, int]:
    undone: dict[int, int] = {}
    for event_id, undoes, payload in _undo_payloads(connection):
        for target in [undoes, *payload.get("undone_ids", [])]:
            if target is not None:
                undone[int(target)] = event_id
    return undone


def withdrawn_ids(connection: Connection, key: str) -> set[int]:
    """Ids listed under ``key`` (one of :data:`WITHDRAWN_KEYS`) by undo and removal events."""
    found: set[int] = set()
    for _, _, payload in _undo_payloads(connection):
        found.update(int(i) for i in payload.get(key, []))
    return found


def withdrawn_review_ids(connection: Connection) -> set[int]:
    return withdrawn_ids(connection, "withdrawn_reviews")


# ----------------------------------------------------------------------------------------- undo


def is_undoable(entry: AuditEntry) -> bool:
    if entry.undoes is not None or entry.kind.endswith(".undo") or entry.payload.get("source") == "undo":
        return False
    if entry.kind in NOT_UNDOABLE_CODE_KINDS:
        return False
    return entry.kind in UNDOABLE_KINDS or entry.kind.startswith("code.")


def last_action(connection: Connection, user: str) -> list[AuditEntry]:
    """The events of ``user``'s last action not yet undone, newest first ([] when none is left)."""
    undone = _undone_by(connection)
    loaded: dict[str, set[str]] = {}  # codebook -> code ids changed by a file load (not undoable here)
    entries = [e for e in audit_log(connection, user=user, limit=None) if e.id not in undone]
    for index, entry in enumerate(entries):
        if entry.kind == "codebook.load":
            loaded.setdefault(entry.target or "", set()).update(entry.payload.get("changed", []))
            continue
        if entry.kind.startswith("code.") and _from_load(entry, loaded):
            continue
        if not is_undoable(entry):
            continue
        group = entry.payload.get("group")
        if group is None:
            return [entry]
        return [e for e in entries[index:] if e.payload.get("group") == group]
    return []


def _from_load(entry: AuditEntry, loaded: dict[str, set[str]]) -> bool:
    codebook, _, code_id = (entry.target or "").partition("/")
    if code_id in loaded.get(codebook, set()):
        loaded[codebook].discard(code_id)
        return True
    return False


def undo_last(project: Project | Connection, user: str) -> Event:
    """Undo ``user``'s last action (not anyone else's); returns the undo event."""
    if isinstance(project, Connection):
        return _undo_last(project, user)
    with project.begin() as connection:
        return _undo_last(connection, user)


def _undo_last(connection: Connection, user: str) -> Event:
    if not user or not user.strip():
        raise ReviewError("undo needs your name.", fix="enter your name first.")
    action = last_action(connection, user.strip())
    if not action:
        raise ReviewError(f"{user} has nothing left to undo.")
    newest = action[0]
    payload: dict[str, Any] = {"undone_kind": newest.kind, "undone_ids": [e.id for e in action]}
    for entry in action:
        _merge_lists(payload, _undo_one(connection, entry, user))
    family = newest.kind.split(".", 1)[0] if newest.kind != "code.hand" else "review"
    kind = f"{family}.undo"
    event_id = record_event(connection, kind, user, target=newest.target, payload=payload, undoes=newest.id)
    row = connection.execute(select(events).where(events.c.id == event_id)).one()
    return Event(
        id=event_id,
        kind=kind,
        user=row.user,
        target=row.target,
        payload={**payload, "undoes": newest.id},
        created=row.created,
    )


def _merge_lists(into: dict[str, Any], extra: dict[str, list[int]]) -> None:
    for key, values in extra.items():
        into.setdefault(key, []).extend(values)


def _undo_one(connection: Connection, entry: AuditEntry, user: str) -> dict[str, list[int]]:
    if entry.kind in ("review", "code.hand"):
        return _undo_review(connection, int(entry.payload["review_id"]), user, entry.id)
    if entry.kind == "panel.response":
        return {"withdrawn_responses": [int(entry.payload["response_id"])]}
    if entry.kind == "panel.quote":
        return {"withdrawn_quotes": [int(entry.payload["quote_id"])]}
    return _undo_code_change(connection, entry, user)


def _undo_review(connection: Connection, review_id: int, user: str, event_id: int) -> dict[str, list[int]]:
    undone = connection.execute(select(reviews).where(reviews.c.id == review_id)).one()
    withdrawn = withdrawn_review_ids(connection)
    same = (
        reviews.c.segment_id == undone.segment_id,
        reviews.c.codebook == undone.codebook,
        reviews.c.code_id == undone.code_id,
        reviews.c.user == undone.user,
    )
    earlier = [
        r
        for r in connection.execute(
            select(reviews).where(*same, reviews.c.id < review_id).order_by(reviews.c.id.desc())
        )
        if r.id not in withdrawn
    ]
    if earlier:
        previous = earlier[0]
        compensating = record_review(
            connection,
            Review(
                segment_id=undone.segment_id,
                code_id=undone.code_id,
                codebook=undone.codebook,
                decision=Decision(previous.decision),
                user=user,
                suggestion_id=previous.suggestion_id,
                memo=f"undo of review {review_id}",
                start=previous.start,
                end=previous.end,
            ),
            source="undo",
        )
        return {"compensating_reviews": [compensating]}
    later = connection.execute(select(reviews.c.id).where(*same, reviews.c.id >= review_id)).scalars()
    return {"withdrawn_reviews": [int(i) for i in later if i not in withdrawn]}


def _undo_code_change(connection: Connection, entry: AuditEntry, user: str) -> dict[str, list[int]]:
    codebook, _, code_id = (entry.target or "").partition("/")
    current = {c.id: c for c in current_codes(connection, codebook, include_retired=True)}.get(code_id)
    if current is None:
        raise ReviewError(f"code '{code_id}' is no longer in codebook '{codebook}'; cannot undo.")
    if entry.kind == "code.create":
        restored = current.model_copy(update={"retired": True})
    else:
        restored = Code.model_validate(entry.payload["before"])
    apply_code_change(connection, codebook, code_id, "revert", current, restored, user, {"undoes": entry.id})
    result: dict[str, list[int]] = {}
    back_on = entry.payload.get("suggestions_deactivated", [])
    back_off = entry.payload.get("suggestions_created", [])
    if back_off:
        connection.execute(update(suggestions).where(suggestions.c.id.in_(back_off)).values(current=False))
    if back_on:
        connection.execute(update(suggestions).where(suggestions.c.id.in_(back_on)).values(current=True))
    if entry.payload.get("reviews_copied"):
        result["withdrawn_reviews"] = list(entry.payload["reviews_copied"])
    if entry.payload.get("quotes_copied"):
        result["withdrawn_quotes"] = list(entry.payload["quotes_copied"])
    return result
