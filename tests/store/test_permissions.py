"""A project is its owner's alone: the folders, the settings file and the SQLite database (with
its -wal and -shm files) are made readable by the owner only, whatever the umask, and what is
written into the project later sits behind the owner-only folder."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from narratives.store import init_project, open_project
from narratives.store.project import CONFIG_NAME, DB_NAME, SUBFOLDERS, sqlite_file
from tests.store.conftest import PG_URL, _drop_pg_database, _fresh_pg_database


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def open_umask() -> Iterator[None]:
    """The loosest umask a machine may have: any owner-only mode below is the project's doing."""
    previous = os.umask(0)
    yield
    os.umask(previous)


def test_a_new_project_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    project = init_project(tmp_path / "study")
    try:
        root = tmp_path / "study"
        assert mode(root) == 0o700
        for name in SUBFOLDERS:
            assert mode(root / name) == 0o700, name
        assert mode(root / CONFIG_NAME) == 0o600
        database = root / DB_NAME
        assert mode(database) == 0o600
        with project.begin() as connection:  # a write, so the write-ahead log has content
            connection.exec_driver_sql("CREATE TABLE scratch (x INTEGER)")
        companions = [database.with_name(DB_NAME + suffix) for suffix in ("-wal", "-shm")]
        assert all(file.exists() for file in companions)  # WAL mode, with a connection open
        for file in companions:
            assert mode(file) == 0o600, file.name
    finally:
        project.close()


def test_the_modes_hold_when_the_folder_existed_and_the_project_is_reopened(tmp_path: Path) -> None:
    root = tmp_path / "made-by-hand"
    root.mkdir(mode=0o777)
    root.chmod(0o777)
    init_project(root).close()
    assert mode(root) == 0o700
    reopened = open_project(root)
    try:
        with reopened.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE scratch (x INTEGER)")
        for file in root.glob(DB_NAME + "*"):
            assert mode(file) == 0o600, file.name
    finally:
        reopened.close()


def test_files_written_later_sit_behind_an_owner_only_folder(tmp_path: Path) -> None:
    project = init_project(tmp_path / "study")
    project.close()
    export = project.exports_dir / "nested" / "coded.csv"
    export.parent.mkdir(parents=True)
    export.write_text("id,code\n", encoding="utf-8")
    assert mode(export) & 0o077  # written the ordinary way, under the open umask, the file is open...
    on_the_way_in = [folder for folder in export.parents if project.path in (folder, *folder.parents)]
    assert any(mode(folder) & 0o077 == 0 for folder in on_the_way_in)  # ...but no one else gets to it
    for folder in (project.exports_dir, project.cache_dir, project.models_dir):
        assert mode(folder) & 0o077 == 0


def test_a_custom_sqlite_file_is_made_owner_only(tmp_path: Path) -> None:
    database = tmp_path / "elsewhere" / "study.sqlite"
    project = init_project(tmp_path / "study", db_url=f"sqlite:///{database}")
    try:
        assert mode(database) == 0o600
        assert not (tmp_path / "study" / DB_NAME).exists()
    finally:
        project.close()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:////data/study.db", Path("/data/study.db")),
        ("sqlite://", None),
        ("sqlite:///:memory:", None),
        ("postgresql://me:secret@db.example/study", None),
        ("not a url", None),
    ],
)
def test_only_sqlite_urls_name_a_database_file(url: str, expected: Path | None) -> None:
    assert sqlite_file(url) == expected


@pytest.mark.postgres
def test_a_postgresql_project_has_private_folders_and_no_database_file(tmp_path: Path) -> None:
    if not PG_URL:
        pytest.skip("PostgreSQL tests skipped: no server reachable (set NARRATIVES_TEST_PG_URL)")
    url, name = _fresh_pg_database()
    try:
        project = init_project(tmp_path / "study", db_url=url)
        project.close()
        assert mode(tmp_path / "study") == 0o700
        assert mode(tmp_path / "study" / CONFIG_NAME) == 0o600
        assert not list((tmp_path / "study").glob(DB_NAME + "*"))
    finally:
        _drop_pg_database(name)
