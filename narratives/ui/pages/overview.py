"""Overview: what the project holds, how much is coded, how reviewing goes, how far machine and
reviewers agree."""

from __future__ import annotations

import math

import altair as alt
import pandas as pd
import streamlit as st

from narratives.analysis.overview import Overview, overview
from narratives.store.status import ProjectStatus, project_status
from narratives.ui import common, machine_agreement_view


@st.cache_data(show_spinner=False)
def status_of(path: str, version: str) -> ProjectStatus:
    with common.project_by_path(path).connect() as connection:
        return project_status(connection)


@st.cache_data(show_spinner=False)
def figures_of(path: str, version: str, codebook: str) -> Overview:
    with common.project_by_path(path).connect() as connection:
        return overview(connection, codebook)


def _percent(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.0%}"


def render() -> None:
    common.require_researcher()
    project = common.require_project()
    st.title("Overview")
    version = common.data_version(project)
    status = status_of(str(project.path), version)
    if status.documents == 0:
        st.info(
            "The project has no documents yet. Add some with:\n\n"
            f"```\nnarratives ingest {project.path} corpus/blogs/*.md --kind blog\n```"
        )
        return
    codebook = common.require_codebook(project)
    figures = figures_of(str(project.path), version, codebook)
    _corpus(status, figures)
    if figures.progress.suggestions == 0 and figures.coded.coded == 0 and figures.made.total == 0:
        st.info(
            "Nothing is coded yet. Code the project with:\n\n"
            f"```\nnarratives code {project.path} --codebook YOUR-CODEBOOK.yaml\n```"
        )
        return
    _frequency(figures)
    _progress(figures)
    _agreement(figures)
    _machine_readiness(str(project.path), version, codebook)


def _corpus(status: ProjectStatus, figures: Overview) -> None:
    columns = st.columns(4)
    columns[0].metric("Documents", status.documents)
    columns[1].metric("Participants", status.participants)
    columns[2].metric(f"Segments ({figures.scope.unit or 'all'})", figures.coded.segments)
    columns[3].metric(
        "Coded share", _percent(figures.coded.share), help="Segments carrying at least one code"
    )
    table = pd.DataFrame(
        [
            {
                "Source kind": row.kind,
                "Wave": "–" if row.wave is None else str(row.wave),
                "Documents": row.documents,
                "Participants": row.participants,
                "Segments": row.segments,
            }
            for row in figures.corpus
        ]
    )
    st.header("By source kind and wave")
    st.dataframe(table, hide_index=True)


THEME = "Theme (counts its sub-codes)"
CODE = "Code"
LEVEL_COLOURS = {THEME: "#0072B2", CODE: "#E69F00"}  # Okabe-Ito blue and orange: colour-blind safe


def frequency_table(figures: Overview) -> pd.DataFrame:
    """One row per code in tree order; a sub-code's label starts with one ↳ per level below the top."""
    return pd.DataFrame(
        [
            {
                "Code": ("\u21b3" * f.level + " " if f.level else "") + f.name,
                "Level": THEME if f.has_subcodes else CODE,
                "Segments": f.segments,
                "Participants": f.participants,
            }
            for f in figures.frequency
        ]
    )


def _frequency(figures: Overview) -> None:
    st.header("Code frequency")
    measure = st.radio(
        "Count by",
        ["Segments", "Participants"],
        horizontal=True,
        key="overview_measure",
        help="Participants counts each person once per code, however often they said it. "
        "A theme counts every segment (or person) carrying it or any of its sub-codes, once.",
    )
    data = frequency_table(figures)
    chart = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X(f"{measure}:Q", title=measure),
            y=alt.Y("Code:N", sort=list(data["Code"]), title=None, axis=alt.Axis(labelLimit=320)),
            color=alt.Color(
                "Level:N",
                scale=alt.Scale(domain=list(LEVEL_COLOURS), range=list(LEVEL_COLOURS.values())),
                legend=alt.Legend(orient="bottom", title=None),
            ),
            tooltip=["Code", "Level", "Segments", "Participants"],
        )
    )
    st.altair_chart(chart, width="stretch")
    st.caption("Themes come before their sub-codes (marked ↳); within a level, the most frequent first.")


def _progress(figures: Overview) -> None:
    made, progress = figures.made, figures.progress
    st.header("Reviews made")
    st.caption(
        f"Every decision a reviewer took and did not undo, in all units: {made.total} reviews "
        f"by {made.reviewers} reviewer(s). Reviewing one suggestion twice counts twice."
    )
    columns = st.columns(4)
    columns[0].metric("Accept decisions", made.accept)
    columns[1].metric("Reject decisions", made.reject)
    columns[2].metric("Coded by hand", made.add)
    columns[3].metric("Uncoded by hand", made.remove)
    st.header("Current suggestions")
    st.caption(
        f"The machine's current suggestions on {figures.scope.unit or 'all'} segments and where "
        "each stands now (its latest review); a new coding run changes these, not the reviews made."
    )
    columns = st.columns(4)
    columns[0].metric("Suggestions", progress.suggestions)
    columns[1].metric("Accepted now", progress.accepted)
    columns[2].metric("Rejected now", progress.rejected)
    columns[3].metric("Pending", progress.pending)
    done = progress.reviewed / progress.suggestions if progress.suggestions else 0.0
    st.progress(
        min(done, 1.0),
        text=f"{progress.reviewed} of {progress.suggestions} current suggestions reviewed",
    )


def _agreement(figures: Overview) -> None:
    st.header("Agreement")
    machine = figures.machine
    columns = st.columns(3)
    columns[0].metric("Reviewed pairs", machine.items)
    columns[1].metric("Machine–reviewer agreement", _percent(machine.agreement))
    columns[2].metric("Cohen's kappa", machine_agreement_view.number(machine.kappa))
    if machine.items == 0:
        st.caption("Agreement appears once suggestions have been reviewed.")
    if figures.reviewers:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Reviewer": r.first,
                        "Other reviewer": r.second,
                        "Pairs both reviewed": r.agreement.items,
                        "Agreement": _percent(r.agreement.agreement),
                        "Kappa": machine_agreement_view.number(r.agreement.kappa),
                    }
                    for r in figures.reviewers
                ]
            ),
            hide_index=True,
        )


def _machine_readiness(path: str, version: str, codebook: str) -> None:
    """Which codes the machine can be trusted with yet: out-of-fold agreement and a verdict per code."""
    st.subheader("Is the machine ready? (out of fold)")
    st.caption(
        "The figures above compare the current suggestions with the reviews they were trained on. "
        "Here the machine is scored only on reviews it did not learn from, with 95% intervals, and "
        "each code is called ready, needing more reviews, or unreliable."
    )
    machine_agreement_view.agreement_section(path, version, codebook, "overview_machine", allow_target=True)


if __name__ == "__main__":
    render()
