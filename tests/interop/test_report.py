"""The HTML and Markdown report, and the analysis commands of the CLI."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from narratives.cli import app
from narratives.interop.report import build_report, render_markdown, write_report
from narratives.review.panel import record_panel_response
from tests.builders.study import CODEBOOK, Study, build_study

COMMANDS = ["crosstab", "waves", "quotes", "export", "report"]


@pytest.fixture
def study(tmp_path: Path) -> Iterator[Study]:
    built = build_study(tmp_path / "study")
    with built.project.begin() as connection:
        record_panel_response(
            connection, CODEBOOK, "continuity", "rings_true", "Pat", comment="<b>So true</b>"
        )
        record_panel_response(
            connection, CODEBOOK, "continuity", "misses_something", "Sam", rename="Same faces"
        )
    yield built
    built.project.close()


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)


def test_report_figures(study: Study) -> None:
    with study.project.connect() as connection:
        report = build_report(connection, CODEBOOK)
    themes = {t.code.id: t for t in report.themes}
    assert (themes["continuity"].segments, themes["continuity"].participants) == (5, 3)
    assert (themes["waiting"].segments, themes["waiting"].participants) == (4, 4)  # the blog post counts once
    assert list(themes["continuity"].by_attribute) == ["kind", "need_group", "council"]
    assert 3 <= len(themes["continuity"].quotes) <= 4
    assert themes["continuity"].panel.counts["rings_true"] == 1
    assert themes["access"].panel is None


def test_html_is_self_contained_and_escaped(study: Study, tmp_path: Path) -> None:
    with study.project.connect() as connection:
        path = write_report(connection, CODEBOOK, tmp_path / "report.html")
    page = path.read_text(encoding="utf-8")
    parser = _Tags()
    parser.feed(page)
    assert "script" not in parser.tags and "link" not in parser.tags
    assert not re.search(r"(src|href)=['\"]?https?:", page)
    assert "&lt;b&gt;So true&lt;/b&gt;" in page and "<b>So true" not in page
    assert "Forms &amp; &lt;admin&gt;." in page
    assert "Now I know my carer [name]" in page and "Zoë" not in page  # quotes de-identified by default
    assert "Continuity of care" in page and "Panel verdicts (2)" in page


def test_markdown_report(study: Study, tmp_path: Path) -> None:
    with study.project.connect() as connection:
        report = build_report(connection, CODEBOOK, include_machine=False)
        path = write_report(connection, CODEBOOK, tmp_path / "report.md")
    text = render_markdown(report)
    assert text.startswith("# Themes of study")
    assert "## Waiting for help" in text and "| wave | participants | with theme | share |" in text
    assert "Forms & \\<admin\\>." in text
    assert path.read_text(encoding="utf-8").startswith("# Themes")


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "Example: narratives " + command in " ".join(result.output.split())


def test_cli_commands_run_on_the_study(study: Study) -> None:
    runner = CliRunner()
    folder = str(study.project.path)
    assert (
        runner.invoke(app, ["crosstab", folder, "--codebook", CODEBOOK, "--by", "need_group"]).exit_code == 0
    )
    assert runner.invoke(app, ["waves", folder, "--trajectories"]).exit_code == 0
    quotes = runner.invoke(app, ["quotes", folder, "--code", "continuity", "--n", "2"])
    assert quotes.exit_code == 0 and "P2" in quotes.output
    for fmt in ("qdpx", "qdc", "csv", "xlsx"):
        result = runner.invoke(app, ["export", folder, "--format", fmt, "--include-machine", "--user", "me"])
        assert result.exit_code == 0, result.output
        assert (study.project.exports_dir / f"{CODEBOOK}.{fmt}").exists()
    assert runner.invoke(app, ["report", folder, "--out", "r.md"]).exit_code == 0
    assert (study.project.exports_dir / "r.md").exists()


def test_cli_errors_are_one_line(study: Study) -> None:
    result = CliRunner().invoke(app, ["crosstab", str(study.project.path), "--by", "postcode"])
    assert result.exit_code == 1
    assert "E800" in result.output and "Traceback" not in result.output


def test_report_can_keep_identifiers_for_the_research_team(study: Study, tmp_path: Path) -> None:
    with study.project.connect() as connection:
        path = write_report(connection, CODEBOOK, tmp_path / "report.html", deidentify=False)
    assert "Now I know my carer Zoë" in path.read_text(encoding="utf-8")  # non-ASCII kept
