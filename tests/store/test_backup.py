"""`narratives backup` / `restore`: a restored project holds every table row for row, on SQLite and
PostgreSQL; a backup taken while another process writes reviews is one consistent moment; restore
refuses to replace a project's contents without --force and refuses an unknown schema."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, select
from typer.testing import CliRunner

from narratives.cli import app
from narratives.errors import ProjectError
from narratives.schema import Decision
from narratives.store import init_project, open_project
from narratives.store.backup import MANIFEST, backup_project, read_backup_info, restore_project
from narratives.store.events import record_event
from narratives.store.project import Project
from narratives.store.search import is_search_index
from narratives.store.settings import set_setting
from narratives.store.tables import events, reviews
from tests.builders.demo_project import CODEBOOK, build_demo_project
from tests.builders.demo_project import CODES as DEMO_CODES
from tests.builders.project import ProjectBuilder
from tests.store.conftest import PG_URL, _drop_pg_database, _fresh_pg_database
from tests.store.test_concurrency import add_study

REPO = Path(__file__).resolve().parents[2]


def every_row(project: Project) -> dict[str, list[tuple[Any, ...]]]:
    """Every table the database holds (found by reflection), its rows in primary-key order."""
    metadata = MetaData()
    with project.connect() as connection:
        metadata.reflect(connection)
        return {
            name: [
                tuple(row)
                for row in connection.execute(select(t).order_by(*(t.primary_key.columns or t.columns)))
            ]
            for name, t in metadata.tables.items()
        }


def add_reviews_and_settings(project: Project) -> None:
    """Reviews (with non-ASCII memos) and a JSON setting on top of the demo project's coding."""
    with project.begin() as connection:
        build = ProjectBuilder(connection, codebook=CODEBOOK)
        segment_ids = sorted(build.segment_ids().values())
        for k, segment_id in enumerate(segment_ids):
            build.review(
                segment_id, DEMO_CODES[k % len(DEMO_CODES)].id, Decision.add, user="Zoë", memo=f"naïve “{k}”"
            )
        set_setting(connection, "deidentify.salt", {"salt": "ab\\c", "list": [1, 2.5, None]})


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_sqlite_project_restores_row_for_row(tmp_path: Path) -> None:
    demo = build_demo_project(tmp_path / "demo")
    try:
        add_reviews_and_settings(demo.project)
        before = every_row(demo.project)
        info = backup_project(demo.project, tmp_path / "backups" / "demo.zip")
    finally:
        demo.project.close()
    assert mode(tmp_path / "backups" / "demo.zip") == 0o600
    assert info.backend == "sqlite" and info.rows == sum(  # the search index is derived: not counted
        len(r) for n, r in before.items() if n != "alembic_version" and not is_search_index(n)
    )
    restored = restore_project(tmp_path / "backups" / "demo.zip", tmp_path / "restored")
    try:
        after = every_row(restored)
    finally:
        restored.close()
    assert all(before[name] for name in ("documents", "segments", "suggestions", "reviews", "events"))
    assert after.keys() == before.keys()
    for name in before:
        assert after[name] == before[name], name
    assert mode(tmp_path / "restored" / "narratives.db") == 0o600


def test_restore_refuses_a_project_with_contents_unless_forced(tmp_path: Path) -> None:
    project = init_project(tmp_path / "a")
    add_study(project)
    made = CliRunner().invoke(app, ["backup", str(project.path), str(tmp_path / "a.zip")])
    assert made.exit_code == 0 and "Backed up" in made.output, made.output
    target = init_project(tmp_path / "b")
    with target.begin() as connection:
        record_event(connection, "note", "ben")  # one row is enough to make it a project with contents
    target.close()
    runner = CliRunner()
    refused = runner.invoke(app, ["restore", str(tmp_path / "a.zip"), str(tmp_path / "b")])
    assert refused.exit_code == 1 and "--force" in refused.output and "Traceback" not in refused.output
    forced = runner.invoke(app, ["restore", str(tmp_path / "a.zip"), str(tmp_path / "b"), "--force"])
    assert forced.exit_code == 0, forced.output
    restored = open_project(tmp_path / "b")
    try:
        assert every_row(restored) == every_row(project)
    finally:
        restored.close()
        project.close()


def test_an_unknown_schema_or_a_foreign_file_is_refused(tmp_path: Path) -> None:
    project = init_project(tmp_path / "a")
    backup_project(project, tmp_path / "a.zip")
    project.close()
    with (
        zipfile.ZipFile(tmp_path / "a.zip") as original,
        zipfile.ZipFile(tmp_path / "new.zip", "w") as changed,
    ):
        for item in original.infolist():
            data = original.read(item)
            if item.filename == MANIFEST:
                data = json.dumps({**json.loads(data), "schema_revision": "ffffffffffff"}).encode()
            changed.writestr(item, data)
    with pytest.raises(ProjectError, match="ffffffffffff"):
        restore_project(tmp_path / "new.zip", tmp_path / "c")
    (tmp_path / "notes.txt").write_text("not a backup", encoding="utf-8")
    with pytest.raises(ProjectError, match="not a narratives backup"):
        read_backup_info(tmp_path / "notes.txt")


