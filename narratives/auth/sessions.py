"""Login sessions: a random token in the browser's cookie, its SHA-256 hash in the database.

A session ends after :data:`IDLE_TIMEOUT` without use, after :data:`MAX_AGE` in any case, at
logout, and when the user's password is reset or the user is removed.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import Connection

from narratives.auth.accounts import Account, account_of
from narratives.schema import as_utc, utcnow
from narratives.store.events import record_event
from narratives.store.users import (
    insert_session,
    load_session,
    load_user_by_id,
    revoke_session,
    touch_session,
)

COOKIE_NAME = "narratives_session"
MAX_AGE = timedelta(hours=12)
IDLE_TIMEOUT = timedelta(hours=2)
TOUCH_EVERY = timedelta(minutes=1)  # how stale last_seen may get before a read writes it again


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(connection: Connection, account: Account) -> str:
    """A new session for ``account``; returns the token for the cookie (never stored)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    insert_session(connection, token_hash(token), account.id, now, now + MAX_AGE)
    return token


def session_account(connection: Connection, token: str | None) -> Account | None:
    """The account a live session token belongs to, or ``None`` (unknown, expired, revoked)."""
    if not token or len(token) > 200:
        return None
    session = load_session(connection, token_hash(token))
    if session is None or session.revoked is not None:
        return None
    now = utcnow()
    if now >= as_utc(session.expires) or now - as_utc(session.last_seen) >= IDLE_TIMEOUT:
        return None
    user = load_user_by_id(connection, session.user_id)
    if user is None or user.disabled:
        return None
    if now - as_utc(session.last_seen) >= TOUCH_EVERY:
        touch_session(connection, session.id, now)
    return account_of(user)


def end_session(connection: Connection, token: str | None) -> None:
    """Log out: the token stops working at once."""
    if not token:
        return
    session = load_session(connection, token_hash(token))
    if session is None:
        return
    revoke_session(connection, session.id, utcnow())
    user = load_user_by_id(connection, session.user_id)
    if user is not None:
        record_event(connection, "logout", user.name, target=user.name, payload={})
