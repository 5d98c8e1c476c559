"""Pipeline files: each step calls the library; running a pipeline twice adds nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from narratives.errors import ProjectError
from narratives.pipeline import load_pipeline_config, run_pipeline
from narratives.store import init_project
from narratives.store.status import project_status

PIPELINE = """
[[ingest]]
files = ["corpus/survey.csv"]
kind = "survey"
id_column = "respondent_id"
text_columns = ["comment"]

[[ingest]]
files = ["corpus/interviews"]
kind = "interview"
attributes = "corpus/people.csv"

[segment]
units = ["sentence", "turn"]
"""


def write_corpus(base: Path) -> Path:
    (base / "corpus" / "interviews").mkdir(parents=True)
    (base / "corpus" / "survey.csv").write_text(
        "respondent_id,council,comment\nR1,Eastmere,Waited a year. Then nothing.\nR2,Northbridge,My PA is great.\n",
        encoding="utf-8",
    )
    (base / "corpus" / "interviews" / "p01_w1.txt").write_text(
        "Interviewer: How is it?\nP01: Better since the review. Still tired.\n", encoding="utf-8"
    )
    (base / "corpus" / "people.csv").write_text(
        "file,participant,wave,age_band\np01_w1.txt,P01,1,65-79\n", encoding="utf-8"
    )
    pipeline = base / "pipeline.toml"
    pipeline.write_text(PIPELINE, encoding="utf-8")
    return pipeline


def test_pipeline_runs_its_steps_and_is_idempotent(tmp_path: Path) -> None:
    pipeline = write_corpus(tmp_path)
    project = init_project(tmp_path / "project")
    said: list[str] = []
    first = run_pipeline(project, load_pipeline_config(pipeline), base=tmp_path, user="t", say=said.append)
    again = run_pipeline(project, load_pipeline_config(pipeline), base=tmp_path, user="t")
    with project.connect() as connection:
        status = project_status(connection)
    project.close()
    assert [r.documents_added for r in first.ingest] == [2, 1]
    assert [r.documents_added for r in again.ingest] == [0, 0]
    assert [s.segments for s in again.segment] == [0, 0]
    assert status.documents_by_kind == {"survey": 2, "interview": 1}
    assert status.waves == {1: 1}
    assert status.segments_by_unit == {"sentence": 6, "turn": 4}  # turn: 2 survey responses + 2 speaker turns
    assert first.coding is None and first.discovery is None
    assert any("segmented into sentences" in line for line in said)


def test_bad_pipeline_file_names_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[segment\nunits = 1", encoding="utf-8")
    with pytest.raises(ProjectError, match=r"broken\.toml"):
        load_pipeline_config(broken)
    with pytest.raises(ProjectError, match="not found"):
        load_pipeline_config(tmp_path / "missing.toml")
