"""``narratives crosstab | waves | quotes | export | report``: analyse coded themes and hand them on."""

from __future__ import annotations

import math
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from narratives.cli.app import app, console, default_user, friendly_errors

if TYPE_CHECKING:
    import pandas as pd

    from narratives.store.project import Project

CODEBOOK_HELP = "Codebook name in the project (optional when it has only one)."


class CountBy(str, Enum):
    participants = "participants"
    segments = "segments"
    documents = "documents"


class ExportFormat(str, Enum):
    qdpx = "qdpx"
    qdc = "qdc"
    csv = "csv"
    xlsx = "xlsx"


def _codebook(project: Project, name: str | None) -> str:
    from narratives.store.codebooks import resolve_codebook_name

    with project.connect() as connection:
        return resolve_codebook_name(connection, name)


def _output(project: Project, out: Path | None, default: str) -> Path:
    """``--out`` as given; a bare file name, or none, goes in the project's exports folder."""
    if out is None:
        return project.exports_dir / default
    return project.exports_dir / out if out.parent == Path(".") and not out.is_absolute() else out


def _print_frame(frame: pd.DataFrame, title: str, columns: list[str]) -> None:
    table = Table(title=title, show_lines=False)
    for column in columns:
        table.add_column(column, justify="right" if frame[column].dtype.kind in "if" else "left")
    for row in frame[columns].itertuples(index=False):
        table.add_row(*(_cell(v) for v in row))
    console.print(table)


