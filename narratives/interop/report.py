"""A self-contained report on a codebook's themes, as HTML (inline CSS, no scripts) or Markdown.

Per theme: its definition; how many segments and participants carry it; counts by source kind and by
attributes (group sizes shown, groups under 5 marked, adjusted p-values); counts across waves; 3–5
balanced exemplar quotes, each with a warning when its speaker is one of fewer than 5 people in a
group the report shows (:mod:`narratives.analysis.small_groups`); and, where a co-production panel
has answered, its verdicts. Every piece of text from the project is escaped.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection

from narratives.analysis.coded import (
    Threshold,
    codebook_name,
    coded_segments,
    coded_with_documents,
    document_table,
)
from narratives.analysis.crosstab import MIN_GROUP, themes_by_attribute, themes_by_wave
from narratives.analysis.quotes import DEFAULT_BALANCE, Quote, exemplar_quotes
from narratives.analysis.small_groups import SmallGroup, small_group_warnings
from narratives.deidentify import DeidentificationSettings, texts_redactor
from narratives.review.panel import VERDICTS, ThemeSummary, panel_summary
from narratives.schema import Code
from narratives.store.codebooks import current_codebook
from narratives.store.files import private_file

SMALL_MD = " \\*"
CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;
color:#1b1b1b;line-height:1.5}
h1{font-size:1.8rem}h2{border-bottom:2px solid #ccc;padding-bottom:.2rem;margin-top:2.5rem}
h3{font-size:1.05rem;margin-bottom:.3rem}
table{border-collapse:collapse;margin:.5rem 0 1rem}th,td{border:1px solid #ccc;padding:.25rem .6rem;text-align:left}
th{background:#f2f2f2}td.n{text-align:right}tr.small td{color:#777}
blockquote{border-left:4px solid #999;margin:.6rem 0;padding:.2rem .8rem;background:#fafafa}
.who{font-size:.85rem;color:#555}.warn{font-size:.85rem;color:#8a3b00;font-weight:600}.note{font-size:.85rem;color:#555}.swatch{display:inline-block;width:.9rem;
height:.9rem;border-radius:2px;margin-right:.4rem;vertical-align:middle}
"""


@dataclass
class ThemeReport:
    code: Code
    segments: int
    participants: int
    by_attribute: dict[str, pd.DataFrame] = field(default_factory=dict)
    by_wave: pd.DataFrame | None = None
    quotes: list[Quote] = field(default_factory=list)
    panel: ThemeSummary | None = None
    small_groups: dict[int, list[SmallGroup]] = field(default_factory=dict)  # by quote segment id


@dataclass
class Report:
    title: str
    codebook: str
    version: str
    include_machine: bool
    generated: str
    themes: list[ThemeReport]

    def small_group_quotes(self) -> list[tuple[ThemeReport, Quote, list[SmallGroup]]]:
        """Each quote whose speaker is in a small group, with its theme and the groups."""
        return [
            (theme, quote, theme.small_groups[quote.segment_id])
            for theme in self.themes
            for quote in theme.quotes
            if quote.segment_id in theme.small_groups
        ]


def default_attributes(docs: pd.DataFrame) -> list[str]:
    return ["kind"] + [key for key in DEFAULT_BALANCE if key in docs.columns]


def build_report(
    connection: Connection,
    codebook: str,
    *,
    attributes: Sequence[str] | None = None,
    include_machine: bool = True,
    threshold: Threshold = None,
    quotes: int = 4,
    balance_by: Sequence[str] = DEFAULT_BALANCE,
    title: str | None = None,
    deidentify: bool | DeidentificationSettings = True,
) -> Report:
    """Gather every figure of the report (see the module docstring).

    Quotes and panel comments are de-identified (:mod:`narratives.deidentify`) unless ``deidentify``
    is False; pass the project's settings (``deidentification_settings(project)``) to use its
    ``deidentify.toml``.
    """
    redact_all = texts_redactor(connection, deidentify)
    book = current_codebook(connection, codebook_name(codebook))
    docs = document_table(connection)
    coded = coded_with_documents(
        coded_segments(connection, book.name, include_machine=include_machine, threshold=threshold), docs
    )
    machine, given = include_machine, threshold
    shown = list(attributes or default_attributes(docs))
    tables = {
        a: themes_by_attribute(connection, book.name, a, include_machine=machine, threshold=given)
        for a in shown
    }
    # a quote shows its kind and wave; the tables show each attribute of the report
    small = small_group_warnings(connection, docs["document_id"].tolist(), shown, shown=("kind", "wave"))
    waves = None
    if docs["wave"].notna().any():
        waves = themes_by_wave(connection, book.name, include_machine=machine, threshold=given).counts
    panel = {s.code_id: s for s in panel_summary(connection, book.name)}
    themes = []
    for code in book.active_codes:
        mine = coded[coded["code_id"] == code.id]
        chosen = exemplar_quotes(
            connection,
            book.name,
            code.id,
            n=quotes,
            balance_by=balance_by,
            include_machine=machine,
            threshold=given,
        )
        themes.append(
            ThemeReport(
                code=code,
                segments=int(mine["segment_id"].nunique()),
                participants=int(mine["person"].nunique()),
                by_attribute={a: t[t["code_id"] == code.id] for a, t in tables.items()},
                by_wave=None if waves is None else waves[waves["code_id"] == code.id],
                quotes=[
                    replace(quote, text=text)
                    for quote, text in zip(chosen, redact_all([q.text for q in chosen]), strict=True)
                ],
                panel=_redacted_panel(panel.get(code.id), redact_all),
                small_groups={q.segment_id: small[q.document_id] for q in chosen if q.document_id in small},
            )
        )
    return Report(
        title or f"Themes of {book.title or book.name}",
        book.name,
        book.version,
        include_machine,
        datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        themes,
    )


