"""`narratives sentiment`: label every segment positive, mixed or negative."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from narratives.cli.app import (
    app,
    console,
    default_user,
    friendly_errors,
    progress_bar,
    stage_reporter,
)
from narratives.cli.coding_cmds import MODEL_HELP, USER_HELP
from narratives.kinds import SENTIMENTS, SegmentUnit


@app.command()
@friendly_errors
def sentiment(
    path: Path = typer.Argument(..., help="The project folder."),
    unit: SegmentUnit | None = typer.Option(
        None, "--unit", help="Segment unit (default: the finest present)."
    ),
    model: str | None = typer.Option(None, "--model", help=MODEL_HELP),
    user: str | None = typer.Option(None, "--user", help=USER_HELP),
    seed: int = typer.Option(0, "--seed", help="Seed of the classifier."),
) -> None:
    """Label the sentiment of every segment (positive, mixed or negative), learned from rated NHS
    comments and from your reviewers' corrections; shown in the review queue, documents, crosstabs
    (--by sentiment) and exports. Run it again after corrections to learn from them.

    Example: narratives sentiment demo-project
    """
    from narratives.coding.sentiment_run import score_sentiment
    from narratives.embed import load_embedder
    from narratives.models_local import project_model
    from narratives.store.project import open_project

    project = open_project(path)
    chosen = project_model(project, model)
    with progress_bar() as bar:
        result = score_sentiment(
            project,
            load_embedder(chosen),
            user=user or default_user(),
            unit=unit,
            seed=seed,
            progress=stage_reporter(bar),
        )
    table = Table(title=f"Sentiment of {result.segments:,} {result.unit} segments")
    table.add_column("sentiment")
    table.add_column("segments", justify="right")
    for label in SENTIMENTS:
        table.add_row(label, f"{result.counts.get(label, 0):,}")
    console.print(table)
    console.print(
        f"Learned from the shipped comments and {result.corrections} correction(s); model {result.model}, "
        f"{result.seconds:.1f} s.",
        highlight=False,
    )
