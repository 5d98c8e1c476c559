"""Panel (researchers): choose quotes per theme, open panel rounds, invite members, read answers.

Panel members never reach this page: navigation gives them ``panel_view.py`` only. Long lists are
collapsed (one expander per theme) or shown page by page, so the page stays short on a large
codebook.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from narratives.review.panel import (
    VERDICTS,
    PanelTheme,
    ThemeSummary,
    choose_panel_quote,
    panel_quotes_by_code,
    panel_summary,
    panel_themes,
)
from narratives.review.state import accepted_segment_texts
from narratives.schema import Code
from narratives.store.codebooks import current_codes
from narratives.store.project import Project
from narratives.ui import common, panel_rounds, panel_widgets

PER_PAGE = 20


@st.cache_data(show_spinner=False)
def themes_of(path: str, version: str, codebook: str) -> list[PanelTheme]:
    with common.project_by_path(path).connect() as connection:
        return panel_themes(connection, codebook, max_quotes=1000)


@st.cache_data(show_spinner=False)
def summary_of(path: str, version: str, codebook: str) -> list[ThemeSummary]:
    with common.project_by_path(path).connect() as connection:
        return panel_summary(connection, codebook)


@st.cache_data(show_spinner=False)
def quote_options(path: str, version: str, codebook: str, code_id: str) -> dict[int, str]:
    """Segments accepted for the code and not yet chosen for it: the candidates for panel quotes."""
    with common.project_by_path(path).connect() as connection:
        accepted = accepted_segment_texts(connection, codebook, code_id)
        chosen = {q.segment_id for q in panel_quotes_by_code(connection, codebook).get(code_id, [])}
    return {segment: text for segment, text in accepted.items() if segment not in chosen}


@st.cache_data(show_spinner=False)
def codes_of(path: str, version: str, codebook: str) -> list[Code]:
    with common.project_by_path(path).connect() as connection:
        return current_codes(connection, codebook)


def render() -> None:
    person = common.require_researcher()
    panel_widgets.styles()
    project = common.require_project()
    codebook = common.require_codebook(project)
    st.title("What we heard")
    st.caption("The co-production panel, for the research team: quotes, rounds, invitations and answers.")
    common.show_flash()
    path, version = str(project.path), common.data_version(project)
    codes = codes_of(path, version, codebook)
    _themes(themes_of(path, version, codebook))
    _quotes(project, codebook, person.name, codes)
    panel_rounds.show(project, codebook, person.name, codes)
    _summary(path, common.data_version(project), codebook)


def _themes(themes: list[PanelTheme]) -> None:
    st.header("Themes as the panel sees them")
    if not themes:
        st.info("No themes are ready for the panel yet: give a theme a plain name or choose quotes below.")
        return
    st.caption("Quotes are shown here as panel members see them: de-identified.")
    for theme in panel_widgets.page_of(themes, PER_PAGE, "panel_themes_page", "themes"):
        with st.expander(f"{theme.name} ({len(theme.quotes)} quotes)"):
            st.markdown(theme.description)
            for shown in theme.quotes:
                panel_widgets.quote(shown.text)


def _quotes(project: Project, codebook: str, user: str, codes: list[Code]) -> None:
    st.header("Choose quotes")
    labels = {c.id: panel_widgets.theme_label(c) for c in codes}
    code_id = st.selectbox(
        "Theme (search by plain or codebook name)",
        list(labels),
        format_func=labels.__getitem__,
        key="panel_quote_code",
    )
    if code_id is None:
        return
    options = quote_options(str(project.path), common.data_version(project), codebook, code_id)
    if not options:
        st.caption(
            "No accepted segments left to choose for this theme: accept some in the Review queue first."
        )
        return
    picked = st.selectbox(
        "Quote", list(options), format_func=lambda i: options[i][:150], key="panel_quote_segment"
    )
    if picked is not None:
        panel_rounds.warn_small_groups(project, {int(picked): "this quote"})
    st.button(
        "Add quote for the panel",
        key="panel_quote_add",
        on_click=_add_quote,
        args=(project, codebook, user),
    )


def _add_quote(project: Project, codebook: str, user: str) -> None:
    """Before the next run: add the selected quote, then let the picker move on to the next one."""
    code_id = st.session_state.get("panel_quote_code")
    segment_id = st.session_state.get("panel_quote_segment")
    if code_id is None or segment_id is None:
        return
    added = common.write(
        project, lambda c: choose_panel_quote(c, codebook, code_id, int(segment_id), user), "Quote added."
    )
    if added is not None:
        del st.session_state["panel_quote_segment"]


def _summary(path: str, version: str, codebook: str) -> None:
    st.header("Summary for the research team")
    st.caption("All answers to this codebook's themes: each person's latest answer per round.")
    summary = summary_of(path, version, codebook)
    if not summary:
        st.caption("No panel answers yet.")
        return
    shown = panel_widgets.page_of(summary, PER_PAGE, "panel_all_summary_page", "themes")
    st.dataframe(
        pd.DataFrame(
            [
                {"Theme": s.name, **{VERDICTS[v]: n for v, n in s.counts.items()}, "Answers": s.responses}
                for s in shown
            ]
        ),
        hide_index=True,
    )
    for s in shown:
        if s.renames or s.comments:
            with st.expander(f"{s.name}: names suggested and comments"):
                for rename in s.renames:
                    st.markdown(f"- Suggested name: {rename}")
                for comment in s.comments:
                    st.markdown(f"- {comment}")


if __name__ == "__main__":
    render()
