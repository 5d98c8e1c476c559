"""The big writers (ingest, segmenting, a coding run) outlast another process holding the database.

On PostgreSQL the writer's sessions get a short ``lock_timeout`` and a second connection holds a lock
the writer needs: the writer's transaction is refused (55P03) part way through, rolled back, and run
again whole, a file read again from its start. On SQLite a second connection holds the write lock;
the writer waits for it. Either way the holder lets go once the writer is seen refused and about to
try again (a condition the test waits on), and every row is stored exactly once.
"""

from __future__ import annotations

import csv
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import Connection, create_engine, event, func, select
from sqlalchemy.engine.interfaces import DBAPIConnection

from narratives.coding.runner import code_project
from narratives.ingest.readers import FileRead, ReadOptions, read_path
from narratives.ingest.to_project import ingest_paths, store_file
from narratives.schema import Document, SourceKind
from narratives.segment.to_project import segment_project
from narratives.store.documents import save_document
from narratives.store.events import list_events
from narratives.store.project import Project, init_project, open_project
from narratives.store.retry import WAIT_ENV
from narratives.store.tables import (
    codebook_events,
    coding_runs,
    documents,
    participants,
    segments,
    suggestions,
)
from tests.builders.themes import FakeEmbedder, add_documents, make_codebook, theme_documents

T = TypeVar("T")
ROWS = 1200  # three chunks of save_documents' 500


def write_survey(path: Path, rows: int = ROWS) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "answer", "area"])
        for k in range(rows):
            writer.writerow(
                [f"R{k:05d}", f"Answer {k}: the carer came late, café closed.", ["north", "south"][k % 2]]
            )
    return path


def survey_options() -> ReadOptions:
    return ReadOptions(id_column="id", text_columns=["answer"])


def count(project: Project, table: Any) -> int:
    with project.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


class _RetrySeen(logging.Handler):
    """Sets ``seen`` when the store logs that a refused write will be tried again."""

    def __init__(self, seen: threading.Event) -> None:
        super().__init__(logging.DEBUG)
        self.seen = seen

    def emit(self, record: logging.LogRecord) -> None:
        if "again in" in record.getMessage():
            self.seen.set()


