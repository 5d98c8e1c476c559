"""The researcher's "Panel rounds" section: open a round, make invitation codes, follow answers."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlsplit

import pandas as pd
import streamlit as st

from narratives.analysis.small_groups import segment_small_groups
from narratives.auth.invitations import create_invitations
from narratives.review.panel import VERDICTS, PanelQuote, panel_quotes_by_code
from narratives.review.panel_rounds import (
    PanelRound,
    RoundSummary,
    closing_time,
    create_round,
    round_summary,
    rounds_of,
)
from narratives.schema import Code
from narratives.store.project import Project
from narratives.ui import common, panel_widgets

PER_PAGE = 20


@st.cache_data(show_spinner=False)
def rounds_cached(path: str, version: str, codebook: str) -> list[PanelRound]:
    with common.project_by_path(path).connect() as connection:
        return rounds_of(connection, codebook)


@st.cache_data(show_spinner=False)
def summary_cached(path: str, version: str, round_id: int) -> RoundSummary:
    with common.project_by_path(path).connect() as connection:
        return round_summary(connection, round_id)


@st.cache_data(show_spinner=False)
def chosen_quotes(path: str, version: str, codebook: str) -> dict[str, list[PanelQuote]]:
    with common.project_by_path(path).connect() as connection:
        return panel_quotes_by_code(connection, codebook)


@st.cache_data(show_spinner=False)
def small_groups_cached(path: str, version: str, segment_ids: tuple[int, ...]) -> dict[int, list[str]]:
    """Segment id -> why its speaker may be identifiable (groups of fewer than 5), for the pickers."""
    with common.project_by_path(path).connect() as connection:
        found = segment_small_groups(connection, segment_ids)
    return {segment: [g.message for g in groups] for segment, groups in found.items()}


def warn_small_groups(project: Project, labelled: dict[int, str]) -> None:
    """A warning beside each picked quote (segment id -> label) whose speaker is in a small group."""
    if not labelled:
        return
    found = small_groups_cached(str(project.path), common.data_version(project), tuple(sorted(labelled)))
    for segment_id, label in labelled.items():
        for message in found.get(segment_id, []):
            st.warning(f"Small group: {label}: {message}", icon="⚠️")


def invitation_link(code: str) -> str:
    """``<server>/?invite=CODE`` where the server's address is known, else the path alone."""
    url = st.context.url
    if url:
        parts = urlsplit(url)
        if parts.scheme and parts.netloc:
            return f"{parts.scheme}://{parts.netloc}/?invite={code}"
    return f"/?invite={code}"


def show(project: Project, codebook: str, user: str, codes: list[Code]) -> None:
    st.header("Panel rounds")
    _create(project, codebook, user, codes)
    _invite(project, codebook, user)
    rounds = rounds_cached(str(project.path), common.data_version(project), codebook)
    if not rounds:
        st.caption("No rounds yet.")
        return
    _list(rounds)
    _summary(project, rounds)


def _create(project: Project, codebook: str, user: str, codes: list[Code]) -> None:
    st.subheader("Open a round")
    labels = {c.id: panel_widgets.theme_label(c) for c in codes}
    st.text_input("Title of the round", key="panel_round_title")
    themes = st.multiselect(
        "Themes (search by plain or codebook name)",
        list(labels),
        format_func=labels.__getitem__,
        key="panel_round_codes",
    )
    quotes = chosen_quotes(str(project.path), common.data_version(project), codebook)
    options = {q.quote_id: f"{labels[c]}: {q.text[:120]}" for c in themes for q in quotes.get(c, [])}
    if options:  # an empty multiselect is drawn disabled, in grey too faint to read
        st.multiselect(
            "Quotes to show", list(options), format_func=options.__getitem__, key="panel_round_quotes"
        )
        segments = {q.quote_id: q.segment_id for c in themes for q in quotes.get(c, [])}
        picked = [q for q in st.session_state.get("panel_round_quotes") or [] if q in segments]
        warn_small_groups(project, {segments[q]: options[q][:80] for q in picked})
    else:
        st.session_state.pop("panel_round_quotes", None)  # none of the quotes picked before is offered
    if themes and not options:
        st.caption("No quotes are chosen for these themes yet: choose some above first.")
    elif not themes:
        st.caption("Choose the themes first; their chosen quotes are offered here.")
    st.date_input(
        "Closing date (answers are taken until the end of that day)",
        value=date.today() + timedelta(days=14),
        min_value=date.today(),
        key="panel_round_closes",
    )
    st.button(
        "Open the round",
        key="panel_round_create",
        on_click=_open_round,
        args=(project, codebook, user),
    )


