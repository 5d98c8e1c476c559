"""Altair charts of the analyses, for the explorer's Analysis page and for reports.

Each builder takes the table an analysis returns (:func:`~narratives.analysis.crosstab.themes_by_attribute`,
:func:`~narratives.analysis.crosstab.themes_by_wave`, :func:`~narratives.analysis.cooccurrence.code_cooccurrence`)
and returns an ``alt.Chart`` whose data is inline (no URLs), so vl-convert renders it to PNG or SVG
without a browser or a network. Extra columns (``level``, ``parent``) are kept or ignored.

Small cells are suppressed before anything is drawn: a cell about fewer than ``threshold`` people
(default 5), or any cell of a group of fewer than ``threshold`` people, shows ``"<5"`` and carries
no number, in the chart and in the table :func:`heatmap_cells` returns for download. A cell that
would give one back beside its sub-codes (a parent theme's count, see
:mod:`~narratives.analysis.suppression`) shows ``"hidden"`` and carries no number either. A count of
segments is suppressed by the people behind it (a ``people`` column, see :func:`with_people`).

Printed in grey or read by someone who does not tell colours apart, every chart still reads: cells
carry their number as text, the sequential scale is cividis (designed for colour-vision deficiency),
lines are one Okabe-Ito blue, one theme per panel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, Literal

import numpy as np
import pandas as pd

from narratives.analysis.suppression import HIDDEN_LABEL, hidden_by_parents
from narratives.errors import AnalysisError

if TYPE_CHECKING:
    import altair as alt

Percent = Literal["count", "row", "column"]
PERCENTS: tuple[Percent, ...] = ("count", "row", "column")
MIN_PEOPLE = 5
SCHEME: Final = "cividis"
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
SUPPRESSED_FILL = "#d9d9d9"
SUBCODE = "\u21b3 "  # before a sub-code's name, once per level: the tree survives print and trimming
CELL_COLUMNS = [
    "code_id",
    "theme",
    "group",
    "group_size",
    "count",
    "value",
    "label",
    "suppressed",
]
WAVE_COLUMNS = [
    "code_id",
    "theme",
    "wave",
    "wave_participants",
    "participants",
    "value",
    "label",
    "suppressed",
]
UNIT_TITLES = {"participants": "Participants", "segments": "Segments", "documents": "Documents"}


def suppressed_label(threshold: int) -> str:
    return f"<{threshold}"


def with_people(frame: pd.DataFrame, by_participants: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (counted by segments or documents) with ``people`` and ``group_people`` columns:
    the participants counted per (code, group) and per group in ``by_participants`` (the same
    crosstab counted by participants), so its small cells are suppressed by people, not rows."""
    people = by_participants[["code_id", "group", "count", "group_size"]].rename(
        columns={"count": "people", "group_size": "group_people"}
    )
    merged = frame.drop(columns=["people", "group_people"], errors="ignore").merge(
        people, on=["code_id", "group"], how="left"
    )
    merged["people"] = merged["people"].fillna(0).astype(int)
    merged["group_people"] = merged["group_people"].fillna(0).astype(int)
    return merged


def theme_labels(frame: pd.DataFrame) -> pd.Series:
    """The code's name, indented under its parent when the frame says its level; ids where names repeat."""
    names = frame["code_name"].fillna(frame["code_id"]).astype(str)
    repeated = frame.groupby(names)["code_id"].transform("nunique") > 1
    names = names.where(~repeated, names + " (" + frame["code_id"].astype(str) + ")")
    if "level" in frame.columns:
        depth = pd.to_numeric(frame["level"], errors="coerce").fillna(0).astype(int)
        names = pd.Series([SUBCODE * d + n for d, n in zip(depth, names, strict=True)], index=frame.index)
    return names


def _percent_text(value: float) -> str:
    return f"{value:.0f}%"


