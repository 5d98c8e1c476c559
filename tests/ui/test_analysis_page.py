"""The Analysis page (streamlit.testing.v1.AppTest, in process) on the demo project of
:mod:`tests.builders.demo_project`: four documents from three participants and a blog post, so
every group is smaller than 5 people and the default threshold hides every number."""

from __future__ import annotations

import csv
import io
import json
import re

import pyarrow as pa
import pytest

from narratives.analysis.machine_agreement import machine_agreement
from narratives.schema import Attribute, Codebook, Decision, Document, SourceKind
from narratives.store.project import init_project
from tests.builders.demo_project import CODEBOOK, CODES, DemoProject, sentence_segments
from tests.builders.project import Cell, ProjectBuilder
from tests.builders.themes import FakeEmbedder, add_documents, comments, make_codebook
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


def open_section(at, name: str):
    """Choose the tab ``name`` as a click would (the tabs keep their state under a key) and rerun."""
    at.session_state["analysis_section"] = name
    return at.run()


def test_only_the_open_section_is_computed_and_each_has_its_downloads(monkeypatch, demo: DemoProject) -> None:
    at = open_app(monkeypatch, demo.project.path, "analysis")
    assert at.title[0].value == "Analysis"
    assert [tab.label for tab in at.tabs] == [
        "Themes by group",
        "Waves",
        "Codes together",
        "Sentiment",
        "Quotes",
        "Agreement",
    ]
    # the first open draws the heatmap only: no wave, co-occurrence or quote table is computed
    assert [c["title"] for c in charts_of(at)] == ["Themes by kind: participants"]  # the first attribute
    assert downloads(at) == ["Download themes by kind (CSV)"]
    assert "\n\n— " not in texts(at.markdown)  # no quote chosen or de-identified yet
    expected = {
        "Waves": [
            "Download themes by wave (CSV)",
            "Download trajectory patterns (CSV)",
            "Download trajectories (CSV)",
            "Download wave changes (CSV)",
        ],
        "Codes together": ["Download codes together by segment (CSV)"],
        "Sentiment": [],  # the demo project's segments have no sentiment yet: how to score them
        "Quotes": ["Download quotes continuity (CSV)"],
        "Agreement": [],  # computed only on request
    }
    for name, buttons in expected.items():
        open_section(at, name)
        assert not at.exception, [e.value for e in at.exception]
        assert downloads(at) == buttons, name
        assert len(charts_of(at)) == (1 if name in ("Waves", "Codes together") else 0), name


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
    at = open_section(open_app(monkeypatch, demo.project.path, "analysis"), "Codes together")
    at.radio(key="analysis_level").set_value("Same participant").run()
    assert not at.exception
    assert charts_of(at)[0]["title"] == "Codes found together from the same participant"
    open_section(at, "Quotes")
    at.selectbox(key="analysis_quote_code").set_value("waiting").run()
    shown = plain(texts(at.markdown))
    assert "Getting an assessment took eight months" in shown
    assert "Waiting for an assessment (blog)" in shown  # the blog post, cited by its title


def test_the_wave_chart_and_trajectories(monkeypatch, demo: DemoProject) -> None:
    at = open_section(open_app(monkeypatch, demo.project.path, "analysis"), "Waves")
    waves = charts_of(at)[0]
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
    at = open_section(open_app(monkeypatch, demo.project.path, "analysis"), "Agreement")
    assert "E510" not in texts(at.info)  # nothing is computed until asked
    at.button(key="analysis_agreement_compute").click().run()
    # the demo was coded with a test embedder ('fake') that the explorer cannot load: it says so
    assert "E510" in texts(at.info) and "'fake'" in texts(at.info)
    assert not at.metric


# ------------------------------------------------------------------- small-cell suppression, exactly

GROUPS = {"A": 6, "B": 6, "C": 3}  # need_group -> people; C is smaller than 5
SAYS = {  # code -> how many people of each group say its sentence
    "continuity": {"A": 5, "B": 2, "C": 1},
    "choice": {"A": 6, "B": 6, "C": 0},
}
SENTENCE = {"continuity": "The carers change every week", "choice": "My budget gives me a real say"}


