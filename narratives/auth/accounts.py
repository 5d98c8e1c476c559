"""Accounts: add, list, remove, reset a password, and log in (with rate limiting and audit)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection

from narratives.auth.passwords import dummy_hash, hash_password, verify_password
from narratives.errors import AuthError
from narratives.kinds import Role
from narratives.schema import as_utc, utcnow
from narratives.store.events import record_event
from narratives.store.users import (
    UserRow,
    delete_user,
    failed_attempts_since,
    insert_login_attempt,
    insert_user,
    load_user,
    revoke_user_sessions,
    set_password_hash,
    user_rows,
)

NAME_PATTERN = re.compile(r"^[\w][\w .@'-]{0,99}$", re.UNICODE)
# Five failures in fifteen minutes lock a name (or a client) for the rest of those fifteen minutes.
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCAL_CLIENTS = {"127.0.0.1", "::1", "localhost", "unknown"}
SYSTEM = "narratives"  # the user recorded for what the command line does on an admin's behalf


@dataclass(frozen=True)
class Account:
    """A person who may log in, without their password hash."""

    id: int
    name: str
    role: Role
    created_by: str
    created: datetime


def account_of(row: UserRow) -> Account:
    return Account(row.id, row.name, Role(row.role), row.created_by, as_utc(row.created))


def check_name(name: str) -> str:
    name = name.strip()
    if not NAME_PATTERN.match(name):
        raise AuthError(
            f"{name!r} is not a usable login name.",
            fix="use 1-100 letters, digits, spaces, dots, @, ' or -, starting with a letter or digit.",
        )
    return name


# The stored "hash" of an account that logs in only through single sign-on: no password matches it.
SSO_ONLY = "!single-sign-on-only"


def add_user(
    connection: Connection, name: str, role: Role, password: str | None, by: str = SYSTEM
) -> Account:
    """Add an account; ``password=None`` makes one that logs in only by single sign-on (its name
    is the identity provider's e-mail address)."""
    name = check_name(name)
    if load_user(connection, name) is not None:
        raise AuthError(f"there is already a user called {name!r}.", fix="choose another name.")
    now = utcnow()
    stored = SSO_ONLY if password is None else hash_password(password)
    user_id = insert_user(connection, name, role.value, stored, by, now)
    payload = {"role": role.value, "single_sign_on_only": password is None}
    record_event(connection, "user.add", by, target=name, payload=payload)
    return Account(user_id, name, role, by, now)


def list_users(connection: Connection) -> list[Account]:
    return [account_of(row) for row in user_rows(connection)]


def get_account(connection: Connection, name: str) -> Account:
    row = load_user(connection, name)
    if row is None or row.disabled:
        raise AuthError(f"there is no user called {name!r}.", fix="see `narratives users list PROJECT`.")
    return account_of(row)


def remove_user(connection: Connection, name: str, by: str = SYSTEM) -> None:
    account = get_account(connection, name)
    delete_user(connection, account.id)
    record_event(connection, "user.remove", by, target=name, payload={"role": account.role.value})


def reset_password(connection: Connection, name: str, password: str, by: str = SYSTEM) -> None:
    """Set a new password and end every session the user has open."""
    account = get_account(connection, name)
    now = utcnow()
    set_password_hash(connection, account.id, hash_password(password), now)
    revoke_user_sessions(connection, account.id, now)
    record_event(connection, "user.reset_password", by, target=name, payload={})


def attempt_login(
    connection: Connection, name: str, password: str, client: str = "unknown"
) -> Account | AuthError:
    """The account for ``name`` and ``password``, or (returned, not raised, so that the caller's
    transaction keeps the record of the failure) an :class:`AuthError` that does not say which of
    the two was wrong. Every attempt is counted; failures also go to the audit log."""
    name = name.strip()[:200]
    client = (client or "unknown")[:100]
    now = utcnow()
    since = now - FAILURE_WINDOW
    # Per client as well, except this machine: behind a reverse proxy every login comes from it,
    # and one person's typing must not lock out the whole team.
    client_limited = client not in LOCAL_CLIENTS and (
        failed_attempts_since(connection, since, client=client) >= MAX_FAILURES * 4
    )
    if client_limited or failed_attempts_since(connection, since, name=name) >= MAX_FAILURES:
        insert_login_attempt(connection, name, client, False, now)
        record_event(connection, "login.locked", SYSTEM, target=name, payload={"client": client})
        return AuthError(
            "too many failed logins: this login is locked for a while.",
            fix=f"wait {int(FAILURE_WINDOW.total_seconds() // 60)} minutes, or ask an admin to reset the password.",
        )
    row = load_user(connection, name)
    stored = row.password_hash if row and row.password_hash != SSO_ONLY else dummy_hash()
    matches = verify_password(stored, password) and row is not None and row.password_hash != SSO_ONLY
    if row is None or row.disabled or not matches:
        insert_login_attempt(connection, name, client, False, now)
        record_event(connection, "login.failed", SYSTEM, target=name, payload={"client": client})
        return AuthError("the name or the password is wrong.", fix="check both and try again.")
    insert_login_attempt(connection, name, client, True, now)
    record_event(connection, "login", name, target=name, payload={"client": client})
    return account_of(row)


def single_sign_on(connection: Connection, identity: str, client: str = "unknown") -> Account | AuthError:
    """The account for an identity the identity provider vouched for (its verified e-mail), or
    an :class:`AuthError` when the project gives it no role. Recorded like a password login."""
    identity = identity.strip()[:200]
    client = (client or "unknown")[:100]
    row = load_user(connection, identity)
    if row is None:
        row = next((r for r in user_rows(connection) if r.name.casefold() == identity.casefold()), None)
    now = utcnow()
    if row is None or row.disabled:
        insert_login_attempt(connection, identity, client, False, now)
        record_event(
            connection, "login.failed", SYSTEM, target=identity, payload={"client": client, "sso": True}
        )
        return AuthError(
            f"{identity} signed in, but has no account in this project.",
            fix=f"ask an admin to run: narratives users add PROJECT {identity} --role researcher --sso",
        )
    insert_login_attempt(connection, row.name, client, True, now)
    record_event(connection, "login", row.name, target=row.name, payload={"client": client, "sso": True})
    return account_of(row)