def _redacted_panel(
    summary: ThemeSummary | None, redact_all: Callable[[list[str]], list[str]]
) -> ThemeSummary | None:
    return None if summary is None else replace(summary, comments=redact_all(summary.comments))


# ------------------------------------------------------------------------------------------ HTML


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _share(value: float) -> str:
    return "–" if pd.isna(value) else f"{value:.0%}"


def _p(value: float) -> str:
    return "–" if pd.isna(value) else f"{value:.3f}"


def _html_attribute_table(attribute: str, table: pd.DataFrame) -> str:
    if table.empty:
        return ""
    rows = "".join(
        f"<tr{' class=small' if r.small_group else ''}><td>{_e(r.group)}{' *' if r.small_group else ''}</td>"
        f"<td class=n>{r.group_size}</td><td class=n>{r['count']}</td><td class=n>{_share(r.share)}</td></tr>"
        for _, r in table.iterrows()
    )
    first = table.iloc[0]
    test = f"{_e(first.test)}, adjusted p = {_p(first.p_adjusted)}" if first.test != "none" else "no test"
    return (
        f"<h3>By {_e(attribute)} (participants)</h3><table><tr><th>{_e(attribute)}</th><th>group size</th>"
        f"<th>with theme</th><th>share</th></tr>{rows}</table><p class=note>{test}</p>"
    )


def _html_wave_table(table: pd.DataFrame | None) -> str:
    if table is None or table.empty:
        return ""
    rows = "".join(
        f"<tr{' class=small' if r.small_group else ''}><td>{r.wave}{' *' if r.small_group else ''}</td>"
        f"<td class=n>{r.wave_participants}</td><td class=n>{r.participants}</td><td class=n>{_share(r.share)}</td></tr>"
        for _, r in table.iterrows()
    )
    return (
        "<h3>Across waves</h3><table><tr><th>wave</th><th>participants</th><th>with theme</th>"
        f"<th>share</th></tr>{rows}</table>"
    )


def _html_warnings(groups: list[SmallGroup]) -> str:
    return "".join(f"<div class=warn>⚠ Small group: {_e(g.message)}</div>" for g in groups)


def _html_quotes(quotes: list[Quote], small_groups: dict[int, list[SmallGroup]]) -> str:
    if not quotes:
        return "<p class=note>No quotes of 6–80 words carry this theme yet.</p>"
    items = "".join(
        f"<blockquote>{_e(q.text)}<div class=who>— {_e(q.attribution)}; {_e(q.source)}"
        f"{'' if q.score is None else f', score {q.score:.2f}'}</div></blockquote>"
        f"{_html_warnings(small_groups.get(q.segment_id, []))}"
        for q in quotes
    )
    return f"<h3>Quotes</h3>{items}"


def _html_panel(summary: ThemeSummary | None) -> str:
    if summary is None or not summary.responses:
        return ""
    counts = ", ".join(f"{_e(VERDICTS[v])}: {n}" for v, n in summary.counts.items())
    renames = (
        f"<p class=note>Names suggested: {_e('; '.join(summary.renames))}</p>" if summary.renames else ""
    )
    comments = "".join(f"<blockquote>{_e(c)}</blockquote>" for c in summary.comments)
    return f"<h3>Panel verdicts ({summary.responses})</h3><p>{counts}</p>{renames}{comments}"


def _html_theme(theme: ThemeReport) -> str:
    code = theme.code
    swatch = f"<span class=swatch style='background:{_e(code.colour)}'></span>" if code.colour else ""
    parts = [
        f"<section id='{_e(code.id)}'><h2>{swatch}{_e(code.name)}</h2>",
        f"<p>{_e(code.definition or 'No definition yet.')}</p>",
        f"<p><strong>{theme.segments}</strong> segments from <strong>{theme.participants}</strong> participants "
        "or documents.</p>",
        *(_html_attribute_table(a, t) for a, t in theme.by_attribute.items()),
        _html_wave_table(theme.by_wave),
        _html_quotes(theme.quotes, theme.small_groups),
        _html_panel(theme.panel),
        "</section>",
    ]
    return "\n".join(p for p in parts if p)


