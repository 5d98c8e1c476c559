"""The Analysis page (streamlit.testing.v1.AppTest, in process) on the demo project of
:mod:`tests.builders.demo_project`: four documents from three participants and a blog post, so
every group is smaller than 5 people and the default threshold hides every number."""

from __future__ import annotations

import json
import re

import pyarrow as pa
import pytest

from tests.builders.demo_project import DemoProject
from tests.ui.test_pages import PAGES, open_app, texts


def charts_of(at) -> list[dict]:
    """The Vega-Lite specs of the page's charts, in page order, each with its data as records
    (Streamlit sends a chart's data beside the spec, as Arrow)."""
    found = []
    for chart in at.get("vega_lite_chart"):
        spec = json.loads(chart.proto.spec)
        table = pa.ipc.open_stream(chart.proto.data.data).read_all()
        spec["values"] = [{k: v for k, v in row.items()} for row in table.to_pylist()]
        found.append(spec)
    return found


def labels(spec: dict) -> dict[tuple[str, str], str]:
    """(theme, group) -> the text written in the cell."""
    return {(v["theme"].removeprefix("\u21b3 "), v["group"]): v["label"] for v in spec["values"]}


def plain(markdown: str) -> str:
    """Markdown as read: the backslashes that keep a quote's characters literal taken out."""
    return re.sub(r"\\(.)", r"\1", markdown)


def downloads(at) -> list[str]:
    return [button.label for button in at.get("download_button")]


def test_every_section_renders_with_a_download_for_each_table(monkeypatch, demo: DemoProject) -> None:
    at = open_app(monkeypatch, demo.project.path, "analysis")
    assert at.title[0].value == "Analysis"
    assert [tab.label for tab in at.tabs] == [
        "Themes by group",
        "Waves",
        "Codes together",
        "Quotes",
        "Agreement",
    ]
    assert len(charts_of(at)) == 3  # heatmap, waves, co-occurrence
    assert downloads(at) == [
        "Download themes by kind (CSV)",  # no need_group here: the first attribute
        "Download themes by wave (CSV)",
        "Download trajectory patterns (CSV)",
        "Download trajectories (CSV)",
        "Download wave changes (CSV)",
        "Download codes together by segment (CSV)",
        "Download quotes continuity (CSV)",
    ]


def test_small_groups_show_under_5_and_a_lower_threshold_shows_counts(monkeypatch, demo: DemoProject) -> None:
    at = open_app(monkeypatch, demo.project.path, "analysis")
    at.selectbox(key="analysis_attribute").set_value("age_band").run()
    heatmap = charts_of(at)[0]
    assert heatmap["layer"][0]["encoding"]["x"]["title"] == "age_band"
    assert set(labels(heatmap).values()) == {"<5"}  # one person in each group
    assert all(v["value"] is None for v in heatmap["values"])
    at.number_input(key="analysis_threshold").set_value(1).run()
    cells = labels(charts_of(at)[0])
    # continuity: R01 (65+) and P01 (no age band); R02 (18-64) never says it
    assert cells[("Continuity of care", "65+")] == "1"
    assert cells[("Continuity of care", "18-64")] == "0"
    assert cells[("Continuity of care", "(not recorded)")] == "1"
    # access carries its sub-codes: R02's paperwork, the blog's waiting (the blog has no age band)
    assert cells[("Access to support", "18-64")] == "1"
    assert cells[("Access to support", "(not recorded)")] == "1"


def test_changing_the_attribute_unit_and_percent_redraws_the_heatmap(monkeypatch, demo: DemoProject) -> None:
    at = open_app(monkeypatch, demo.project.path, "analysis")
    at.number_input(key="analysis_threshold").set_value(1).run()
    at.selectbox(key="analysis_attribute").set_value("kind").run()
    at.radio(key="analysis_unit").set_value("Segments").run()
    at.radio(key="analysis_percent").set_value("% of group (column)").run()
    assert not at.exception
    heatmap = charts_of(at)[0]
    assert heatmap["layer"][0]["encoding"]["x"]["title"] == "kind"
    cells = labels(heatmap)
    # interview: 4 sentences without the labels, 1 carries continuity; surveys: 2 of 4
    assert cells[("Continuity of care", "interview")] == "25%"
    assert cells[("Continuity of care", "survey")] == "50%"
    assert "Download themes by kind (CSV)" in downloads(at)


def test_cooccurrence_levels_and_quotes_of_another_theme(monkeypatch, demo: DemoProject) -> None:
    at = open_app(monkeypatch, demo.project.path, "analysis")
    at.radio(key="analysis_level").set_value("Same participant").run()
    assert not at.exception
    assert charts_of(at)[2]["title"] == "Codes found together from the same participant"
    at.selectbox(key="analysis_quote_code").set_value("waiting").run()
    shown = plain(texts(at.markdown))
    assert "Getting an assessment took eight months" in shown
    assert "Waiting for an assessment (blog)" in shown  # the blog post, cited by its title


def test_the_wave_chart_and_trajectories(monkeypatch, demo: DemoProject) -> None:
    at = open_app(monkeypatch, demo.project.path, "analysis")
    waves = charts_of(at)[1]
    assert waves["facet"]["field"] == "theme"
    found = {(v["theme"].removeprefix("\u21b3 "), v["wave"]): v["label"] for v in waves["values"]}
    assert found[("Continuity of care", 1)] == "<5"  # wave 1 has two participants
    at.selectbox(key="analysis_trajectory_code").set_value("continuity").run()
    trajectories = at.dataframe[1].value
    # R01 (wave 1) and P01 (wave 1) mention continuity, each in their only wave
    assert sorted(trajectories["participant"]) == ["P01", "R01"]
    assert set(trajectories["pattern"]) == {"one wave"}


def test_a_panel_member_cannot_open_the_analysis(monkeypatch, demo: DemoProject) -> None:
    at = open_app(monkeypatch, demo.project.path, user="Pat", role="panel")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(f"{PAGES}/analysis.py")


def test_machine_agreement_is_computed_on_request_and_says_why_there_are_no_figures(
    monkeypatch, demo: DemoProject
) -> None:
    at = open_app(monkeypatch, demo.project.path, "analysis")
    assert "E510" not in texts(at.info)  # nothing is computed until asked
    at.button(key="analysis_agreement_compute").click().run()
    # the demo was coded with a test embedder ('fake') that the explorer cannot load: it says so
    assert "E510" in texts(at.info) and "'fake'" in texts(at.info)
    assert not at.metric
