"""Backing a project's database up into one owner-only file, and restoring it.

A backup is a zip archive holding ``manifest.json`` (what the backup is: the database kind, the
schema revision, when it was made and by which version, the row count of every table) and the
database itself: for SQLite a copy made with SQLite's online backup API (``sqlite3.Connection.
backup``), a consistent snapshot even while other processes write; for PostgreSQL a ``pg_dump``
archive in its custom format, restored with ``pg_restore``. The settings file and the database
password are not in it: the project restored into has its own.

:func:`restore_project` refuses a project that holds anything unless ``force`` is given, refuses a
backup of a schema this version does not know, and brings an older schema up to date on opening.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import subprocess
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, func, inspect, select, table
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from narratives import __version__
from narratives.errors import ProjectError, StoreError
from narratives.schema import utcnow
from narratives.store.files import make_private, private_file
from narratives.store.project import (
    CONFIG_NAME,
    Project,
    init_project,
    known_revision,
    open_project,
    sqlite_file,
    stored_revisions,
)
from narratives.store.search import is_search_index

logger = logging.getLogger(__name__)

FORMAT = "narratives-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
PAYLOAD = {"sqlite": "database.sqlite", "postgresql": "database.pgdump"}
POSTGRES_BIN_GLOB = "/usr/lib/postgresql/*/bin"  # where Debian and Ubuntu put the server's tools


@dataclass(frozen=True)
class BackupInfo:
    """What a backup holds, from its manifest."""

    backend: str
    schema_revision: str
    created: str
    narratives_version: str
    row_counts: dict[str, int]

    @property
    def rows(self) -> int:
        return sum(self.row_counts.values())


def backend_of(project: Project) -> str:
    name = project.engine.dialect.name
    if name not in PAYLOAD:
        raise StoreError(f"backups of {name} databases are not supported.", fix="use SQLite or PostgreSQL.")
    return name


def row_counts(project: Project) -> dict[str, int]:
    """Rows in every table of the project's database (the schema's own version table left out)."""
    with project.connect() as connection:
        names = [
            n
            for n in inspect(connection).get_table_names()
            if n != "alembic_version" and not is_search_index(n)
        ]
        return {
            n: int(connection.execute(select(func.count()).select_from(table(n))).scalar_one()) for n in names
        }


def backup_project(project: Project, file: str | Path) -> BackupInfo:
    """Write a backup of ``project``'s database to ``file`` (owner-only); returns its manifest."""
    file, backend = Path(file), backend_of(project)
    with project.connect() as connection:
        revisions = stored_revisions(connection)
    with _private_scratch(file.parent) as scratch:
        payload = scratch / PAYLOAD[backend]
        if backend == "sqlite":
            _sqlite_snapshot(project, payload)
            counts = _sqlite_counts(payload)
        else:
            counts = row_counts(project)  # before the dump: a lower bound while others write
            _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(payload)], project.db_url)
        info = BackupInfo(backend, ",".join(revisions), utcnow().isoformat(), __version__, counts)
        with zipfile.ZipFile(private_file(file), "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(
                MANIFEST, json.dumps({"format": FORMAT, "version": FORMAT_VERSION, **info.__dict__})
            )
            archive.write(payload, PAYLOAD[backend])
    logger.info("backed up %s (%d rows) to %s", project.path, info.rows, file)
    return info


def read_backup_info(file: str | Path) -> BackupInfo:
    """The manifest of a backup file; a :class:`ProjectError` if it is not one."""
    file = Path(file)
    try:
        with zipfile.ZipFile(file) as archive:
            manifest = json.loads(archive.read(MANIFEST))
    except (OSError, zipfile.BadZipFile, KeyError, ValueError) as error:
        raise ProjectError(
            f"this is not a narratives backup ({error}).",
            where=file,
            fix="give a file written by: narratives backup PROJECT FILE",
        ) from None
    if manifest.get("format") != FORMAT or manifest.get("version") != FORMAT_VERSION:
        raise ProjectError(
            f"this backup is of a format this version of narratives does not read ({manifest.get('format')} "
            f"{manifest.get('version')}).",
            where=file,
            fix="restore it with the version of narratives that made it.",
        )
    fields = ("backend", "schema_revision", "created", "narratives_version", "row_counts")
    return BackupInfo(**{key: manifest[key] for key in fields})


def restore_project(
    file: str | Path, path: str | Path, *, db_url: str | None = None, force: bool = False
) -> Project:
    """Restore the backup ``file`` into the project at ``path`` (made if missing, with ``db_url``
    or SQLite); returns it open, its schema brought up to date."""
    file, path = Path(file), Path(path)
    info = read_backup_info(file)
    _check_revision(info, file)
    if not (path / CONFIG_NAME).exists():
        _check_new_backend(info, path, db_url)  # before anything is made
    project = open_project(path) if (path / CONFIG_NAME).exists() else init_project(path, db_url=db_url)
    try:
        backend = backend_of(project)
        if backend != info.backend:
            raise ProjectError(
                f"this is a backup of a {info.backend} database; the project's database is {backend}.",
                where=path,
                fix=f"restore it into a new folder (a {info.backend} project is made there).",
            )
        held = sum(row_counts(project).values())
        if held and not force:
            raise ProjectError(
                f"the project already holds {held} rows; restoring would replace them.",
                where=path,
                fix="restore into a new folder, or add --force to replace what the project holds.",
            )
        with _private_scratch(path) as scratch, zipfile.ZipFile(file) as archive:
            payload = Path(archive.extract(PAYLOAD[backend], scratch))
            if backend == "sqlite":
                _sqlite_restore(project, payload)
            else:
                _drop_all_tables(project)
                _run(["pg_restore", "--no-owner", "--single-transaction", str(payload)], project.db_url)
    finally:
        project.close()
    return open_project(path)  # migrates an older schema


