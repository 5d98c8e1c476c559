"""The login and panel-round tables on SQLite and PostgreSQL: users, sessions, attempts, rounds,
invitations (one use only), and the rounds a member joined."""

from __future__ import annotations

from datetime import timedelta

from narratives.schema import utcnow
from narratives.store import Project
from narratives.store.panel_rounds import (
    insert_invitation,
    insert_round,
    invitation_counts,
    invitation_rows,
    load_invitation,
    load_round,
    mark_invitation_used,
    round_rows,
    rounds_for_member,
)
from narratives.store.users import (
    count_users,
    delete_user,
    failed_attempts_since,
    insert_login_attempt,
    insert_session,
    insert_user,
    load_session,
    load_user,
    revoke_user_sessions,
    user_rows,
)


def test_users_sessions_and_attempts(backend_project: Project) -> None:
    now = utcnow()
    with backend_project.begin() as connection:
        ana = insert_user(connection, "Ana", "researcher", "$argon2id$x", "admin", now)
        insert_user(connection, "Bo", "panel", "$argon2id$y", "admin", now)
        insert_session(connection, "a" * 64, ana, now, now + timedelta(hours=1))
        insert_login_attempt(connection, "Ana", "10.0.0.1", False, now)
        insert_login_attempt(connection, "Ana", "10.0.0.1", True, now)
        insert_login_attempt(connection, "Bo", "10.0.0.2", False, now)
    with backend_project.begin() as connection:
        assert [u.name for u in user_rows(connection)] == ["Ana", "Bo"] and count_users(connection) == 2
        row = load_user(connection, "Ana")
        assert row is not None and (row.role, row.disabled) == ("researcher", False)
        session = load_session(connection, "a" * 64)
        assert session is not None and session.user_id == ana and session.revoked is None
        since = now - timedelta(minutes=1)
        assert failed_attempts_since(connection, since, name="Ana") == 1
        assert failed_attempts_since(connection, since, client="10.0.0.2") == 1
        revoke_user_sessions(connection, ana, utcnow())
        revoked = load_session(connection, "a" * 64)
        assert revoked is not None and revoked.revoked is not None
        delete_user(connection, ana)  # its sessions go with it
        assert load_user(connection, "Ana") is None and load_session(connection, "a" * 64) is None


def test_rounds_and_one_time_invitations(backend_project: Project) -> None:
    now = utcnow()
    with backend_project.begin() as connection:
        first = insert_round(
            connection, "book", "Round 1", ["a", "b"], [3, 1], now + timedelta(days=1), "ana", now
        )
        second = insert_round(connection, "other", "Round 2", ["c"], [], now + timedelta(days=2), "ana", now)
        invitation = insert_invitation(connection, first, "h" * 64, "ana", now)
        insert_invitation(connection, first, "i" * 64, "ana", now)
    with backend_project.begin() as connection:
        loaded = load_round(connection, first)
        assert loaded is not None and (loaded.code_ids, loaded.quote_ids) == (["a", "b"], [3, 1])
        assert [r.id for r in round_rows(connection)] == [first, second]
        assert [r.id for r in round_rows(connection, "other")] == [second]
        assert mark_invitation_used(connection, invitation, "Sam", now)
        assert not mark_invitation_used(connection, invitation, "Kim", now)  # once only
        used = load_invitation(connection, "h" * 64)
        assert used is not None and used.used_by == "Sam"
        assert [i.used_by for i in invitation_rows(connection, first)] == ["Sam", None]
        assert [r.id for r in rounds_for_member(connection, "Sam")] == [first]
        assert rounds_for_member(connection, "Kim") == []
        assert invitation_counts(connection) == {first: (2, 1)}
