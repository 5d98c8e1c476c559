"""Panel rounds and their one-time invitations (SQL only; rules in review/ and auth/)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, func, insert, select, update

from narratives.store.rows import inserted_id
from narratives.store.tables import panel_invitations, panel_rounds


class PanelRoundRow(NamedTuple):
    id: int
    codebook: str
    title: str
    code_ids: list[str]
    quote_ids: list[int]
    closes: datetime
    created_by: str
    created: datetime


class InvitationRow(NamedTuple):
    id: int
    round_id: int
    created_by: str
    created: datetime
    used: datetime | None
    used_by: str | None


_ROUND_COLUMNS: tuple[Any, ...] = (
    panel_rounds.c.id,
    panel_rounds.c.codebook,
    panel_rounds.c.title,
    panel_rounds.c.code_ids,
    panel_rounds.c.quote_ids,
    panel_rounds.c.closes,
    panel_rounds.c.created_by,
    panel_rounds.c.created,
)
_INVITATION_COLUMNS: tuple[Any, ...] = (
    panel_invitations.c.id,
    panel_invitations.c.round_id,
    panel_invitations.c.created_by,
    panel_invitations.c.created,
    panel_invitations.c.used,
    panel_invitations.c.used_by,
)


def insert_round(
    connection: Connection,
    codebook: str,
    title: str,
    code_ids: list[str],
    quote_ids: list[int],
    closes: datetime,
    created_by: str,
    now: datetime,
) -> int:
    result = connection.execute(
        insert(panel_rounds).values(
            codebook=codebook,
            title=title,
            code_ids=list(code_ids),
            quote_ids=list(quote_ids),
            closes=closes,
            created_by=created_by,
            created=now,
        )
    )
    return inserted_id(result)


def load_round(connection: Connection, round_id: int) -> PanelRoundRow | None:
    row = connection.execute(select(*_ROUND_COLUMNS).where(panel_rounds.c.id == round_id)).first()
    return None if row is None else PanelRoundRow(*row)


def round_rows(connection: Connection, codebook: str | None = None) -> list[PanelRoundRow]:
    query = select(*_ROUND_COLUMNS).order_by(panel_rounds.c.id)
    if codebook is not None:
        query = query.where(panel_rounds.c.codebook == codebook)
    return [PanelRoundRow(*row) for row in connection.execute(query)]


def rounds_for_member(connection: Connection, name: str) -> list[PanelRoundRow]:
    """The rounds whose invitation ``name`` accepted, oldest first."""
    joined = select(panel_invitations.c.round_id).where(panel_invitations.c.used_by == name)
    # Not DISTINCT over the rounds' columns: PostgreSQL has no equality for JSON.
    query = select(*_ROUND_COLUMNS).where(panel_rounds.c.id.in_(joined)).order_by(panel_rounds.c.id)
    return [PanelRoundRow(*row) for row in connection.execute(query)]


def insert_invitation(
    connection: Connection, round_id: int, code_hash: str, created_by: str, now: datetime
) -> int:
    result = connection.execute(
        insert(panel_invitations).values(
            round_id=round_id, code_hash=code_hash, created_by=created_by, created=now
        )
    )
    return inserted_id(result)


def load_invitation(connection: Connection, code_hash: str) -> InvitationRow | None:
    row = connection.execute(
        select(*_INVITATION_COLUMNS).where(panel_invitations.c.code_hash == code_hash)
    ).first()
    return None if row is None else InvitationRow(*row)


def invitation_rows(connection: Connection, round_id: int) -> list[InvitationRow]:
    query = select(*_INVITATION_COLUMNS).where(panel_invitations.c.round_id == round_id)
    return [InvitationRow(*row) for row in connection.execute(query.order_by(panel_invitations.c.id))]


def mark_invitation_used(connection: Connection, invitation_id: int, name: str, now: datetime) -> bool:
    """Claim the invitation for ``name``; False when someone already used it (one time only)."""
    result = connection.execute(
        update(panel_invitations)
        .where(panel_invitations.c.id == invitation_id, panel_invitations.c.used.is_(None))
        .values(used=now, used_by=name)
    )
    return bool(result.rowcount == 1)


def invitation_counts(connection: Connection) -> dict[int, tuple[int, int]]:
    """round id -> (invitations made, invitations used), for every round that has any."""
    used = func.count(panel_invitations.c.used)
    query = select(panel_invitations.c.round_id, func.count(), used).group_by(panel_invitations.c.round_id)
    return {int(r): (int(made), int(taken)) for r, made, taken in connection.execute(query)}
