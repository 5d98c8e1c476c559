"""Co-production panel rows: the quotes researchers chose per theme, and panel members' responses.

Both tables are append-only. A quote taken away again, or a response withdrawn by an undo, keeps
its row; which rows still count is worked out in :mod:`narratives.review.state` (withdrawn ids).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, Select, insert, select

from narratives.schema import utcnow
from narratives.store.rows import inserted_id
from narratives.store.tables import documents, panel_quotes, panel_responses, segments


class PanelQuoteRow(NamedTuple):
    """One chosen quote: a segment put in front of the panel for a theme (code)."""

    id: int
    codebook: str
    code_id: str
    segment_id: int
    user: str
    created: datetime


class PanelQuoteText(NamedTuple):
    """A chosen quote with its segment's text and the kind of document it comes from."""

    id: int
    code_id: str
    segment_id: int
    text: str
    source_kind: str


class PanelResponseRow(NamedTuple):
    """One panel member's response to one theme."""

    id: int
    codebook: str
    code_id: str
    verdict: str
    rename: str | None
    comment: str | None
    user: str
    created: datetime
    round_id: int | None = None  # the panel round it answers; None: given before rounds


def insert_panel_quote(
    connection: Connection, codebook: str, code_id: str, segment_id: int, user: str
) -> int:
    """Write one chosen quote; returns its id."""
    result = connection.execute(
        insert(panel_quotes).values(
            codebook=codebook, code_id=code_id, segment_id=segment_id, user=user, created=utcnow()
        )
    )
    return inserted_id(result)


def panel_quote_rows(
    connection: Connection, codebook: str, code_id: str | None = None
) -> list[PanelQuoteRow]:
    """The quotes chosen for ``codebook`` (for one code, when given), withdrawn ones included, oldest first."""
    query = _quote_query().where(panel_quotes.c.codebook == codebook)
    if code_id is not None:
        query = query.where(panel_quotes.c.code_id == code_id)
    return [PanelQuoteRow(*row) for row in connection.execute(query.order_by(panel_quotes.c.id))]


def load_panel_quote(connection: Connection, quote_id: int) -> PanelQuoteRow | None:
    row = connection.execute(_quote_query().where(panel_quotes.c.id == quote_id)).first()
    return None if row is None else PanelQuoteRow(*row)


def _quote_query() -> Select[Any]:
    return select(
        panel_quotes.c.id,
        panel_quotes.c.codebook,
        panel_quotes.c.code_id,
        panel_quotes.c.segment_id,
        panel_quotes.c.user,
        panel_quotes.c.created,
    )


def panel_quote_texts(connection: Connection, codebook: str) -> list[PanelQuoteText]:
    """Every quote chosen for ``codebook`` with its text and source kind, withdrawn ones included,
    oldest first."""
    rows = connection.execute(
        select(
            panel_quotes.c.id,
            panel_quotes.c.code_id,
            segments.c.id,
            segments.c.text,
            documents.c.kind,
        )
        .join(segments, segments.c.id == panel_quotes.c.segment_id)
        .join(documents, documents.c.id == segments.c.document_id)
        .where(panel_quotes.c.codebook == codebook)
        .order_by(panel_quotes.c.id)
    )
    return [PanelQuoteText(*row) for row in rows]


def insert_panel_response(
    connection: Connection,
    codebook: str,
    code_id: str,
    verdict: str,
    user: str,
    *,
    rename: str | None = None,
    comment: str | None = None,
    round_id: int | None = None,
) -> int:
    """Write one panel response (to a round, when given); returns its id."""
    result = connection.execute(
        insert(panel_responses).values(
            codebook=codebook,
            code_id=code_id,
            verdict=verdict,
            rename=rename,
            comment=comment,
            user=user,
            created=utcnow(),
            round_id=round_id,
        )
    )
    return inserted_id(result)


def _response_query() -> Select[Any]:
    return select(
        panel_responses.c.id,
        panel_responses.c.codebook,
        panel_responses.c.code_id,
        panel_responses.c.verdict,
        panel_responses.c.rename,
        panel_responses.c.comment,
        panel_responses.c.user,
        panel_responses.c.created,
        panel_responses.c.round_id,
    )


def panel_response_rows(connection: Connection, codebook: str) -> list[PanelResponseRow]:
    """Every response to ``codebook``'s themes, withdrawn ones included, oldest first."""
    query = _response_query().where(panel_responses.c.codebook == codebook)
    return [PanelResponseRow(*row) for row in connection.execute(query.order_by(panel_responses.c.id))]


def round_response_rows(
    connection: Connection, round_ids: list[int], user: str | None = None
) -> list[PanelResponseRow]:
    """Every response given in the rounds ``round_ids`` (by ``user``, when given), withdrawn ones
    included, oldest first."""
    if not round_ids:
        return []
    query = _response_query().where(panel_responses.c.round_id.in_(round_ids))
    if user is not None:
        query = query.where(panel_responses.c.user == user)
    return [PanelResponseRow(*row) for row in connection.execute(query.order_by(panel_responses.c.id))]
