"""`narratives bench`: print speed figures."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from narratives.cli.app import app, console, friendly_errors


@app.command()
@friendly_errors
def bench(
    rows: int = typer.Option(2000, "--rows", help="Survey respondents to generate (two answers each)."),
    ui: bool = typer.Option(True, "--ui/--no-ui", help="Also time the explorer on 20,000 segments."),
    model: str | None = typer.Option(None, "--model", help="Embedding model (default all-MiniLM-L6-v2)."),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the figures as JSON here."),
    startup: bool = typer.Option(
        True, "--startup/--no-startup", help="Time quick commands (--help, status, codebook validate)."
    ),
    startup_only: bool = typer.Option(
        False, "--startup-only", help="Time only the quick commands (a few seconds)."
    ),
) -> None:
    """Time start-up, ingest, segmentation, embedding, coding, the review queue and the explorer.

    The start-up figure is the median wall time of `narratives --help`, `narratives status` on a small
    project and `narratives codebook validate` on a shipped codebook, each a fresh process (5 runs).

    Examples:
      narratives bench --rows 5000 --json bench.json
      narratives bench --startup-only
    """
    from narratives.bench.pipeline import bench_all, bench_startup

    if startup_only:
        results = {"start-up (fresh process)": bench_startup()}
    else:
        results = bench_all(rows=rows, ui=ui, model=model, startup=startup)
    for section, figures in results.items():
        table = Table(title=section)
        table.add_column("measure")
        table.add_column("value", justify="right")
        for name, value in figures.items():
            table.add_row(name, f"{value:,}" if isinstance(value, int | float) else str(value))
        console.print(table)
    if json_out:
        json_out.write_text(json.dumps(results, indent=2), encoding="utf-8")
        console.print(f"Figures written to {json_out}")
