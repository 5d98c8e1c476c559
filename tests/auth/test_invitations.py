"""One-time panel invitations: a code works once, before the round closes, and makes a panel account."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from narratives.auth.accounts import attempt_login
from narratives.auth.invitations import accept_invitation, code_hash, create_invitations
from narratives.errors import AuthError
from narratives.kinds import Role
from narratives.schema import utcnow
from narratives.store.panel_rounds import insert_round, rounds_for_member
from narratives.store.tables import panel_invitations, panel_rounds

PASSWORD = "a long enough password"


def _round(project, closes_in: timedelta = timedelta(days=7)) -> int:
    with project.begin() as connection:
        return insert_round(
            connection, "book", "Round 1", ["choice"], [], utcnow() + closes_in, "ana", utcnow()
        )


def test_an_invitation_makes_a_panel_account_bound_to_its_round(tmp_project) -> None:
    round_id = _round(tmp_project)
    with tmp_project.begin() as connection:
        codes = create_invitations(connection, round_id, 3, by="ana")
    assert len(set(codes)) == 3
    with tmp_project.connect() as connection:
        stored = connection.execute(select(panel_invitations.c.code_hash)).scalars().all()
    assert sorted(stored) == sorted(code_hash(c) for c in codes) and not set(codes) & set(stored)

    with tmp_project.begin() as connection:
        account = accept_invitation(connection, codes[0], "Sam", PASSWORD)
        assert account.role is Role.panel
        assert [r.id for r in rounds_for_member(connection, "Sam")] == [round_id]
        assert not isinstance(attempt_login(connection, "Sam", PASSWORD), AuthError)
    with pytest.raises(AuthError, match="already been used"), tmp_project.begin() as connection:
        accept_invitation(connection, codes[0], "Someone Else", PASSWORD)
    with pytest.raises(AuthError, match="is taken"), tmp_project.begin() as connection:
        accept_invitation(connection, codes[1], "Sam", PASSWORD)
    with tmp_project.begin() as connection:  # the refused attempt left the second code usable
        accept_invitation(connection, codes[1], "Kim", PASSWORD)


def test_a_wrong_or_late_code_is_refused(tmp_project) -> None:
    round_id = _round(tmp_project)
    with tmp_project.begin() as connection:
        (code,) = create_invitations(connection, round_id, 1, by="ana")
    with pytest.raises(AuthError, match="not valid"), tmp_project.begin() as connection:
        accept_invitation(connection, code + "x", "Sam", PASSWORD)
    with tmp_project.begin() as connection:
        connection.execute(update(panel_rounds).values(closes=utcnow() - timedelta(minutes=1)))
    with pytest.raises(AuthError, match="closed"), tmp_project.begin() as connection:
        accept_invitation(connection, code, "Sam", PASSWORD)