def render_html(report: Report) -> str:
    source = (
        "reviewed codes and machine suggestions at or above threshold"
        if report.include_machine
        else ("reviewed codes only")
    )
    contents = "".join(f"<li><a href='#{_e(t.code.id)}'>{_e(t.code.name)}</a></li>" for t in report.themes)
    flagged = len(report.small_group_quotes())
    warning = (
        f"<p class=warn>⚠ {flagged} quotes come from people in a group of fewer than {MIN_GROUP}: "
        "read the warning beside each before sharing.</p>"
        if flagged
        else ""
    )
    return (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        f"<meta name=viewport content='width=device-width,initial-scale=1'><title>{_e(report.title)}</title>"
        f"<style>{CSS}</style></head><body><h1>{_e(report.title)}</h1>"
        f"<p class=note>Codebook {_e(report.codebook)} {_e(report.version)}; {source}; made {_e(report.generated)}. "
        f"Groups marked * have fewer than {MIN_GROUP} members: read their shares with care.</p>"
        f"{warning}<ul>{contents}</ul>"
        + "\n".join(_html_theme(t) for t in report.themes)
        + "</body></html>\n"
    )


# ------------------------------------------------------------------------------------------ Markdown


def _m(value: object) -> str:
    text = " ".join(str(value).split())
    for char in "\\`*_[]<>|#":
        text = text.replace(char, "\\" + char)
    return text


def _md_theme(theme: ThemeReport) -> list[str]:
    lines = [
        f"## {_m(theme.code.name)}",
        "",
        _m(theme.code.definition or "No definition yet."),
        "",
        f"**{theme.segments}** segments from **{theme.participants}** participants or documents.",
        "",
    ]
    for attribute, table in theme.by_attribute.items():
        if table.empty:
            continue
        lines += [
            f"### By {_m(attribute)} (participants)",
            "",
            f"| {_m(attribute)} | group size | with theme | share |",
            "|---|---:|---:|---:|",
        ]
        lines += [
            f"| {_m(r.group)}{SMALL_MD if r.small_group else ''} | {r.group_size} | {r['count']} | {_share(r.share)} |"
            for _, r in table.iterrows()
        ]
        first = table.iloc[0]
        lines += [
            "",
            f"{first.test}, adjusted p = {_p(first.p_adjusted)}" if first.test != "none" else "no test",
            "",
        ]
    if theme.by_wave is not None and not theme.by_wave.empty:
        lines += [
            "### Across waves",
            "",
            "| wave | participants | with theme | share |",
            "|---:|---:|---:|---:|",
        ]
        lines += [
            f"| {r.wave}{SMALL_MD if r.small_group else ''} | {r.wave_participants} | {r.participants} | "
            f"{_share(r.share)} |"
            for _, r in theme.by_wave.iterrows()
        ]
        lines.append("")
    if theme.quotes:
        lines += ["### Quotes", ""]
        for q in theme.quotes:
            lines += [f"> {_m(q.text)}", f"> — {_m(q.attribution)}; {q.source}", ""]
            warnings = [
                f"**⚠ Small group:** {_m(g.message)}" for g in theme.small_groups.get(q.segment_id, [])
            ]
            lines += [*warnings, ""] if warnings else []
    if theme.panel is not None and theme.panel.responses:
        counts = ", ".join(f"{VERDICTS[v]}: {n}" for v, n in theme.panel.counts.items())
        lines += [f"### Panel verdicts ({theme.panel.responses})", "", counts, ""]
        lines += [f"> {_m(c)}" for c in theme.panel.comments] + ([""] if theme.panel.comments else [])
    return lines


def render_markdown(report: Report) -> str:
    lines = [
        f"# {_m(report.title)}",
        "",
        f"Codebook {_m(report.codebook)} {_m(report.version)}; made "
        f"{report.generated}. Groups marked \\* have fewer than {MIN_GROUP} members.",
        "",
    ]
    if flagged := len(report.small_group_quotes()):
        lines += [
            f"**⚠ {flagged} quotes come from people in a group of fewer than {MIN_GROUP}:** "
            "read the warning beside each before sharing.",
            "",
        ]
    for theme in report.themes:
        lines += _md_theme(theme)
    return "\n".join(lines).rstrip() + "\n"


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
) -> Path:
    """Build the report (:func:`build_report`, same options) and write it: Markdown for a ``.md``
    path, else HTML."""
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
    )
    return save_report(report, path)


def save_report(report: Report, path: str | Path) -> Path:
    """Write a built report: Markdown for a ``.md`` path, else HTML; owner-only."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = render_markdown(report) if path.suffix.lower() in {".md", ".markdown"} else render_html(report)
    private_file(path).write_text(text, encoding="utf-8")  # owner-only before a word is written
    return path
