"""The report as a Word document (python-docx): headings, tables and charts as inline PNG images.

Headings use Word's own styles (Title, Heading 1 for a top-level theme, Heading 2 for a sub-code,
Heading 3 for its tables and quotes), so the navigation pane and a table of contents work; tables
use the "Table Grid" style with a bold header row; charts are drawn by vl-convert at print
resolution and placed 16 cm wide, their description as alt text.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

from narratives.interop import report_text as words
from narratives.interop.report_charts import ChartSpec, render_png
from narratives.interop.report_content import Report, Table, ThemeReport
from narratives.interop.report_method import MethodSummary
from narratives.store.files import private_file

if TYPE_CHECKING:
    from docx.document import Document

CHART_WIDTH_CM = 16.0


def _table(document: Document, columns: list[str], rows: list[list[str]], smalls: list[bool]) -> None:
    table = document.add_table(rows=1, cols=len(columns))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, columns, strict=True):
        cell.text = ""
        cell.paragraphs[0].add_run(text).bold = True
    for texts, small in zip(rows, smalls, strict=True):
        cells = table.add_row().cells
        for i, (cell, text) in enumerate(zip(cells, texts, strict=True)):
            cell.text = text + (" *" if small and i == 0 else "")
            if small:
                for run in cell.paragraphs[0].runs:
                    run.italic = True


def add_table(document: Document, table: Table) -> None:
    document.add_heading(table.title, level=3)
    _table(document, table.columns, words.row_texts(table), table.small or [False] * len(table.rows))
    if table.note:
        document.add_paragraph().add_run(table.note).italic = True


def add_chart(document: Document, chart: ChartSpec) -> None:
    from docx.shared import Cm

    document.add_picture(io.BytesIO(render_png(chart)), width=Cm(CHART_WIDTH_CM))
    picture = document.inline_shapes[-1]
    picture._inline.docPr.set("descr", chart.description)  # alt text for screen readers
    caption = document.add_paragraph(f"{chart.title}. {chart.description}")
    caption.style = document.styles["Caption"]


def _quotes(document: Document, report: Report, theme: ThemeReport) -> None:
    document.add_heading("Quotes", level=3)
    if not theme.quotes:
        document.add_paragraph(words.NO_QUOTES)
    for i, quote in enumerate(theme.quotes):
        document.add_paragraph(quote.text, style="Quote")
        document.add_paragraph(words.quote_citation(report, theme, i))
        for warning in words.small_group_lines(theme, i):
            document.add_paragraph().add_run(warning).bold = True


def add_theme(document: Document, report: Report, theme: ThemeReport) -> None:
    document.add_heading(words.theme_heading(theme), level=1 if theme.level == 0 else 2)
    document.add_paragraph(theme.code.definition or "No definition yet.")
    document.add_paragraph(words.theme_counts(theme))
    for chart in theme.charts:
        add_chart(document, chart)
    for table in theme.tables:
        add_table(document, table)
    _quotes(document, report, theme)
    panel = theme.panel
    if panel is not None and panel.responses:
        document.add_heading(f"Panel verdicts ({panel.responses})", level=3)
        document.add_paragraph(words.panel_counts(panel))
        for comment in panel.comments:
            document.add_paragraph(comment, style="Quote")


def add_method(document: Document, method: MethodSummary | None) -> None:
    if method is None:
        return
    document.add_heading("Method", level=1)
    for line in words.method_lines(method):
        if line:
            document.add_paragraph(line)
    rows = words.agreement_rows(method.agreement)
    if rows:
        document.add_heading("Agreement", level=2)
        _table(document, words.AGREEMENT_COLUMNS, rows, [False] * len(rows))


def build_docx(report: Report) -> Any:
    """The report as a python-docx Document (not yet saved)."""
    import docx

    document = docx.Document()
    document.core_properties.title = report.title
    document.add_heading(report.title, level=0)
    document.add_paragraph(words.intro(report))
    if warning := words.small_quote_warning(report):
        document.add_paragraph().add_run(warning).bold = True
    add_method(document, report.method)
    if report.limitations:
        document.add_heading("Limitations", level=1)
        document.add_paragraph(" ".join(report.limitations))
    if report.charts:
        document.add_heading("Prevalence at a glance", level=1)
        for chart in report.charts:
            add_chart(document, chart)
    for theme in report.themes:
        add_theme(document, report, theme)
    return document


def write_docx(report: Report, path: Path) -> Path:
    """Write the report to ``path`` (owner-only before a byte is written)."""
    build_docx(report).save(str(private_file(path)))
    return path
