"""The command line: every command has help with an example; errors are one line, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from narratives.cli import app

runner = CliRunner()


def command_paths() -> list[list[str]]:
    root = get_command(app)
    paths = []
    for name, command in root.commands.items():
        if hasattr(command, "commands"):
            paths.extend([name, sub] for sub in command.commands)
        else:
            paths.append([name])
    return paths


def test_the_main_commands_exist() -> None:
    names = {path[0] for path in command_paths()}
    assert {"init", "ingest", "segment", "status", "run", "demo"} <= names


@pytest.mark.parametrize("path", command_paths(), ids=lambda p: " ".join(p))
def test_every_command_has_help_with_an_example(path: list[str]) -> None:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output


def test_library_error_is_one_line_without_traceback(tmp_path: Path) -> None:
    result = runner.invoke(app, ["status", str(tmp_path / "nowhere")])
    assert result.exit_code == 1
    assert "E100" in result.output and "narratives init" in result.output
    assert "Traceback" not in result.output


def test_ingest_reports_failures_and_exits_non_zero(tmp_path: Path) -> None:
    project = tmp_path / "p"
    assert runner.invoke(app, ["init", str(project)]).exit_code == 0
    good = tmp_path / "post.md"
    good.write_text("# My PA\n\nShe listens to me and we go to the café on Fridays.\n", encoding="utf-8")
    bad = tmp_path / "broken.docx"
    bad.write_bytes(b"not really a zip file")
    result = runner.invoke(
        app, ["ingest", str(project), str(good), str(bad), "--kind", "blog"], terminal_width=200
    )
    assert result.exit_code == 1
    assert "1 ingested, 0 skipped, 1 failed" in result.output
    assert "broken.docx" in result.output
    status = runner.invoke(app, ["status", str(project)], terminal_width=200)
    assert "documents: blog" in status.output and "│     1 │" in status.output


def test_segment_command_prints_the_pipeline_used(tmp_path: Path) -> None:
    project = tmp_path / "p"
    runner.invoke(app, ["init", str(project)])
    text = tmp_path / "t.txt"
    text.write_text("Interviewer: How are you?\nP01: Tired. Very tired.\n", encoding="utf-8")
    runner.invoke(app, ["ingest", str(project), str(text), "--kind", "interview", "--participant", "P01"])
    result = runner.invoke(app, ["segment", str(project), "--unit", "sentence"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "3 sentence segments from 1 documents" in result.output
    assert "sentencizer" in result.output


def test_console_script_runs_the_typer_app(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from importlib.metadata import entry_points

    script = next(e for e in entry_points(group="console_scripts") if e.name == "narratives")
    monkeypatch.setattr("sys.argv", ["narratives", "--help"])
    with pytest.raises(SystemExit) as done:
        script.load()()
    assert done.value.code == 0
    shown = capsys.readouterr().out
    assert "Usage:" in shown and all(name in shown for name in ("init", "ingest", "export"))
