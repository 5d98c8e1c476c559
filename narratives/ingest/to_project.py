"""Ingest files into a project: read them, then store each file's documents in its own transaction.

A file either goes in whole or not at all; a bad file (or a database refusal) is reported and the
rest of the batch still goes through. Content already stored is recognised by its hash and skipped.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from narratives.errors import StoreError
from narratives.ingest.readers import ReadFailure, ReadOptions, read_files
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
    return (document.path or "").split("#", 1)[0]


def ingest_paths(
    project: Project,
    paths: Iterable[str | Path],
    options: ReadOptions,
    *,
    user: str,
    progress: Callable[[int, int], None] | None = None,
) -> IngestReport:
    """Read ``paths`` (files or folders) and store what could be read, file by file."""
    batch = read_files(paths, options)
    report = IngestReport(notes=list(batch.notes))
    by_file: dict[str, list[Document]] = defaultdict(list)
    for document in batch.documents:
        by_file[source_file(document)].append(document)
    failures_by_file: dict[str, list[ReadFailure]] = defaultdict(list)
    for failure in batch.failures:
        failures_by_file[failure.path].append(failure)
    files = list(dict.fromkeys([*batch.files_read, *failures_by_file]))
    for done, path in enumerate(files, start=1):
        report.files.append(_store_file(project, path, by_file.get(path, []), failures_by_file[path], user))
        if progress:
            progress(done, len(files))
    return report


def _store_file(
    project: Project, path: str, documents: list[Document], failures: list[ReadFailure], user: str
) -> FileOutcome:
    whole_file_failed = any(f.row is None for f in failures)
    outcome = FileOutcome(path=path, status="failed" if whole_file_failed else "ingested")
    outcome.reasons = [f.message for f in failures]
    outcome.failed_rows = sum(1 for f in failures if f.row is not None)
    if whole_file_failed:
        return outcome
    try:
        with project.begin() as connection:
            stored_ids = []
            for document in documents:
                saved = save_document(connection, document)
                setattr(outcome, _COUNTERS[saved.outcome], getattr(outcome, _COUNTERS[saved.outcome]) + 1)
                stored_ids.append(saved.document_id)
            if not outcome.added and not outcome.new_versions:
                raise _NothingNew  # leaves no trace, not even an event
            record_event(
                connection,
                "ingest.file",
                user,
                target=path,
                payload={
                    "added": outcome.added,
                    "new_versions": outcome.new_versions,
                    "unchanged": outcome.unchanged,
                    "failed_rows": outcome.failed_rows,
                    "document_ids": stored_ids,
                },
            )
    except _NothingNew:
        outcome.status = "skipped"
        outcome.reasons.append("already in the project (same content)" if documents else "no text found")
    except StoreError as error:
        logger.warning("storing %s failed: %s", path, error.__cause__ or error)
        outcome.status = "failed"
        outcome.added = outcome.new_versions = outcome.unchanged = 0
        cause = error.__cause__.__class__.__name__ if error.__cause__ else "StoreError"
        outcome.reasons.append(
            f"E110: {path}: the database refused the write ({cause}); "
            "nothing from this file was stored. Fix: check the database, then ingest again."
        )
    return outcome


_COUNTERS = {"added": "added", "new_version": "new_versions", "unchanged": "unchanged"}


class _NothingNew(Exception):
    """Raised inside the transaction so that a file with nothing new leaves no trace."""
