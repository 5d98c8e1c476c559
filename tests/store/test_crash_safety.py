"""kill -9 in the middle of ingest, segment, code or a burst of reviews: the project opens, SQLite
finds its file sound, every review the process saw acknowledged is there, and what the stages
wrote is whole (no segment without its document, a file's documents all there or none, no coding
run without its event, no review without its audit event)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Table, func, select

from narratives.store import init_project, open_project
from narratives.store.project import Project
from narratives.store.tables import coding_runs, documents, events, reviews, segments, suggestions
from tests.store.writers import CODE

REPO = Path(__file__).resolve().parents[2]
FILES = 120
REVIEWS_BEFORE_KILL = 25


def write_interviews(folder: Path) -> Path:
    """Interview files that each mention the study's codes, so the phrase coder suggests some."""
    folder.mkdir()
    for i in range(FILES):
        (folder / f"interview-{i:03d}.txt").write_text(
            f"Interview {i}. I waited {i % 9 + 2} months for my assessment. "
            "The carers change every week and nobody tells me who is coming. "
            "My personal budget lets me choose what I do each day.\n",
            encoding="utf-8",
        )
    return folder


def run_until(project_path: Path, inputs: Path, stage: str) -> tuple[list[str], str]:
    """Start the pipeline writer, SIGKILL it once it has printed progress of ``stage`` (for the
    review burst: after REVIEWS_BEFORE_KILL acknowledged reviews); every line it printed, and stderr."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.store.writers", "pipeline", str(project_path), str(inputs)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    seen: list[str] = []
    wanted = REVIEWS_BEFORE_KILL if stage == "review" else 1
    while sum(line.startswith(stage) for line in seen) < wanted:
        line = process.stdout.readline()
        if not line:  # ended before the stage showed progress
            raise AssertionError(f"the writer ended early: {process.communicate()[1][-3000:]}")
        seen.append(line.strip())
    process.send_signal(signal.SIGKILL)
    rest, err = process.communicate(timeout=120)
    assert process.returncode == -signal.SIGKILL
    return seen + rest.splitlines(), err


def connection_count(project: Project, table: Table) -> int:
    with project.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def assert_whole(project: Project, acknowledged: set[int]) -> None:
    with project.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
        document_ids = {row.id for row in connection.execute(select(documents.c.id))}
        segment_documents = {row.document_id for row in connection.execute(select(segments.c.document_id))}
        assert segment_documents <= document_ids
        file_events = connection.execute(select(events.c.payload).where(events.c.kind == "ingest.file")).all()
        stored_by_event = [set(row.payload["document_ids"]) for row in file_events]
        assert all(ids <= document_ids for ids in stored_by_event)  # a file's documents all there...
        assert set().union(*stored_by_event) == document_ids  # ...or none: no document without its file
        runs = connection.execute(select(coding_runs.c.id, coding_runs.c.finished)).all()
        assert all(run.finished is not None for run in runs)
        run_events = connection.execute(select(events.c.id).where(events.c.kind == "coding.run")).all()
        assert len(run_events) == len(runs)
        review_ids = {row.id for row in connection.execute(select(reviews.c.id))}
        review_events = connection.execute(select(events.c.payload).where(events.c.kind == "review")).all()
        assert {row.payload["review_id"] for row in review_events} == review_ids
        assert acknowledged <= review_ids


@pytest.mark.slow
@pytest.mark.parametrize("stage", ["ingest", "segment", "code", "review"])
def test_a_killed_writer_leaves_a_whole_project_with_every_acknowledged_review(
    tmp_path: Path, stage: str
) -> None:
    init_project(tmp_path / "project").close()
    lines, err = run_until(tmp_path / "project", write_interviews(tmp_path / "inputs"), stage)
    assert "Traceback" not in err, err[-3000:]
    acknowledged = {int(line.split()[1]) for line in lines if line.startswith("review ")}
    if stage == "review":  # the earlier stages finished: the phrase coder's run is in
        assert len(acknowledged) >= REVIEWS_BEFORE_KILL
    project = open_project(tmp_path / "project")
    try:
        assert_whole(project, acknowledged)
        with project.connect() as connection:
            kept = {
                row.id for row in connection.execute(select(reviews.c.id).where(reviews.c.code_id == CODE))
            }
        assert acknowledged <= kept
        if stage == "review":
            assert connection_count(project, suggestions) > 0
    finally:
        project.close()
