"""`narratives users`: passwords from a hidden prompt or standard input, never an argument."""

from __future__ import annotations

from sqlalchemy import select
from typer.testing import CliRunner

from narratives.auth.accounts import attempt_login
from narratives.cli import app
from narratives.errors import AuthError
from narratives.store.project import open_project
from narratives.store.tables import users

runner = CliRunner()
PASSWORD = "correct horse battery staple"


def test_add_list_reset_and_remove(tmp_path) -> None:
    project = tmp_path / "study"
    assert runner.invoke(app, ["init", str(project)]).exit_code == 0
    added = runner.invoke(
        app,
        ["users", "add", str(project), "Ana", "--role", "admin", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert added.exit_code == 0, added.output
    prompted = runner.invoke(
        app, ["users", "add", str(project), "Pat", "--role", "panel"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert prompted.exit_code == 0, prompted.output
    assert PASSWORD not in added.output + prompted.output  # the prompt does not echo it
    listed = runner.invoke(app, ["users", "list", str(project)], terminal_width=200)
    assert "Ana" in listed.output and "admin" in listed.output and "panel" in listed.output
    assert "$argon2" not in listed.output

    opened = open_project(project)
    with opened.begin() as connection:
        assert not isinstance(attempt_login(connection, "Pat", PASSWORD), AuthError)
        assert connection.execute(select(users.c.name).order_by(users.c.name)).scalars().all() == [
            "Ana",
            "Pat",
        ]

    reset = runner.invoke(
        app,
        ["users", "reset-password", str(project), "Pat", "--password-stdin"],
        input="a new long password\n",
    )
    assert reset.exit_code == 0, reset.output
    with opened.begin() as connection:
        assert isinstance(attempt_login(connection, "Pat", PASSWORD), AuthError)
    assert runner.invoke(app, ["users", "remove", str(project), "Pat"]).exit_code == 0
    assert "Pat" not in runner.invoke(app, ["users", "list", str(project)]).output
    opened.close()


def test_a_password_is_not_an_argument_and_bad_input_is_explained(tmp_path) -> None:
    project = tmp_path / "study"
    runner.invoke(app, ["init", str(project)])
    as_argument = runner.invoke(app, ["users", "add", str(project), "Ana", "--password", PASSWORD])
    assert as_argument.exit_code != 0
    short = runner.invoke(app, ["users", "add", str(project), "Ana", "--password-stdin"], input="short\n")
    assert short.exit_code == 1 and "E700" in short.output and "at least 10" in short.output
    mismatch = runner.invoke(
        app, ["users", "add", str(project), "Ana"], input=f"{PASSWORD}\nsomething else\n"
    )
    assert mismatch.exit_code != 0
    unknown = runner.invoke(app, ["users", "remove", str(project), "Nobody"])
    assert unknown.exit_code == 1 and "no user called 'Nobody'" in unknown.output


def test_serve_refuses_a_project_without_logins_and_explore_refuses_other_hosts(tmp_path) -> None:
    project = tmp_path / "study"
    runner.invoke(app, ["init", str(project)])
    serve = runner.invoke(app, ["serve", str(project), "--host", "0.0.0.0"])
    assert serve.exit_code == 1 and "no admin or researcher" in serve.output and "users add" in serve.output
    explore = runner.invoke(app, ["explore", str(project), "--host", "0.0.0.0"])
    assert explore.exit_code == 1 and "narratives serve" in explore.output
