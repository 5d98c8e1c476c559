"""The audit log, read back: filter it, export it, and undo one's own last action.

Nothing is deleted or edited by an undo. Each undo is a new event (``undoes=<event id>``) that
restores the state from before the action:

- a review: a compensating review (``source="undo"``) with the reviewer's previous decision on that
  (segment, code), or, where there was none, the reviews are listed as withdrawn in the undo event;
- a code change: the ``before`` state is applied as a new change (``code.revert``); for a merge or
  split the suggestions it moved are switched back and the reviews it copied are withdrawn;
- a panel response or quote: listed as withdrawn in the undo event.

What is withdrawn is read back through :mod:`narratives.review.state`. Undoing again undoes the
action before.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection

from narratives.errors import UndoError
from narratives.review.record import record_review
from narratives.review.state import withdrawn_review_ids
from narratives.schema import Code, Decision, Event, Review
from narratives.store.codebooks import apply_code_change, current_codes
from narratives.store.events import (
    event_kinds,
    event_users,
    load_event,
    load_events,
    record_event,
    undo_records,
)
from narratives.store.project import Project
from narratives.store.reviews import load_reviews
from narratives.store.suggestions import set_current, with_current_sibling

UNDOABLE_KINDS = ("review", "code.hand", "panel.response", "panel.quote")
NOT_UNDOABLE_CODE_KINDS = ("code.revert",)


# -------------------------------------------------------------------------------------- reading


def audit_log(
    connection: Connection,
    *,
    kinds: list[str] | None = None,
    user: str | None = None,
    since: date | datetime | None = None,
    until: date | datetime | None = None,
    text: str | None = None,
    limit: int | None = 1000,
) -> list[Event]:
    """Events newest first, each with ``undone_by`` set when an undo took it back. ``kinds`` match
    exactly or as a family ("code" matches "code.edit"); ``until`` given as a date includes that
    whole day; ``text`` searches target, kind, user and payload."""
    undone = undone_by(connection)
    found = load_events(connection, kinds=kinds, user=user, since=since, until=until, text=text, limit=limit)
    return [event.model_copy(update={"undone_by": undone.get(int(event.id or 0))}) for event in found]


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
    return event_users(connection)


def audit_kinds(connection: Connection) -> list[str]:
    return event_kinds(connection)


def undone_by(connection: Connection) -> dict[int, int]:
    """event id -> the undo event that took it back."""
    undone: dict[int, int] = {}
    for record in undo_records(connection):
        for target in [record.undoes, *record.payload.get("undone_ids", [])]:
            if target is not None:
                undone[int(target)] = record.event_id
    return undone


def undone_review_ids(connection: Connection) -> set[int]:
    """Reviews an undo took back: withdrawn ones, those of review events an undo compensated, and
    the compensating reviews themselves (what "reviews made, not undone" leaves out)."""
    undone_events = set(undone_by(connection))
    found = set(withdrawn_review_ids(connection))
    for record in undo_records(connection):
        found.update(int(i) for i in record.payload.get("compensating_reviews", []))
    for event_id in sorted(undone_events):  # as many as there were undos, not reviews
        entry = load_event(connection, event_id)
        if entry.kind in ("review", "code.hand") and "review_id" in entry.payload:
            found.add(int(entry.payload["review_id"]))
    return found


# ----------------------------------------------------------------------------------------- undo


def is_undoable(entry: Event) -> bool:
    if entry.undoes is not None or entry.kind.endswith(".undo") or entry.payload.get("source") == "undo":
        return False
    if entry.kind in NOT_UNDOABLE_CODE_KINDS:
        return False
    return entry.kind in UNDOABLE_KINDS or entry.kind.startswith("code.")


def last_action(connection: Connection, user: str) -> list[Event]:
    """The events of ``user``'s last action not yet undone, newest first ([] when none is left)."""
    undone = undone_by(connection)
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


def _from_load(entry: Event, loaded: dict[str, set[str]]) -> bool:
    codebook, _, code_id = (entry.target or "").partition("/")
    if code_id in loaded.get(codebook, set()):
        loaded[codebook].discard(code_id)
        return True
    return False