def _open_round(project: Project, codebook: str, user: str) -> None:
    """Before the next run: open the round with what the form holds now, then empty the form."""
    title = str(st.session_state.get("panel_round_title") or "")
    themes = list(st.session_state.get("panel_round_codes") or [])
    picked = [int(q) for q in st.session_state.get("panel_round_quotes") or []]
    closes = st.session_state.get("panel_round_closes")
    if not isinstance(closes, date):
        st.error("Please choose one closing date.")
        return
    made = common.write(
        project,
        lambda c: create_round(c, codebook, title, themes, picked, closing_time(closes), user),
        f"Round “{title.strip()}” opened.",
    )
    if made is not None:
        for key in ("panel_round_title", "panel_round_codes", "panel_round_quotes"):
            st.session_state.pop(key, None)


def _invite(project: Project, codebook: str, user: str) -> None:
    st.subheader("Invite panel members")
    rounds = [
        r for r in rounds_cached(str(project.path), common.data_version(project), codebook) if r.is_open()
    ]
    if not rounds:
        st.caption("Open a round first; invitations belong to an open round.")
        return
    titles = {r.id: f"{r.title} (closes {r.closes:%d %b %Y})" for r in rounds}
    round_id = st.selectbox("Round", list(titles), format_func=titles.__getitem__, key="panel_invite_round")
    count = st.number_input(
        "How many invitations", min_value=1, max_value=100, value=5, key="panel_invite_count"
    )
    if not (st.button("Make invitation codes", key="panel_invite_make") and round_id is not None):
        return
    made = common.write(project, lambda c: create_invitations(c, int(round_id), int(count), user))
    if not made:
        return
    st.success(
        f"{len(made)} invitation codes made. They are shown only now: copy them and send one to each person."
    )
    st.code("\n".join(invitation_link(code) for code in made), language=None)


def _list(rounds: list[PanelRound]) -> None:
    st.subheader("Rounds")
    shown = panel_widgets.page_of(list(reversed(rounds)), PER_PAGE, "panel_rounds_page", "rounds")
    st.table(  # a plain table (short, paged): readable by screen readers and in the page text
        pd.DataFrame(
            [
                {
                    "Round": r.title,
                    "Themes": len(r.code_ids),
                    "Quotes": len(r.quote_ids),
                    "Closes": f"{r.closes:%Y-%m-%d}",
                    "Status": "open" if r.is_open() else "closed",
                    "Invitations": r.invitations,
                    "Used": r.used,
                }
                for r in shown
            ]
        ).set_index("Round")
    )


def _summary(project: Project, rounds: list[PanelRound]) -> None:
    st.subheader("Answers in a round")
    titles = {r.id: r.title for r in reversed(rounds)}
    round_id = st.selectbox(
        "Round to summarise", list(titles), format_func=titles.__getitem__, key="panel_summary_round"
    )
    if round_id is None:
        return
    summary = summary_cached(str(project.path), common.data_version(project), int(round_id))
    st.markdown(f"**{summary.members}** panel members have answered ({summary.round.used} joined).")
    themes = panel_widgets.page_of(summary.themes, PER_PAGE, "panel_summary_page", "themes")
    st.table(
        pd.DataFrame(
            [
                {
                    "Theme": s.name,
                    **{VERDICTS[v]: n for v, n in s.counts.items()},
                    "Members answered": s.members,
                }
                for s in themes
            ]
        ).set_index("Theme")
    )
    for s in themes:
        if s.renames or s.comments:
            with st.expander(f"{s.name}: names suggested and comments"):
                for rename in s.renames:
                    st.markdown(f"- Suggested name: {rename}")
                for comment in s.comments:
                    st.markdown(f"- {comment}")