@pytest.fixture
def groups_project(tmp_path):
    """15 people in three need groups, one interview each, coded by hand-chosen counts (SAYS)."""
    project = init_project(tmp_path / "groups")
    made = []
    for need, size in GROUPS.items():
        for k in range(size):
            person = f"{need}{k}"
            said = [code for code, counts in SAYS.items() if k < counts[need]]
            text = " ".join([f"{SENTENCE[c]} ({person})." for c in said] + [f"Thank you ({person})."])
            made.append((person, need, said, text))
    with project.begin() as connection:
        build = ProjectBuilder(connection, codebook=CODEBOOK)
        build.add_documents(
            [
                Document(
                    kind=SourceKind.interview,
                    title=f"Interview {person}",
                    text=text,
                    participant=person,
                    path=f"{person}.txt",
                    participant_attributes=[Attribute.of("need_group", need)],
                )
                for person, need, _, text in made
            ],
            split=sentence_segments,
        )
        build.store_codebook(Codebook(name=CODEBOOK, version="1", codes=CODES))
        ids = build.segment_ids()
        build.coding_run(
            [Cell(ids[f"{SENTENCE[c]} ({person})."], c, 0.9) for person, _, said, _ in made for c in said],
            config={"settings": {"threshold": 0.5}},
        )
    project.close()
    return project


@pytest.fixture
def media(monkeypatch) -> list:
    """The media stores AppTest runs write downloads to (one per run), to read a download's bytes."""
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
    from streamlit.testing.v1 import app_test

    stores: list = []

    class Recorded(MemoryMediaFileStorage):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            stores.append(self)

    monkeypatch.setattr(app_test, "MemoryMediaFileStorage", Recorded)
    return stores


def download_csv(at, media: list, label: str) -> list[dict[str, str]]:
    """The rows of the CSV the download button ``label`` hands out, as the last run made it."""
    button = next(b for b in at.get("download_button") if b.label == label)
    data = media[-1].get_file(button.proto.url.rsplit("/", 1)[-1]).content
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def test_small_cells_are_suppressed_in_the_chart_and_the_csv(monkeypatch, groups_project, media) -> None:
    at = open_app(monkeypatch, groups_project.path, "analysis")
    cells = labels(charts_of(at)[0])
    assert {g: cells[("Continuity of care", g)] for g in GROUPS} == {"A": "5", "B": "<5", "C": "<5"}
    assert {g: cells[("Choice and control", g)] for g in GROUPS} == {"A": "6", "B": "6", "C": "<5"}
    values = charts_of(at)[0]["values"]
    hidden = [v for v in values if v["label"] == "<5"]
    assert hidden and all(v["value"] is None and v["count"] is None for v in hidden)
    assert all("group_size" not in v and "group_people" not in v for v in values)
    rows = download_csv(at, media, "Download themes by need_group (CSV)")
    by_cell = {(r["Theme"].removeprefix("\u21b3 "), r["need_group"]): r for r in rows}
    assert by_cell[("Continuity of care", "B")] == {
        "Theme": "Continuity of care",
        "need_group": "B",
        "Group size (participants)": "6",
        "Counts": "<5",
    }
    assert by_cell[("Continuity of care", "C")]["Group size (participants)"] == "<5"  # 3 people
    assert by_cell[("Continuity of care", "C")]["Counts"] == "<5"
    assert "2" not in {r["Counts"] for r in rows} and "3" not in {
        r["Group size (participants)"] for r in rows
    }
    assert "cannot give them back" in texts(at.caption)


def test_the_theme_percent_leaves_suppressed_cells_out_of_its_total(
    monkeypatch, groups_project, media
) -> None:
    """Over every cell, continuity would be A 5/8 = 62%: with A's 5 and the CSV's group sizes, the
    hidden B and C (3 people together) would follow. Over the cells shown it is 100%."""
    at = open_app(monkeypatch, groups_project.path, "analysis")
    at.radio(key="analysis_percent").set_value("% of theme (row)").run()
    cells = labels(charts_of(at)[0])
    assert {g: cells[("Continuity of care", g)] for g in GROUPS} == {"A": "100%", "B": "<5", "C": "<5"}
    assert {g: cells[("Choice and control", g)] for g in GROUPS} == {"A": "50%", "B": "50%", "C": "<5"}
    rows = download_csv(at, media, "Download themes by need_group (CSV)")
    assert {r["need_group"]: r["% of theme (row)"] for r in rows if r["Theme"] == "Continuity of care"} == {
        "A": "100%",
        "B": "<5",
        "C": "<5",
    }
    at.number_input(key="analysis_threshold").set_value(2).run()  # B's 2 people now show; C's 1 does not
    cells = labels(charts_of(at)[0])
    assert {g: cells[("Continuity of care", g)] for g in GROUPS} == {"A": "71%", "B": "29%", "C": "<2"}


# ------------------------------------------------------------------- machine agreement, the figures

