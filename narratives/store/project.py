"""A project workspace: a database plus folders for caches and exports.

``init_project(path)`` makes one (SQLite inside the folder by default, any SQLAlchemy URL with
``db_url``); ``open_project(path)`` opens it and brings its schema up to date with the migrations,
so a project made today still opens after the tool has moved on. Alembic is imported only when a
schema needs upgrading: a project already at :data:`HEAD_REVISION` opens with SQLAlchemy alone.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import Connection, Engine, RootTransaction, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError, SQLAlchemyError

from narratives.errors import ProjectError, StoreError
from narratives.store.files import PRIVATE_FILE, PRIVATE_FOLDER, make_private, private_folder
from narratives.store.migrations import HEAD_REVISION
from narratives.store.retry import WAIT_ENV, is_retryable, retry_while_locked, write_wait
from narratives.store.settings_file import CONFIG_NAME, database_url, move_password_out, write_settings

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine.interfaces import DBAPIConnection
    from sqlalchemy.pool import ConnectionPoolEntry

logger = logging.getLogger(__name__)

__all__ = [
    "CONFIG_NAME",
    "DB_NAME",
    "PRIVATE_FILE",
    "PRIVATE_FOLDER",
    "Project",
    "init_project",
    "open_project",
]

T = TypeVar("T")
DB_NAME = "narratives.db"
MIGRATIONS = Path(__file__).parent / "migrations"
SUBFOLDERS = ("cache", "exports", "models")
# An execution option set on the connections of write transactions: on SQLite they begin with
# BEGIN IMMEDIATE, taking the write lock up front (see _sqlite_begin).
WRITE_OPTION = "narratives_write"
# How long SQLite itself waits for a lock on one try (less if the whole wait is set shorter); the
# pauses and tries of retry.py go on from there. A writer that begins its own transaction (the
# embedding cache's engine.begin()) has this wait and no more.
SQLITE_BUSY_SECONDS = 10.0


@dataclass
class Project:
    """An open project: where it lives and the engine of its database."""

    path: Path
    db_url: str
    engine: Engine = field(repr=False)
    # seconds a write waits in all for another process to let go of the database (retry.py)
    write_wait: float = field(default_factory=write_wait)

    @property
    def exports_dir(self) -> Path:
        return self.path / "exports"

    @property
    def cache_dir(self) -> Path:
        return self.path / "cache"

    @property
    def models_dir(self) -> Path:
        return self.path / "models"

    @contextmanager
    def begin(self, what: str = "the changes") -> Iterator[Connection]:
        """One write transaction: everything inside is written together or not at all.

        On SQLite the write lock is taken as the transaction begins; while another process holds
        it, the start is retried with growing pauses for up to :attr:`write_wait` seconds. A
        database failure (disk full, the lock never let go, a lost server) rolls the transaction
        back and is raised as :class:`~narratives.errors.StoreError` naming ``what`` was not
        written, with the cause chained. A conflict met *inside* the body (a PostgreSQL deadlock)
        cannot be retried here, as the body would have to run again: use :meth:`write` for that.
        """
        try:
            connection, transaction = retry_while_locked(self._open_write, total=self.write_wait, what=what)
        except DBAPIError as error:
            raise self._refused(error, what) from error
        try:
            with connection, transaction:
                yield connection
        except DBAPIError as error:  # the database's own refusal; our bugs keep their own exceptions
            raise self._refused(error, what) from error

    def write(self, body: Callable[[Connection], T], *, what: str) -> T:
        """``body(connection)`` in one write transaction, the whole of it run again from the start
        when a lock or a conflict (SQLite busy; a PostgreSQL serialization failure, deadlock or lock
        timeout) refuses it, for up to :attr:`write_wait` seconds; returns what ``body`` returns.

        ``body`` must do nothing outside the transaction that a second run would repeat."""

        def attempt() -> T:
            connection, transaction = self._open_write()
            with connection, transaction:
                return body(connection)

        try:
            return retry_while_locked(attempt, total=self.write_wait, what=what)
        except DBAPIError as error:
            raise self._refused(error, what) from error

    def _open_write(self) -> tuple[Connection, RootTransaction]:
        connection = self.engine.connect().execution_options(**{WRITE_OPTION: True})
        try:
            return connection, connection.begin()
        except BaseException:
            connection.close()
            raise

    def _refused(self, error: DBAPIError, what: str) -> StoreError:
        cause = str(error.orig or error).splitlines()[0]
        if is_retryable(error):
            return StoreError(
                f"could not write {what}: another process held the project's database for writing "
                f"for more than {self.write_wait:g} s ({cause}); nothing of it was stored.",
                where=self.path,
                fix=(
                    "another process holds the project for writing (an import, ingest or coding run); "
                    f"try again when it has finished, or set {WAIT_ENV} to a number of seconds to wait longer."
                ),
            )
        return StoreError(
            f"the database refused the write of {what} ({error.__class__.__name__}: {cause}); "
            "nothing of it was stored.",
            where=self.path,
            fix="check the database (disk space, server, permissions), then try again.",
        )

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        with self.engine.connect() as connection:
            yield connection

    def close(self) -> None:
        self.engine.dispose()


def refresh_statistics(project: Project) -> None:
    """Fresh planner statistics after a large write (a coding run), so SQLite keeps using the
    indexes the explorer's queries are built for; PostgreSQL's autovacuum does this on its own."""
    if project.engine.dialect.name == "sqlite":
        with project.begin() as connection:
            connection.exec_driver_sql("ANALYZE")


def default_db_url(path: Path) -> str:
    return f"sqlite:///{(path / DB_NAME).resolve()}"


def make_engine(db_url: str) -> Engine:
    """An engine tuned for several readers and one writer at a time (two reviewers at once)."""
    if db_url.startswith("sqlite"):
        busy_ms = int(min(SQLITE_BUSY_SECONDS, write_wait()) * 1000)
        engine = create_engine(db_url, connect_args={"timeout": busy_ms / 1000})
        event.listen(engine, "connect", functools.partial(_sqlite_pragmas, busy_ms=busy_ms))
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(db_url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry, *, busy_ms: int) -> None:
    # The driver's own transaction handling is switched off: it begins a transaction only at the
    # first write, as a deferred one, which can find the database changed under it and fail at
    # once ("database is locked") however long the busy timeout. _sqlite_begin begins them instead.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
    # Large projects: 32 MiB of page cache per connection (SQLite's default is 2 MiB, under a
    # 100,000-segment project's indexes), reads through a memory map, sorts and temporary indexes in
    # memory. Overview figures at 100,000 segments ~15 % faster, segmenting 30,000 documents ~20 %.
    cursor.execute("PRAGMA cache_size=-32768")
    cursor.execute("PRAGMA mmap_size=268435456")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    """Begin each transaction ourselves: a write transaction (:meth:`Project.begin`) with BEGIN
    IMMEDIATE, so it holds the write lock from its first statement and never has to upgrade a read
    lock later; a read with a plain BEGIN, which in WAL mode never waits for a writer."""
    write = connection.get_execution_options().get(WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


# Alembic keeps its migration context in module globals: two threads (two explorer sessions, say)
# opening projects at once must not migrate at the same time.
_MIGRATION_LOCK = threading.Lock()


def migrate(engine: Engine) -> str:
    """Upgrade the schema to the newest migration; returns the revision now in force.

    The common case, a schema already at :data:`HEAD_REVISION`, is one query; only a new or older
    database imports Alembic and runs the migrations."""
    with _MIGRATION_LOCK:
        with engine.connect() as connection:
            current = stored_revisions(connection)
        if current == [HEAD_REVISION]:
            return HEAD_REVISION
        return _upgrade(engine)


def stored_revisions(connection: Connection) -> list[str]:
    """The revisions in the database's ``alembic_version`` table (none for a new database)."""
    if not inspect(connection).has_table("alembic_version"):
        return []
    return [str(row[0]) for row in connection.execute(text("SELECT version_num FROM alembic_version"))]