def undo_last(project: Project | Connection, user: str, by: str | None = None) -> Event:
    """Undo ``user``'s last action; returns the undo event.

    The undo is ``user``'s own unless ``by`` names someone else: an admin undoing another person's
    action (the caller checks the role). The undo event is then recorded under ``by``, with
    ``undone_user`` in its payload, and a code reverted by it under ``by`` too; a review it takes
    back is compensated under the reviewer's own name, since what holds is per reviewer."""
    if isinstance(project, Connection):
        return _undo_last(project, user, by)
    with project.begin() as connection:
        return _undo_last(connection, user, by)


def _undo_last(connection: Connection, user: str, by: str | None = None) -> Event:
    if not user or not user.strip():
        raise UndoError("undo needs your name.", fix="enter your name first.")
    user = user.strip()
    actor = (by or user).strip()
    action = last_action(connection, user)
    if not action:
        raise UndoError(f"{user} has nothing left to undo.")
    newest = action[0]
    payload: dict[str, Any] = {"undone_kind": newest.kind, "undone_ids": [e.id for e in action]}
    if actor != user:
        payload["undone_user"] = user
    for entry in action:
        _merge_lists(payload, _undo_one(connection, entry, user, actor))
    family = newest.kind.split(".", 1)[0] if newest.kind != "code.hand" else "review"
    kind = f"{family}.undo"
    event_id = record_event(connection, kind, actor, target=newest.target, payload=payload, undoes=newest.id)
    return load_event(connection, event_id)


def _merge_lists(into: dict[str, Any], extra: dict[str, list[int]]) -> None:
    for key, values in extra.items():
        into.setdefault(key, []).extend(values)


def _undo_one(connection: Connection, entry: Event, user: str, actor: str) -> dict[str, list[int]]:
    if entry.kind in ("review", "code.hand"):
        return _undo_review(connection, int(entry.payload["review_id"]), user)
    if entry.kind == "panel.response":
        return {"withdrawn_responses": [int(entry.payload["response_id"])]}
    if entry.kind == "panel.quote":
        return {"withdrawn_quotes": [int(entry.payload["quote_id"])]}
    return _undo_code_change(connection, entry, actor)


def _undo_review(connection: Connection, review_id: int, user: str) -> dict[str, list[int]]:
    [undone] = load_reviews(connection, ids=[review_id])
    withdrawn = withdrawn_review_ids(connection)
    same = [
        r
        for r in load_reviews(connection, undone.codebook, segment_ids=[undone.segment_id], user=undone.user)
        if r.code_id == undone.code_id and r.id not in withdrawn
    ]
    earlier = [r for r in same if int(r.id or 0) < review_id]
    if earlier:
        previous = earlier[-1]
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
    return {"withdrawn_reviews": [int(r.id or 0) for r in same if int(r.id or 0) >= review_id]}


def _reverted(current: Code, before: dict[str, Any], after: dict[str, Any]) -> Code:
    """``current`` with the fields the action changed put back as they were before it; changes made
    to other fields since (by a later merge, say) stay."""
    changed = {key: value for key, value in before.items() if after.get(key) != value}
    return Code.model_validate({**current.model_dump(mode="json"), **changed})


def _undo_code_change(connection: Connection, entry: Event, user: str) -> dict[str, list[int]]:
    codebook, _, code_id = (entry.target or "").partition("/")
    current = {c.id: c for c in current_codes(connection, codebook, include_retired=True)}.get(code_id)
    if current is None:
        raise UndoError(f"code '{code_id}' is no longer in codebook '{codebook}'; cannot undo.")
    if entry.kind == "code.create":
        restored = current.model_copy(update={"retired": True})
    else:
        restored = _reverted(current, entry.payload["before"], entry.payload["after"])
    apply_code_change(connection, codebook, code_id, "revert", current, restored, user, {"undoes": entry.id})
    result: dict[str, list[int]] = {}
    back_on = entry.payload.get("suggestions_deactivated", [])
    back_off = entry.payload.get("suggestions_created", [])
    if back_off:
        set_current(connection, back_off, False)
    if back_on:
        # A later coding run may have superseded them: a suggestion comes back only where nothing
        # newer now stands for its (segment, code, coder).
        newer = with_current_sibling(connection, back_on)
        set_current(connection, [i for i in back_on if i not in newer], True)
    if entry.payload.get("reviews_copied"):
        result["withdrawn_reviews"] = list(entry.payload["reviews_copied"])
    if entry.payload.get("quotes_copied"):
        result["withdrawn_quotes"] = list(entry.payload["quotes_copied"])
    return result
