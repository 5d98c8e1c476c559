"""`narratives ingest` builds its reader options with ReadOptions.from_settings, as pipeline files do."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from narratives.cli import app
from narratives.ingest.checks import DEFAULT_MAX_BYTES
from narratives.ingest.readers import DEFAULT_MAX_STREAMED_BYTES, MEGABYTE

runner = CliRunner()


def test_the_size_limit_help_states_the_readers_default() -> None:
    result = runner.invoke(app, ["ingest", "--help"], env={"COLUMNS": "240"})
    streamed = DEFAULT_MAX_STREAMED_BYTES // MEGABYTE
    assert f"(default {DEFAULT_MAX_BYTES // MEGABYTE}; {streamed} for .csv/.tsv" in result.output


def test_a_size_limit_of_zero_is_a_clear_error(tmp_path: Path) -> None:
    text = tmp_path / "post.md"
    text.write_text("# A post\n\nSome words.\n", encoding="utf-8")
    result = runner.invoke(
        app, ["ingest", str(tmp_path / "p"), str(text), "--max-mb", "0", "--split-preview"]
    )
    assert result.exit_code == 1
    assert "E200" in result.output and "more than 0 megabytes" in result.output


def test_a_forced_encoding_reaches_the_reader(tmp_path: Path) -> None:
    survey = Path(__file__).resolve().parents[1] / "fixtures" / "survey_cp1252.csv"
    assert runner.invoke(app, ["init", str(tmp_path / "p")]).exit_code == 0
    arguments = [
        "ingest",
        str(tmp_path / "p"),
        str(survey),
        "--id-column",
        "id",
        "--text-column",
        "q1_experience",
    ]
    result = runner.invoke(app, [*arguments, "--encoding", "utf-8"], terminal_width=200)
    assert result.exit_code == 1 and "cannot decode the file as utf-8" in result.output
    result = runner.invoke(app, [*arguments, "--encoding", "cp1252"], terminal_width=200)
    assert result.exit_code == 0 and "1 ingested" in result.output