def _check_new_backend(info: BackupInfo, path: Path, db_url: str | None) -> None:
    """A :class:`ProjectError` when the new project ``db_url`` would make (SQLite without one) is not
    of the backup's kind; an unparsable URL is left to :func:`init_project` to refuse."""
    try:
        backend = "sqlite" if db_url is None else make_url(db_url).get_backend_name()
    except ArgumentError:
        return
    if backend == info.backend:
        return
    if info.backend == "postgresql":
        made = (
            "without --db the new project would be a SQLite one"
            if db_url is None
            else f"--db names a {backend} database"
        )
        raise ProjectError(
            f"this is a backup of a postgresql database; {made}. Nothing was created.",
            where=path,
            fix="give the PostgreSQL database to restore into, e.g. --db postgresql://user@host/dbname "
            "(an empty database).",
        )
    raise ProjectError(
        f"this is a backup of a {info.backend} database; --db names a {backend} database. Nothing was created.",
        where=path,
        fix=f"leave out --db to restore into a new {info.backend} project in this folder.",
    )


def _check_revision(info: BackupInfo, file: Path) -> None:
    for revision in filter(None, info.schema_revision.split(",")):
        if not known_revision(revision):
            raise ProjectError(
                f"the backup's schema (revision {revision}, narratives {info.narratives_version}) is not one "
                "this version of narratives knows.",
                where=file,
                fix=f"upgrade narratives to {info.narratives_version} or later, then restore.",
            )


@contextmanager
def _private_scratch(near: Path) -> Iterator[Path]:
    """An owner-only temporary folder beside ``near`` (on its file system), removed afterwards."""
    near.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=".narratives-backup-", dir=near))  # mkdtemp makes it 0700
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _drop_all_tables(project: Project) -> None:
    """Empty the PostgreSQL database for pg_restore: every table, the schema's version with them."""
    metadata = MetaData()
    with project.begin(what="the emptying of the database before a restore") as connection:
        metadata.reflect(connection)
        metadata.drop_all(connection)


def _sqlite_database(project: Project) -> Path:
    database = sqlite_file(project.db_url)
    if database is None:
        raise StoreError("an in-memory database cannot be backed up.", fix="back up a project on disk.")
    return database


def _sqlite_snapshot(project: Project, target: Path) -> None:
    """Copy the database with SQLite's online backup API: one consistent snapshot, while others write."""
    source = sqlite3.connect(_sqlite_database(project), timeout=60)
    copy = sqlite3.connect(private_file(target))
    try:
        with copy:
            source.backup(copy)  # all pages in one step, under one read snapshot
        copy.execute("PRAGMA journal_mode=DELETE")  # a single file, no -wal beside it
    except sqlite3.Error as error:
        raise StoreError(
            f"the backup failed ({error}).", where=project.path, fix="check disk space, then try again."
        ) from None
    finally:
        copy.close()
        source.close()


def _sqlite_counts(database: Path) -> dict[str, int]:
    connection = sqlite3.connect(database)
    try:
        names = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {
            name: int(connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0])
            for name in names
            if name != "alembic_version" and not name.startswith("sqlite_") and not is_search_index(name)
        }
    finally:
        connection.close()


def _sqlite_restore(project: Project, payload: Path) -> None:
    database = _sqlite_database(project)
    project.close()
    source = sqlite3.connect(payload)
    target = sqlite3.connect(database, timeout=60)
    try:
        source.backup(target)
        target.execute("PRAGMA journal_mode=WAL")
    except sqlite3.Error as error:
        raise StoreError(
            f"the restore failed ({error}).", where=database, fix="check disk space, then try again."
        ) from None
    finally:
        target.close()
        source.close()
    make_private(
        database, database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")
    )


def postgres_tool(name: str) -> str:
    """The path of a PostgreSQL client program (``pg_dump``, ``pg_restore``): on PATH, else in the
    newest ``/usr/lib/postgresql/*/bin``."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        Path("/").glob(POSTGRES_BIN_GLOB.lstrip("/")), key=lambda p: _version_key(p.parent.name)
    )
    for folder in reversed(candidates):
        if (folder / name).exists():
            return str(folder / name)
    raise StoreError(
        f"{name} is not installed, and backups of a PostgreSQL project need it.",
        fix="install the PostgreSQL client programs (e.g. apt install postgresql-client), then try again.",
    )


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


def _run(arguments: list[str], db_url: str) -> None:
    """Run a PostgreSQL client program against ``db_url``; the password goes in PGPASSWORD, never
    on the command line."""
    url = make_url(db_url)
    conninfo = url._replace(drivername="postgresql", password=None).render_as_string(hide_password=False)
    environment: dict[str, Any] = {**os.environ}
    if url.password is not None:
        environment["PGPASSWORD"] = str(url.password)
    command = [postgres_tool(arguments[0]), *arguments[1:], f"--dbname={conninfo}"]
    completed = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        detail = (completed.stderr.strip().splitlines() or ["no message"])[-1]
        raise StoreError(
            f"{arguments[0]} failed ({detail}).",
            fix="check that the server is running and that its version is not newer than the client's.",
        )
