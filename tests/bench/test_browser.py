"""The browser bench drives the real review page and returns one well-formed row per action
(no timing is asserted: the figures belong to a quiet machine)."""

from __future__ import annotations

from pathlib import Path

import pytest

from narratives.bench.browser import CHROMIUM, PressTimings, bench_browser, percentile
from narratives.store.project import open_project
from narratives.store.tables import reviews
from tests.builders.demo_project import build_demo_project


def test_percentile_is_the_nearest_rank() -> None:
    values = [float(v) for v in range(1, 21)]
    assert percentile(values, 0.95) == 19.0
    assert percentile(values, 0.5) == 10.0
    assert percentile([7.0], 0.95) == 7.0


@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}")
def test_bench_browser_times_each_key_on_a_copy_of_the_project(tmp_path: Path) -> None:
    pytest.importorskip("playwright")
    demo = build_demo_project(tmp_path / "demo")
    demo.project.close()
    rows = bench_browser({"demo": demo.project.path}, n=1, workdir=tmp_path)
    assert [(row.project, row.action, row.n) for row in rows] == [
        ("demo", "accept", 1),
        ("demo", "reject", 1),
        ("demo", "next", 1),
    ]
    for row in rows:
        assert isinstance(row, PressTimings)
        assert 0 < row.median <= row.p95 <= row.max
    with open_project(demo.project.path).connect() as connection:  # the bench wrote into its copy
        assert connection.execute(reviews.select()).first() is None
