"""The append-only audit log: every write path records who did what, and when.

Events are :class:`~narratives.schema.Event` values both ways: :func:`record_event` writes one inside
the caller's transaction (:func:`record_events` many at once), :func:`load_events` reads them back filtered. Undo events (``undoes`` set,
or a ``panel.quote.remove``) carry in their payload the ids they withdraw; :func:`undo_records` hands
those payloads to :mod:`narratives.review.state`, which works out what is withdrawn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Connection, Text, cast, func, insert, or_, select

from narratives.schema import Event, as_utc, utcnow
from narratives.store.rows import inserted_id
from narratives.store.tables import events

REMOVAL_KINDS = ("panel.quote.remove",)  # events that withdraw something without undoing an event


def record_event(
    connection: Connection,
    kind: str,
    user: str,
    *,
    target: str | None = None,
    payload: dict[str, Any] | None = None,
    undoes: int | None = None,
) -> int:
    """Append one event inside the caller's transaction; returns its id."""
    result = connection.execute(
        insert(events).values(
            kind=kind,
            user=event_author(user),
            target=target,
            payload=payload or {},
            undoes=undoes,
            created=utcnow(),
        )
    )
    return inserted_id(result)


def record_events(connection: Connection, user: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """Append many events by one user in a single statement, inside the caller's transaction: each
    row gives ``kind`` and ``created``, and may give ``target`` and ``payload``."""
    author = event_author(user)
    if rows:
        connection.execute(
            insert(events),
            [
                {
                    "kind": row["kind"],
                    "user": author,
                    "target": row.get("target"),
                    "payload": row.get("payload") or {},
                    "undoes": None,
                    "created": row["created"],
                }
                for row in rows
            ],
        )


def event_author(user: str | None) -> str:
    """The name an event is recorded under; every event needs one."""
    if not user or not user.strip():
        raise ValueError("every event needs the name of the user who acted")
    return user.strip()


def _event(row: Any) -> Event:
    return Event(
        id=row.id,
        kind=row.kind,
        user=row.user,
        target=row.target,
        payload=row.payload or {},
        undoes=row.undoes,
        created=row.created,
    )


def _as_utc(moment: date | datetime, end_of_day: bool = False) -> datetime:
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment + timedelta(days=1) if end_of_day else moment, time())
    return as_utc(moment)


def load_events(
    connection: Connection,
    *,
    kinds: list[str] | None = None,
    user: str | None = None,
    since: date | datetime | None = None,
    until: date | datetime | None = None,
    text: str | None = None,
    limit: int | None = 500,
    offset: int = 0,
) -> list[Event]:
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
        query = query.limit(limit).offset(offset)
    return [_event(row) for row in connection.execute(query)]


def list_events(
    connection: Connection,
    *,
    kinds: list[str] | None = None,
    user: str | None = None,
    limit: int | None = 500,
) -> list[Event]:
    """Events of exactly these kinds (no families), newest first."""
    query = select(events).order_by(events.c.id.desc())
    if kinds:
        query = query.where(events.c.kind.in_(kinds))
    if user:
        query = query.where(events.c.user == user)
    if limit is not None:
        query = query.limit(limit)
    return [_event(row) for row in connection.execute(query)]


def load_event(connection: Connection, event_id: int) -> Event:
    return _event(connection.execute(select(events).where(events.c.id == event_id)).one())


class UndoRecord(NamedTuple):
    """An event that takes something back: what it undoes and the ids its payload withdraws."""

    event_id: int
    undoes: int | None
    payload: dict[str, Any]


def undo_records(connection: Connection) -> list[UndoRecord]:
    """Every undo and removal event, oldest first."""
    rows = connection.execute(
        select(events.c.id, events.c.undoes, events.c.payload)
        .where(or_(events.c.undoes.is_not(None), events.c.kind.in_(REMOVAL_KINDS)))
        .order_by(events.c.id)
    )
    return [UndoRecord(int(event_id), undoes, payload or {}) for event_id, undoes, payload in rows]


def event_users(connection: Connection) -> list[str]:
    return sorted(connection.execute(select(events.c.user).distinct()).scalars())


def event_kinds(connection: Connection) -> list[str]:
    return sorted(connection.execute(select(events.c.kind).distinct()).scalars())


def count_events(connection: Connection) -> int:
    return int(connection.execute(select(func.count()).select_from(events)).scalar_one())