def _with_themes(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with a ``theme`` column: each code's name, sub-codes marked ``↳ `` once per level
    under their parent (the rows are in tree order), as the Overview and the charts show them."""
    from narratives.analysis.charts import theme_labels

    return frame.assign(theme=theme_labels(frame))


def _cell(value: object) -> str:
    if isinstance(value, float):  # numpy's float64 too
        return "–" if math.isnan(value) else f"{value:.2f}"
    if isinstance(value, bool):
        return "< 5" if value else ""
    return escape(str(value))


@app.command()
@friendly_errors
def crosstab(
    project_path: Path = typer.Argument(..., help="The project folder."),
    by: str = typer.Option(
        ..., "--by", help="Attribute to group by (need_group, council, kind, wave, ...), or 'sentiment'."
    ),
    codebook: str | None = typer.Option(None, "--codebook", help=CODEBOOK_HELP),
    count: CountBy = typer.Option(CountBy.participants, "--count", help="What to count."),
    reviewed_only: bool = typer.Option(False, "--reviewed-only", help="Leave machine suggestions out."),
) -> None:
    """Themes by a participant or document attribute, with group sizes and adjusted p-values.

    Sub-codes are listed under their parent theme (marked ↳, with their level); a parent counts
    each participant, document or segment once, however many of its sub-codes it carries.

    Example: narratives crosstab demo-project --codebook care --by council --count participants
    """
    from narratives.analysis.crosstab import themes_by_attribute
    from narratives.store.project import open_project

    project = open_project(project_path)
    if by == "sentiment":
        _sentiment_table(project, codebook, reviewed_only)
        return
    with project.connect() as connection:
        frame = themes_by_attribute(
            connection,
            _codebook(project, codebook),
            by,
            unit_of_count=count.value,
            include_machine=not reviewed_only,
        )
    columns = ["theme", "level", "group", "group_size", "count", "share", "small_group", "test", "p_adjusted"]
    _print_frame(_with_themes(frame), f"Themes by {by} ({count.value})", columns)


def _sentiment_table(project: Project, codebook: str | None, reviewed_only: bool) -> None:
    from narratives.analysis.sentiment import themes_by_sentiment

    with project.connect() as connection:
        frame = themes_by_sentiment(
            connection, _codebook(project, codebook), include_machine=not reviewed_only
        )
    columns = ["theme", "level", "sentiment", "count", "share", "code_total"]
    _print_frame(_with_themes(frame), "Themes by sentiment (segments)", columns)


@app.command()
@friendly_errors
def waves(
    project_path: Path = typer.Argument(..., help="The project folder."),
    codebook: str | None = typer.Option(None, "--codebook", help=CODEBOOK_HELP),
    trajectories: bool = typer.Option(
        False, "--trajectories", help="Also list each participant's trajectory."
    ),
) -> None:
    """Themes across waves, counted by distinct participants, and what appears or disappears.

    Sub-codes are listed under their parent theme (marked ↳, with their level); a parent counts
    each participant once, however many of its sub-codes they mention.

    Example: narratives waves demo-project --codebook care --trajectories
    """
    from narratives.analysis.crosstab import themes_by_wave
    from narratives.store.project import open_project

    project = open_project(project_path)
    with project.connect() as connection:
        tables = themes_by_wave(connection, _codebook(project, codebook))
    _print_frame(
        _with_themes(tables.counts),
        "Themes by wave (participants)",
        ["theme", "level", "wave", "participants", "wave_participants", "share", "small_group"],
    )
    _print_frame(
        _with_themes(tables.changes),
        "Between waves (participants in both)",
        [
            "theme",
            "level",
            "from_wave",
            "to_wave",
            "participants_in_both",
            "persisted",
            "appeared",
            "disappeared",
        ],
    )
    if trajectories:
        _print_frame(
            _with_themes(tables.trajectories),
            "Trajectories",
            ["participant", "theme", "level", "waves", "participant_waves", "pattern"],
        )


@app.command()
@friendly_errors
def quotes(
    project_path: Path = typer.Argument(..., help="The project folder."),
    code: str = typer.Option(..., "--code", help="The code id."),
    codebook: str | None = typer.Option(None, "--codebook", help=CODEBOOK_HELP),
    n: int = typer.Option(5, "--n", min=1, help="How many quotes."),
    balance_by: list[str] = typer.Option(
        ["need_group", "council"],
        "--balance-by",
        help="Attributes to spread quotes across (repeat the option).",
    ),
) -> None:
    """Balanced exemplar quotes for a theme: one per participant, spread across groups and waves.

    Example: narratives quotes demo-project --codebook care --code continuity --n 5 --balance-by need_group
    """
    from narratives.analysis.quotes import exemplar_quotes
    from narratives.analysis.small_groups import small_group_warnings
    from narratives.store.project import open_project

    project = open_project(project_path)
    with project.connect() as connection:
        found = exemplar_quotes(connection, _codebook(project, codebook), code, n=n, balance_by=balance_by)
        small = small_group_warnings(connection, found, balance_by, shown=("kind", "wave"))
    if not found:
        console.print("No quotes of 6–80 words carry this code yet.")
    for quote in found:
        score = "" if quote.score is None else f", score {quote.score:.2f}"
        warnings = "".join(
            f"  [bold yellow]⚠ Small group:[/] {escape(g.message)}\n"
            for g in small.get(quote.document_id, [])
        )
        console.print(
            f"[bold]“{escape(quote.text)}”[/]\n  — {escape(quote.attribution)}; {quote.source}{score}\n{warnings}",
            highlight=False,
        )


@app.command()
@friendly_errors
def export(
    project_path: Path = typer.Argument(..., help="The project folder."),
    format: ExportFormat = typer.Option(..., "--format", help="qdpx (REFI-QDA project), qdc, csv or xlsx."),
    codebook: str | None = typer.Option(None, "--codebook", help=CODEBOOK_HELP),
    out: Path | None = typer.Option(
        None,
        "--out",
        help="Output file; a bare name goes in PROJECT/exports/ (default: CODEBOOK.FORMAT there).",
    ),
    include_machine: bool = typer.Option(
        False, "--include-machine", help="Also export machine suggestions at or above threshold."
    ),
    user: str | None = typer.Option(
        None, "--user", help="Who is exporting (default: $NARRATIVES_USER or login)."
    ),
    deidentify: bool = typer.Option(
        False,
        "--deidentify",
        help="csv/xlsx only: replace names, places, phone numbers, ... in the text "
        "(see narratives deidentify). A qdpx project always keeps the original text, "
        "because its coding offsets must match the source.",
    ),
) -> None:
    """Export codes and coded text for NVivo, ATLAS.ti, MAXQDA, QualCoder or a spreadsheet.

    The REFI-QDA project (qdpx) holds the documents' original text, personal details included:
    its coding positions must match the source. Use --deidentify with csv or xlsx for a copy that
    leaves the research team.

    Each file gets a reproducibility manifest beside it (FILE.manifest.json).

    Example: narratives export demo-project --codebook care --format qdpx --out care.qdpx
    """
    from narratives.deidentify import deidentification_settings
    from narratives.interop.refi_qda import export_codebook_qdc, export_qdpx
    from narratives.interop.tables import export_csv, export_xlsx
    from narratives.store.codebooks import current_codebook
    from narratives.store.project import open_project

    if deidentify and format is ExportFormat.qdpx:
        raise typer.BadParameter(
            "a qdpx project keeps the original text (its offsets must match); use --format csv or xlsx.",
            param_hint="--deidentify",
        )
    project = open_project(project_path)
    name = _codebook(project, codebook)
    redact = deidentification_settings(project) if deidentify else False
    path = _output(project, out, f"{name}.{format.value}")
    with project.connect() as connection:
        if format is ExportFormat.qdpx:
            summary = export_qdpx(
                connection,
                name,
                path,
                user=user or default_user(),
                include_machine=include_machine,
                project_name=project.path.name,
            )
            console.print(
                f"{summary.sources} sources, {summary.codes} codes, {summary.codings} codings, "
                f"{summary.cases} cases, {summary.notes} memos"
            )
            written = [path]
        elif format is ExportFormat.qdc:
            written = [export_codebook_qdc(current_codebook(connection, name), path)]
        elif format is ExportFormat.csv:
            written = export_csv(connection, name, path, include_machine=include_machine, deidentify=redact)
        else:
            written = [
                export_xlsx(connection, name, path, include_machine=include_machine, deidentify=redact)
            ]
    for item in written:
        console.print(f"[green]Wrote[/] {escape(str(item))}", highlight=False)
    _manifests(
        project,
        written,
        {
            "codebook": name,
            "format": format.value,
            "include_machine": include_machine,
            "deidentified": deidentify,
        },
    )


class ReportFormatChoice(str, Enum):
    html = "html"
    docx = "docx"
    md = "md"


def _manifests(project: Project, written: list[Path], extra: dict[str, object]) -> None:
    """A reproducibility manifest beside each file written (``<file>.manifest.json``)."""
    from narratives.interop.manifest import command_line, write_manifest

    for item in written:
        manifest = write_manifest(project, item, command=command_line(), extra=extra)
        console.print(f"[green]Wrote[/] {escape(str(manifest))}", highlight=False)


@app.command()
@friendly_errors
def report(
    project_path: Path = typer.Argument(..., help="The project folder."),
    codebook: str | None = typer.Option(None, "--codebook", help=CODEBOOK_HELP),
    format: ReportFormatChoice | None = typer.Option(
        None, "--format", help="html, docx (Word) or md (Markdown, charts as PNG files beside it)."
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        help="Output file; a bare name goes in PROJECT/exports/ (default: CODEBOOK-report.FORMAT there). "
        "Without --format, the suffix decides (.docx, .md, else HTML).",
    ),
    reviewed_only: bool = typer.Option(False, "--reviewed-only", help="Leave machine suggestions out."),
    deidentify: bool = typer.Option(
        True,
        "--deidentify/--keep-identifiers",
        help="Replace names, places, phone numbers, ... in quotes and panel comments (the default).",
    ),
    charts: bool = typer.Option(True, "--charts/--no-charts", help="Draw the heatmaps and wave charts."),
) -> None:
    """Write a report a study team can hand on: method, every theme with its definition, counts by
    group and wave (tables and charts), de-identified quotes, panel verdicts, and limitations.

    Quotes are de-identified with the project's settings (PROJECT/deidentify.toml); check them first
    with: narratives deidentify PROJECT --preview 20. A reproducibility manifest
    (FILE.manifest.json: versions, models, codebook hash, coder settings, seeds, this command) is
    written beside the report.

    Example: narratives report demo-project --codebook care --format docx --out report.docx
    """
    from narratives.deidentify import deidentification_settings
    from narratives.interop.report import build_report, report_format, save_report
    from narratives.store.project import open_project

    project = open_project(project_path)
    name = _codebook(project, codebook)
    chosen = format.value if format is not None else (report_format(out) if out is not None else "html")
    path = _output(project, out, f"{name}-report.{chosen}")
    redact = deidentification_settings(project) if deidentify else False
    with project.connect() as connection:
        built = build_report(
            connection, name, include_machine=not reviewed_only, deidentify=redact, charts=charts
        )
    written = save_report(built, path, chosen)
    for item in written:
        console.print(f"[green]Wrote[/] {escape(str(item))}", highlight=False)
    _manifests(project, written[:1], {"codebook": name, "format": chosen, "deidentified": deidentify})
    for theme, quote, groups in built.small_group_quotes():
        for group in groups:
            console.print(
                f"[bold yellow]⚠ Small group[/] in {escape(theme.code.name)}, quote from "
                f"{escape(quote.attribution)}: {escape(group.message)}",
                highlight=False,
            )
