"""`narratives ingest` on a hostile batch: one line per bad file, no traceback, the rest goes in."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from typer.testing import CliRunner

from narratives.cli import app
from narratives.ingest.survey import MAX_CELL_CHARS

runner = CliRunner()


def test_a_hostile_batch_reports_each_file_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "care #1 notes.txt").write_text("I chose my own carers this year.\n", encoding="utf-8")
    (folder / "quote.csv").write_text('id,answer\nR1,Fine\nR2,"Never closed\nR3,Lost\n', encoding="utf-8")
    (folder / "crash.csv").write_text("id,answer\nR1,Fine\n", encoding="utf-8")
    huge = "x" * (MAX_CELL_CHARS + 1)
    (folder / "cells.csv").write_text(f"id,answer\nR1,{huge}\nR2,Kept\n", encoding="utf-8")
    (folder / "pounds.csv").write_bytes("id,answer\nR1,£25 a week for the café\n".encode("cp1252"))
    real_reader = csv.reader

    def reader(stream, *args, **kwargs):
        if Path(getattr(stream, "name", "")).name == "crash.csv":
            raise RuntimeError("the parser fell over")
        return real_reader(stream, *args, **kwargs)

    monkeypatch.setattr(csv, "reader", reader)
    assert runner.invoke(app, ["init", str(tmp_path / "p")]).exit_code == 0
    arguments = ["ingest", str(tmp_path / "p"), str(folder), "--id-column", "id", "--text-column", "answer"]
    result = runner.invoke(app, arguments, terminal_width=250)

    output = result.output
    assert result.exit_code == 1
    assert "Traceback" not in output
    assert "3 ingested, 0 skipped, 2 failed; 3 new documents." in output  # one from each good file
    assert "crash.csv: the file could not be read (RuntimeError: the parser fell over)" in output
    assert "row 3 (the record starting on line 3)" in output
    assert "row 2: the cell in column 'answer'" in output
    assert "read as cp1252" in output


def test_the_reading_bar_follows_a_big_table_and_goes_when_it_is_done() -> None:
    from rich.console import Console
    from rich.progress import Progress

    from narratives.cli.ingest_cmds import FileBar

    with Progress(console=Console(file=io.StringIO(), force_terminal=True)) as progress:
        bar = FileBar(progress)
        bar("small.csv", 10, 10)  # read before its first report: no bar at all
        assert progress.tasks == []
        bar("/data/big.csv", 25, 100)
        bar("/data/big.csv", 50, 100)
        [task] = progress.tasks
        assert task.description == "reading big.csv (%)" and task.completed == 50
        bar("/data/big.csv", 100, 100)
        assert progress.tasks == []


def test_every_reason_in_a_batch_names_its_file_once(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    huge = "x" * (MAX_CELL_CHARS + 1)
    (folder / "cells.csv").write_text(f"id,answer\nR1,Fine\nR2,{huge}\n", encoding="utf-8")
    (folder / "other.csv").write_text(f"id,answer\nR1,Also fine\nR2,{huge}\n", encoding="utf-8")
    (folder / "again.txt").write_text("I chose my own carers this year.\n", encoding="utf-8")
    (folder / "blank.txt").write_bytes(b"\xff\xfe")  # a UTF-16 byte order mark and nothing else
    assert runner.invoke(app, ["init", str(tmp_path / "p")]).exit_code == 0
    arguments = ["ingest", str(tmp_path / "p"), "--id-column", "id", "--text-column", "answer"]
    assert runner.invoke(app, [*arguments, str(folder / "again.txt")]).exit_code == 0
    result = runner.invoke(app, [*arguments, str(folder)], terminal_width=250)

    reasons = [
        line
        for line in result.output.splitlines()
        if line.startswith(("ingested ", "skipped ", "failed ")) and " documents." not in line
    ]
    assert "Traceback" not in result.output
    assert len(reasons) == 4, result.output  # two long cells, one file already in, one blank file
    for name in ("cells.csv", "other.csv"):
        [line] = [line for line in reasons if f"{name}: row 3: the cell in column 'answer'" in line]
    [again] = [line for line in reasons if "already in the project" in line]
    assert "again.txt: already in the project" in again
    [blank] = [line for line in reasons if "blank.txt" in line]
    assert blank.startswith("failed E200: ") and "blank.txt: the file has no text" in blank
    for line in reasons:
        names = [name for name in ("cells.csv", "other.csv", "again.txt", "blank.txt") if name in line]
        assert len(names) == 1 and line.count(names[0]) == 1, line
