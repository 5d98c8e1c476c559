"""`--engine ray` gives exactly the local engine's segments, vectors and suggestions on the demo
corpus (blogs, survey, interviews; sentences, coded with the social-care codebook and the fake
embedder), and a Ray worker killed mid-batch is restarted and its batch run again without a
duplicate. The local Ray with 2 CPUs of ``tests/engines/conftest.py`` serves the whole module."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from narratives.cli import app
from narratives.codebook.files import load_codebook
from narratives.coding.config import CodingConfig
from narratives.engines import LOCAL, EngineOptions, code_with, segment_with, start_engine
from narratives.errors import EngineError, NotInstalled
from narratives.pipeline import load_pipeline_config, run_pipeline
from narratives.store.project import open_project
from tests.conftest import HashingEmbedder
from tests.engines.conftest import RAY
from tests.engines.faults import StallingEmbedder
from tests.engines.snapshots import copy_project, snapshot

pytest.importorskip("ray")

REPO = Path(__file__).resolve().parents[2]
CODEBOOK = REPO / "models" / "codebooks" / "social-care-lived-experience.yaml"
KILL_WAIT = 120.0  # seconds the test waits for a worker to reach its stall
# Every coder, the learned one included (its liblinear fit is seeded, so two runs fit alike).
CODERS = CodingConfig()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo corpus ingested as `narratives run pipelines/demo.toml` ingests it, nothing more."""
    folder = tmp_path_factory.mktemp("engines") / "ingested"
    config = load_pipeline_config(REPO / "pipelines" / "demo.toml")
    only_ingest = config.model_copy(update={"segment": None, "code": None, "discover": None})
    from narratives.store.project import init_project

    project = init_project(folder)
    run_pipeline(project, only_ingest, base=REPO, user="t")
    project.close()
    return folder


@pytest.fixture(scope="module")
def local(
    ray_engine: EngineOptions, corpus: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """The local engine's run: the segmented project (before coding) and a snapshot of the coded one."""
    base = tmp_path_factory.mktemp("local")
    segmented, coded = copy_project(corpus, base / "segmented"), base / "coded"
    project = open_project(segmented)
    report = segment_with(LOCAL, project, "sentence", user="t")
    project.close()
    project = open_project(copy_project(segmented, coded))
    result = code_with(
        LOCAL, project, load_codebook(CODEBOOK), embedder=HashingEmbedder(), user="t", config=CODERS
    )
    project.close()
    assert result.warnings == []
    return {"segmented": segmented, "report": report, "snapshot": snapshot(coded)}


def test_ray_gives_the_local_segments_and_suggestions(
    ray_engine: EngineOptions, corpus: Path, local: dict[str, Any], tmp_path: Path
) -> None:
    project = open_project(copy_project(corpus, tmp_path / "ray"))
    report = segment_with(ray_engine, project, "sentence", user="t")
    again = segment_with(ray_engine, project, "sentence", user="t")
    result = code_with(
        ray_engine, project, load_codebook(CODEBOOK), embedder=HashingEmbedder(), user="t", config=CODERS
    )
    project.close()
    expected, got = local["snapshot"], snapshot(tmp_path / "ray")
    assert (report.documents, report.segments, report.failures) == (
        local["report"].documents,
        local["report"].segments,
        local["report"].failures,
    )
    assert report.segments > 3000 and again.segments == 0 and again.documents == 0
    assert got["segments"] == expected["segments"]
    assert got["vectors"] == expected["vectors"]
    assert result.suggestions_written == len(expected["suggestions"]) > 1000
    assert got["suggestions"] == expected["suggestions"]
    assert got["segment_runs"] == 2 and result.warnings == []


def test_a_worker_killed_mid_batch_is_retried_without_duplicates(
    ray_engine: EngineOptions, local: dict[str, Any], tmp_path: Path
) -> None:
    marker = tmp_path / "stalled-worker.pid"
    killed: list[int] = []
    killer = threading.Thread(target=kill_when_stalled, args=(marker, killed), daemon=True)
    killer.start()
    project = open_project(copy_project(local["segmented"], tmp_path / "ray"))
    book, stalling = load_codebook(CODEBOOK), StallingEmbedder(marker)
    result = code_with(ray_engine, project, book, embedder=stalling, user="t", config=CODERS)
    project.close()
    killer.join(timeout=KILL_WAIT)
    expected, got = local["snapshot"], snapshot(tmp_path / "ray")
    assert killed and not process_alive(killed[0])  # a real worker died mid-batch ...
    assert got["vectors"] == expected["vectors"]  # ... and every vector is stored once, as locally
    assert got["suggestions"] == expected["suggestions"]
    assert result.suggestions_written == len(expected["suggestions"])


def kill_when_stalled(marker: Path, killed: list[int]) -> None:
    """Wait for a worker to write its pid (it has stored a chunk of its batch and stalls), then kill it."""
    deadline = time.monotonic() + KILL_WAIT
    while time.monotonic() < deadline:
        text = marker.read_text() if marker.exists() else ""
        if text:
            os.kill(int(text), signal.SIGKILL)
            killed.append(int(text))
            return
        time.sleep(0.05)


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_more_workers_than_cpus_is_refused_with_a_fix(ray_engine: EngineOptions) -> None:
    with pytest.raises(EngineError, match="3 workers asked for, but Ray has 2 CPUs") as error:
        start_engine(EngineOptions(name="ray", workers=3))
    assert error.value.fix and "--workers 2" in error.value.fix


def test_an_unknown_engine_is_refused_by_the_cli(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["code", str(tmp_path), "--codebook", str(CODEBOOK), "--engine", "spark"]
    )
    assert result.exit_code != 0
    assert "E1130" in result.output and "unknown engine 'spark'" in result.output


def test_without_ray_installed_the_fix_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from narratives.engines.ray_engine import ray_session

    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now raises ImportError
    with pytest.raises(NotInstalled) as error:
        ray_session(RAY)
    assert error.value.fix == "pip install 'narratives[ray]'"
