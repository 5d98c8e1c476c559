"""`narratives llm set|show|check|off` and `narratives code --llm-url`, with the real CLI, the real
MiniLM and the fake OpenAI-compatible server (tests/builders/fake_llm_server.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from narratives.cli import app
from narratives.codebook.files import save_codebook
from narratives.store.project import Project
from narratives.store.tables import suggestions
from tests.builders.fake_llm_server import FakeLLMServer
from tests.builders.themes import make_codebook

runner = CliRunner()


def llm_suggestions(project: Project) -> int:
    with project.connect() as connection:
        query = select(func.count()).where(suggestions.c.coder == "llm")
        return int(connection.execute(query.select_from(suggestions)).scalar_one())


def test_a_remote_server_is_refused_and_allowed_only_with_a_warning(themed_project: Project) -> None:
    folder = str(themed_project.path)
    refused = runner.invoke(app, ["llm", "set", folder, "--url", "http://10.1.2.3:8000/v1", "--model", "m"])
    assert refused.exit_code == 1 and "E1140" in refused.output and "--allow-remote-llm" in refused.output
    allowed = runner.invoke(
        app, ["llm", "set", folder, "--url", "http://10.1.2.3:8000/v1", "--model", "m", "--allow-remote-llm"]
    )
    assert allowed.exit_code == 0, allowed.output
    assert "WARNING" in allowed.output and "10.1.2.3" in allowed.output
    shown = runner.invoke(app, ["llm", "show", folder])
    assert "m at http://10.1.2.3:8000/v1" in shown.output and "another machine" in shown.output
    assert runner.invoke(app, ["llm", "off", folder]).exit_code == 0
    assert "No LLM coder" in runner.invoke(app, ["llm", "show", folder]).output


@pytest.mark.slow
def test_code_uses_the_projects_llm_server(
    themed_project: Project, llm_server: FakeLLMServer, tmp_path: Path
) -> None:
    folder = str(themed_project.path)
    book = save_codebook(make_codebook(), tmp_path / "book.yaml")
    set_ = runner.invoke(app, ["llm", "set", folder, "--url", llm_server.url, "--model", "fake-model"])
    assert set_.exit_code == 0, set_.output
    checked = runner.invoke(app, ["llm", "check", folder])
    assert checked.exit_code == 0, checked.output
    assert "answers in JSON" in checked.output and "assessment" in checked.output
    coded = runner.invoke(app, ["code", folder, "--codebook", str(book)])
    assert coded.exit_code == 0, coded.output
    assert "WARNING" not in coded.output
    asked = len(llm_server.asked)
    assert asked > 1  # the check's segment and the project's
    with themed_project.connect() as connection:
        ensemble_reasons = connection.execute(
            select(func.count()).select_from(suggestions).where(suggestions.c.reason.is_not(None))
        ).scalar_one()
    assert ensemble_reasons > 0
    # --no-llm leaves it out; a one-off --llm-url names another server without saving it
    again = runner.invoke(app, ["code", folder, "--codebook", str(book), "--no-llm"])
    assert again.exit_code == 0, again.output
    assert len(llm_server.asked) == asked
    with themed_project.connect() as connection:
        current = connection.execute(
            select(func.count())
            .select_from(suggestions)
            .where(suggestions.c.current.is_(True), suggestions.c.reason.is_not(None))
        ).scalar_one()
    assert current == 0
    assert llm_suggestions(themed_project) == 0  # the llm's own rows are stored only when asked for
