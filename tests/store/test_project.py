"""The project workspace: creating, re-opening, migrations, bad settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect

from narratives.errors import ProjectError
from narratives.store import init_project, open_project
from narratives.store import project as project_module
from narratives.store.migrations import HEAD_REVISION
from narratives.store.project import Project, head_revision, redact_url, stored_revisions
from narratives.store.status import project_status


def test_init_creates_database_and_folders(tmp_path: Path) -> None:
    project = init_project(tmp_path / "study")
    assert (tmp_path / "study" / "narratives.db").exists()
    for folder in ("cache", "exports", "models"):
        assert (tmp_path / "study" / folder).is_dir()
    tables = set(inspect(project.engine).get_table_names())
    assert {
        "documents",
        "segments",
        "participants",
        "attributes",
        "events",
        "suggestions",
        "reviews",
    } <= tables
    assert "alembic_version" in tables


def test_open_project_is_at_the_newest_migration(backend_project: Project) -> None:
    with backend_project.connect() as connection:
        revision = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    assert revision == head_revision()


def test_the_head_revision_constant_is_the_newest_migration() -> None:
    # Adding a migration means updating HEAD_REVISION in narratives/store/migrations/__init__.py.
    assert head_revision() == HEAD_REVISION


def test_a_project_at_the_newest_migration_opens_without_running_alembic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    init_project(tmp_path / "p").close()

    def no_upgrade(engine: object) -> str:
        raise AssertionError("an up-to-date schema needs no migration")

    monkeypatch.setattr(project_module, "_upgrade", no_upgrade)
    project = open_project(tmp_path / "p")
    with project.connect() as connection:
        assert stored_revisions(connection) == [HEAD_REVISION]
    project.close()


def test_a_database_without_the_schema_is_migrated_on_open(tmp_path: Path) -> None:
    init_project(tmp_path / "p").close()
    for file in (tmp_path / "p").glob("narratives.db*"):
        file.unlink()
    project = open_project(tmp_path / "p")  # a new, empty database: alembic runs the migrations
    with project.connect() as connection:
        assert stored_revisions(connection) == [HEAD_REVISION]
    assert "events" in inspect(project.engine).get_table_names()
    project.close()


def test_a_schema_newer_than_the_tool_is_a_clear_error(tmp_path: Path) -> None:
    project = init_project(tmp_path / "p")
    with project.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    project.close()
    with pytest.raises(ProjectError, match="upgrade narratives"):
        open_project(tmp_path / "p")


def test_reopening_keeps_the_database_url(tmp_path: Path) -> None:
    made = init_project(tmp_path / "p")
    again = open_project(tmp_path / "p")
    assert again.db_url == made.db_url
    assert project_status_is_empty(again)


def project_status_is_empty(project: Project) -> bool:
    with project.connect() as connection:
        return project_status(connection).documents == 0


def test_open_missing_project_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="narratives init"):
        open_project(tmp_path / "nowhere")


def test_unreachable_database_is_a_clear_error(tmp_path: Path) -> None:
    url = "postgresql+psycopg://someone:secret@127.0.0.1:1/none"
    with pytest.raises(ProjectError) as caught:
        init_project(tmp_path / "p", db_url=url)
    assert "secret" not in str(caught.value)
    assert "check the --db URL" in str(caught.value)


def test_init_refuses_to_switch_database_of_existing_project(tmp_path: Path) -> None:
    init_project(tmp_path / "p")
    with pytest.raises(ProjectError, match="already exists"):
        init_project(tmp_path / "p", db_url="sqlite:///" + str(tmp_path / "other.db"))


def test_redact_url_hides_password() -> None:
    assert redact_url("postgresql+psycopg://me:pw@host/db") == "postgresql+psycopg://me:***@host/db"
    assert redact_url("sqlite:///x.db") == "sqlite:///x.db"