def heatmap_cells(
    frame: pd.DataFrame,
    *,
    percent: Percent = "count",
    threshold: int = MIN_PEOPLE,
) -> pd.DataFrame:
    """The cells a theme x group heatmap shows, suppressed: :data:`CELL_COLUMNS` and any extra columns.

    ``percent``: ``count`` shows the count; ``column`` the share of the group (count / group size);
    ``row`` the share of the theme's count in the cells shown that falls in each group: the total
    leaves suppressed cells out, since a total over every cell would give a hidden cell back (100%
    less the shown percentages, times the theme's total worked out from any shown cell's count).
    ``value`` is what is shown (NaN where suppressed); ``count`` is blank where suppressed, so the
    table can be downloaded; ``group_label`` is the group's size, or ``"<5"`` for a group of fewer
    people. People per cell come from a ``people``/``group_people`` column where there is one (see
    :func:`with_people`), else from ``count``/``group_size`` (a frame counted by participants).
    """
    if percent not in PERCENTS:
        raise AnalysisError(f"cannot show '{percent}'.", fix="use count, row or column.")
    cells = frame.copy()
    people = cells["people"] if "people" in cells.columns else cells["count"]
    group_people = cells["group_people"] if "group_people" in cells.columns else cells["group_size"]
    primary = (group_people < threshold) | ((people > 0) & (people < threshold))
    second = (
        hidden_by_parents(cells, group="group", count="count", suppressed=primary)
        if "people" not in cells.columns  # counted by participants: parents could bound people
        else pd.Series(False, index=cells.index)
    )
    small = primary | second
    counts = cells["count"].astype(float)
    if percent == "count":
        value = counts
    elif percent == "column":
        value = 100 * counts / cells["group_size"].where(cells["group_size"] > 0)
    else:
        totals = counts.where(~small, 0.0).groupby(cells["code_id"]).transform("sum")
        value = 100 * counts / totals.where(totals > 0)
    value = value.fillna(0.0)
    cells["theme"] = theme_labels(cells)
    cells["value"] = value.where(~small)
    cells["count"] = cells["count"].astype("Int64").where(~small)
    cells["suppressed"] = small
    shown = [_percent_text(v) if percent != "count" else str(int(v)) for v in value]
    cells["label"] = np.where(second, HIDDEN_LABEL, np.where(primary, suppressed_label(threshold), shown))
    sizes = cells["group_size"].astype(str)
    cells["group_label"] = sizes.where(group_people >= threshold, suppressed_label(threshold))
    extra = [c for c in cells.columns if c not in CELL_COLUMNS and c not in {"people", "code_name", "share"}]
    keep = [c for c in extra if c in {"level", "parent", "group_people", "group_label"}]
    return cells.reindex(columns=[*CELL_COLUMNS, *keep]).reset_index(drop=True)


def _inline(frame: pd.DataFrame) -> alt.Data:
    """``frame`` as an inline data set: plain JSON values, blanks as null (never NaN, never a URL)."""
    import altair as alt

    def plain(value: Any) -> Any:
        if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
            return None
        return value.item() if isinstance(value, np.generic) else value

    records = [{k: plain(v) for k, v in row.items()} for row in frame.to_dict("records")]
    return alt.Data(values=records)


def _text_colour(values: pd.Series) -> list[str]:
    """White text on the dark half of cividis, black on the light half and on suppressed cells."""
    top = float(values.max()) if values.notna().any() else 0.0
    low = float(values.min()) if values.notna().any() else 0.0
    middle = low + (top - low) / 2
    return ["black" if pd.isna(v) or (top > low and v >= middle) else "white" for v in values]


def _cell_chart(
    cells: pd.DataFrame,
    *,
    x: str,
    y: str,
    x_title: str,
    y_title: str | None,
    legend_title: str,
    title: str,
) -> alt.LayerChart:
    """Rectangles coloured by ``value`` (grey where suppressed) with each cell's ``label`` written in."""
    import altair as alt

    x_order = list(dict.fromkeys(cells[x].astype(str)))
    y_order = list(dict.fromkeys(cells[y].astype(str)))
    base = alt.Chart(_inline(cells.assign(text_colour=_text_colour(cells["value"])))).encode(
        x=alt.X(f"{x}:N", sort=x_order, title=x_title, axis=alt.Axis(labelAngle=-35, labelLimit=180)),
        y=alt.Y(f"{y}:N", sort=y_order, title=y_title, axis=alt.Axis(labelLimit=320)),
        tooltip=[
            alt.Tooltip(f"{y}:N", title=y_title or "Row"),
            alt.Tooltip(f"{x}:N", title=x_title),
            "label:N",
        ],
    )
    filled = base.mark_rect(stroke="white", strokeWidth=1).encode(
        color=alt.Color("value:Q", scale=alt.Scale(scheme=SCHEME), title=legend_title)
    )
    hidden = base.transform_filter("datum.suppressed").mark_rect(
        fill=SUPPRESSED_FILL, stroke="white", strokeWidth=1
    )
    light = alt.condition("datum.text_colour === 'white'", alt.value("white"), alt.value("black"))
    text = base.mark_text(fontSize=11).encode(text="label:N", color=light)
    return (
        alt.layer(filled, hidden, text)
        .properties(title=title, width=alt.Step(64), height=alt.Step(22))
        .configure_view(strokeWidth=0)
        .configure_axis(labelFontSize=11, titleFontSize=12)
    )


