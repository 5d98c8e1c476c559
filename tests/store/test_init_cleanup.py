"""A failed `narratives init` (the database cannot be reached) leaves behind nothing it made, and
removes nothing that was there before."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from narratives.cli import app
from narratives.errors import ProjectError
from narratives.store import init_project

# nothing listens on port 1 of the loopback address: the connection is refused at once
UNREACHABLE = "postgresql+psycopg://nobody@127.0.0.1:1/none"


def test_a_failed_init_leaves_no_folder_skeleton(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="cannot open the database"):
        init_project(tmp_path / "new" / "project", db_url=UNREACHABLE)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_init_keeps_what_was_there(tmp_path: Path) -> None:
    folder = tmp_path / "project"
    (folder / "exports").mkdir(parents=True)
    (folder / "notes.txt").write_text("mine", encoding="utf-8")
    result = CliRunner().invoke(app, ["init", str(folder), "--db", UNREACHABLE])
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert sorted(p.name for p in folder.iterdir()) == ["exports", "notes.txt"]
