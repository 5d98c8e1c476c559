"""The report on a codebook's themes, in HTML, Word or Markdown: the entry point.

:mod:`report_content` builds what the report says (method, themes with counts, tables, charts,
de-identified quotes, limitations); :mod:`report_html`, :mod:`report_docx` and
:mod:`report_markdown` render it. :func:`save_report` picks the renderer from the format or the
file's suffix; :func:`write_report` builds and saves in one call.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from sqlalchemy import Connection

from narratives.analysis.coded import Threshold
from narratives.analysis.quotes import DEFAULT_BALANCE
from narratives.deidentify import DeidentificationSettings
from narratives.interop.report_content import Report, ThemeReport, build_report, default_attributes
from narratives.interop.report_docx import write_docx
from narratives.interop.report_html import render_html
from narratives.interop.report_markdown import render_markdown, write_markdown
from narratives.store.files import write_private

__all__ = [
    "FORMATS",
    "Report",
    "ReportFormat",
    "ThemeReport",
    "build_report",
    "default_attributes",
    "render_html",
    "render_markdown",
    "report_format",
    "save_report",
    "write_report",
]

ReportFormat = Literal["html", "docx", "md"]
FORMATS: tuple[ReportFormat, ...] = ("html", "docx", "md")
SUFFIXES: dict[str, ReportFormat] = {".md": "md", ".markdown": "md", ".docx": "docx"}


def report_format(path: str | Path) -> ReportFormat:
    """The format a file name asks for: Markdown for .md, Word for .docx, else HTML."""
    return SUFFIXES.get(Path(path).suffix.lower(), "html")


def save_report(report: Report, path: str | Path, fmt: ReportFormat | None = None) -> list[Path]:
    """Write a built report, owner-only, in ``fmt`` (default: from the suffix); returns every file
    written, the report first (a Markdown report's charts are PNG files beside it)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    chosen = fmt or report_format(path)
    if chosen == "md":
        return write_markdown(report, path)
    if chosen == "docx":
        return [write_docx(report, path)]
    write_private(path, render_html(report))
    return [path]


def write_report(
    connection: Connection,
    codebook: str,
    path: str | Path,
    *,
    attributes: Sequence[str] | None = None,
    include_machine: bool = True,
    threshold: Threshold = None,
    quotes: int = 4,
    balance_by: Sequence[str] = DEFAULT_BALANCE,
    title: str | None = None,
    deidentify: bool | DeidentificationSettings = True,
    charts: bool = True,
    fmt: ReportFormat | None = None,
) -> Path:
    """Build the report (:func:`build_report`, same options) and write it (see :func:`save_report`)."""
    report = build_report(
        connection,
        codebook,
        attributes=attributes,
        include_machine=include_machine,
        threshold=threshold,
        quotes=quotes,
        balance_by=balance_by,
        title=title,
        deidentify=deidentify,
        charts=charts,
    )
    return save_report(report, path, fmt)[0]