def write_while_held(release: Callable[[], None], work: Callable[[], T]) -> T:
    """``work()`` in a thread; ``release()`` once its write has been refused and waits to try again."""
    seen = threading.Event()
    handler = _RetrySeen(seen)
    retry_log = logging.getLogger("narratives.store.retry")
    old_level = retry_log.level
    retry_log.addHandler(handler)
    retry_log.setLevel(logging.DEBUG)
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = work()
        except BaseException as error:  # handed to the test thread
            outcome["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    try:
        met = seen.wait(timeout=60)
    finally:
        release()
        thread.join(timeout=120)
        retry_log.removeHandler(handler)
        retry_log.setLevel(old_level)
    assert not thread.is_alive(), "the writer did not finish once the lock was let go"
    if "error" in outcome:
        raise outcome["error"]
    assert met, "the writer never met the lock"
    return outcome["result"]


# ------------------------------------------------------------------------------ PostgreSQL


@pytest.fixture
def pg_project(tmp_path: Path) -> Iterator[Project]:
    """A project on a fresh PostgreSQL database whose sessions give up on a lock after 200 ms."""
    from tests.store.conftest import PG_URL, _drop_pg_database, _fresh_pg_database

    if not PG_URL:
        pytest.skip("PostgreSQL tests skipped: no server reachable (set NARRATIVES_TEST_PG_URL)")
    url, name = _fresh_pg_database()
    project = init_project(tmp_path / "project", db_url=url)
    project.engine.dispose()

    def short_lock_timeout(dbapi_connection: DBAPIConnection, _record: object) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("SET lock_timeout = '200ms'")
        cursor.close()
        dbapi_connection.commit()  # a session setting, kept past the pool's reset

    event.listen(project.engine, "connect", short_lock_timeout)
    yield project
    project.close()
    _drop_pg_database(name)


class Holder:
    """Another process's transaction on the project's PostgreSQL database, holding what it locked."""

    def __init__(self, project: Project) -> None:
        self.engine = create_engine(project.db_url)
        self.connection: Connection = self.engine.connect()
        self.transaction = self.connection.begin()

    def release(self) -> None:
        if self.transaction.is_active:
            self.transaction.rollback()
        self.connection.close()
        self.engine.dispose()


@pytest.mark.postgres
def test_a_lock_met_mid_file_reads_the_file_again_and_stores_it_once(
    pg_project: Project, tmp_path: Path
) -> None:
    table = write_survey(tmp_path / "survey.csv")
    holder = Holder(pg_project)
    # an uncommitted participant with the key of row 700: the writer's second chunk waits on it
    holder.connection.exec_driver_sql("INSERT INTO participants (key, created) VALUES ('R00700', now())")
    opened: list[int] = []  # documents each read of the file yielded

    def open_read() -> FileRead:
        read = read_path(table, survey_options())
        opened.append(0)
        number = len(opened) - 1

        def counted(items: Iterator[Document]) -> Iterator[Document]:
            for item in items:
                opened[number] += 1
                yield item

        read.documents = counted(read.documents)
        return read

    outcome, read = write_while_held(holder.release, lambda: store_file(pg_project, open_read, "ana"))
    assert len(opened) >= 2 and opened[0] >= 1000  # the first try was refused in its second chunk
    assert opened[-1] == ROWS  # the try that counted read the whole file from its start
    assert (outcome.status, outcome.added, outcome.unchanged) == ("ingested", ROWS, 0)
    assert not read.failures
    assert count(pg_project, documents) == ROWS and count(pg_project, participants) == ROWS
    with pg_project.connect() as connection:
        answers = list(connection.execute(select(documents.c.text).order_by(documents.c.id)).scalars())
        ingested = [e for e in list_events(connection) if e.kind == "ingest.file"]
    assert answers == [f"Answer {k}: the carer came late, café closed." for k in range(ROWS)]
    assert len(ingested) == 1 and ingested[0].payload["added"] == ROWS


def add_texts(project: Project, texts: list[str]) -> None:
    with project.begin() as connection:
        for number, text in enumerate(texts):
            save_document(
                connection, Document(kind=SourceKind.blog, title=f"t{number}", text=text, path=f"{number}.md")
            )


@pytest.mark.postgres
def test_segmenting_refused_by_a_lock_runs_again_whole(pg_project: Project) -> None:
    add_texts(pg_project, [f"First of {k}. Second of {k}. Third of {k}." for k in range(20)])
    holder = Holder(pg_project)
    holder.connection.exec_driver_sql("LOCK TABLE events IN EXCLUSIVE MODE")  # the run's last write waits

    report = write_while_held(holder.release, lambda: segment_project(pg_project, "sentence", user="ana"))
    assert (report.documents, report.segments) == (20, 60)
    assert count(pg_project, segments) == 60
    with pg_project.connect() as connection:
        runs = [e for e in list_events(connection) if e.kind == "segment.run"]
    assert len(runs) == 1 and runs[0].payload["segments"] == 60


@pytest.mark.postgres
def test_a_coding_run_refused_by_a_lock_runs_again_whole(pg_project: Project) -> None:
    add_documents(pg_project, theme_documents())
    codebook = make_codebook()
    holder = Holder(pg_project)
    holder.connection.exec_driver_sql("LOCK TABLE suggestions IN EXCLUSIVE MODE")  # readable, not writable

    result = write_while_held(
        holder.release, lambda: code_project(pg_project, codebook, embedder=FakeEmbedder(), user="ana")
    )
    assert result.run_id is not None and result.suggestions_written > 0
    assert count(pg_project, coding_runs) == 1
    assert count(pg_project, suggestions) == result.suggestions_written
    assert count(pg_project, codebook_events) == len(codebook.codes)  # each code created once
    with pg_project.connect() as connection:
        runs = [e for e in list_events(connection) if e.kind == "coding.run"]
    assert len(runs) == 1


# ------------------------------------------------------------------------------ SQLite


@pytest.fixture
def sqlite_pair(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Project, Project]]:
    """Two handles on one SQLite project: a holder, and a writer whose SQLite waits only 0.2 s per
    try (so its retries show) but which goes on trying for 60 s."""
    holder = init_project(tmp_path / "project")
    monkeypatch.setenv(WAIT_ENV, "0.2")
    writer = open_project(tmp_path / "project")
    writer.write_wait = 60.0
    yield holder, writer
    writer.close()
    holder.close()


def held_write_lock(holder: Project) -> Callable[[], None]:
    """Take the SQLite write lock on ``holder``; returns what lets it go."""
    held = ExitStack()
    held.enter_context(holder.begin()).execute(select(func.count()).select_from(documents))
    return held.close


def test_sqlite_ingest_waits_for_a_held_write_lock_and_stores_the_file_once(
    sqlite_pair: tuple[Project, Project], tmp_path: Path
) -> None:
    holder, writer = sqlite_pair
    table = write_survey(tmp_path / "survey.csv")
    release = held_write_lock(holder)
    report = write_while_held(release, lambda: ingest_paths(writer, [table], survey_options(), user="ana"))
    assert [(f.status, f.added) for f in report.files] == [("ingested", ROWS)]
    assert count(writer, documents) == ROWS and count(writer, participants) == ROWS
    with writer.connect() as connection:
        ingested = [e for e in list_events(connection) if e.kind == "ingest.file"]
    assert len(ingested) == 1 and ingested[0].payload["added"] == ROWS


def test_sqlite_segmenting_waits_for_a_held_write_lock(sqlite_pair: tuple[Project, Project]) -> None:
    holder, writer = sqlite_pair
    add_texts(holder, [f"One about {k}. Two about {k}." for k in range(5)])
    release = held_write_lock(holder)
    report = write_while_held(release, lambda: segment_project(writer, "sentence", user="ana"))
    assert (report.documents, report.segments) == (5, 10)
    assert count(writer, segments) == 10