def theme_group_heatmap(
    frame: pd.DataFrame,
    *,
    attribute: str = "group",
    unit: str = "participants",
    percent: Percent = "count",
    threshold: int = MIN_PEOPLE,
    title: str | None = None,
) -> alt.LayerChart:
    """Themes (rows, in the frame's order) by the groups of ``attribute`` (columns), one number per
    cell, small cells as ``"<5"``: ``frame`` is :func:`~narratives.analysis.crosstab.themes_by_attribute`'s."""
    cells = heatmap_cells(frame, percent=percent, threshold=threshold)
    cells = cells.drop(columns=["group_size", "group_people"], errors="ignore")  # group_label: suppressed
    measure = UNIT_TITLES.get(unit, unit.capitalize())
    legend = {"count": measure, "column": f"% of group's {unit}", "row": f"% of theme's {unit}"}[percent]
    return _cell_chart(
        cells,
        x="group",
        y="theme",
        x_title=attribute,
        y_title=None,
        legend_title=legend,
        title=title or f"Themes by {attribute}: {legend.lower()}",
    )


def wave_cells(counts: pd.DataFrame, *, threshold: int = MIN_PEOPLE) -> pd.DataFrame:
    """:func:`~narratives.analysis.crosstab.themes_by_wave`'s ``counts`` as :data:`WAVE_COLUMNS`:
    ``value`` the percent of the wave's participants, NaN and ``label`` ``"<5"`` where suppressed;
    ``wave_label`` the wave's participants, or ``"<5"`` for a wave of fewer."""
    cells = counts.copy()
    primary = (cells["wave_participants"] < threshold) | (
        (cells["participants"] > 0) & (cells["participants"] < threshold)
    )
    second = hidden_by_parents(cells, group="wave", count="participants", suppressed=primary)
    small = primary | second
    share = 100 * cells["participants"] / cells["wave_participants"].where(cells["wave_participants"] > 0)
    cells["theme"] = theme_labels(cells)
    cells["value"] = share.fillna(0.0).where(~small)
    cells["participants"] = cells["participants"].astype("Int64").where(~small)
    cells["suppressed"] = small
    shown = [_percent_text(v) for v in share.fillna(0.0)]
    cells["label"] = np.where(second, HIDDEN_LABEL, np.where(primary, suppressed_label(threshold), shown))
    sizes = cells["wave_participants"].astype(str)
    cells["wave_label"] = sizes.where(cells["wave_participants"] >= threshold, suppressed_label(threshold))
    keep = [c for c in ("level", "parent", "wave_label") if c in cells.columns]
    return cells.reindex(columns=[*WAVE_COLUMNS, *keep]).reset_index(drop=True)


def theme_wave_chart(
    counts: pd.DataFrame,
    *,
    threshold: int = MIN_PEOPLE,
    columns: int = 4,
    title: str = "Participants mentioning each theme, by wave",
) -> alt.FacetChart:
    """One small panel per theme: the percent of each wave's participants who mention it, the
    percent written above each point; a suppressed wave shows ``"<5"`` on the axis and no point."""
    import altair as alt

    cells = wave_cells(counts, threshold=threshold).drop(columns="wave_participants")  # wave_label instead
    cells["y_text"] = cells["value"].fillna(0.0)
    waves = sorted({int(w) for w in cells["wave"]})
    x = alt.X("wave:O", title="Wave", sort=waves, axis=alt.Axis(labelAngle=0))
    y = alt.Y("value:Q", title="% of the wave's participants", scale=alt.Scale(domain=[0, 115]))
    base = alt.Chart().encode(x=x)
    shown = base.transform_filter("!datum.suppressed")
    line = shown.mark_line(color=OKABE_ITO[0], strokeWidth=2).encode(y=y)
    points = shown.mark_point(color=OKABE_ITO[0], filled=True, size=50).encode(
        y=y,
        tooltip=[
            "theme:N",
            "wave:O",
            "label:N",
            alt.Tooltip("wave_label:N", title="Participants in the wave"),
        ],
    )
    text = base.mark_text(dy=-10, fontSize=10, color="black").encode(y=alt.Y("y_text:Q"), text="label:N")
    order = list(dict.fromkeys(cells["theme"]))
    return (
        alt.layer(line, points, text, data=_inline(cells))
        .properties(width=150, height=110)
        .facet(facet=alt.Facet("theme:N", sort=order, title=None), columns=columns)
        .properties(title=title)
        .configure_axis(labelFontSize=10, titleFontSize=10)
        .configure_header(labelFontSize=11, labelLimit=200)
    )


