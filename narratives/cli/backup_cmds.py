"""`narratives backup` and `restore`."""

from __future__ import annotations

from pathlib import Path

import typer

from narratives.cli.app import app, console, friendly_errors


@app.command()
@friendly_errors
def backup(
    path: Path = typer.Argument(..., help="The project folder."),
    file: Path = typer.Argument(
        ..., help="The backup file to write (owner-only), e.g. study-2026-03-01.zip."
    ),
) -> None:
    """Back the project's database up into one file, safely while others keep working.

    SQLite projects are copied with SQLite's online backup API; PostgreSQL projects with pg_dump
    (which must be installed). The settings file and the database password are not included.

    Example: narratives backup my-study backups/my-study-2026-03-01.zip
    """
    from narratives.store.backup import backup_project
    from narratives.store.project import open_project

    project = open_project(path)
    try:
        info = backup_project(project, file)
    finally:
        project.close()
    console.print(
        f"Backed up {info.rows} rows ({info.backend}, schema {info.schema_revision}) to {file}.", markup=False
    )


@app.command()
@friendly_errors
def restore(
    file: Path = typer.Argument(..., help="A file written by `narratives backup`."),
    path: Path = typer.Argument(..., help="The project folder to restore into (made if missing)."),
    db: str | None = typer.Option(
        None, "--db", help="For a new project: the database URL to restore into (default: SQLite in PATH)."
    ),
    force: bool = typer.Option(False, "--force", help="Replace what the project holds already."),
) -> None:
    """Restore a backup into a project: a new folder, or an existing project with --force.

    Example: narratives restore backups/my-study-2026-03-01.zip my-study-restored
    """
    from narratives.store.backup import read_backup_info, restore_project

    info = read_backup_info(file)
    project = restore_project(file, path, db_url=db, force=force)
    project.close()
    console.print(f"Restored {info.rows} rows made {info.created} into {project.path}.", markup=False)
