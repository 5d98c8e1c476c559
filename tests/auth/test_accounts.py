"""Accounts, passwords, login attempts and their rate limit, against a real project database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from narratives.auth.accounts import (
    MAX_FAILURES,
    add_user,
    attempt_login,
    get_account,
    list_users,
    remove_user,
    reset_password,
)
from narratives.auth.passwords import verify_password
from narratives.errors import AuthError
from narratives.kinds import Role
from narratives.schema import utcnow
from narratives.store.events import list_events
from narratives.store.tables import login_attempts, users

PASSWORD = "correct horse battery staple"


def test_a_password_is_stored_only_as_an_argon2_hash(tmp_project) -> None:
    with tmp_project.begin() as connection:
        add_user(connection, "Ana", Role.researcher, PASSWORD, by="admin")
    with tmp_project.connect() as connection:
        stored = connection.execute(select(users.c.password_hash)).scalar_one()
        every_value = " ".join(str(v) for row in connection.execute(select(users)) for v in row)
        event_payloads = str([e.payload for e in list_events(connection)])
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in every_value and PASSWORD not in event_payloads
    assert verify_password(stored, PASSWORD) and not verify_password(stored, PASSWORD + "!")


def test_login_with_the_right_password_and_not_with_a_wrong_one(tmp_project) -> None:
    with tmp_project.begin() as connection:
        add_user(connection, "Ana", Role.admin, PASSWORD)
        account = attempt_login(connection, "Ana", PASSWORD, client="10.0.0.1")
        wrong = attempt_login(connection, "Ana", "not the password", client="10.0.0.1")
        unknown = attempt_login(connection, "Nobody", PASSWORD, client="10.0.0.1")
    assert not isinstance(account, AuthError) and account.role is Role.admin
    assert isinstance(wrong, AuthError) and isinstance(unknown, AuthError)
    assert str(wrong) == str(unknown)  # the answer does not tell which names exist
    with tmp_project.connect() as connection:
        failures = list_events(connection, kinds=["login.failed"])
        logins = list_events(connection, kinds=["login"])
    assert sorted((e.target, e.payload["client"]) for e in failures) == [
        ("Ana", "10.0.0.1"),
        ("Nobody", "10.0.0.1"),
    ]
    assert [e.user for e in logins] == ["Ana"]


def test_repeated_failures_lock_the_name_even_for_the_right_password(tmp_project) -> None:
    with tmp_project.begin() as connection:
        add_user(connection, "Ana", Role.researcher, PASSWORD)
    for _ in range(MAX_FAILURES):
        with tmp_project.begin() as connection:
            assert isinstance(attempt_login(connection, "Ana", "guess guess guess"), AuthError)
    with tmp_project.begin() as connection:
        locked = attempt_login(connection, "Ana", PASSWORD)
    assert isinstance(locked, AuthError) and "too many failed logins" in str(locked)
    with tmp_project.connect() as connection:
        assert len(list_events(connection, kinds=["login.locked"])) == 1
    # the window passes: the right password works again
    with tmp_project.begin() as connection:
        connection.execute(update(login_attempts).values(created=utcnow() - timedelta(hours=1)))
        assert not isinstance(attempt_login(connection, "Ana", PASSWORD), AuthError)


def test_names_are_unique_and_checked(tmp_project) -> None:
    with tmp_project.begin() as connection:
        add_user(connection, "Ana", Role.researcher, PASSWORD)
    with pytest.raises(AuthError, match="already a user called 'Ana'"), tmp_project.begin() as connection:
        add_user(connection, "Ana", Role.panel, PASSWORD)
    with pytest.raises(AuthError, match="not a usable login name"), tmp_project.begin() as connection:
        add_user(connection, "<script>", Role.panel, PASSWORD)
    with pytest.raises(AuthError, match="too short"), tmp_project.begin() as connection:
        add_user(connection, "Bo", Role.panel, "short")
    with tmp_project.connect() as connection:
        assert [a.name for a in list_users(connection)] == ["Ana"]


def test_reset_and_remove(tmp_project) -> None:
    with tmp_project.begin() as connection:
        add_user(connection, "Ana", Role.researcher, PASSWORD)
        reset_password(connection, "Ana", "a brand new password", by="admin")
        assert isinstance(attempt_login(connection, "Ana", PASSWORD), AuthError)
        assert not isinstance(attempt_login(connection, "Ana", "a brand new password"), AuthError)
        remove_user(connection, "Ana", by="admin")
        assert isinstance(attempt_login(connection, "Ana", "a brand new password"), AuthError)
        with pytest.raises(AuthError, match="no user called"):
            get_account(connection, "Ana")
        kinds = [
            e.kind for e in list_events(connection, kinds=["user.add", "user.reset_password", "user.remove"])
        ]
    assert sorted(kinds) == ["user.add", "user.remove", "user.reset_password"]


def test_many_failures_from_one_address_lock_it_but_not_this_machine(tmp_project) -> None:
    with tmp_project.begin() as connection:
        add_user(connection, "Ana", Role.researcher, PASSWORD)
        for attempt in range(MAX_FAILURES * 4):  # a different name each time: a password spray
            attempt_login(connection, f"guess{attempt}", "wrong wrong wrong", client="203.0.113.9")
            attempt_login(connection, f"guess{attempt}", "wrong wrong wrong", client="127.0.0.1")
        from_there = attempt_login(connection, "Ana", PASSWORD, client="203.0.113.9")
        from_proxy = attempt_login(connection, "Ana", PASSWORD, client="127.0.0.1")
    assert isinstance(from_there, AuthError) and "too many" in str(from_there)
    assert not isinstance(from_proxy, AuthError)


def test_a_single_sign_on_account_has_no_password_and_maps_the_identity(tmp_project) -> None:
    from narratives.auth.accounts import single_sign_on

    with tmp_project.begin() as connection:
        add_user(connection, "sam@example.org", Role.admin, None)
        mapped = single_sign_on(connection, "Sam@Example.org", client="10.0.0.2")  # e-mail case
        stranger = single_sign_on(connection, "stranger@example.org")
        by_password = attempt_login(connection, "sam@example.org", "!single-sign-on-only")
    assert not isinstance(mapped, AuthError) and (mapped.name, mapped.role) == ("sam@example.org", Role.admin)
    assert isinstance(stranger, AuthError) and "--sso" in str(stranger)
    assert isinstance(by_password, AuthError)
