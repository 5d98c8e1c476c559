"""Analysis: themes by group (heatmap), across waves and per person, codes found together, balanced
quotes per theme, and how far the machine agrees with reviewers; every table downloadable as CSV.

Only the open tab is computed (``st.tabs`` with ``on_change="rerun"``): the first open counts the
themes by group and nothing else. Small cells (fewer than the threshold of people, default 5) show
"<5" and no number, in the charts and the downloads, and so does a small group's size; no totals
are shown, and the "% of theme" leaves suppressed cells out of its total. The tables come from
:mod:`narratives.ui.analysis_tables` (cached per project state); ``st.session_state`` holds only
the tab and the selections, under ``analysis_`` keys.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pandas as pd
import streamlit as st

from narratives.analysis import charts
from narratives.analysis.charts import Percent
from narratives.analysis.cooccurrence import Level
from narratives.analysis.crosstab import MIN_GROUP, UnitOfCount
from narratives.analysis.quotes import DEFAULT_BALANCE
from narratives.errors import NarrativesError
from narratives.kinds import SENTIMENTS
from narratives.store.project import Project
from narratives.ui import analysis_tables as tables
from narratives.ui import common

SECTIONS = ["Themes by group", "Waves", "Codes together", "Sentiment", "Quotes", "Agreement"]
UNITS: dict[str, UnitOfCount] = {"Participants": "participants", "Segments": "segments"}
PERCENTS: dict[str, Percent] = {"Counts": "count", "% of group (column)": "column", "% of theme (row)": "row"}
MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~<$:])")
LEVELS: dict[str, Level] = {
    "Same segment": "segment",
    "Same document": "document",
    "Same participant": "participant",
}


def render() -> None:
    common.require_researcher()
    project = common.require_project()
    st.title("Analysis")
    codebook = common.require_codebook(project)
    path, version = str(project.path), common.data_version(project)
    settings = st.columns([1, 2])
    threshold = int(
        settings[0].number_input(
            "Small-cell threshold (people)",
            min_value=1,
            max_value=50,
            value=MIN_GROUP,
            key="analysis_threshold",
            help="Cells about fewer people than this, and groups smaller than this, show '<N' and no number.",
        )
    )
    machine = settings[1].checkbox(
        "Count machine suggestions (at or above the coding run's thresholds)",
        value=True,
        key="analysis_machine",
        help="Off: reviewed coding only.",
    )
    if not tables.themes_of(path, version, codebook):
        st.info("The codebook has no active codes yet.")
        return
    sections: list[Callable[[], None]] = [
        lambda: _heatmap(path, version, codebook, threshold, machine),
        lambda: _waves(path, version, codebook, threshold, machine),
        lambda: _cooccurrence(path, version, codebook, threshold, machine),
        lambda: _sentiment(project, version, codebook, threshold, machine),
        lambda: _quotes(path, version, codebook, machine),
        lambda: _agreement(path, version, codebook),
    ]
    # Only the open tab's body is computed: choosing another tab reruns the page with it open.
    for tab, draw in zip(st.tabs(SECTIONS, key="analysis_section", on_change="rerun"), sections, strict=True):
        if tab.open:
            with tab:
                draw()


def _download(frame: pd.DataFrame, name: str, key: str) -> None:
    st.download_button(
        f"Download {name} (CSV)",
        tables.csv_bytes(frame),
        file_name=f"{name.replace(' ', '-')}.csv",
        mime="text/csv",
        key=f"analysis_download_{key}",
    )


def _heatmap(path: str, version: str, codebook: str, threshold: int, machine: bool) -> None:
    attributes = tables.attributes_of(path, version)
    if not attributes:
        st.info("The documents have no attributes to group by.")
        return
    columns = st.columns(3)
    default = "need_group" if "need_group" in attributes else attributes[0]
    attribute = columns[0].selectbox(
        "Group by", attributes, index=attributes.index(default), key="analysis_attribute"
    )
    unit = columns[1].radio("Count", list(UNITS), horizontal=True, key="analysis_unit")
    shown = columns[2].radio("Show", list(PERCENTS), horizontal=True, key="analysis_percent")
    frame = tables.heatmap_frame(path, version, codebook, attribute, UNITS[unit], machine)
    percent = PERCENTS[shown]
    chart = charts.theme_group_heatmap(
        frame,
        attribute=attribute,
        unit=UNITS[unit],
        percent=percent,
        threshold=threshold,
    )
    st.altair_chart(chart)
    st.caption(
        f"A parent theme counts each segment and person once, however many of its sub-codes they carry. "
        f"Grey cells ('<{threshold}') are about fewer than {threshold} people, or in a group of fewer "
        f"than {threshold}: their number is not shown here or in the download, nor is a small group's "
        "size. No totals are shown, and '% of theme' is of the theme's cells shown: the grey cells are "
        "left out of that total, so it cannot give them back. A 'hidden' cell is not small: it is "
        "hidden so that a parent theme's count, less its sub-codes' shown counts, cannot narrow "
        "down a grey cell."
    )
    cells = charts.heatmap_cells(frame, percent=percent, threshold=threshold)
    table = cells[["theme", "group", "group_label", "label"]].rename(
        columns={
            "theme": "Theme",
            "group": attribute,
            "group_label": f"Group size ({unit.lower()})",
            "label": shown,
        }
    )
    _download(table, f"themes by {attribute}", "heatmap")


def _waves(path: str, version: str, codebook: str, threshold: int, machine: bool) -> None:
    found = tables.waves_of(path, version, codebook, machine)
    if found is None:
        st.info("No document has a wave: themes across waves need a longitudinal study (`--wave` at ingest).")
        return
    st.altair_chart(charts.theme_wave_chart(found.counts, threshold=threshold))
    cells = charts.wave_cells(found.counts, threshold=threshold)
    table = cells[["theme", "wave", "wave_label", "label"]].rename(
        columns={"wave_label": "wave_participants"}
    )
    _download(table, "themes by wave", "waves")
    st.subheader("How each theme runs through people's waves")
    st.caption(
        "Per participant and theme: every wave, appears (from some wave on), disappears (up to some "
        "wave), intermittent, or one wave (took part once). These tables name participants' keys: "
        "for the team, not for publication."
    )
    st.dataframe(found.patterns, hide_index=True)
    _download(found.patterns, "trajectory patterns", "patterns")
    names = tables.themes_of(path, version, codebook)
    chosen = st.selectbox(
        "Participants' trajectories for",
        list(names),
        format_func=lambda c: names[c],
        key="analysis_trajectory_code",
    )
    mine = found.trajectories[found.trajectories["code_id"] == chosen]
    shown = mine[["participant", "waves", "participant_waves", "pattern"]]
    st.dataframe(shown, hide_index=True)
    _download(found.trajectories, "trajectories", "trajectories")
    st.subheader("Between consecutive waves")
    st.dataframe(found.changes.drop(columns=["code_id"]), hide_index=True)
    _download(found.changes, "wave changes", "changes")


def _cooccurrence(path: str, version: str, codebook: str, threshold: int, machine: bool) -> None:
    label = st.radio("Found together in", list(LEVELS), horizontal=True, key="analysis_level")
    level = LEVELS[label]
    frame = tables.cooccurrence_of(path, version, codebook, level, machine)
    if frame.empty:
        st.info("The codebook has fewer than two codes to pair.")
        return
    st.altair_chart(charts.cooccurrence_chart(frame, level=level, threshold=threshold))
    st.caption(
        f"How many {level}s carry both codes (a parent theme carries its sub-codes; a code is not paired "
        f"with its own parent). '<{threshold}': fewer than {threshold} people."
    )
    table = charts.cooccurrence_table(frame, threshold=threshold)
    st.dataframe(table, hide_index=True)
    _download(table, f"codes together by {level}", "cooccurrence")


def _sentiment(project: Project, version: str, codebook: str, threshold: int, machine: bool) -> None:
    from narratives.analysis.sentiment import NOT_SCORED

    path = str(project.path)
    frame = tables.sentiment_of(path, version, codebook, machine)
    scored = not frame.empty and bool(frame.loc[frame["sentiment"] != NOT_SCORED, "count"].any())
    _score_sentiment(project, scored)
    if not scored:
        st.info(
            "No segment has a sentiment yet: press the button above, or run\n\n"
            f"```\nnarratives sentiment {path}\n```"
        )
        return
    frame = frame.assign(
        shown=[
            charts.suppressed_label(threshold) if 0 < people < threshold else str(count)
            for count, people in zip(frame["count"], frame["people"], strict=True)
        ]
    )
    wide = frame.pivot_table(
        index=["code_id", "code_name"], columns="sentiment", values="shown", aggfunc="first", sort=False
    )  # rows in the frame's tree order
    order = [c for c in (*SENTIMENTS, NOT_SCORED) if c in wide.columns]
    wide = wide[order].fillna("0")
    table = wide.reset_index().rename(columns={"code_name": "theme"}).drop(columns=["code_id"])
    table.columns.name = None
    st.dataframe(table, hide_index=True)
    st.caption(
        "Segments carrying each theme by their sentiment (a reviewer's correction wins over the model; "
        f"a parent theme counts its sub-codes' segments once). '{charts.suppressed_label(threshold)}': "
        f"the segments of fewer than {threshold} people."
    )
    _download(table, "themes by sentiment", "sentiment")


def _score_sentiment(project: Project, scored: bool) -> None:
    """Label every segment's sentiment here (as `narratives sentiment` does), or again, to learn from
    the reviewers' corrections; a minute or so, the first time longer (the rated comments are embedded)."""
    common.show_flash()
    label = "Score sentiment again (learns from corrections)" if scored else "Score sentiment"
    if not st.button(label, key="analysis_sentiment_score"):
        return
    viewer = common.viewer()
    with st.spinner("Scoring the sentiment of every segment..."):
        try:
            result = common.score_sentiment(project, viewer.name if viewer else "explorer")
        except NarrativesError as error:
            st.error(str(error))
            return
    counts = ", ".join(f"{result.counts.get(label, 0):,} {label}" for label in SENTIMENTS)
    st.session_state["flash"] = f"Sentiment of {result.segments:,} {result.unit} segments: {counts}."
    st.rerun()  # the tables follow the new labels


