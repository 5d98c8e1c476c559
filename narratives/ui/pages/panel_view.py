"""The panel member's page: the rounds they were invited to, each theme in everyday words with
de-identified quotes, and their own answers, which they can change (a new answer each time).

Nothing of the research side is here: no codebook names or ids, no paths, no exports, no other
page. The library (:func:`narratives.review.panel.member_view`) decides what a member may see.
"""

from __future__ import annotations

import streamlit as st

from narratives.review.panel import VERDICTS
from narratives.review.panel_rounds import MemberRound, MemberTheme, member_view, record_round_response
from narratives.store.project import Project
from narratives.ui import common, panel_widgets

THEMES_PER_PAGE = 5  # a round of many themes comes a few at a time, not as one very long page
INTRO = (
    "Please read each theme and the quotes. Tell us if it rings true. There are no wrong answers, "
    "and you can change your answer while the round is open."
)


def render() -> None:
    person = common.viewer()
    if person is None:
        st.stop()
    project = common.require_project()
    panel_widgets.styles(large=True)
    st.title("What we heard")
    common.show_flash()
    rounds = common.read(project, lambda c: member_view(c, person.name))
    if not rounds:
        st.info("There is nothing to answer yet. When a researcher invites you to a round, it shows here.")
        return
    st.markdown(INTRO)
    for panel_round in rounds:
        _round(project, person.name, panel_round)


def _round(project: Project, member: str, panel_round: MemberRound) -> None:
    st.header(panel_round.title)
    closes = f"{panel_round.closes:%d %B %Y}"
    if panel_round.is_open:
        st.caption(f"Open until the end of {closes}.")
    else:
        st.warning(f"This round closed on {closes}. Thank you for taking part.")
    numbered = list(enumerate(panel_round.themes))
    key = f"panel_view_{panel_round.round_id}_page"
    for number, theme in panel_widgets.page_of(numbered, THEMES_PER_PAGE, key, "themes"):
        _theme(project, member, panel_round, number, theme)


def _theme(project: Project, member: str, panel_round: MemberRound, number: int, theme: MemberTheme) -> None:
    st.subheader(theme.name)
    if theme.description:
        st.markdown(theme.description)
    for shown in theme.quotes:
        panel_widgets.quote(shown.text)
    latest = theme.latest
    if latest is not None:
        st.markdown(f"**Your answer now:** {VERDICTS[latest.verdict]}")
        if len(theme.answers) > 1:
            with st.expander("Your earlier answers"):
                for answer in theme.answers[:-1]:
                    st.markdown(f"- {answer.created:%d %B %Y, %H:%M}: {VERDICTS[answer.verdict]}")
    if panel_round.is_open:
        _answer_form(project, member, panel_round, number, theme)


def _answer_form(
    project: Project, member: str, panel_round: MemberRound, number: int, theme: MemberTheme
) -> None:
    key = f"panel_view_{panel_round.round_id}_{number}"  # no code ids in the page
    latest = theme.latest
    verdicts = list(VERDICTS)
    with st.form(f"{key}_form"):
        verdict = st.radio(
            f"What do you think of the theme “{theme.name}”?",
            verdicts,
            format_func=VERDICTS.__getitem__,
            index=None if latest is None else verdicts.index(latest.verdict),
            key=f"{key}_verdict",
        )
        rename = st.text_input(
            "A better name for this theme (optional)",
            value=(latest.rename if latest else None) or "",
            key=f"{key}_rename",
        )
        comment = st.text_area(
            "Anything else you want to tell us? (optional)",
            value=(latest.comment if latest else None) or "",
            key=f"{key}_comment",
        )
        label = "Change my answer" if latest else "Submit my answer"
        submitted = st.form_submit_button(f"{label} about “{theme.name}”", key=f"{key}_submit")
    if not submitted:
        return
    if verdict is None:
        st.error("Please choose one of the three answers first.")
        return
    done = f"Thank you. Your answer about “{theme.name}” is saved."
    saved = common.write(
        project,
        lambda c: record_round_response(
            c, panel_round.round_id, theme.code_id, verdict, member, rename=rename, comment=comment
        ),
        done,
    )
    if saved is not None:
        st.rerun()


if __name__ == "__main__":
    render()
