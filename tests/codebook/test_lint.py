"""codebook validate's warnings: names used twice and three-digit colours, with file, line, code and fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from narratives.cli import app
from narratives.codebook.files import load_codebook
from narratives.codebook.lint import codebook_warnings, file_warnings
from narratives.schema import Code, Codebook

BOOK = """name: b
version: '1'
codes:
  - id: care
    name: Care
    definition: About care.
    colour: "#1f77b4"
  - id: care_again
    name: "  care "
    definition: Care, again.
    colour: "#AbC"
  - id: late
    name: Lateness
    definition: Late.
"""


def _write(tmp_path: Path, text: str = BOOK) -> Path:
    path = tmp_path / "book.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_name_used_twice_warns_with_both_lines(tmp_path: Path) -> None:
    path = _write(tmp_path)
    warnings = [w for w in file_warnings(path, load_codebook(path)) if w.code == "W422"]
    assert len(warnings) == 1
    (warning,) = warnings
    assert warning.where == f"{path} line 9"
    assert "code 'care_again'" in warning.message and "code 'care'" in warning.message
    assert f"{path} line 5" in warning.message and warning.fix == "give one of them another name."


def test_a_three_digit_colour_warns_with_the_six_digit_fix(tmp_path: Path) -> None:
    path = _write(tmp_path)
    (warning,) = [w for w in file_warnings(path, load_codebook(path)) if w.code == "W423"]
    assert warning.where == f"{path} line 11"
    assert "code 'care_again'" in warning.message and "'#AbC'" in warning.message
    assert warning.fix == 'write it with six digits: colour: "#aabbcc".'
    assert str(warning).startswith(f"W423: {path} line 11: ")


def test_a_clean_codebook_has_no_warnings(tmp_path: Path) -> None:
    text = BOOK.replace('"  care "', "Care again").replace("#AbC", "#aabbcc")
    path = _write(tmp_path, text)
    assert file_warnings(path, load_codebook(path)) == []


@pytest.mark.parametrize(("names", "count"), [(["A", "a"], 1), (["A", "B"], 0), (["Ä ", "ä", "ä"], 2)])
def test_names_are_compared_without_case_and_outer_spaces(names: list[str], count: int) -> None:
    codes = [Code(id=f"c{i}", name=name, definition="d") for i, name in enumerate(names)]
    warnings = codebook_warnings(Codebook(name="b", codes=codes), "b.csv")
    assert [w.code for w in warnings] == ["W422"] * count
    assert all(w.where.startswith("b.csv code #") for w in warnings)


def test_a_retired_code_does_not_count_as_a_second_name() -> None:
    codes = [
        Code(id="a", name="Care", definition="d"),
        Code(id="b", name="care", definition="d", retired=True),
    ]
    assert codebook_warnings(Codebook(name="b", codes=codes)) == []


def test_cli_prints_the_warnings_and_exits_0(tmp_path: Path) -> None:
    path = _write(tmp_path)
    result = CliRunner().invoke(app, ["codebook", "validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "OK" in result.output
    assert "W422" in result.output and "W423" in result.output and "#aabbcc" in result.output
    assert "line 9" in result.output and "line 11" in result.output