def cooccurrence_cells(frame: pd.DataFrame, *, threshold: int = MIN_PEOPLE) -> pd.DataFrame:
    """A :func:`~narratives.analysis.cooccurrence.code_cooccurrence` table as both halves of a
    square (``row``, ``column``, ``count``, ``value``, ``label``, ``suppressed``), small cells ``"<5"``."""
    pairs = frame[frame["code_a"] != frame["code_b"]]
    mirror = pairs.rename(
        columns={"code_a": "code_b", "code_b": "code_a", "name_a": "name_b", "name_b": "name_a"}
    )
    both = pd.concat([pairs, mirror], ignore_index=True)
    small = (both["people"] > 0) & (both["people"] < threshold)
    names = _names_in_order(frame)
    cells = pd.DataFrame(
        {
            "row": both["code_a"].map(names),
            "column": both["code_b"].map(names),
            "count": both["both"].astype("Int64").where(~small),
            "value": both["both"].astype(float).where(~small),
            "label": np.where(small, suppressed_label(threshold), both["both"].astype(str)),
            "suppressed": small,
        }
    )
    rank = {name: i for i, name in enumerate(names.values())}
    order = cells["row"].map(rank) * len(rank) + cells["column"].map(rank)
    return cells.assign(_order=order).sort_values("_order").drop(columns="_order").reset_index(drop=True)


def cooccurrence_table(frame: pd.DataFrame, *, threshold: int = MIN_PEOPLE) -> pd.DataFrame:
    """The pairs of :func:`~narratives.analysis.cooccurrence.code_cooccurrence` found at least once,
    most often first, for a table or a download: counts and Jaccard blank where suppressed."""
    found = frame[frame["both"] > 0]
    small = found["people"] < threshold
    table = pd.DataFrame(
        {
            "Code": found["name_a"],
            "Other code": found["name_b"],
            "Both": np.where(small, suppressed_label(threshold), found["both"].astype(str)),
            "People": np.where(small, suppressed_label(threshold), found["people"].astype(str)),
            "Jaccard": found["jaccard"].round(3).where(~small),
            "_order": found["both"].where(~small, 0),
        }
    )
    return (
        table.sort_values("_order", ascending=False, kind="stable")
        .drop(columns="_order")
        .reset_index(drop=True)
    )


def _names_in_order(frame: pd.DataFrame) -> dict[str, str]:
    found: dict[str, str] = {}
    pairs = [
        *zip(frame["code_a"], frame["name_a"], strict=True),
        *zip(frame["code_b"], frame["name_b"], strict=True),
    ]
    for code, name in pairs:
        found.setdefault(str(code), str(name))
    return found


def cooccurrence_chart(
    frame: pd.DataFrame, *, level: str = "segment", threshold: int = MIN_PEOPLE
) -> alt.LayerChart:
    """Codes by codes: how many {level}s carry both, small cells ``"<5"``, the diagonal left empty."""
    cells = cooccurrence_cells(frame, threshold=threshold)
    return _cell_chart(
        cells,
        x="column",
        y="row",
        x_title="Code",
        y_title=None,
        legend_title=f"{level.capitalize()}s with both",
        title=f"Codes found together {'from' if level == 'participant' else 'in'} the same {level}",
    )


def chart_spec(chart: Any) -> dict[str, Any]:
    """The Vega-Lite specification of a chart, as a dict (what tests and reports read)."""
    return dict(chart.to_dict())
