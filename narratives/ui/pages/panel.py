"""Panel: themes in everyday words for people who draw on care; large text, keyboard friendly.

Panel members answer "This rings true / This misses something / This is wrong" per theme, with an
optional better name and comment. Researchers also choose the quotes shown and see the summary.
"""

from __future__ import annotations

import html

import pandas as pd
import streamlit as st

from narratives.review.panel import (
    VERDICTS,
    PanelTheme,
    ThemeSummary,
    choose_panel_quote,
    panel_summary,
    panel_themes,
    record_panel_response,
)
from narratives.review.state import accepted_segment_texts
from narratives.schema import Code
from narratives.store.codebooks import current_codes
from narratives.store.project import Project
from narratives.ui import common

CSS = """<style>
.stMainBlockContainer, .stMainBlockContainer p, .stMainBlockContainer label, .stMainBlockContainer li,
.stMainBlockContainer input, .stMainBlockContainer textarea { font-size: 1.25rem !important; line-height: 1.6; }
.stMainBlockContainer h1 { font-size: 2.2rem !important; }
.stMainBlockContainer h2 { font-size: 1.8rem !important; }
.panel-quote { border-left: 6px solid #1a4d8f; background: #f2f5fa; color: #111; padding: 0.6em 1em;
  margin: 0.5em 0; font-size: 1.3rem; }
*:focus-visible { outline: 3px solid #1a4d8f !important; outline-offset: 3px !important; }
</style>"""


@st.cache_data(show_spinner=False)
def themes_of(path: str, version: str, codebook: str) -> list[PanelTheme]:
    with common.project_by_path(path).connect() as connection:
        return panel_themes(connection, codebook)


@st.cache_data(show_spinner=False)
def summary_of(path: str, version: str, codebook: str) -> list[ThemeSummary]:
    with common.project_by_path(path).connect() as connection:
        return panel_summary(connection, codebook)


@st.cache_data(show_spinner=False)
def quote_options(path: str, version: str, codebook: str, code_id: str) -> dict[int, str]:
    """Segments accepted for the code, the candidates for panel quotes."""
    with common.project_by_path(path).connect() as connection:
        return accepted_segment_texts(connection, codebook, code_id)


@st.cache_data(show_spinner=False)
def codes_of(path: str, version: str, codebook: str) -> list[Code]:
    with common.project_by_path(path).connect() as connection:
        return current_codes(connection, codebook)


def render() -> None:
    common.require_researcher()
    show()


def show() -> None:
    st.markdown(CSS, unsafe_allow_html=True)
    project = common.require_project()
    codebook = common.require_codebook(project)
    st.title("What we heard")
    common.show_flash()
    path, version = str(project.path), common.data_version(project)
    person = common.viewer()
    researcher = person is not None and not person.is_panel
    themes = themes_of(path, version, codebook)
    if not themes:
        st.info("No themes are ready for the panel yet. Researchers choose quotes for each theme below.")
    else:
        st.markdown(
            "Please read each theme and the quotes. Tell us if it rings true. There are no wrong answers."
        )
    user = common.acting_user()
    for theme in themes:
        _theme(project, codebook, user, theme)
    if researcher:
        _quotes(project, codebook, user, path, version)
        _summary(path, version, codebook)


def _theme(project: Project, codebook: str, user: str | None, theme: PanelTheme) -> None:
    st.header(theme.name)
    st.markdown(theme.description)
    for quote in theme.quotes:
        st.markdown(
            f'<blockquote class="panel-quote">“{html.escape(quote.text)}”</blockquote>',
            unsafe_allow_html=True,
        )
    with st.form(f"panel_form_{theme.code_id}", clear_on_submit=True):
        verdict = st.radio(
            f"What do you think of the theme “{theme.name}”?",
            list(VERDICTS),
            format_func=VERDICTS.__getitem__,
            index=None,
            key=f"panel_verdict_{theme.code_id}",
        )
        rename = st.text_input("A better name for this theme (optional)", key=f"panel_rename_{theme.code_id}")
        comment = st.text_area(
            "Anything else you want to tell us? (optional)", key=f"panel_comment_{theme.code_id}"
        )
        submitted = st.form_submit_button(
            f"Submit my answer about “{theme.name}”", key=f"panel_submit_{theme.code_id}"
        )
    if not submitted:
        return
    if user is None:
        st.error("Please write your name (or a made-up name) in the box on the left first.")
    elif verdict is None:
        st.error("Please choose one of the three answers first.")
    else:
        saved = common.write(
            project,
            lambda c: record_panel_response(
                c, codebook, theme.code_id, verdict, user, rename=rename, comment=comment
            ),
            f"Thank you. Your answer about “{theme.name}” is saved.",
        )
        if saved is not None:
            st.success(f"Thank you. Your answer about “{theme.name}” is saved.")


def _quotes(project: Project, codebook: str, user: str | None, path: str, version: str) -> None:
    st.header("For researchers: choose quotes")
    codes = codes_of(path, version, codebook)
    names = {c.id: c.plain_name or c.name for c in codes}
    code_id = st.selectbox("Theme", list(names), format_func=names.__getitem__, key="panel_quote_code")
    if code_id is None:
        return
    options = quote_options(path, version, codebook, code_id)
    if not options:
        st.caption("No accepted segments for this theme yet: accept some in the Review queue first.")
        return
    segment_id = st.selectbox(
        "Quote", list(options), format_func=lambda i: options[i][:150], key="panel_quote_segment"
    )
    clicked = st.button("Add quote for the panel", key="panel_quote_add", disabled=user is None)
    if not (clicked and user and segment_id):
        return
    chooser = user
    if common.write(
        project, lambda c: choose_panel_quote(c, codebook, code_id, segment_id, chooser), "Quote added."
    ):
        st.rerun()


def _summary(path: str, version: str, codebook: str) -> None:
    st.header("Summary for the research team")
    summary = summary_of(path, version, codebook)
    if not summary:
        st.caption("No panel answers yet.")
        return
    st.dataframe(
        pd.DataFrame(
            [
                {"Theme": s.name, **{VERDICTS[v]: n for v, n in s.counts.items()}, "Answers": s.responses}
                for s in summary
            ]
        ),
        hide_index=True,
    )
    for s in summary:
        if s.renames or s.comments:
            with st.expander(f"{s.name}: names suggested and comments"):
                for rename in s.renames:
                    st.markdown(f"- Suggested name: {rename}")
                for comment in s.comments:
                    st.markdown(f"- {comment}")


if __name__ == "__main__":
    render()