AGREEMENT_BOOK = "test-book"
OWN_CODE = {"waiting": "waiting", "staff": "staff", "money": "money", "lonely": "isolation"}
AGREEMENT_CODES = ["waiting", "staff", "money", "isolation"]


@pytest.fixture
def reviewed_by_two(tmp_project):
    """About 150 themed survey answers, reviewed by two people (ana the even ones, ben the odd ones,
    both the first ten, alike): each answer's own code accepted and the next code rejected."""
    answers = [(theme, text) for theme, text in comments() if theme in OWN_CODE]
    add_documents(tmp_project, [[text] for _, text in answers], kind=SourceKind.survey)
    with tmp_project.begin() as connection:
        build = ProjectBuilder(connection, AGREEMENT_BOOK)
        build.store_codebook(make_codebook())
        ids = build.segment_ids()
        for number, (theme, text) in enumerate(answers):
            own = OWN_CODE[theme]
            other = AGREEMENT_CODES[(AGREEMENT_CODES.index(own) + 1) % 4]
            users = ["ana", "ben"] if number < 10 else ["ana" if number % 2 == 0 else "ben"]
            for user in users:
                build.review(ids[text], own, Decision.accept, user=user)
                build.review(ids[text], other, Decision.reject, user=user)
    return tmp_project


def test_machine_agreement_shows_the_figures_the_library_computes(monkeypatch, reviewed_by_two) -> None:
    """The page's metrics and table are machine_agreement's own, with the test embedder standing in
    for the model (the project was never coded, so the page asks for the default one)."""
    from narratives.ui import common

    monkeypatch.setattr(common, "embedder", lambda name: FakeEmbedder())
    expected = machine_agreement(reviewed_by_two, AGREEMENT_BOOK, embedder=FakeEmbedder())
    at = open_section(open_app(monkeypatch, reviewed_by_two.path, "analysis"), "Agreement")
    assert not at.metric  # nothing is computed until asked
    at.button(key="analysis_agreement_compute").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.info
    shown = {metric.label: metric.value for metric in at.metric}
    assert shown == {name.capitalize(): f"{e.value:.2f}" for name, e in expected.overall.items()}
    assert set(shown) == {"Precision", "Recall", "F1", "Kappa"}
    assert 0.5 < expected.overall["f1"].value <= 1.0  # a figure worth showing, not a blank
    table = at.dataframe[0].value
    want = expected.to_frame()
    assert table.drop(columns="theme").to_dict("records") == want.to_dict("records")
    assert list(table["code"]) == AGREEMENT_CODES
    assert list(table["theme"]) == [make_codebook().code(c).name for c in AGREEMENT_CODES]
    caption = texts(at.caption)
    assert f"{expected.n_segments} reviewed segments, 5 folds, seed 0" in caption
    assert "Download machine agreement (CSV)" in downloads(at)


def test_the_overview_and_the_review_queue_say_which_codes_are_ready(monkeypatch, reviewed_by_two) -> None:
    """The Overview shows the out-of-fold table with the team's target (which it sets for everyone);
    the review queue gives the verdict of the code under review, from the same figures."""
    from narratives.analysis.machine_agreement import team_target
    from narratives.coding.runner import code_project
    from narratives.ui import common

    monkeypatch.setattr(common, "embedder", lambda name: FakeEmbedder())
    code_project(reviewed_by_two, make_codebook(), embedder=FakeEmbedder(), user="ana")
    at = open_app(monkeypatch, reviewed_by_two.path, "overview")
    assert "Is the machine ready? (out of fold)" in texts(at.subheader)
    at.number_input(key="overview_machine_target").set_value(0.6).run()
    assert team_target(reviewed_by_two) == pytest.approx(0.6)
    at.button(key="overview_machine_compute").click().run()
    assert not at.exception, [e.value for e in at.exception]
    expected = machine_agreement(reviewed_by_two, AGREEMENT_BOOK, embedder=FakeEmbedder(), target=0.6)
    table = at.dataframe[-1].value
    assert list(table["verdict"]) == [c.verdict for c in expected.per_code]
    assert "reaches 0.60 with at least 30" in texts(at.caption)
    at.switch_page(f"{PAGES}/review.py").run()  # computed at this state already: shown at once
    assert not at.exception, [e.value for e in at.exception]
    assert not [b for b in at.button if b.key == "review_readiness"]
    shown = texts(at.caption)
    verdicts = {c.code_id: c.verdict for c in expected.per_code}
    assert "This code: **" in shown and "(out of fold; target 0.60)" in shown
    assert any(f"This code: **{verdict}**" in shown for verdict in verdicts.values())
