"""Project settings: small values under a key (``deidentify.salt``, say), stored as JSON."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select, update

from narratives.store.tables import settings


def get_setting(connection: Connection, key: str, default: Any = None) -> Any:
    """The value stored under ``key``, else ``default``."""
    found = connection.execute(select(settings.c.value).where(settings.c.key == key)).first()
    return default if found is None else found.value


def set_setting(connection: Connection, key: str, value: Any) -> None:
    """Store ``value`` (anything JSON can hold) under ``key``, replacing what was there."""
    exists = connection.execute(select(settings.c.key).where(settings.c.key == key)).first()
    if exists is None:
        connection.execute(insert(settings).values(key=key, value=value))
    else:
        connection.execute(update(settings).where(settings.c.key == key).values(value=value))
