"""Login sessions: tokens only as hashes, expiry when idle or old, logout and reset end them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from narratives.auth.accounts import add_user, remove_user, reset_password
from narratives.auth.sessions import IDLE_TIMEOUT, end_session, session_account, start_session, token_hash
from narratives.kinds import Role
from narratives.schema import utcnow
from narratives.store.tables import login_sessions

PASSWORD = "correct horse battery staple"


def _session(project, role: Role = Role.researcher) -> str:
    with project.begin() as connection:
        account = add_user(connection, "Ana", role, PASSWORD)
        return start_session(connection, account)


def test_a_token_finds_its_account_and_only_its_hash_is_stored(tmp_project) -> None:
    token = _session(tmp_project, Role.panel)
    with tmp_project.begin() as connection:
        account = session_account(connection, token)
        stored = connection.execute(select(login_sessions.c.token_hash)).scalars().all()
        assert session_account(connection, token + "x") is None
        assert session_account(connection, None) is None
    assert account is not None and (account.name, account.role) == ("Ana", Role.panel)
    assert stored == [token_hash(token)] and token not in stored


def test_sessions_end_when_idle_or_past_their_age(tmp_project) -> None:
    token = _session(tmp_project)
    with tmp_project.begin() as connection:
        connection.execute(
            update(login_sessions).values(last_seen=utcnow() - IDLE_TIMEOUT - timedelta(seconds=1))
        )
        assert session_account(connection, token) is None
    token = start_again(tmp_project)
    with tmp_project.begin() as connection:
        connection.execute(update(login_sessions).values(expires=utcnow() - timedelta(seconds=1)))
        assert session_account(connection, token) is None


def start_again(project) -> str:
    from narratives.auth.accounts import get_account

    with project.begin() as connection:
        return start_session(connection, get_account(connection, "Ana"))


def test_logout_reset_and_removal_end_sessions_at_once(tmp_project) -> None:
    token = _session(tmp_project)
    with tmp_project.begin() as connection:
        end_session(connection, token)
        assert session_account(connection, token) is None
    token = start_again(tmp_project)
    with tmp_project.begin() as connection:
        reset_password(connection, "Ana", "another long password")
        assert session_account(connection, token) is None
    token = start_again(tmp_project)
    with tmp_project.begin() as connection:
        remove_user(connection, "Ana")
        assert session_account(connection, token) is None
