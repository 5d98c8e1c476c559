"""Ingest files into a project, one file at a time: each file's documents are stored in its own
transaction as the file is read, before the next file is opened.

A file either goes in whole or not at all; a bad file (or a database refusal) is reported and the
rest of the batch still goes through. Content already stored is recognised by its hash and skipped.
A big survey table streams through: its answers go into the transaction as they are read.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from narratives.errors import StoreError
from narratives.ingest import source_paths
from narratives.ingest.readers import FileProgress, FileRead, ReadOptions, expand_paths, read_path
from narratives.schema import Document
from narratives.store.documents import save_document
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


def source_file(document: Document) -> str:
    """The file a document came from (a file name may itself contain '#')."""
    return source_paths.source_file(document.path)


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
    bytes)`` while a survey table is read."""
    report = IngestReport()
    files = expand_paths(paths, options, report.notes)
    for done, path in enumerate(files, start=1):
        read = read_path(path, options, file_progress)
        report.files.append(_store_file(project, read, user))
        report.notes.extend(read.notes)
        if progress:
            progress(done, len(files))
    return report


def _store_file(project: Project, read: FileRead, user: str) -> FileOutcome:
    outcome = FileOutcome(path=read.path, status="ingested")
    # the first document is read before the transaction opens: a whole text, PDF or Word file is
    # read by then, and a table's first pass (its column types), so the write lock is held only
    # while a table's answers stream in
    first = next(read.documents, None)
    try:
        with project.begin() as connection:
            stored_ids = []
            for document in itertools.chain([first] if first else [], read.documents):
                saved = save_document(connection, document)
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
    except _FileFailed:
        outcome.status = "failed"
        outcome.added = outcome.new_versions = outcome.unchanged = 0
    except _NothingNew:
        outcome.status = "skipped"
        stored = outcome.unchanged
        outcome.reasons.append("already in the project (same content)" if stored else "no text found")
    except StoreError as error:
        logger.warning("storing %s failed: %s", read.path, error.__cause__ or error)
        outcome.status = "failed"
        outcome.added = outcome.new_versions = outcome.unchanged = 0
        cause = error.__cause__.__class__.__name__ if error.__cause__ else "StoreError"
        outcome.reasons.append(
            f"E110: {read.path}: the database refused the write ({cause}); "
            "nothing from this file was stored. Fix: check the database, then ingest again."
        )
    outcome.reasons[:0] = [f.message for f in read.failures]
    outcome.failed_rows = sum(1 for f in read.failures if f.row is not None)
    return outcome


_COUNTERS = {"added": "added", "new_version": "new_versions", "unchanged": "unchanged"}


class _FileFailed(Exception):
    """Raised inside the transaction when the file failed as a whole while being read."""


class _NothingNew(Exception):
    """Raised inside the transaction so that a file with nothing new leaves no trace."""
