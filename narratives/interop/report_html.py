"""The report as one self-contained HTML page: inline CSS, charts as inline images, no scripts.

Every piece of text from the project is escaped; charts are SVG drawn by vl-convert and embedded
as ``data:`` images (each its own document, so their ids cannot clash), with the chart's
description as alt text. Nothing is fetched: no external stylesheet, font, script or image.
"""

from __future__ import annotations

import base64
import html

from narratives.interop import report_text as words
from narratives.interop.report_charts import ChartSpec, render_svg
from narratives.interop.report_content import Report, Table, ThemeReport
from narratives.interop.report_method import MethodSummary
from narratives.review.panel import ThemeSummary

CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;
color:#1b1b1b;line-height:1.5}
h1{font-size:1.8rem}h2{border-bottom:2px solid #ccc;padding-bottom:.2rem;margin-top:2.5rem}
h3{font-size:1.15rem;margin-top:1.8rem}h4{font-size:1rem;margin-bottom:.3rem}
section.sub{margin-left:1.2rem;border-left:3px solid #e3e3e3;padding-left:1rem}
table{border-collapse:collapse;margin:.5rem 0 1rem}th,td{border:1px solid #ccc;padding:.25rem .6rem;text-align:left}
th{background:#f2f2f2}td.n{text-align:right}tr.small td{color:#555;font-style:italic}
blockquote{border-left:4px solid #999;margin:.6rem 0;padding:.2rem .8rem;background:#fafafa}
figure{margin:1rem 0}figure.quote{margin:.6rem 0}figure.quote blockquote{margin:0}figure img{max-width:100%;height:auto}figcaption{font-size:.85rem;color:#444}
.who{font-size:.85rem;color:#555}.warn{font-size:.85rem;color:#8a3b00;font-weight:600}.note{font-size:.85rem;color:#555}
.swatch{display:inline-block;width:.9rem;height:.9rem;border-radius:2px;margin-right:.4rem;vertical-align:middle}
@media print{body{max-width:none}section{break-inside:auto}figure,table{break-inside:avoid}}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def html_chart(chart: ChartSpec) -> str:
    data = base64.b64encode(render_svg(chart).encode("utf-8")).decode("ascii")
    return (
        f"<figure><img src='data:image/svg+xml;base64,{data}' alt='{_e(chart.description)}'>"
        f"<figcaption>{_e(chart.title)}. {_e(chart.description)}</figcaption></figure>"
    )


def html_table(table: Table, heading: str = "h4") -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in table.columns)
    body = "".join(
        f"<tr{' class=small' if small else ''}>"
        + "".join(
            f"<td{' class=n' if i else ''}>{_e(text)}{' *' if small and i == 0 else ''}</td>"
            for i, text in enumerate(texts)
        )
        + "</tr>"
        for texts, small in zip(words.row_texts(table), table.small or [False] * len(table.rows), strict=True)
    )
    note = f"<p class=note>{_e(table.note)}</p>" if table.note else ""
    return f"<{heading}>{_e(table.title)}</{heading}><table><tr>{head}</tr>{body}</table>{note}"


def _quotes(report: Report, theme: ThemeReport) -> str:
    if not theme.quotes:
        return f"<p class=note>{_e(words.NO_QUOTES)}</p>"
    items = "".join(
        f"<figure class=quote><blockquote>{_e(q.text)}</blockquote>"
        f"<figcaption class=who>{_e(words.quote_citation(report, theme, i))}</figcaption></figure>"
        + "".join(f"<div class=warn>{_e(w)}</div>" for w in words.small_group_lines(theme, i))
        for i, q in enumerate(theme.quotes)
    )
    return f"<h4>Quotes</h4>{items}"


def _panel(summary: ThemeSummary | None) -> str:
    if summary is None or not summary.responses:
        return ""
    renames = (
        f"<p class=note>Names suggested: {_e('; '.join(summary.renames))}</p>" if summary.renames else ""
    )
    comments = "".join(f"<blockquote>{_e(c)}</blockquote>" for c in summary.comments)
    return (
        f"<h4>Panel verdicts ({summary.responses})</h4><p>{_e(words.panel_counts(summary))}</p>"
        f"{renames}{comments}"
    )


def _theme(report: Report, theme: ThemeReport) -> str:
    code = theme.code
    swatch = f"<span class=swatch style='background:{_e(code.colour)}'></span>" if code.colour else ""
    heading = "h2" if theme.level == 0 else "h3"
    parts = [
        f"<section id='{_e(code.id)}'{' class=sub' if theme.level else ''}>",
        f"<{heading}>{swatch}{_e(words.theme_heading(theme))}</{heading}>",
        f"<p>{_e(code.definition or 'No definition yet.')}</p>",
        f"<p>{_e(words.theme_counts(theme))}</p>",
        *(html_chart(c) for c in theme.charts),
        *(html_table(t) for t in theme.tables),
        _quotes(report, theme),
        _panel(theme.panel),
        "</section>",
    ]
    return "\n".join(p for p in parts if p)


def _method(method: MethodSummary | None) -> str:
    if method is None:
        return ""
    lines = "".join(f"<p>{_e(line)}</p>" for line in words.method_lines(method) if line)
    rows = words.agreement_rows(method.agreement)
    table = ""
    if rows:
        head = "".join(f"<th>{_e(c)}</th>" for c in words.AGREEMENT_COLUMNS)
        body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows)
        table = f"<h3>Agreement</h3><table><tr>{head}</tr>{body}</table>"
    return f"<section id=method><h2>Method</h2>{lines}{table}</section>"


def _limitations(report: Report) -> str:
    if not report.limitations:
        return ""
    return (
        "<section id=limitations><h2>Limitations</h2><p>"
        + _e(" ".join(report.limitations))
        + "</p></section>"
    )


def render_html(report: Report) -> str:
    contents = "".join(
        f"<li><a href='#{_e(t.code.id)}'>{_e(t.code.name)}</a></li>" for t in report.themes if t.level == 0
    )
    warning = words.small_quote_warning(report)
    glance = "".join(html_chart(c) for c in report.charts)
    return (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        f"<meta name=viewport content='width=device-width,initial-scale=1'><title>{_e(report.title)}</title>"
        f"<style>{CSS}</style></head><body><h1>{_e(report.title)}</h1>"
        f"<p class=note>{_e(words.intro(report))}</p>"
        + (f"<p class=warn>{_e(warning)}</p>" if warning else "")
        + f"<nav><ul>{contents}</ul></nav>"
        + _method(report.method)
        + _limitations(report)
        + (f"<section id=glance><h2>Prevalence at a glance</h2>{glance}</section>" if glance else "")
        + "\n".join(_theme(report, t) for t in report.themes)
        + "</body></html>\n"
    )
