"""Project fixtures for the store tests: every test runs on SQLite and on a real PostgreSQL server.

`scripts/test.sh` starts a throw-away PostgreSQL server and sets NARRATIVES_TEST_PG_URL; without it
the PostgreSQL variants are skipped with a message saying why.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from narratives.store import Project, init_project

PG_URL = os.environ.get("NARRATIVES_TEST_PG_URL")


def _fresh_pg_database() -> tuple[str, str]:
    assert PG_URL
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_URL.rsplit("/", 1)[0] + f"/{name}", name


def _drop_pg_database(name: str) -> None:
    assert PG_URL
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend_project(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Project]:
    """A new, empty project on each database backend."""
    if request.param == "sqlite":
        project = init_project(tmp_path / "project")
        yield project
        project.close()
        return
    if not PG_URL:
        pytest.skip(
            "PostgreSQL tests skipped: no server reachable "
            "(set NARRATIVES_TEST_PG_URL, as scripts/test.sh does)"
        )
    url, name = _fresh_pg_database()
    project = init_project(tmp_path / "project", db_url=url)
    yield project
    project.close()
    _drop_pg_database(name)
