"""The report's charts: Vega-Lite specs from :mod:`narratives.analysis.charts`, rendered offline.

:func:`overview_charts` gives a theme x group heatmap per attribute and a theme x wave chart for
every theme; :func:`family_charts` the same for one top-level theme and its sub-codes. Each is a
:class:`ChartSpec` (title, spec with its data inline, a text description for screen readers and
alt text). :func:`render_png` and :func:`render_svg` draw a spec with vl-convert, which bundles
Vega-Lite and its fonts: no browser and no network.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from narratives.errors import NotInstalled

PNG_SCALE = 2.0  # print resolution: twice the CSS pixel size
PRIMARY_SKIP = {"kind"}  # the attribute a family chart uses is the first that is not one of these


@dataclass
class ChartSpec:
    """One chart: its title, the Vega-Lite spec (data inline) and a description of what it shows."""

    title: str
    spec: dict[str, Any]
    description: str
    name: str  # a short file-safe name: heatmap-need_group, waves, ...


def _with_levels(frame: pd.DataFrame, levels: Mapping[str, int]) -> pd.DataFrame:
    if "level" in frame.columns or not levels:
        return frame
    return frame.assign(level=frame["code_id"].map(levels).fillna(0).astype(int))


def heatmap(
    frame: pd.DataFrame, attribute: str, title: str, name: str, levels: Mapping[str, int]
) -> ChartSpec:
    from narratives.analysis.charts import chart_spec, theme_group_heatmap

    chart = theme_group_heatmap(_with_levels(frame, levels), attribute=attribute, title=title)
    groups = ", ".join(dict.fromkeys(str(g) for g in frame["group"]))
    return ChartSpec(
        title,
        chart_spec(chart),
        f"Heatmap of how many participants in each {attribute} group ({groups}) carry each theme; "
        "counts under 5 are shown as <5. The same figures are in the tables.",
        name,
    )


def wave_chart(counts: pd.DataFrame, title: str, name: str, levels: Mapping[str, int]) -> ChartSpec:
    from narratives.analysis.charts import chart_spec, theme_wave_chart

    chart = theme_wave_chart(_with_levels(counts, levels), title=title)
    return ChartSpec(
        title,
        chart_spec(chart),
        "One small line chart per theme: the percent of each wave's participants who mention it; "
        "waves with fewer than 5 such participants show <5. The same figures are in the tables.",
        name,
    )


def overview_charts(
    tables: Mapping[str, pd.DataFrame], waves: pd.DataFrame | None, levels: Mapping[str, int]
) -> list[ChartSpec]:
    """A heatmap per attribute of every theme, and the themes across waves."""
    charts = [
        heatmap(t, a, f"Themes by {a} (participants)", f"heatmap-{a}", levels)
        for a, t in tables.items()
        if not t.empty
    ]
    if waves is not None and not waves.empty:
        charts.append(
            wave_chart(waves, "Themes across waves (% of each wave's participants)", "waves", levels)
        )
    return charts


def primary_attribute(tables: Mapping[str, pd.DataFrame]) -> str | None:
    """The attribute a theme's own chart groups by: the first the report shows that is not its kind."""
    shown = [a for a, t in tables.items() if not t.empty]
    rest = [a for a in shown if a not in PRIMARY_SKIP]
    return next(iter(rest or shown), None)


def family_charts(
    name: str,
    family: Collection[str],
    tables: Mapping[str, pd.DataFrame],
    waves: pd.DataFrame | None,
    levels: Mapping[str, int],
    slug: str,
) -> list[ChartSpec]:
    """Charts of one top-level theme and its sub-codes: by the primary attribute, across waves."""
    charts = []
    attribute = primary_attribute(tables)
    if attribute is not None:
        mine = tables[attribute][tables[attribute]["code_id"].isin(family)]
        charts.append(heatmap(mine, attribute, f"{name}: by {attribute}", f"{slug}-{attribute}", levels))
    if waves is not None and not waves.empty:
        mine = waves[waves["code_id"].isin(family)]
        charts.append(wave_chart(mine, f"{name}: across waves", f"{slug}-waves", levels))
    return charts


def _vl_convert() -> Any:
    try:
        import vl_convert
    except ImportError:
        raise NotInstalled("vl-convert-python", "drawing the report's charts (or use --no-charts)") from None
    return vl_convert


def render_png(chart: ChartSpec, scale: float = PNG_SCALE) -> bytes:
    """The chart as PNG bytes (white background, for print and Word)."""
    spec = {**chart.spec, "background": "white"}
    return bytes(_vl_convert().vegalite_to_png(spec, scale=scale))


def render_svg(chart: ChartSpec) -> str:
    """The chart as SVG text, fonts as text (for HTML)."""
    spec = {**chart.spec, "background": "white"}
    return str(_vl_convert().vegalite_to_svg(spec))