def _upgrade(engine: Engine) -> str:
    """Run the migrations in one write transaction (on SQLite holding the write lock from the start,
    so two processes opening an old project at once migrate one after the other)."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.util import CommandError

    def attempt() -> str:
        with engine.connect().execution_options(**{WRITE_OPTION: True}) as connection, connection.begin():
            try:
                command.upgrade(_alembic_config(connection), "head")
            except CommandError as error:  # a revision this version of the tool does not know
                raise ProjectError(
                    f"the database's schema is not one this version of narratives knows ({error}).",
                    fix="upgrade narratives to the version that last wrote to this project.",
                ) from None
            return str(MigrationContext.configure(connection).get_current_revision())

    return retry_while_locked(attempt, total=write_wait(), what="the schema upgrade")


@functools.lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest migration as Alembic finds it in ``migrations/versions`` (imports Alembic)."""
    from alembic.script import ScriptDirectory

    return str(ScriptDirectory.from_config(_alembic_config()).get_current_head())


def known_revision(revision: str) -> bool:
    """Whether ``revision`` is one of this version's migrations (imports Alembic)."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    try:
        return ScriptDirectory.from_config(_alembic_config()).get_revision(revision) is not None
    except CommandError:  # not a revision these migrations know
        return False


def init_project(path: str | Path, db_url: str | None = None) -> Project:
    """Create a project workspace at ``path`` (or re-open it, if it is one already: then a password
    an older version kept in ``narratives.toml`` is moved into the owner-only secret file)."""
    path = Path(path)
    config_file = path / CONFIG_NAME
    if config_file.exists():
        if move_password_out(path):
            logger.warning("moved the database password out of %s", config_file)
        existing = open_project(path)
        if db_url and db_url != existing.db_url:
            raise ProjectError(
                f"a project already exists here with database {redact_url(existing.db_url)}.",
                where=path,
                fix="choose another folder, or leave out --db to keep the existing database.",
            )
        return existing
    # what is missing now is made here, and removed again if the database cannot be made
    made = [folder for folder in (*reversed(path.parents), path) if not folder.exists()]
    made += [path / name for name in SUBFOLDERS if not (path / name).exists()]
    url = db_url or default_db_url(path)
    database = None
    try:
        private_folder(path)
        for name in SUBFOLDERS:
            private_folder(path / name)
        database = _new_private_sqlite_file(url)
        engine = _connect_and_migrate(url, path)
    except BaseException:
        _remove_made(made, database)
        raise
    if database is not None:  # and the -wal and -shm files its first connection made
        make_private(
            database, database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")
        )
    write_settings(path, "" if db_url is None else url)  # empty: the SQLite file beside the settings
    return Project(path=path, db_url=url, engine=engine)


def _remove_made(folders: list[Path], database: Path | None) -> None:
    """Remove the SQLite file (with its -wal and -shm files) and the folders a failed
    :func:`init_project` made; a folder that holds anything else by now is left."""
    if database is not None:
        for file in (
            database,
            database.with_name(database.name + "-wal"),
            database.with_name(database.name + "-shm"),
        ):
            file.unlink(missing_ok=True)
    for folder in reversed(folders):
        with suppress(OSError):
            folder.rmdir()


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL; None for another database or an in-memory one."""
    try:
        parsed = make_url(url)
    except ArgumentError:  # not a URL at all: opening it says so, with the fix
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def _new_private_sqlite_file(url: str) -> Path | None:
    """A new SQLite database file, made empty here for its owner only, so SQLite never creates it
    readable by others (SQLite gives the -wal and -shm files the database file's mode). None for
    another database, an in-memory one, or a file that exists already (someone else's choice)."""
    database = sqlite_file(url)
    if database is None or database.exists():
        return None
    database.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    return database


def open_project(path: str | Path) -> Project:
    """Open an existing workspace; its schema is upgraded if the tool is newer."""
    path = Path(path)
    config_file = path / CONFIG_NAME
    if not config_file.exists():
        raise ProjectError(
            "no narratives project here.",
            where=path,
            fix=f"create one with: narratives init {path}",
        )
    url = database_url(path, default_db_url(path))
    return Project(path=path, db_url=url, engine=_connect_and_migrate(url, path))


def _connect_and_migrate(url: str, path: Path) -> Engine:
    try:
        engine = make_engine(url)
        revision = migrate(engine)
    except (OperationalError, SQLAlchemyError) as error:
        raise ProjectError(
            f"cannot open the database {redact_url(url)}: {error.__class__.__name__}: "
            f"{str(error).splitlines()[0]}",
            where=path,
            fix="check the --db URL, that the server is running and that you may write there.",
        ) from None
    logger.debug("project %s at schema revision %s", path, revision)
    return engine


def redact_url(url: str) -> str:
    """Hide a password in a database URL before printing it."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"
    return url
