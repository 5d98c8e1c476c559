"""Co-production panels: people who draw on care say whether a theme rings true.

Researchers choose a few quotes per theme (``panel_quotes``); panel members see each theme in
everyday words (the code's ``plain_name``) with those quotes and answer "this rings true", "this
misses something" or "this is wrong", optionally with a better name and a comment. Responses live in
``panel_responses``, apart from researcher coding, and are never edited: a withdrawal (undo) is an
event, and the summary leaves withdrawn responses out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Connection

from narratives.deidentify import DeidentificationSettings, texts_redactor
from narratives.errors import PanelError
from narratives.review.state import withdrawn_ids
from narratives.schema import Code
from narratives.store.codebooks import current_codes
from narratives.store.events import record_event
from narratives.store.panel import (
    PanelResponseRow,
    insert_panel_quote,
    insert_panel_response,
    load_panel_quote,
    panel_quote_rows,
    panel_quote_texts,
    panel_response_rows,
)
from narratives.store.reviews import segment_exists

VERDICTS: dict[str, str] = {
    "rings_true": "This rings true",
    "misses_something": "This misses something",
    "wrong": "This is wrong",
}


@dataclass(frozen=True)
class PanelQuote:
    quote_id: int
    segment_id: int
    text: str
    source_kind: str


@dataclass
class PanelTheme:
    code_id: str
    name: str  # the plain name where the codebook has one
    description: str
    quotes: list[PanelQuote] = field(default_factory=list)


@dataclass
class ThemeSummary:
    code_id: str
    name: str
    counts: dict[str, int]
    renames: list[str]
    comments: list[str]
    members: int = 0  # how many people's answers are counted (their latest one each)

    @property
    def responses(self) -> int:
        return sum(self.counts.values())


def _code(connection: Connection, codebook: str, code_id: str) -> Code:
    for code in current_codes(connection, codebook):
        if code.id == code_id:
            return code
    raise PanelError(f"theme '{code_id}' is not an active code of codebook '{codebook}'.")


def choose_panel_quote(
    connection: Connection, codebook: str, code_id: str, segment_id: int, user: str
) -> int:
    """A researcher puts a segment in front of the panel as a quote for a theme; returns its id.

    The same segment is refused a second time for the same theme (PanelError)."""
    _code(connection, codebook, code_id)
    if not segment_exists(connection, segment_id):
        raise PanelError(f"segment {segment_id} does not exist.")
    if any(chosen == segment_id for _, chosen in _chosen_quotes(connection, codebook, code_id)):
        raise PanelError(
            f"segment {segment_id} is already a panel quote for theme '{code_id}'.",
            fix="choose another quote, or take the chosen one away first.",
        )
    quote_id = insert_panel_quote(connection, codebook, code_id, segment_id, user)
    record_event(
        connection,
        "panel.quote",
        user,
        target=f"{codebook}/{code_id}",
        payload={"quote_id": quote_id, "segment_id": segment_id, "code_id": code_id, "codebook": codebook},
    )
    return quote_id


def remove_panel_quote(connection: Connection, quote_id: int, user: str) -> None:
    """Take a quote away from the panel (an event; the row stays for the record)."""
    row = load_panel_quote(connection, quote_id)
    if row is None:
        raise PanelError(f"panel quote {quote_id} does not exist.")
    record_event(
        connection,
        "panel.quote.remove",
        user,
        target=f"{row.codebook}/{row.code_id}",
        payload={"withdrawn_quotes": [quote_id], "segment_id": row.segment_id},
    )


def _chosen_quotes(
    connection: Connection, codebook: str, code_id: str | None = None
) -> list[tuple[int, int]]:
    withdrawn = withdrawn_ids(connection, "withdrawn_quotes")
    return [
        (r.id, r.segment_id) for r in panel_quote_rows(connection, codebook, code_id) if r.id not in withdrawn
    ]


def panel_quotes_by_code(connection: Connection, codebook: str) -> dict[str, list[PanelQuote]]:
    withdrawn = withdrawn_ids(connection, "withdrawn_quotes")
    quotes: dict[str, list[PanelQuote]] = {}
    for row in panel_quote_texts(connection, codebook):
        if row.id not in withdrawn:
            quotes.setdefault(row.code_id, []).append(
                PanelQuote(row.id, row.segment_id, row.text, row.source_kind)
            )
    return quotes


def plain_description(code: Code) -> str:
    """The code's plain-language description where it has one, else its definition."""
    return str(getattr(code, "plain_description", None) or code.definition)


