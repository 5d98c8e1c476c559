"""`narratives init`, `status` and `segment`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from narratives.cli.app import (
    ENGINE_OPTION,
    RAY_ADDRESS_OPTION,
    WORKERS_OPTION,
    app,
    console,
    default_user,
    friendly_errors,
    progress_bar,
)
from narratives.kinds import SegmentUnit


@app.command()
@friendly_errors
def init(
    path: Path = typer.Argument(..., help="Folder for the project workspace (created if missing)."),
    db: str | None = typer.Option(
        None, "--db", help="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/dbname. Default: SQLite."
    ),
) -> None:
    """Create a project workspace: a database plus folders for caches and exports.

    Example: narratives init my-study --db postgresql+psycopg://me@localhost/my_study
    """
    from narratives.store.project import init_project, redact_url

    project = init_project(path, db_url=db)
    console.print(f"Project ready at [bold]{project.path}[/] (database {redact_url(project.db_url)}).")
    console.print(f"Next: narratives ingest {path} FILES... --kind survey|interview|blog")


@app.command()
@friendly_errors
def status(path: Path = typer.Argument(..., help="The project folder.")) -> None:
    """Print what the project holds: documents by kind, participants, waves, segments, codes, reviews.

    Example: narratives status demo-project
    """
    from narratives.store.project import open_project
    from narratives.store.status import project_status

    project = open_project(path)
    with project.connect() as connection:
        figures = project_status(connection)
    table = Table(title=f"Project {project.path}", show_header=True)
    table.add_column("what")
    table.add_column("count", justify="right")
    for kind, count in sorted(figures.documents_by_kind.items()):
        table.add_row(f"documents: {kind}", str(count))
    table.add_row("documents (all versions)", str(figures.document_versions))
    table.add_row("participants", str(figures.participants))
    for wave, count in sorted(figures.waves.items()):
        table.add_row(f"wave {wave} documents", str(count))
    for unit, count in sorted(figures.segments_by_unit.items()):
        table.add_row(f"segments: {unit}", str(count))
    table.add_row("suggestions (current)", str(figures.suggestions))
    table.add_row("reviews", str(figures.reviews))
    table.add_row("audit events", str(figures.events))
    console.print(table)


@app.command()
@friendly_errors
def segment(
    path: Path = typer.Argument(..., help="The project folder."),
    unit: SegmentUnit = typer.Option(
        SegmentUnit.sentence, "--unit", help="sentence, paragraph, turn or response."
    ),
    kind: list[str] = typer.Option(None, "--kind", help="Only documents of this kind (repeatable)."),
    user: str = typer.Option(None, "--user", help="Who is acting (default: $NARRATIVES_USER or login)."),
    engine: str = ENGINE_OPTION,
    ray_address: str | None = RAY_ADDRESS_OPTION,
    workers: int | None = WORKERS_OPTION,
) -> None:
    """Split documents into segments with exact character offsets (spaCy).

    Transcripts keep speaker turns: no segment spans two speakers. With --unit turn, survey answers
    become whole responses and blog posts paragraphs. Segmenting twice adds nothing.

    Example: narratives segment demo-project --unit sentence

    On Ray (spaCy on workers): add --engine ray [--ray-address ADDRESS] [--workers N].
    """
    from narratives.engines import EngineOptions, segment_with, start_engine
    from narratives.store.project import open_project

    options = EngineOptions(name=engine, address=ray_address, workers=workers)
    project = open_project(path)
    console.print(start_engine(options), style="dim", highlight=False)
    with progress_bar() as bar:
        task = bar.add_task(f"segmenting into {unit.value}s", total=None)
        report = segment_with(
            options,
            project,
            unit,
            user=user or default_user(),
            kinds=kind or None,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    console.print(
        f"{report.segments} {unit.value} segments from {report.documents} documents "
        f"(pipeline: {report.pipeline}).",
        markup=False,
    )
    for failure in report.failures:
        console.print(f"[red]failed[/] {failure}", highlight=False)
    if report.failures:
        raise typer.Exit(code=1)