def _quotes(path: str, version: str, codebook: str, machine: bool) -> None:
    names = tables.themes_of(path, version, codebook)
    attributes = [a for a in tables.attributes_of(path, version) if a not in ("kind", "wave")]
    columns = st.columns([2, 2, 1])
    code_id = columns[0].selectbox(
        "Theme", list(names), format_func=lambda c: names[c], key="analysis_quote_code"
    )
    balance = columns[1].multiselect(
        "Balance across",
        attributes,
        default=[a for a in DEFAULT_BALANCE if a in attributes],
        key="analysis_balance",
        help="Quotes are spread over these groups, source kinds and waves; at most one per person.",
    )
    n = int(columns[2].number_input("Quotes", min_value=1, max_value=20, value=5, key="analysis_quote_n"))
    if code_id is None:
        return
    found = tables.quotes_of(path, version, codebook, code_id, n, tuple(balance), machine)
    if not found:
        st.info("No segment carries this theme yet (or none is between 6 and 80 words).")
        return
    st.caption("De-identified with the project's settings (names, places and the project's deidentify.toml).")
    for quote in found:
        groups = ", ".join(f"{k} = {v}" for k, v in quote.groups.items())
        st.markdown(
            f"> {_md(quote.text)}\n\n— {_md(quote.attribution)}"
            + (f"; {_md(groups)}" if groups else "")
            + f" ({quote.source})"
        )
        for warning in quote.warnings:
            st.warning(warning, icon=":material/warning:")
    table = pd.DataFrame(
        [{"quote": q.text, "from": q.attribution, **q.groups, "source": q.source} for q in found]
    )
    _download(table, f"quotes {code_id}", "quotes")


def _md(text: str) -> str:
    """``text`` shown as it is in Markdown: no emphasis, links, headings or formulas from its characters."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _agreement(path: str, version: str, codebook: str) -> None:
    from narratives.ui.machine_agreement_view import agreement_section

    agreement_section(path, version, codebook, "analysis_agreement", allow_target=True)
    st.caption("Agreement between people is on the Agreement page.")


if __name__ == "__main__":
    render()
