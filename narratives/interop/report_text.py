"""The report's words, shared by the HTML, Markdown and Word renderers (plain text, not escaped).

Each renderer escapes these for its format; the wording lives here once so that the three reports
say the same thing.
"""

from __future__ import annotations

import math

from narratives.interop.report_content import Cell, Report, Table, ThemeReport
from narratives.interop.report_method import AgreementFigure, MethodSummary
from narratives.review.panel import VERDICTS, ThemeSummary

NO_QUOTES = "No quotes of 6–80 words carry this theme yet."
AGREEMENT_COLUMNS = ["coders", "code", "statistic", "value", "95% interval", "items"]


def cell_text(table: Table, column: int, value: Cell) -> str:
    """A table cell as text: shares as percentages, blanks as a dash, "<5" as it is."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if column in table.shares and isinstance(value, int | float):
        return f"{value:.0%}"
    return str(value)


def row_texts(table: Table) -> list[list[str]]:
    return [[cell_text(table, i, v) for i, v in enumerate(row)] for row in table.rows]


def source_sentence(report: Report) -> str:
    if report.include_machine:
        return "Counts include reviewed codes and machine suggestions at or above threshold."
    return "Counts include reviewed codes only."


def intro(report: Report) -> str:
    return (
        f"Codebook {report.codebook} {report.version}; made {report.generated}. {source_sentence(report)} "
        f"Counts of fewer than {report.min_group} people, and every count of a group of fewer than "
        f"{report.min_group}, are shown as <{report.min_group}; groups marked * are such groups."
    )


def small_quote_warning(report: Report) -> str:
    flagged = len(report.small_group_quotes())
    if not flagged:
        return ""
    return (
        f"⚠ {flagged} quotes come from people in a group of fewer than {report.min_group}: "
        "read the warning beside each before sharing."
    )


def method_lines(method: MethodSummary) -> list[str]:
    """The method section as sentences."""
    models = ", ".join(method.models) or "none (no coding run yet)"
    coders = "; ".join(method.coders) or "none recorded"
    unit = f" into {method.unit}s" if method.unit else ""
    share = method.reviewed_segments / method.coded_segments if method.coded_segments else 0.0
    return [
        f"Codebook: {method.codebook}, version {method.codebook_version} "
        f"(content hash {method.codebook_hash[:12]}).",
        f"The text was split{unit} and coded in {method.coding_runs} coding run(s). "
        f"Embedding model: {models}. Coders: {coders}.",
        f"{method.coded_segments} segments carry a theme; people reviewed {method.reviewed_segments} "
        f"segments ({share:.0%} of those) — {method.reviewers} reviewer(s).",
        method.agreement_note,
    ]


def agreement_rows(figures: list[AgreementFigure]) -> list[list[str]]:
    return [[f.coders, f.code, f.statistic, _number(f.value), _interval(f), str(f.items)] for f in figures]


def _number(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.2f}"


def _interval(figure: AgreementFigure) -> str:
    if figure.low is None or figure.high is None or math.isnan(figure.low) or math.isnan(figure.high):
        return "–"
    return f"{figure.low:.2f}–{figure.high:.2f}"


def theme_heading(theme: ThemeReport) -> str:
    return theme.code.name


def theme_counts(theme: ThemeReport) -> str:
    below = (
        f" (with its {len(theme.children)} sub-codes, each segment and person once)" if theme.children else ""
    )
    under = f" Sub-code of {theme.parent_name}." if theme.parent_name else ""
    return f"{theme.segments} segments from {theme.participants} participants or documents{below}.{under}"


def quote_citation(report: Report, theme: ThemeReport, index: int) -> str:
    """Who said it, from which group, whether a person reviewed the coding."""
    quote = theme.quotes[index]
    groups = ", ".join(f"{k}: {quote.attributes[k]}" for k in report.quote_groups if k in quote.attributes)
    score = "" if quote.score is None else f", score {quote.score:.2f}"
    return f"— {quote.attribution}{'; ' + groups if groups else ''}; {quote.source}{score}"


def panel_counts(summary: ThemeSummary) -> str:
    return ", ".join(f"{VERDICTS[v]}: {n}" for v, n in summary.counts.items())


def small_group_lines(theme: ThemeReport, index: int) -> list[str]:
    quote = theme.quotes[index]
    return [f"⚠ Small group: {g.message}" for g in theme.small_groups.get(quote.segment_id, [])]
