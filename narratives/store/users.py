"""People who may log in, their login sessions and login attempts (SQL only; rules live in auth/)."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, delete, func, insert, select, update

from narratives.store.rows import inserted_id
from narratives.store.tables import login_attempts, login_sessions, users


class UserRow(NamedTuple):
    id: int
    name: str
    role: str
    password_hash: str
    disabled: bool
    created_by: str
    created: datetime
    password_changed: datetime


class SessionRow(NamedTuple):
    id: int
    user_id: int
    created: datetime
    last_seen: datetime
    expires: datetime
    revoked: datetime | None


_USER_COLUMNS = (
    users.c.id,
    users.c.name,
    users.c.role,
    users.c.password_hash,
    users.c.disabled,
    users.c.created_by,
    users.c.created,
    users.c.password_changed,
)


def insert_user(
    connection: Connection, name: str, role: str, password_hash: str, created_by: str, now: datetime
) -> int:
    result = connection.execute(
        insert(users).values(
            name=name,
            role=role,
            password_hash=password_hash,
            disabled=False,
            created_by=created_by,
            created=now,
            password_changed=now,
        )
    )
    return inserted_id(result)


def load_user(connection: Connection, name: str) -> UserRow | None:
    row = connection.execute(select(*_USER_COLUMNS).where(users.c.name == name)).first()
    return None if row is None else UserRow(*row)


def load_user_by_id(connection: Connection, user_id: int) -> UserRow | None:
    row = connection.execute(select(*_USER_COLUMNS).where(users.c.id == user_id)).first()
    return None if row is None else UserRow(*row)


def user_rows(connection: Connection) -> list[UserRow]:
    return [UserRow(*row) for row in connection.execute(select(*_USER_COLUMNS).order_by(users.c.name))]


def count_users(connection: Connection) -> int:
    return int(connection.execute(select(func.count()).select_from(users)).scalar_one())


def set_password_hash(connection: Connection, user_id: int, password_hash: str, now: datetime) -> None:
    connection.execute(
        update(users).where(users.c.id == user_id).values(password_hash=password_hash, password_changed=now)
    )


def delete_user(connection: Connection, user_id: int) -> None:
    connection.execute(delete(login_sessions).where(login_sessions.c.user_id == user_id))
    connection.execute(delete(users).where(users.c.id == user_id))


# ---------------------------------------------------------------------------------- sessions


def insert_session(
    connection: Connection, token_hash: str, user_id: int, now: datetime, expires: datetime
) -> int:
    result = connection.execute(
        insert(login_sessions).values(
            token_hash=token_hash, user_id=user_id, created=now, last_seen=now, expires=expires
        )
    )
    return inserted_id(result)


def load_session(connection: Connection, token_hash: str) -> SessionRow | None:
    row = connection.execute(
        select(
            login_sessions.c.id,
            login_sessions.c.user_id,
            login_sessions.c.created,
            login_sessions.c.last_seen,
            login_sessions.c.expires,
            login_sessions.c.revoked,
        ).where(login_sessions.c.token_hash == token_hash)
    ).first()
    return None if row is None else SessionRow(*row)


def touch_session(connection: Connection, session_id: int, now: datetime) -> None:
    connection.execute(update(login_sessions).where(login_sessions.c.id == session_id).values(last_seen=now))


def revoke_session(connection: Connection, session_id: int, now: datetime) -> None:
    connection.execute(
        update(login_sessions)
        .where(login_sessions.c.id == session_id, login_sessions.c.revoked.is_(None))
        .values(revoked=now)
    )


def revoke_user_sessions(connection: Connection, user_id: int, now: datetime) -> None:
    connection.execute(
        update(login_sessions)
        .where(login_sessions.c.user_id == user_id, login_sessions.c.revoked.is_(None))
        .values(revoked=now)
    )


# ---------------------------------------------------------------------------------- attempts


def insert_login_attempt(
    connection: Connection, name: str, client: str, succeeded: bool, now: datetime
) -> None:
    connection.execute(
        insert(login_attempts).values(name=name, client=client, succeeded=succeeded, created=now)
    )


def failed_attempts_since(
    connection: Connection, since: datetime, name: str | None = None, client: str | None = None
) -> int:
    """Failed attempts after ``since`` for this name, or from this client."""
    query = (
        select(func.count())
        .select_from(login_attempts)
        .where(login_attempts.c.created > since, login_attempts.c.succeeded.is_(False))
    )
    if name is not None:
        query = query.where(login_attempts.c.name == name)
    if client is not None:
        query = query.where(login_attempts.c.client == client)
    return int(connection.execute(query).scalar_one())