def panel_themes(
    connection: Connection,
    codebook: str,
    *,
    max_quotes: int = 3,
    prepared_only: bool = True,
    deidentify: bool | DeidentificationSettings = True,
) -> list[PanelTheme]:
    """Themes ready for the panel: active codes with a plain name or at least one chosen quote.

    The quotes are de-identified for display (:mod:`narratives.deidentify`) unless ``deidentify`` is
    False; the chosen quotes stored in ``panel_quotes`` keep the original text.
    """
    quotes = panel_quotes_by_code(connection, codebook)
    redact_all = texts_redactor(connection, deidentify)
    themes = []
    for code in current_codes(connection, codebook):
        chosen = quotes.get(code.id, [])
        shown = chosen[:max_quotes]
        if prepared_only and not chosen and not code.plain_name:
            continue
        themes.append(
            PanelTheme(
                code_id=code.id,
                name=code.plain_name or code.name,
                description=plain_description(code),
                quotes=[
                    replace(quote, text=text)
                    for quote, text in zip(shown, redact_all([q.text for q in shown]), strict=True)
                ],
            )
        )
    return themes


def record_panel_response(
    connection: Connection,
    codebook: str,
    code_id: str,
    verdict: str,
    user: str,
    *,
    rename: str | None = None,
    comment: str | None = None,
) -> int:
    """Store one panel member's response to one theme, and its event; returns the response id."""
    if verdict not in VERDICTS:
        raise PanelError(f"'{verdict}' is not a panel answer.", fix=f"use one of: {', '.join(VERDICTS)}.")
    if not user or not user.strip():
        raise PanelError("a panel response needs a name or pseudonym.", fix="enter your name first.")
    _code(connection, codebook, code_id)
    rename = (rename or "").strip() or None
    comment = (comment or "").strip() or None
    response_id = insert_panel_response(
        connection, codebook, code_id, verdict, user.strip(), rename=rename, comment=comment
    )
    record_event(
        connection,
        "panel.response",
        user,
        target=f"{codebook}/{code_id}",
        payload={"response_id": response_id, "verdict": verdict, "rename": rename, "comment": comment},
    )
    return response_id


def latest_answers(rows: Iterable[PanelResponseRow], withdrawn: set[int]) -> list[PanelResponseRow]:
    """Each person's latest live answer per (round, theme): a changed answer replaces the earlier
    one in the counts, while both rows stay in the table."""
    latest: dict[tuple[str, int | None, str], PanelResponseRow] = {}
    for row in sorted(rows, key=lambda r: r.id):
        if row.id not in withdrawn:
            latest[(row.user, row.round_id, row.code_id)] = row
    return sorted(latest.values(), key=lambda r: r.id)


def summarise_answers(rows: list[PanelResponseRow], names: dict[str, str]) -> list[ThemeSummary]:
    by_code: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = by_code.setdefault(
            row.code_id, {"counts": Counter(), "renames": [], "comments": [], "members": set()}
        )
        entry["counts"][row.verdict] += 1
        entry["members"].add(row.user)
        if row.rename:
            entry["renames"].append(row.rename)
        if row.comment:
            entry["comments"].append(row.comment)
    return [
        ThemeSummary(
            code_id=code_id,
            name=names.get(code_id, code_id),
            counts={verdict: int(entry["counts"].get(verdict, 0)) for verdict in VERDICTS},
            renames=entry["renames"],
            comments=entry["comments"],
            members=len(entry["members"]),
        )
        for code_id, entry in by_code.items()
    ]


def plain_names(connection: Connection, codebook: str) -> dict[str, str]:
    return {c.id: c.plain_name or c.name for c in current_codes(connection, codebook, include_retired=True)}


def panel_summary(connection: Connection, codebook: str) -> list[ThemeSummary]:
    """Per theme: how many said each verdict (each person's latest answer per round), the names
    suggested and the comments; withdrawn answers are left out."""
    withdrawn = withdrawn_ids(connection, "withdrawn_responses")
    names = plain_names(connection, codebook)
    rows = latest_answers(panel_response_rows(connection, codebook), withdrawn)
    return sorted(summarise_answers(rows, names), key=lambda s: s.name)
