"""Ingest files into a project, one file at a time: each file's documents are stored in its own
transaction as the file is read, before the next file is opened.

A file either goes in whole or not at all; a bad file (or a database refusal) is reported and the
rest of the batch still goes through. A write refused by a lock or a conflict is run again from the
file's start. Documents are stored in chunks of many rows (``save_documents``). Content already stored is recognised by its hash and skipped.
A big survey table streams through: its answers go into the transaction as they are read.
"""

from __future__ import annotations

import functools
import itertools
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection

from narratives.errors import StoreError
from narratives.ingest.readers import FileProgress, FileRead, ReadOptions, expand_paths, read_path
from narratives.schema import Document
from narratives.store.documents import save_documents
from narratives.store.events import record_event
from narratives.store.project import Project

logger = logging.getLogger(__name__)


@dataclass
class FileOutcome:
    """What happened to one file: status is ingested, skipped (nothing new) or failed."""

    path: str
    status: str
    added: int = 0
    new_versions: int = 0
    unchanged: int = 0
    failed_rows: int = 0
    reasons: list[str] = field(default_factory=list)


@dataclass
class IngestReport:
    files: list[FileOutcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(f.status == "failed" or f.failed_rows for f in self.files)

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def documents_added(self) -> int:
        return sum(f.added + f.new_versions for f in self.files)


def ingest_paths(
    project: Project,
    paths: Iterable[str | Path],
    options: ReadOptions,
    *,
    user: str,
    progress: Callable[[int, int], None] | None = None,
    file_progress: FileProgress | None = None,
) -> IngestReport:
    """Read ``paths`` (files or folders) and store what could be read, file by file.

    ``progress(files done, files)`` is called after each file; ``file_progress(file, bytes read,
    bytes)`` while a survey table is read (from the start again if the file's write is retried)."""
    report = IngestReport()
    files = expand_paths(paths, options, report.notes)
    for done, path in enumerate(files, start=1):
        outcome, read = store_file(project, functools.partial(read_path, path, options, file_progress), user)
        report.files.append(outcome)
        report.notes.extend(read.notes)
        if progress:
            progress(done, len(files))
    return report


def store_file(
    project: Project, open_read: Callable[[], FileRead], user: str
) -> tuple[FileOutcome, FileRead]:
    """Store one file's documents in one write transaction; returns what happened and the read that
    counted (its failures and notes complete).

    ``open_read()`` opens the file for reading from its start. When a lock or a conflict refuses the
    write (SQLite busy, a PostgreSQL deadlock), the transaction is rolled back whole and run again
    with the file opened afresh, so a retried file is stored once and whole, its outcome counted
    from the try that was kept."""
    # the first document is read before the transaction opens: a whole text, PDF or Word file is
    # read by then, and a table's first pass (its column types), so the write lock is held only
    # while a table's answers stream in
    ahead = [_opened(open_read)]
    tries: list[tuple[FileRead, FileOutcome]] = []

    def attempt(connection: Connection) -> None:
        read, first = ahead.pop() if ahead else _opened(open_read)  # a retry reads it again
        tries.append((read, FileOutcome(path=read.path, status="ingested")))
        _store_documents(connection, read, first, tries[-1][1], user)

    try:
        project.write(attempt, what="this file's documents")
    except _FileFailed:
        _fail(tries[-1][1])
    except _NothingNew:
        outcome = tries[-1][1]
        outcome.status = "skipped"
        stored = outcome.unchanged
        outcome.reasons.append("already in the project (same content)" if stored else "no text found")
    except StoreError as error:
        read = tries[-1][0] if tries else ahead[0][0]
        logger.warning("storing %s failed: %s", read.path, error.__cause__ or error)
        tries.append((read, FileOutcome(path=read.path, status="failed")))
        _fail(tries[-1][1])
        cause = error.__cause__.__class__.__name__ if error.__cause__ else "StoreError"
        tries[-1][1].reasons.append(
            f"E110: {read.path}: the database refused the write ({cause}); nothing from this file "
            f"was stored. Fix: {error.fix}"
        )
    read, outcome = tries[-1]
    outcome.reasons[:0] = [f.message for f in read.failures]
    outcome.failed_rows = sum(1 for f in read.failures if f.row is not None)
    return outcome, read


def _opened(open_read: Callable[[], FileRead]) -> tuple[FileRead, Document | None]:
    read = open_read()
    return read, next(read.documents, None)


def _store_documents(
    connection: Connection, read: FileRead, first: Document | None, outcome: FileOutcome, user: str
) -> None:
    stored_ids = []
    documents = itertools.chain([first] if first else [], read.documents)
    for saved in save_documents(connection, documents):
        counter = _COUNTERS[saved.outcome]
        setattr(outcome, counter, getattr(outcome, counter) + 1)
        stored_ids.append(saved.document_id)
    outcome.failed_rows = sum(1 for f in read.failures if f.row is not None)
    if read.failed:
        raise _FileFailed  # undoes what was stored of it
    if not outcome.added and not outcome.new_versions:
        raise _NothingNew  # leaves no trace, not even an event
    record_event(
        connection,
        "ingest.file",
        user,
        target=read.path,
        payload={
            "added": outcome.added,
            "new_versions": outcome.new_versions,
            "unchanged": outcome.unchanged,
            "failed_rows": outcome.failed_rows,
            "document_ids": stored_ids,
        },
    )


def _fail(outcome: FileOutcome) -> None:
    outcome.status = "failed"
    outcome.added = outcome.new_versions = outcome.unchanged = 0


_COUNTERS = {"added": "added", "new_version": "new_versions", "unchanged": "unchanged"}


class _FileFailed(Exception):
    """Raised inside the transaction when the file failed as a whole while being read."""


class _NothingNew(Exception):
    """Raised inside the transaction so that a file with nothing new leaves no trace."""
