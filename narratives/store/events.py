"""The append-only audit log: every write path records who did what, and when."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, insert, select

from narratives.schema import Event, utcnow
from narratives.store.tables import events


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
    if not user or not user.strip():
        raise ValueError("every event needs the name of the user who acted")
    result = connection.execute(
        insert(events).values(
            kind=kind,
            user=user.strip(),
            target=target,
            payload=payload or {},
            undoes=undoes,
            created=utcnow(),
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def list_events(
    connection: Connection,
    *,
    kinds: list[str] | None = None,
    user: str | None = None,
    limit: int | None = 500,
    offset: int = 0,
) -> list[Event]:
    """Newest first, optionally filtered by kind and user."""
    query = select(events).order_by(events.c.id.desc())
    if kinds:
        query = query.where(events.c.kind.in_(kinds))
    if user:
        query = query.where(events.c.user == user)
    if limit is not None:
        query = query.limit(limit).offset(offset)
    return [
        Event(
            id=row.id,
            kind=row.kind,
            user=row.user,
            target=row.target,
            payload=row.payload or {},
            created=row.created,
        )
        for row in connection.execute(query)
    ]


def count_events(connection: Connection) -> int:
    return int(connection.execute(select(func.count()).select_from(events)).scalar_one())
