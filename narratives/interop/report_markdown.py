"""The report as Markdown, its charts as PNG files beside it (``<stem>-<chart>.png``), linked.

Text from the project is escaped so that no quote can become a heading, link, table or tag.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from narratives.interop import report_text as words
from narratives.interop.report_charts import ChartSpec, render_png
from narratives.interop.report_content import Report, Table, ThemeReport
from narratives.interop.report_method import MethodSummary
from narratives.store.files import write_private

SMALL_MD = " \\*"


def _m(value: object) -> str:
    text = " ".join(str(value).split())
    for char in "\\`*_[]<>|#":
        text = text.replace(char, "\\" + char)
    return text


def md_table(table: Table) -> list[str]:
    align = ["---"] + ["---:"] * (len(table.columns) - 1)
    lines = [f"#### {_m(table.title)}", "", "| " + " | ".join(_m(c) for c in table.columns) + " |"]
    lines.append("|" + "|".join(align) + "|")
    smalls = table.small or [False] * len(table.rows)
    for texts, small in zip(words.row_texts(table), smalls, strict=True):
        cells = [_m(t) for t in texts]
        cells[0] += SMALL_MD if small else ""
        lines.append("| " + " | ".join(cells) + " |")
    return [*lines, "", *([_m(table.note), ""] if table.note else [])]


@dataclass
class _Images:
    """The charts the text links, by file name; each name starts with ``prefix``."""

    prefix: str
    charts: dict[str, ChartSpec] = field(default_factory=dict)


def _chart(chart: ChartSpec, images: _Images) -> list[str]:
    name = f"{images.prefix}{chart.name}.png"
    images.charts[name] = chart
    return [f"![{_m(chart.description)}]({name})", "", f"*{_m(chart.title)}*", ""]


def _theme(report: Report, theme: ThemeReport, images: _Images) -> list[str]:
    mark = "##" if theme.level == 0 else "###"
    lines = [
        f"{mark} {_m(words.theme_heading(theme))}",
        "",
        _m(theme.code.definition or "No definition yet."),
        "",
        _m(words.theme_counts(theme)),
        "",
    ]
    for chart in theme.charts:
        lines += _chart(chart, images)
    for table in theme.tables:
        lines += md_table(table)
    if theme.quotes:
        lines += ["#### Quotes", ""]
        for i, q in enumerate(theme.quotes):
            lines += [f"> {_m(q.text)}", f"> {_m(words.quote_citation(report, theme, i))}", ""]
            warnings = [
                f"**{_m(w).replace('Small group:', 'Small group:**', 1)}"
                for w in words.small_group_lines(theme, i)
            ]
            lines += [*warnings, ""] if warnings else []
    panel = theme.panel
    if panel is not None and panel.responses:
        lines += [f"#### Panel verdicts ({panel.responses})", "", _m(words.panel_counts(panel)), ""]
        lines += [f"> {_m(c)}" for c in panel.comments] + ([""] if panel.comments else [])
    return lines


def _method(method: MethodSummary | None) -> list[str]:
    if method is None:
        return []
    lines = ["## Method", ""]
    for line in words.method_lines(method):
        lines += [_m(line), ""] if line else []
    rows = words.agreement_rows(method.agreement)
    if rows:
        lines += ["### Agreement", "", "| " + " | ".join(words.AGREEMENT_COLUMNS) + " |"]
        lines += ["|" + "|".join(["---"] * len(words.AGREEMENT_COLUMNS)) + "|"]
        lines += ["| " + " | ".join(_m(c) for c in row) + " |" for row in rows] + [""]
    return lines


def markdown_and_images(report: Report, prefix: str = "") -> tuple[str, dict[str, ChartSpec]]:
    """The Markdown text and the charts it links, by file name (``prefix`` before each name)."""
    images = _Images(prefix)
    lines = [f"# {_m(report.title)}", "", _m(words.intro(report)), ""]
    if warning := words.small_quote_warning(report):
        lines += [f"**{_m(warning)}**", ""]
    lines += _method(report.method)
    if report.limitations:
        lines += ["## Limitations", "", _m(" ".join(report.limitations)), ""]
    if report.charts:
        lines += ["## Prevalence at a glance", ""]
        for chart in report.charts:
            lines += _chart(chart, images)
    for theme in report.themes:
        lines += _theme(report, theme, images)
    return "\n".join(lines).rstrip() + "\n", images.charts


def render_markdown(report: Report) -> str:
    """The Markdown text alone (its image links point at files :func:`write_markdown` writes)."""
    return markdown_and_images(report)[0]


def write_markdown(report: Report, path: Path) -> list[Path]:
    """Write ``path`` and a PNG beside it per chart (``<stem>-<chart>.png``), all owner-only."""
    text, images = markdown_and_images(report, prefix=f"{path.stem}-")
    written = []
    for name, chart in images.items():
        image = path.with_name(name)
        write_private(image, render_png(chart))
        written.append(image)
    write_private(path, text)
    return [path, *written]
