"""The DOCX report read back with python-docx, its agreement figures with intervals, and the
reproducibility manifest written beside it (the hand-checked study of tests/builders/study.py)."""

from __future__ import annotations

import json
from pathlib import Path

import docx
from typer.testing import CliRunner

from narratives.cli import app
from narratives.interop.manifest import manifest_path
from narratives.interop.report import build_report, write_report
from tests.builders.study import CODEBOOK, CODES, build_study


def test_the_docx_has_its_headings_tables_and_charts(tmp_path: Path) -> None:
    study = build_study(tmp_path / "study")
    with study.project.connect() as connection:
        report = build_report(connection, CODEBOOK)
        path = write_report(connection, CODEBOOK, tmp_path / "report.docx")
    document = docx.Document(str(path))
    headings = [
        (p.style.name, p.text) for p in document.paragraphs if p.style.name.startswith(("Heading", "Title"))
    ]
    assert headings[0] == ("Title", "Themes of study")
    assert ("Heading 1", "Method") in headings and ("Heading 2", "Agreement") in headings
    levels = {text: style for style, text in headings}
    for code in CODES:  # every theme a heading, sub-codes one level down
        assert levels[code.name] == ("Heading 2" if code.parent else "Heading 1")
    headers = [[cell.text for cell in table.rows[0].cells] for table in document.tables]
    assert ["coders", "code", "statistic", "value", "95% interval", "items"] in headers
    assert ["need_group", "group size", "with theme", "share"] in headers
    assert report.charts and len(document.inline_shapes) >= len(report.charts)
    text = "\n".join(p.text for p in document.paragraphs)
    assert "Codebook: study, version" in text and "bootstrap 95% intervals" in text


def test_agreement_figures_carry_their_intervals(tmp_path: Path) -> None:
    study = build_study(tmp_path / "study")
    with study.project.connect() as connection:
        report = build_report(connection, CODEBOOK)
    assert report.method is not None
    figures = report.method.agreement
    assert {f.coders for f in figures} == {"machine vs Aisha"}  # the study's one reviewer
    assert {f.statistic for f in figures} == {
        "percent agreement",
        "Cohen's kappa",
        "Krippendorff's alpha",
        "Gwet's AC1",
    }
    for figure in figures:
        assert figure.low is not None and figure.high is not None
        assert figure.low - 1e-9 <= figure.value <= figure.high + 1e-9 and figure.items > 0


def test_the_report_command_writes_a_manifest_beside_the_docx(tmp_path: Path) -> None:
    build_study(tmp_path / "study").project.close()
    out = tmp_path / "report.docx"
    result = CliRunner().invoke(
        app, ["report", str(tmp_path / "study"), "--format", "docx", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads(manifest_path(out).read_text(encoding="utf-8"))
    assert docx.Document(str(out)).paragraphs[0].text == "Themes of study"
    assert {"narratives", "altair", "vl-convert-python", "krippendorff"} <= set(manifest["packages"])
    assert manifest["file"]["name"] == "report.docx" and manifest["file"]["bytes"] == out.stat().st_size
    assert CODEBOOK in json.dumps(manifest["codebooks"]) and manifest["coding_runs"]
    assert manifest["extra"] == {"codebook": CODEBOOK, "format": "docx", "deidentified": True}
