"""The Overview's code frequency chart counts a parent theme through its sub-codes and marks it
(AppTest, in process, on the demo project of :mod:`tests.builders.demo_project`)."""

from __future__ import annotations

import json

import pyarrow as pa
from streamlit.testing.v1 import AppTest

from tests.ui.test_pages import open_app


def _chart(at: AppTest) -> tuple[dict, list[dict]]:
    """The frequency chart's Vega-Lite spec and its rows."""

    def walk(node):
        for child in getattr(node, "children", {}).values():
            if getattr(child, "type", None) == "vega_lite_chart":
                yield child
            yield from walk(child)

    charts = list(walk(at._tree))
    assert len(charts) == 1
    proto = charts[0].proto
    data = proto.datasets[0].data.data if proto.datasets else proto.data.data
    return json.loads(proto.spec), pa.ipc.open_stream(data).read_all().to_pylist()


def test_parent_theme_counts_its_sub_codes_and_comes_first(monkeypatch, demo):
    at = open_app(monkeypatch, demo.project.path, "overview")
    spec, rows = _chart(at)
    by_code = {row["Code"]: row for row in rows}
    # "Access to support" is applied to nothing itself: the blog's waiting and R02's paperwork
    access = by_code["Access to support"]
    assert (access["Segments"], access["Participants"], access["Level"]) == (
        2,
        1,
        "Theme (counts its sub-codes)",
    )
    assert by_code["↳ Waiting for help"]["Level"] == "Code"
    order = spec["encoding"]["y"]["sort"]
    assert order.index("Access to support") + 1 in {
        order.index("↳ Waiting for help"),
        order.index("↳ Paperwork"),
    }
    at.radio(key="overview_measure").set_value("Participants").run()
    assert _chart(at)[0]["encoding"]["x"]["field"] == "Participants"
