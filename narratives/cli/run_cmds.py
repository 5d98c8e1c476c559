"""`narratives run` (a pipeline file) and `narratives demo` (the bundled corpus, end to end)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.markup import escape

from narratives.cli.app import (
    ENGINE_OPTION,
    RAY_ADDRESS_OPTION,
    WORKERS_OPTION,
    app,
    console,
    default_user,
    friendly_errors,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


def _base_folder(pipeline: Path) -> Path:
    """Paths in a pipeline file are relative to the folder holding `corpus/` (the repository)."""
    for candidate in (Path.cwd(), REPO_ROOT, pipeline.resolve().parent.parent):
        if (candidate / "corpus").is_dir():
            return candidate
    return Path.cwd()


@app.command()
@friendly_errors
def run(
    pipeline: Path = typer.Argument(..., help="A pipeline file (TOML), e.g. pipelines/demo.toml."),
    project_path: Path = typer.Option(..., "--project", help="The project folder (created if missing)."),
    db: str | None = typer.Option(None, "--db", help="SQLAlchemy URL for a new project (default SQLite)."),
    user: str | None = typer.Option(
        None, "--user", help="Who is acting (default: $NARRATIVES_USER or login)."
    ),
    engine: str = ENGINE_OPTION,
    ray_address: str | None = RAY_ADDRESS_OPTION,
    workers: int | None = WORKERS_OPTION,
) -> None:
    """Run the steps of a pipeline file: ingest, segment, code, discover.

    Example: narratives run pipelines/demo.toml --project demo-project --engine ray --workers 2
    """
    from narratives.engines import EngineOptions, start_engine
    from narratives.pipeline import load_pipeline_config, run_pipeline
    from narratives.store.project import init_project

    options = EngineOptions(name=engine, address=ray_address, workers=workers)
    config = load_pipeline_config(pipeline)  # checked before the project is made
    project = init_project(project_path, db_url=db)
    console.print(start_engine(options), style="dim", highlight=False)
    result = run_pipeline(
        project,
        config,
        base=_base_folder(pipeline),
        user=user or default_user(),
        say=lambda line: console.print(f"[green]✓[/] {escape(line)}", highlight=False),
        engine=options,
    )
    for step, seconds in result.timings.items():
        console.print(f"  {step}: {seconds:.1f} s", style="dim")
    if any(report.failed for report in result.ingest):
        console.print("[red]Some files failed to ingest; see above.[/]")
        raise typer.Exit(code=1)


@app.command()
@friendly_errors
def demo(
    project_path: Path = typer.Argument(Path("demo-project"), help="Where to build the demo project."),
    pipeline: Path = typer.Option(Path("pipelines/demo.toml"), "--pipeline", help="The pipeline file."),
    explore: bool | None = typer.Option(
        None,
        "--explore/--no-explore",
        help="Start the explorer at the end (default: when run in a terminal).",
    ),
    port: int = typer.Option(8501, "--port", help="Port for the explorer."),
) -> None:
    """Build the demo project from the bundled corpus, run the whole pipeline, then open the explorer.

    Example: narratives demo demo-project --no-explore
    """
    pipeline_file = pipeline if pipeline.exists() else REPO_ROOT / pipeline
    run(pipeline_file, project_path, None, None, "local", None, None)
    from narratives.cli.project_cmds import status

    status(project_path)
    console.print(
        f"\nOpen the explorer with:  [bold]narratives explore {project_path}[/]  (http://127.0.0.1:{port})"
    )
    if explore is None:
        explore = sys.stdin.isatty() and sys.stdout.isatty()
    if explore:
        from narratives.cli.explore_cmds import explore as explore_command

        explore_command(project_path, port=port)
