"""Panel rounds: which themes and quotes a panel sees until when, what each invited member sees,
their answers (append-only: a change is a new row, the summary counts each member's latest) and a
round's summary for the team. Quotes and shared rules come from :mod:`narratives.review.panel`;
the one-time invitations from :mod:`narratives.auth.invitations`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import Connection

from narratives.deidentify import text_redactor
from narratives.errors import PanelError
from narratives.review.panel import (
    VERDICTS,
    PanelQuote,
    ThemeSummary,
    latest_answers,
    panel_quotes_by_code,
    plain_description,
    plain_names,
    summarise_answers,
)
from narratives.review.state import withdrawn_ids
from narratives.schema import as_utc, utcnow
from narratives.store.codebooks import current_codes
from narratives.store.events import record_event
from narratives.store.panel import (
    PanelResponseRow,
    insert_panel_response,
    round_response_rows,
)
from narratives.store.panel_rounds import (
    PanelRoundRow,
    insert_round,
    invitation_counts,
    load_round,
    round_rows,
    rounds_for_member,
)


@dataclass(frozen=True)
class PanelRound:
    """A round as the research team sees it: what it shows, until when, and its invitations."""

    id: int
    codebook: str
    title: str
    code_ids: list[str]
    quote_ids: list[int]
    closes: datetime
    created_by: str
    invitations: int
    used: int

    def is_open(self, now: datetime | None = None) -> bool:
        return as_utc(self.closes) > (now or utcnow())


@dataclass(frozen=True)
class MemberAnswer:
    response_id: int
    verdict: str
    rename: str | None
    comment: str | None
    created: datetime


@dataclass
class MemberTheme:
    """One theme of a round as a panel member sees it: plain words, de-identified quotes, and
    their own answers (latest last)."""

    code_id: str
    name: str
    description: str
    quotes: list[PanelQuote]
    answers: list[MemberAnswer] = field(default_factory=list)

    @property
    def latest(self) -> MemberAnswer | None:
        return self.answers[-1] if self.answers else None


@dataclass
class MemberRound:
    round_id: int
    title: str
    closes: datetime
    is_open: bool
    themes: list[MemberTheme]


@dataclass
class RoundSummary:
    round: PanelRound
    themes: list[ThemeSummary]  # in the round's order, themes nobody answered included
    members: int  # people who answered at least one theme


def closing_time(day: date) -> datetime:
    """A round closing on ``day`` takes answers until the end of that day (UTC)."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)


def create_round(
    connection: Connection,
    codebook: str,
    title: str,
    code_ids: list[str],
    quote_ids: list[int],
    closes: datetime,
    user: str,
    *,
    now: datetime | None = None,
) -> int:
    """A researcher opens a panel round: the themes, the chosen quotes shown with them, a closing
    time. Every theme must be an active code, every quote a chosen (not taken away) quote of one
    of those themes, and the closing time in the future; returns the round's id."""
    now = now or utcnow()
    title = (title or "").strip()
    if not title:
        raise PanelError("a panel round needs a title.", fix="give the round a short title.")
    if len(title) > 300:
        raise PanelError("the round's title is too long.", fix="keep it under 300 characters.")
    themes = list(dict.fromkeys(code_ids))
    if not themes:
        raise PanelError("a panel round needs at least one theme.", fix="choose the themes to show.")
    active = {c.id for c in current_codes(connection, codebook)}
    unknown = [c for c in themes if c not in active]
    if unknown:
        raise PanelError(
            f"theme(s) {', '.join(unknown)} are not active codes of codebook '{codebook}'.",
            fix="choose themes from the codebook.",
        )
    chosen = {
        q.quote_id: code
        for code, quotes in panel_quotes_by_code(connection, codebook).items()
        for q in quotes
    }
    quotes = list(dict.fromkeys(int(q) for q in quote_ids))
    stray = [q for q in quotes if chosen.get(q) not in themes]
    if stray:
        raise PanelError(
            f"quote(s) {', '.join(map(str, stray))} are not chosen quotes of the round's themes "
            "(or were taken away).",
            fix="choose quotes for the panel first, then pick among the round's themes' quotes.",
        )
    if as_utc(closes) <= now:
        raise PanelError("the round's closing date has passed.", fix="choose a date in the future.")
    round_id = insert_round(connection, codebook, title, themes, quotes, closes, user, now)
    record_event(
        connection,
        "panel.round",
        user,
        target=f"round:{round_id}",
        payload={"codebook": codebook, "code_ids": themes, "quote_ids": quotes, "title": title},
    )
    return round_id


def _round(row: PanelRoundRow, counts: dict[int, tuple[int, int]]) -> PanelRound:
    made, used = counts.get(row.id, (0, 0))
    return PanelRound(
        id=row.id,
        codebook=row.codebook,
        title=row.title,
        code_ids=list(row.code_ids),
        quote_ids=[int(q) for q in row.quote_ids],
        closes=as_utc(row.closes),
        created_by=row.created_by,
        invitations=made,
        used=used,
    )