@pytest.mark.slow
def test_a_backup_taken_while_reviews_are_written_is_consistent(tmp_path: Path) -> None:
    project = init_project(tmp_path / "p")
    add_study(project)
    writer = subprocess.Popen(
        [sys.executable, "-m", "tests.store.writers", "reviews", str(project.path), "ana", "3000"],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None
    acknowledged = [writer.stdout.readline() for _ in range(50)]  # the writer is under way
    assert all(line.startswith("review ") for line in acknowledged)
    backup_project(project, tmp_path / "during.zip")
    _, err = writer.communicate(timeout=600)
    assert writer.returncode == 0, err
    project.close()
    restored = restore_project(tmp_path / "during.zip", tmp_path / "restored")
    try:
        with restored.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
            kept = {row.id for row in connection.execute(select(reviews.c.id))}
            logged = connection.execute(select(events.c.payload).where(events.c.kind == "review")).all()
        assert {row.payload["review_id"] for row in logged} == kept  # every review with its event
        assert 50 <= len(kept) <= 3000
        assert {int(line.split()[1]) for line in acknowledged} <= kept
    finally:
        restored.close()


@pytest.mark.postgres
def test_a_postgresql_project_restores_row_for_row(tmp_path: Path) -> None:
    if not PG_URL:
        pytest.skip("PostgreSQL tests skipped: no server reachable (set NARRATIVES_TEST_PG_URL)")
    source_url, source_name = _fresh_pg_database()
    target_url, target_name = _fresh_pg_database()
    try:
        demo = build_demo_project(tmp_path / "demo", db_url=source_url)
        add_reviews_and_settings(demo.project)
        before = every_row(demo.project)
        backup_project(demo.project, tmp_path / "demo.zip")
        demo.project.close()
        result = CliRunner().invoke(
            app, ["restore", str(tmp_path / "demo.zip"), str(tmp_path / "r"), "--db", target_url]
        )
        assert result.exit_code == 0, result.output
        restored = open_project(tmp_path / "r")
        after = every_row(restored)
        restored.close()
        assert all(before[name] for name in ("documents", "segments", "suggestions", "reviews", "events"))
        assert after.keys() == before.keys()
        for name in before:
            assert after[name] == before[name], name
    finally:
        _drop_pg_database(source_name)
        _drop_pg_database(target_name)


def _with_backend(original: Path, changed: Path, backend: str) -> Path:
    """A copy of a backup whose manifest says it holds a ``backend`` database (what restore reads
    before it opens the payload)."""
    with zipfile.ZipFile(original) as source, zipfile.ZipFile(changed, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == MANIFEST:
                data = json.dumps({**json.loads(data), "backend": backend}).encode()
            target.writestr(item, data)
    return changed


def test_a_postgresql_backup_without_db_is_refused_before_anything_is_made(tmp_path: Path) -> None:
    project = init_project(tmp_path / "a")
    backup_project(project, tmp_path / "a.zip")
    project.close()
    backup = _with_backend(tmp_path / "a.zip", tmp_path / "pg.zip", "postgresql")
    result = CliRunner().invoke(app, ["restore", str(backup), str(tmp_path / "new")])
    assert result.exit_code == 1, result.output
    assert "postgresql database" in result.output and "--db postgresql://" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "new").exists()


def test_a_sqlite_backup_with_a_postgresql_db_is_refused_before_connecting(tmp_path: Path) -> None:
    project = init_project(tmp_path / "a")
    backup_project(project, tmp_path / "a.zip")
    project.close()
    # nothing listens on port 1: a connection attempt would fail with another message
    with pytest.raises(ProjectError, match="leave out --db") as refused:
        restore_project(tmp_path / "a.zip", tmp_path / "new", db_url="postgresql://nobody@127.0.0.1:1/none")
    assert "sqlite" in str(refused.value)
    assert not (tmp_path / "new").exists()


@pytest.mark.postgres
def test_a_real_postgresql_backup_without_db_makes_nothing(tmp_path: Path) -> None:
    if not PG_URL:
        pytest.skip("PostgreSQL tests skipped: no server reachable (set NARRATIVES_TEST_PG_URL)")
    source_url, source_name = _fresh_pg_database()
    try:
        project = init_project(tmp_path / "a", db_url=source_url)
        add_study(project)
        backup_project(project, tmp_path / "pg.zip")
        project.close()
        result = CliRunner().invoke(app, ["restore", str(tmp_path / "pg.zip"), str(tmp_path / "new")])
        assert result.exit_code == 1 and "--db postgresql://" in result.output, result.output
        assert not (tmp_path / "new").exists()
    finally:
        _drop_pg_database(source_name)
