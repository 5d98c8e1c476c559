"""The chart builders: suppressed cells carry no number, the encodings are what a reader needs, and
the specs render offline with vl-convert."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
import vl_convert as vlc

from narratives.analysis import charts
from narratives.analysis.crosstab import themes_by_attribute, themes_by_wave
from narratives.errors import AnalysisError
from tests.builders.study import CODEBOOK, Study


def crosstab(rows: list[tuple[str, str, str, int, int]], **extra: list[object]) -> pd.DataFrame:
    """(code id, code name, group, group size, count) rows as themes_by_attribute gives them."""
    frame = pd.DataFrame(rows, columns=["code_id", "code_name", "group", "group_size", "count"])
    frame["share"] = frame["count"] / frame["group_size"]
    frame["small_group"] = frame["group_size"] < 5
    for key, values in extra.items():
        frame[key] = values
    return frame


ROWS = [
    ("access", "Access", "North", 20, 10),
    ("access", "Access", "South", 10, 3),  # 3 people: suppressed
    ("access", "Access", "East", 4, 0),  # a group of 4 people: suppressed even at 0
    ("waiting", "Waiting", "North", 20, 5),
    ("waiting", "Waiting", "South", 10, 0),
    ("waiting", "Waiting", "East", 4, 2),
]


def cells_by(frame: pd.DataFrame) -> dict[tuple[str, str], str]:
    return {(r.code_id, r.group): r.label for r in frame.itertuples()}


def test_small_cells_and_small_groups_show_under_5_and_no_number() -> None:
    cells = charts.heatmap_cells(crosstab(ROWS))
    assert cells_by(cells) == {
        ("access", "North"): "10",
        ("access", "South"): "<5",
        ("access", "East"): "<5",
        ("waiting", "North"): "5",
        ("waiting", "South"): "0",
        ("waiting", "East"): "<5",
    }
    hidden = cells[cells["suppressed"]]
    assert len(hidden) == 3
    assert hidden["count"].isna().all() and hidden["value"].isna().all()
    assert "3" not in json.dumps(hidden.drop(columns=["group_size"]).astype(str).to_dict("records"))


def test_column_percent_is_of_the_group_and_row_percent_of_the_theme_cells_shown() -> None:
    rows = [*ROWS, ("access", "Access", "West", 30, 5), ("waiting", "Waiting", "West", 30, 15)]
    column = charts.heatmap_cells(crosstab(rows), percent="column")
    row = charts.heatmap_cells(crosstab(rows), percent="row")
    assert cells_by(column)[("access", "North")] == "50%"  # 10 of 20 people in the North
    # access: 10 North + 5 West shown; South's 3 and the East group are left out of the total
    assert cells_by(row)[("access", "North")] == "67%" and cells_by(row)[("access", "West")] == "33%"
    assert cells_by(row)[("waiting", "North")] == "25%"  # 5 of the 20 shown (East's 2 left out)
    assert cells_by(row)[("waiting", "South")] == "0%"
    assert cells_by(row)[("access", "South")] == "<5" and cells_by(row)[("waiting", "East")] == "<5"


def test_row_percent_leaves_nothing_over_for_a_suppressed_cell() -> None:
    """Were the total every cell's, 100% less the shown cells would be the hidden cells' share,
    and a shown cell's count over its share the total: the hidden count, worked back."""
    rows = [*ROWS, ("access", "Access", "West", 30, 5)]
    counts = charts.heatmap_cells(crosstab(rows))
    row = charts.heatmap_cells(crosstab(rows), percent="row")
    shown = row[~row["suppressed"]]
    assert shown.groupby("code_id")["value"].sum().tolist() == pytest.approx([100.0, 100.0])
    north = counts.set_index(["code_id", "group"]).loc[("access", "North"), "count"]
    share = shown.set_index(["code_id", "group"]).loc[("access", "North"), "value"]
    worked_total = north / (share / 100)
    assert worked_total == pytest.approx(counts[counts["code_id"] == "access"]["count"].sum())  # 15, not 18


def test_a_small_groups_size_is_suppressed_too() -> None:
    cells = charts.heatmap_cells(crosstab(ROWS))
    assert dict(zip(cells["group"], cells["group_label"], strict=True)) == {
        "North": "20",
        "South": "10",
        "East": "<5",
    }
    spec = charts.chart_spec(charts.theme_group_heatmap(crosstab(ROWS)))
    assert all("group_size" not in v for v in spec["data"]["values"])
    east = [v for v in spec["data"]["values"] if v["group"] == "East"]
    assert {v["group_label"] for v in east} == {"<5"} and "4" not in json.dumps(east)


