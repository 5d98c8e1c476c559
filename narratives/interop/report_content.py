"""What a report says, as plain dataclasses: no HTML, Markdown or Word in here.

:func:`build_report` gathers, for a codebook, a method summary (:mod:`report_method`), then each
theme, parents first with their sub-codes under them: its definition; how many distinct segments
and participants carry it (a parent counts what its sub-codes carry, each segment and person once);
tables by source kind, attributes and wave (groups under ``MIN_GROUP`` people shown as "<5", never
the number); charts (Vega-Lite specs from :mod:`narratives.analysis.charts`); 3–5 balanced quotes,
de-identified in one pass over the whole report, each with its group and a warning when its speaker
is one of fewer than 5 people in a group the report shows; the co-production panel's verdicts; and
a limitations paragraph drawn from the data. :mod:`report_html`, :mod:`report_markdown` and
:mod:`report_docx` render the same model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

import pandas as pd
from sqlalchemy import Connection

from narratives.analysis.coded import (
    Threshold,
    carried_codes,
    codebook_name,
    coded_with_documents,
    document_table,
    hierarchy_of,
)
from narratives.analysis.crosstab import MIN_GROUP, themes_by_attribute, themes_by_wave
from narratives.analysis.quotes import DEFAULT_BALANCE, Quote, exemplar_quotes
from narratives.analysis.small_groups import SmallGroup, small_group_warnings
from narratives.deidentify import DeidentificationSettings, texts_redactor
from narratives.interop.report_charts import ChartSpec, family_charts, overview_charts
from narratives.interop.report_method import MethodSummary, limitations, method_summary
from narratives.review.panel import ThemeSummary, panel_summary
from narratives.schema import Code, Codebook
from narratives.store.codebooks import current_codebook

SUPPRESSED = f"<{MIN_GROUP}"
Cell = str | int | float | None


@dataclass
class Table:
    """A table as shown: header, rows of values (counts under the threshold already ``"<5"``),
    which rows are small groups, and a note under it (the test and its adjusted p-value)."""

    title: str
    columns: list[str]
    rows: list[list[Cell]]
    small: list[bool] = field(default_factory=list)
    note: str = ""
    shares: tuple[int, ...] = ()  # columns holding a share (0..1), shown as a percentage


@dataclass
class ThemeReport:
    code: Code
    segments: int
    participants: int
    level: int = 0  # 0 for a top-level theme, 1 for its sub-codes, ...
    parent_name: str | None = None
    children: list[str] = field(default_factory=list)  # names of its sub-codes
    by_attribute: dict[str, pd.DataFrame] = field(default_factory=dict)
    by_wave: pd.DataFrame | None = None
    tables: list[Table] = field(default_factory=list)
    charts: list[ChartSpec] = field(default_factory=list)
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
    method: MethodSummary | None = None
    charts: list[ChartSpec] = field(default_factory=list)  # prevalence at a glance, all themes
    limitations: list[str] = field(default_factory=list)
    min_group: int = MIN_GROUP
    quote_groups: list[str] = field(default_factory=list)  # attributes shown beside each quote

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
    charts: bool = True,
) -> Report:
    """Gather every figure of the report (see the module docstring).

    Quotes and panel comments are de-identified (:mod:`narratives.deidentify`, one pass over them
    all) unless ``deidentify`` is False; pass the project's settings
    (``deidentification_settings(project)``) to use its ``deidentify.toml``.
    """
    book = current_codebook(connection, codebook_name(codebook))
    docs = document_table(connection)
    # what each segment carries, parents through their sub-codes (the one roll-up every analysis uses);
    # the rows where the code itself is applied are what the method and limitations count
    carried = coded_with_documents(
        carried_codes(connection, book, include_machine=include_machine, threshold=threshold), docs
    )
    coded = carried[carried["direct"]]
    shown = list(attributes or default_attributes(docs))
    tables = {
        a: themes_by_attribute(connection, book.name, a, include_machine=include_machine, threshold=threshold)
        for a in shown
    }
    waves = None
    if docs["wave"].notna().any():
        waves = themes_by_wave(
            connection, book.name, include_machine=include_machine, threshold=threshold
        ).counts
    chosen = {
        code.id: exemplar_quotes(
            connection,
            book.name,
            code.id,
            n=quotes,
            balance_by=balance_by,
            include_machine=include_machine,
            threshold=threshold,
        )
        for code in book.active_codes
    }
    themes = _themes(
        book, carried, tables, waves, chosen, {s.code_id: s for s in panel_summary(connection, book.name)}
    )
    beside = [a for a in shown if a != "kind"][:1]  # one group beside a quote: more could identify
    _add_small_groups(connection, themes, shown, beside)
    _redact(themes, texts_redactor(connection, deidentify))
    levels = {t.code.id: t.level for t in themes}
    if charts:
        _add_family_charts(themes, tables, waves, levels)
    method = method_summary(connection, book, coded, include_machine=include_machine)
    return Report(
        title or f"Themes of {book.title or book.name}",
        book.name,
        book.version,
        include_machine,
        datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        themes,
        method=method,
        charts=overview_charts(tables, waves, levels) if charts else [],
        limitations=limitations(method, tables, waves, docs, coded),
        quote_groups=beside,
    )


def _themes(
    book: Codebook,
    carried: pd.DataFrame,
    tables: dict[str, pd.DataFrame],
    waves: pd.DataFrame | None,
    chosen: dict[str, list[Quote]],
    panel: dict[str, ThemeSummary],
) -> list[ThemeReport]:
    names = {c.id: c.name for c in book.active_codes}
    tree = hierarchy_of(book.codes)
    themes = []
    for code in tree.codes:
        level = tree.level(code.id)
        mine = carried[carried["code_id"] == code.id]
        by_attribute = {a: t[t["code_id"] == code.id] for a, t in tables.items()}
        by_wave = None if waves is None else waves[waves["code_id"] == code.id]
        themes.append(
            ThemeReport(
                code=code,
                segments=int(mine["segment_id"].nunique()),
                participants=int(mine["person"].nunique()),
                level=level,
                parent_name=names.get(tree.parent[code.id] or ""),
                children=[names[c.id] for c in tree.codes if tree.parent[c.id] == code.id],
                by_attribute=by_attribute,
                by_wave=by_wave,
                tables=theme_tables(by_attribute, by_wave),
                quotes=chosen[code.id],
                panel=panel.get(code.id),
            )
        )
    return themes


def _add_small_groups(
    connection: Connection, themes: list[ThemeReport], shown: list[str], beside: list[str]
) -> None:
    # a quote shows its kind, wave and group; the tables show each attribute of the report
    quoted = [q.document_id for t in themes for q in t.quotes]
    small = small_group_warnings(connection, quoted, shown, shown=("kind", "wave", *beside))
    for theme in themes:
        theme.small_groups = {
            q.segment_id: small[q.document_id] for q in theme.quotes if q.document_id in small
        }


def _redact(themes: list[ThemeReport], redact_all: Callable[[list[str]], list[str]]) -> None:
    """De-identify every quote and panel comment of the report in one call (one NER pass)."""
    texts = [q.text for t in themes for q in t.quotes]
    texts += [c for t in themes if t.panel is not None for c in t.panel.comments]
    cleaned = iter(redact_all(texts))
    for theme in themes:
        theme.quotes = [replace(q, text=next(cleaned)) for q in theme.quotes]
    for theme in themes:
        if theme.panel is not None:
            theme.panel = replace(theme.panel, comments=[next(cleaned) for _ in theme.panel.comments])


def _add_family_charts(
    themes: list[ThemeReport],
    tables: dict[str, pd.DataFrame],
    waves: pd.DataFrame | None,
    levels: dict[str, int],
) -> None:
    """Each top-level theme with sub-codes gets charts of itself and its sub-codes."""
    for index, theme in enumerate(themes):
        if theme.level == 0 and theme.children:
            family = {theme.code.id}
            for later in themes[index + 1 :]:
                if later.level == 0:
                    break
                family.add(later.code.id)
            theme.charts = family_charts(theme.code.name, family, tables, waves, levels, slug(theme.code.id))


def suppressed(count: int, size: int | None = None, min_group: int = MIN_GROUP) -> Cell:
    """A count of people as the report may show it: ``"<5"`` from 1 to ``min_group - 1``, and
    any count of a group of fewer than ``min_group`` people (as the charts suppress cells)."""
    small = 0 < count < min_group or (size is not None and size < min_group)
    return SUPPRESSED if small else count


def slug(text: str) -> str:
    """A file-safe name for a code id."""
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in text)[:60] or "theme"


def theme_tables(by_attribute: dict[str, pd.DataFrame], by_wave: pd.DataFrame | None) -> list[Table]:
    tables = [attribute_table(a, t) for a, t in by_attribute.items() if not t.empty]
    if by_wave is not None and not by_wave.empty:
        tables.append(wave_table(by_wave))
    return tables


def attribute_table(attribute: str, table: pd.DataFrame) -> Table:
    rows: list[list[Cell]] = []
    for _, r in table.iterrows():
        count = suppressed(int(r["count"]), int(r.group_size))
        share = None if isinstance(count, str) or pd.isna(r.share) else float(r.share)
        rows.append([str(r.group), suppressed(int(r.group_size)), count, share])
    first = table.iloc[0]
    test = f"{first.test}, adjusted p = {_p(first.p_adjusted)}" if first.test != "none" else "no test"
    return Table(
        f"By {attribute} (participants)",
        [attribute, "group size", "with theme", "share"],
        rows,
        [bool(s) for s in table["small_group"]],
        test,
        shares=(3,),
    )


def wave_table(table: pd.DataFrame) -> Table:
    rows: list[list[Cell]] = []
    for _, r in table.iterrows():
        count = suppressed(int(r.participants), int(r.wave_participants))
        share = None if isinstance(count, str) or pd.isna(r.share) else float(r.share)
        rows.append([int(r.wave), suppressed(int(r.wave_participants)), count, share])
    return Table(
        "Across waves",
        ["wave", "participants", "with theme", "share"],
        rows,
        [bool(s) for s in table["small_group"]],
        shares=(3,),
    )


def _p(value: Any) -> str:
    return "–" if pd.isna(value) else f"{float(value):.3f}"
