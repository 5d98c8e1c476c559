"""The passage coder on `--engine ray`: the workers embed each long segment's passages through the
project's cache and write exactly the local engine's suggestions, the deciding passages included."""

from __future__ import annotations

from pathlib import Path

import pytest

from narratives.engines import LOCAL, EngineOptions
from narratives.store import init_project
from tests.builders.stories import coded_stories
from tests.engines.snapshots import snapshot

pytest.importorskip("ray")


def coded_from_passages(engine: EngineOptions, folder: Path) -> dict:
    project = init_project(folder)
    result = coded_stories(project, 36, seed=7, engine=engine)
    project.close()
    assert result.suggestions_written > 0 and result.warnings == []
    return snapshot(folder)


def test_ray_codes_long_segments_from_their_passages_as_the_local_engine_does(
    ray_engine: EngineOptions, tmp_path: Path
) -> None:
    local = coded_from_passages(LOCAL, tmp_path / "local")
    on_ray = coded_from_passages(ray_engine, tmp_path / "ray")
    assert on_ray["suggestions"] == local["suggestions"]
    assert on_ray["vectors"] == local["vectors"]