def test_threshold_is_configurable() -> None:
    cells = charts.heatmap_cells(crosstab(ROWS), threshold=3)
    assert cells_by(cells)[("access", "South")] == "3"
    assert cells_by(cells)[("waiting", "East")] == "<3"


def test_segment_counts_are_suppressed_by_the_people_behind_them() -> None:
    segments = crosstab([("access", "Access", "North", 200, 40), ("access", "Access", "South", 90, 12)])
    people = crosstab([("access", "Access", "North", 20, 9), ("access", "Access", "South", 10, 2)])
    cells = charts.heatmap_cells(charts.with_people(segments, people))
    assert cells_by(cells) == {("access", "North"): "40", ("access", "South"): "<5"}


def test_unknown_percent_is_an_analysis_error() -> None:
    with pytest.raises(AnalysisError, match="count, row or column"):
        charts.heatmap_cells(crosstab(ROWS), percent="total")  # type: ignore[arg-type]


def test_heatmap_spec_encodes_themes_groups_values_and_labels() -> None:
    frame = crosstab(ROWS, level=[0, 0, 0, 1, 1, 1], parent=[None] * 3 + ["access"] * 3)
    spec = charts.chart_spec(charts.theme_group_heatmap(frame, attribute="council", percent="column"))
    rect, grey, text = spec["layer"]
    assert rect["encoding"]["color"]["field"] == "value"
    assert rect["encoding"]["color"]["scale"]["scheme"] == "cividis"
    assert rect["encoding"]["x"]["field"] == "group" and rect["encoding"]["x"]["title"] == "council"
    assert rect["encoding"]["y"]["sort"] == ["Access", "\u21b3 Waiting"]  # the sub-code indented
    assert grey["transform"] == [{"filter": "datum.suppressed"}]
    assert text["mark"]["type"] == "text" and text["encoding"]["text"]["field"] == "label"
    values = spec["data"]["values"]
    assert "url" not in spec["data"]
    hidden = [v for v in values if v["suppressed"]]
    assert {v["label"] for v in hidden} == {"<5"}
    assert all(v["value"] is None and v["count"] is None for v in hidden)
    assert "% of group" in spec["title"]


def test_wave_cells_suppress_small_waves_and_few_participants() -> None:
    counts = pd.DataFrame(
        {
            "code_id": ["a"] * 3,
            "code_name": ["A"] * 3,
            "wave": [1, 2, 3],
            "participants": [6, 2, 3],
            "wave_participants": [8, 8, 4],
        }
    )
    cells = charts.wave_cells(counts)
    assert cells["label"].tolist() == ["75%", "<5", "<5"]
    assert math.isclose(cells["value"][0], 75.0)
    assert cells["participants"][1:].isna().all()
    assert cells["wave_label"].tolist() == ["8", "8", "<5"]  # wave 3 had 4 participants
    values = charts.chart_spec(charts.theme_wave_chart(counts))["data"]["values"]
    assert all("wave_participants" not in v for v in values)
    assert [v["wave_label"] for v in values] == ["8", "8", "<5"]


def test_charts_of_a_real_study_render_to_png_offline(study: Study) -> None:
    with study.project.connect() as connection:
        by_group = themes_by_attribute(connection, CODEBOOK, "need_group", unit_of_count="segments")
        people = themes_by_attribute(connection, CODEBOOK, "need_group")
        waves = themes_by_wave(connection, CODEBOOK)
    heatmap = charts.theme_group_heatmap(charts.with_people(by_group, people), unit="segments")
    for chart in (heatmap, charts.theme_wave_chart(waves.counts)):
        png = vlc.vegalite_to_png(chart.to_json(), scale=1)
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 2000
    # the study's groups all have fewer than 5 people: every heatmap cell is suppressed
    assert {v["label"] for v in charts.chart_spec(heatmap)["data"]["values"]} == {"<5"}


def test_cooccurrence_cells_mirror_pairs_and_suppress_few_people() -> None:
    frame = pd.DataFrame(
        {
            "code_a": ["a", "a", "b"],
            "name_a": ["A", "A", "B"],
            "code_b": ["b", "c", "c"],
            "name_b": ["B", "C", "C"],
            "both": [7, 2, 0],
            "people": [6, 2, 0],
        }
    )
    cells = charts.cooccurrence_cells(frame)
    found = {(r.row, r.column): r.label for r in cells.itertuples()}
    assert found == {
        ("A", "B"): "7",
        ("A", "C"): "<5",
        ("B", "A"): "7",
        ("B", "C"): "0",
        ("C", "A"): "<5",
        ("C", "B"): "0",
    }
    spec = charts.chart_spec(charts.cooccurrence_chart(frame, level="participant"))
    assert spec["title"] == "Codes found together from the same participant"
