"""Audit: the event log, filterable and exportable; undo one's own last action."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import streamlit as st

from narratives.auth.accounts import SYSTEM
from narratives.errors import NarrativesError
from narratives.review.audit import (
    audit_csv,
    audit_kinds,
    audit_log,
    audit_users,
    last_action,
    undo_last,
)
from narratives.schema import Event
from narratives.store.project import Project
from narratives.ui import common


@st.cache_data(show_spinner=False)
def log_of(path: str, version: str, filters: tuple) -> list[Event]:
    kinds, user, since, until, text = filters
    with common.project_by_path(path).connect() as connection:
        return audit_log(
            connection, kinds=list(kinds) or None, user=user, since=since, until=until, text=text
        )


@st.cache_data(show_spinner=False)
def csv_of(path: str, version: str, filters: tuple) -> str:
    kinds, user, since, until, text = filters
    with common.project_by_path(path).connect() as connection:
        return audit_csv(
            connection, kinds=list(kinds) or None, user=user, since=since, until=until, text=text
        )


@st.cache_data(show_spinner=False)
def choices_of(path: str, version: str) -> tuple[list[str], list[str]]:
    with common.project_by_path(path).connect() as connection:
        kinds = audit_kinds(connection)
        families = sorted({k.split(".", 1)[0] for k in kinds} - set(kinds))
        return families + kinds, audit_users(connection)


def render() -> None:
    common.require_researcher()
    project = common.require_project()
    st.title("Audit log")
    common.show_flash()
    path, version = str(project.path), common.data_version(project)
    _undo(project)
    kinds, users = choices_of(path, version)
    filters = _filters(kinds, users)
    entries = log_of(path, version, filters)
    st.download_button(
        "Download CSV", csv_of(path, version, filters), "audit-log.csv", "text/csv", key="audit_download"
    )
    if not entries:
        st.info("No events match these filters." if any(filters) else "Nothing has been recorded yet.")
        return
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Id": e.id,
                    "When": e.created,
                    "Who": e.user,
                    "What": e.kind,
                    "Target": e.target,
                    "Undoes": e.undoes,
                    "Undone by": e.undone_by,
                    "Details": json.dumps(e.payload, ensure_ascii=False)[:300],
                }
                for e in entries
            ]
        ),
        hide_index=True,
    )


def _filters(kinds: list[str], users: list[str]) -> tuple:
    columns = st.columns(4)
    chosen = columns[0].multiselect("Kind", kinds, key="audit_kinds")
    user = columns[1].selectbox(
        "Who", [None, *users], format_func=lambda u: "everyone" if u is None else u, key="audit_user"
    )
    dates = columns[2].date_input("Between", value=[], key="audit_dates")
    text = columns[3].text_input("Text", key="audit_text")
    since = until = None
    if isinstance(dates, (tuple, list)) and dates:
        since, until = dates[0], dates[-1]
    elif isinstance(dates, date):
        since = until = dates
    return (tuple(chosen), user, since, until, text.strip() or None)


def _undo(project: Project) -> None:
    """Undo one's own last action; an admin may undo anyone's (recorded as the admin's undo)."""
    person = common.require_researcher()
    target = person.name
    if person.is_admin:
        people = choices_of(str(project.path), common.data_version(project))[1]
        others = [p for p in people if p not in (person.name, SYSTEM)]
        if others:
            target = st.selectbox(
                "Undo the last action of",
                [person.name, *others],
                format_func=lambda p: "me" if p == person.name else p,
                key="audit_undo_user",
                help="As an admin you may undo anyone's last action; the undo is recorded under your name.",
            )
    with project.connect() as connection:
        action = last_action(connection, target)
    whose = "Your" if target == person.name else f"{target}'s"
    if action:
        newest = action[0]
        st.caption(
            f"{whose} last action: {newest.kind} on {newest.target or '–'} at {newest.created:%Y-%m-%d %H:%M}."
        )
    label = "Undo my last action" if target == person.name else f"Undo {target}'s last action"
    if st.button(label, key="audit_undo", disabled=not action):
        try:
            event = undo_last(project, target, by=person.name)
        except NarrativesError as error:
            st.error(str(error))
            return
        st.session_state["flash"] = f"Undone: {event.payload.get('undone_kind')} (event {event.undoes})."
        st.rerun()


if __name__ == "__main__":
    render()
