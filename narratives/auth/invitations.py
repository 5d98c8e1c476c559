"""One-time invitations for panel members: a code per person; only its hash is kept.

The researcher hands each member a link (``/?invite=CODE``) or the code itself; the member chooses
a name and a password, which makes them a panel account bound to that round. A code works once
and not after the round closes.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import Connection

from narratives.auth.accounts import Account, add_user, check_name
from narratives.errors import AuthError
from narratives.kinds import Role
from narratives.schema import as_utc, utcnow
from narratives.store.events import record_event
from narratives.store.panel_rounds import (
    insert_invitation,
    load_invitation,
    load_round,
    mark_invitation_used,
)
from narratives.store.users import load_user

CODE_BYTES = 12


def code_hash(code: str) -> str:
    return hashlib.sha256(code.strip().encode("utf-8")).hexdigest()


def create_invitations(connection: Connection, round_id: int, count: int, by: str) -> list[str]:
    """``count`` fresh codes for the round (shown once: only their hashes are stored)."""
    if load_round(connection, round_id) is None:
        raise AuthError(f"there is no panel round {round_id}.")
    if not 1 <= count <= 500:
        raise AuthError(f"cannot make {count} invitations at once.", fix="ask for 1 to 500.")
    now = utcnow()
    codes = [secrets.token_urlsafe(CODE_BYTES) for _ in range(count)]
    for code in codes:
        insert_invitation(connection, round_id, code_hash(code), by, now)
    record_event(connection, "panel.invite", by, target=f"round:{round_id}", payload={"count": count})
    return codes


def invitation_round(connection: Connection, code: str) -> int:
    """The round a still-usable invitation code belongs to."""
    if not code or len(code) > 200:
        raise AuthError("this invitation code is not valid.", fix="check the link, or ask the researcher.")
    invitation = load_invitation(connection, code_hash(code))
    if invitation is None:
        raise AuthError("this invitation code is not valid.", fix="check the link, or ask the researcher.")
    if invitation.used is not None:
        raise AuthError(
            "this invitation has already been used.", fix="log in with the name and password you chose."
        )
    round_row = load_round(connection, invitation.round_id)
    if round_row is None or as_utc(round_row.closes) <= utcnow():
        raise AuthError("this panel round has closed.", fix="ask the researcher about the next round.")
    return invitation.round_id


def accept_invitation(connection: Connection, code: str, name: str, password: str) -> Account:
    """Make the panel account ``name`` for the invitation ``code``, which is then used up."""
    invitation_round(connection, code)
    name = check_name(name)
    if load_user(connection, name) is not None:
        raise AuthError(f"the name {name!r} is taken.", fix="choose another name (a made-up one is fine).")
    invitation = load_invitation(connection, code_hash(code))
    assert invitation is not None  # invitation_round() checked it
    account = add_user(connection, name, Role.panel, password, by=name)
    if not mark_invitation_used(connection, invitation.id, name, utcnow()):
        raise AuthError("this invitation has already been used.")  # a race: the transaction rolls back
    record_event(connection, "panel.join", name, target=f"round:{invitation.round_id}", payload={})
    return account
