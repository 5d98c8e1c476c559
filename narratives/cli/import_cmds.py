"""`narratives import`: REFI-QDA projects (.qdpx) and codebooks (.qdc) from other QDA programs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from narratives.cli.app import app, console, default_user, err_console, friendly_errors
from narratives.kinds import SegmentUnit, SourceKind


@app.command("import")
@friendly_errors
def import_refi_file(
    project_path: Annotated[Path, typer.Argument(metavar="PROJECT", help="The project folder.")],
    file: Annotated[Path, typer.Argument(help="A REFI-QDA project (.qdpx, .qde) or codebook (.qdc).")],
    codebook: Annotated[
        str | None,
        typer.Option("--codebook", help="Codebook to add the codes to (default: the file's project name)."),
    ] = None,
    unit: Annotated[
        SegmentUnit, typer.Option("--unit", help="Segment unit for the coded spans of new documents.")
    ] = SegmentUnit.sentence,
    kind: Annotated[
        SourceKind, typer.Option("--kind", help="Kind of the imported documents, unless the file says.")
    ] = SourceKind.interview,
    user: Annotated[
        str | None, typer.Option("--user", help="Who is acting (default: $NARRATIVES_USER or login).")
    ] = None,
) -> None:
    """Import a REFI-QDA project or codebook from NVivo, ATLAS.ti, MAXQDA or QualCoder.

    Text sources become documents, cases participants (variables as attributes), codes a codebook
    with its hierarchy and colours, codings reviews by the users who made them, notes memos; what
    cannot be taken (PDF or media sources, sets, links) is listed. Importing again adds nothing twice.

    Example: narratives import demo-project study.qdpx --codebook study
    """
    from narratives.interop.refi_qda_import import group_problems, import_refi
    from narratives.store.project import open_project

    project = open_project(project_path)
    try:
        summary = import_refi(
            project, file, user=user or default_user(), codebook=codebook, unit=unit, kind=kind
        )
    finally:
        project.close()
    console.print(
        f"[green]Imported[/] {escape(str(file))} into codebook [bold]{escape(summary.codebook)}[/]: "
        f"{summary.codes_added} new codes, {summary.documents_added} new documents "
        f"({summary.documents_known} already there), {summary.participants} participants, "
        f"{summary.segments_added} new segments, {summary.codings_added} codings "
        f"({summary.codings_known} already there), {summary.memos} memos.",
        highlight=False,
    )
    for line in group_problems(summary.problems):
        err_console.print(f"[yellow]warning[/] {escape(line)}", highlight=False)
    if summary.not_taken:
        err_console.print(f"Not imported ({len(summary.not_taken)}):", highlight=False)
        for line in group_problems(summary.not_taken):
            err_console.print(f"  - {escape(line)}", highlight=False)