def rounds_of(connection: Connection, codebook: str | None = None) -> list[PanelRound]:
    """The panel rounds (of one codebook, when given), oldest first, with invitation counts."""
    counts = invitation_counts(connection)
    return [_round(row, counts) for row in round_rows(connection, codebook)]


def get_round(connection: Connection, round_id: int) -> PanelRound:
    row = load_round(connection, round_id)
    if row is None:
        raise PanelError(f"there is no panel round {round_id}.")
    return _round(row, invitation_counts(connection))


def member_view(connection: Connection, member: str, *, now: datetime | None = None) -> list[MemberRound]:
    """What the panel member ``member`` sees: the rounds they were invited to, each theme in plain
    words with the round's quotes (always de-identified), and their own answers."""
    rows = rounds_for_member(connection, member)
    if not rows:
        return []
    redact = text_redactor(connection, True)
    withdrawn_responses = withdrawn_ids(connection, "withdrawn_responses")
    mine = [
        r
        for r in round_response_rows(connection, [r.id for r in rows], member)
        if r.id not in withdrawn_responses
    ]
    now = now or utcnow()
    return [_member_round(connection, row, mine, redact, now) for row in rows]


def _member_round(
    connection: Connection, row: PanelRoundRow, mine: list[PanelResponseRow], redact: Any, now: datetime
) -> MemberRound:
    codes = {c.id: c for c in current_codes(connection, row.codebook, include_retired=True)}
    chosen = {int(q) for q in row.quote_ids}
    quotes = panel_quotes_by_code(connection, row.codebook)
    themes = []
    for code_id in row.code_ids:
        code = codes.get(code_id)
        if code is None:
            continue
        themes.append(
            MemberTheme(
                code_id=code_id,
                name=code.plain_name or code.name,
                description=plain_description(code),
                quotes=[
                    replace(q, text=redact(q.text)) for q in quotes.get(code_id, []) if q.quote_id in chosen
                ],
                answers=[
                    MemberAnswer(r.id, r.verdict, r.rename, r.comment, as_utc(r.created))
                    for r in mine
                    if r.round_id == row.id and r.code_id == code_id
                ],
            )
        )
    closes = as_utc(row.closes)
    return MemberRound(row.id, row.title, closes, closes > now, themes)


def record_round_response(
    connection: Connection,
    round_id: int,
    code_id: str,
    verdict: str,
    member: str,
    *,
    rename: str | None = None,
    comment: str | None = None,
    now: datetime | None = None,
) -> int:
    """A panel member's answer about one theme of a round they were invited to; a new row each
    time (an earlier answer stays in the history). Refused after the round closed, for a theme
    not in the round, and from anyone the round did not invite."""
    panel_round = get_round(connection, round_id)
    if verdict not in VERDICTS:
        raise PanelError(f"'{verdict}' is not a panel answer.", fix=f"use one of: {', '.join(VERDICTS)}.")
    if not panel_round.is_open(now):
        raise PanelError(
            f"the panel round '{panel_round.title}' has closed.",
            fix="ask the researcher about the next round.",
        )
    if code_id not in panel_round.code_ids:
        raise PanelError(f"theme '{code_id}' is not part of the round '{panel_round.title}'.")
    if all(r.id != round_id for r in rounds_for_member(connection, member)):
        raise PanelError(
            f"{member!r} was not invited to the round '{panel_round.title}'.",
            fix="use the invitation link the researcher sent you.",
        )
    rename = (rename or "").strip() or None
    comment = (comment or "").strip() or None
    response_id = insert_panel_response(
        connection,
        panel_round.codebook,
        code_id,
        verdict,
        member,
        rename=rename,
        comment=comment,
        round_id=round_id,
    )
    record_event(
        connection,
        "panel.response",
        member,
        target=f"{panel_round.codebook}/{code_id}",
        payload={
            "response_id": response_id,
            "round_id": round_id,
            "verdict": verdict,
            "rename": rename,
            "comment": comment,
        },
    )
    return response_id


def round_summary(connection: Connection, round_id: int) -> RoundSummary:
    """For the research team: per theme of the round, the verdicts of each member's latest answer,
    how many members answered, the names suggested and the comments."""
    panel_round = get_round(connection, round_id)
    withdrawn = withdrawn_ids(connection, "withdrawn_responses")
    rows = latest_answers(round_response_rows(connection, [round_id]), withdrawn)
    names = plain_names(connection, panel_round.codebook)
    found = {s.code_id: s for s in summarise_answers(rows, names)}
    empty = {verdict: 0 for verdict in VERDICTS}
    themes = [
        found.get(code_id) or ThemeSummary(code_id, names.get(code_id, code_id), dict(empty), [], [])
        for code_id in panel_round.code_ids
    ]
    return RoundSummary(panel_round, themes, members=len({r.user for r in rows}))
