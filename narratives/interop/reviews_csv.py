"""Reviewer decisions to and from CSV.

Import columns: a segment given by ``segment_id``, or ``document_path`` + ``start`` + ``end``
(character offsets into the document), or its exact ``text``; ``code`` (id or name); ``decision``
(accept, reject, add, remove); ``user``; optional ``memo`` and ``suggestion_id``. Every row goes
through :func:`~narratives.review.record_review` with ``source="csv"``. A bad row is reported with
its row number (the header is row 1) and the good rows are still imported, unless ``strict`` is set,
when one bad row stops the whole file before anything is written.

The rows are written in batches of :data:`BATCH_ROWS`, each its own transaction, retried whole while
another process holds the database (:meth:`~narratives.store.project.Project.write`). With each batch
the project records, in the same transaction, the last row of this file (its exact bytes, with the
codebook and default user) now stored: importing the same file again, or again after an interrupted
import, stores only the rows not stored yet, so no review is stored twice.
"""

from __future__ import annotations

import csv
import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection

from narratives.errors import ReviewError, StoreError
from narratives.kinds import UNIT_ORDER as UNITS_FINEST_FIRST
from narratives.review.record import check_review, record_review
from narratives.schema import Decision, Review
from narratives.store.codebooks import current_codes
from narratives.store.files import private_file
from narratives.store.project import Project
from narratives.store.reviews import review_history_rows
from narratives.store.segments import SegmentMatch, segments_at, segments_with_text
from narratives.store.settings import get_setting, set_setting
from narratives.store.suggestions import best_current_suggestion

logger = logging.getLogger(__name__)

BATCH_ROWS = 500
IMPORTED_KEY = "reviews.import/"  # + the file's fingerprint: {"last_row": the last row stored}

UNIT_ORDER = [u.value for u in UNITS_FINEST_FIRST]
EXPORT_COLUMNS = [
    "review_id",
    "segment_id",
    "document_path",
    "document_title",
    "start",
    "end",
    "text",
    "code",
    "code_name",
    "decision",
    "user",
    "memo",
    "source",
    "suggestion_id",
    "created",
]


@dataclass
class RowProblem:
    row: int
    message: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.message}"


@dataclass
class ImportReport:
    """What an import stored (``review_ids``), refused (``problems``) and left alone because an
    earlier import of the same file had stored it (``already_imported`` rows)."""

    path: str
    imported: int = 0
    review_ids: list[int] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    already_imported: int = 0


class _RowError(Exception):
    pass


def import_reviews_csv(
    project: Project,
    path: str | Path,
    *,
    codebook_name: str,
    strict: bool = False,
    default_user: str | None = None,
    batch_rows: int = BATCH_ROWS,
) -> ImportReport:
    """Record every good row of the CSV as a review not stored from this file before; returns what
    was imported, what was not, and how many rows an earlier import had stored already."""
    path = Path(path)
    rows = _read_rows(path)
    key = IMPORTED_KEY + _fingerprint(path, codebook_name, default_user)
    report = ImportReport(path=str(path))
    with project.connect() as connection:
        codes_by_key = _code_lookup(connection, codebook_name)
        if strict:
            _refuse_bad_rows(path, _problems(connection, rows, codebook_name, codes_by_key, default_user))
    how = _How(codebook_name, codes_by_key, default_user, strict)
    for first in range(0, len(rows), max(1, batch_rows)):
        try:
            stored = _write_batch(project, path, key, rows[first : first + max(1, batch_rows)], how)
        except StoreError as error:
            raise StoreError(
                f"{error.message} The rows before row {rows[first][0]} were stored "
                f"({len(report.review_ids)} reviews).",
                where=error.where,
                fix=f"{error.fix} Importing the same file again stores only the rows not stored yet.",
            ) from error
        report.review_ids.extend(stored.review_ids)
        report.problems.extend(stored.problems)
        report.already_imported += stored.skipped
    report.imported = len(report.review_ids)
    logger.info("imported %d reviews from %s, %d rows refused", report.imported, path, len(report.problems))
    return report


@dataclass(frozen=True)
class _How:
    """How the rows of one import are read into reviews."""

    codebook_name: str
    codes_by_key: dict[str, str]
    default_user: str | None
    strict: bool


def _write_batch(
    project: Project, path: Path, key: str, batch: list[tuple[int, dict[str, str]]], how: _How
) -> _Batch:
    """Store the rows of ``batch`` not stored yet, and how far the file has got, in one transaction,
    run again whole while another process holds the database."""

    def store(connection: Connection) -> _Batch:
        done = int(get_setting(connection, key, {}).get("last_row", 1))
        fresh = [row for row in batch if row[0] > done]
        stored = _store_rows(connection, fresh, how.codebook_name, how.codes_by_key, how.default_user)
        if how.strict and stored.problems:  # the project changed since the check: keep this batch out
            _refuse_bad_rows(path, stored.problems)
        stored.skipped = len(batch) - len(fresh)
        set_setting(connection, key, {"last_row": max(done, batch[-1][0])})
        return stored

    return project.write(store, what=f"reviews from rows {batch[0][0]}-{batch[-1][0]} of {path}")


@dataclass
class _Batch:
    review_ids: list[int] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    skipped: int = 0


def _store_rows(
    connection: Connection,
    rows: list[tuple[int, dict[str, str]]],
    codebook_name: str,
    codes_by_key: dict[str, str],
    default_user: str | None,
) -> _Batch:
    stored = _Batch()
    for number, row in rows:
        try:
            review = _review(connection, row, codebook_name, codes_by_key, default_user)
        except _RowError as error:
            stored.problems.append(RowProblem(number, str(error)))
            continue
        try:  # record_review checks every target before it writes anything
            stored.review_ids.append(record_review(connection, review, source="csv"))
        except ReviewError as error:
            stored.problems.append(RowProblem(number, error.message))
    return stored


def _problems(
    connection: Connection,
    rows: list[tuple[int, dict[str, str]]],
    codebook_name: str,
    codes_by_key: dict[str, str],
    default_user: str | None,
) -> list[RowProblem]:
    """The rows that would be refused, found without writing anything."""
    problems = []
    for number, row in rows:
        try:
            check_review(connection, _review(connection, row, codebook_name, codes_by_key, default_user))
        except _RowError as error:
            problems.append(RowProblem(number, str(error)))
        except ReviewError as error:
            problems.append(RowProblem(number, error.message))
    return problems


def _refuse_bad_rows(path: Path, problems: list[RowProblem]) -> None:
    if not problems:
        return
    listing = "; ".join(str(p) for p in problems[:10])
    more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
    raise ReviewError(
        f"{len(problems)} bad rows, nothing imported: {listing}{more}.",
        where=path,
        fix="correct those rows, or import without --strict to keep the good ones.",
    )


def _fingerprint(path: Path, codebook_name: str, default_user: str | None) -> str:
    """Names this import: the file's exact bytes, the codebook and the user for rows without one."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    digest.update(f"\0{codebook_name}\0{default_user or ''}".encode())
    return digest.hexdigest()


def _read_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = [h.strip().lower() for h in reader.fieldnames or []]
            rows = [
                (number, {k.strip().lower(): (v or "").strip() for k, v in row.items() if k is not None})
                for number, row in enumerate(reader, start=2)
            ]
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise ReviewError(
            f"cannot read the CSV ({error}).", where=path, fix="save it as UTF-8 CSV."
        ) from None
    has_segment = (
        "segment_id" in header or "text" in header or {"document_path", "start", "end"} <= set(header)
    )
    missing = [c for c in ("code", "decision") if c not in header]
    if missing or not has_segment:
        raise ReviewError(
            f"the CSV lacks the column(s) {', '.join(missing) or 'naming the segment'}.",
            where=path,
            fix="add a header with code, decision, user and one of: segment_id; document_path, start, end; text.",
        )
    return rows


def _code_lookup(connection: Connection, codebook_name: str) -> dict[str, str]:
    found = current_codes(connection, codebook_name, include_retired=True)
    if not found:
        raise ReviewError(
            f"the project has no codebook named '{codebook_name}'.",
            fix="code the project with that codebook first, or pass --codebook NAME.",
        )
    lookup = {code.name.strip().lower(): code.id for code in found}
    lookup.update({code.id.lower(): code.id for code in found})
    return lookup


def _review(
    connection: Connection,
    row: dict[str, str],
    codebook_name: str,
    codes_by_key: dict[str, str],
    default_user: str | None,
) -> Review:
    code_id = codes_by_key.get(row.get("code", "").lower())
    if code_id is None:
        raise _RowError(
            f"unknown code '{row.get('code', '')}' (give a code id or name of '{codebook_name}')."
        )
    try:
        decision = Decision(row.get("decision", "").lower())
    except ValueError:
        raise _RowError(
            f"decision '{row.get('decision', '')}' is not one of accept, reject, add, remove."
        ) from None
    user = row.get("user") or default_user
    if not user:
        raise _RowError("no user: fill the 'user' column with the reviewer's name.")
    segment_id = _segment_id(connection, row)
    suggestion_id = _int(row, "suggestion_id") if row.get("suggestion_id") else None
    if suggestion_id is None and decision in (Decision.accept, Decision.reject):
        suggestion_id = best_current_suggestion(connection, segment_id, codebook_name, code_id)
    return Review(
        segment_id=segment_id,
        code_id=code_id,
        decision=decision,
        user=user,
        suggestion_id=suggestion_id,
        memo=row.get("memo") or None,
        codebook=codebook_name,
    )


def _int(row: dict[str, str], column: str) -> int:
    try:
        return int(float(row[column]))
    except (KeyError, ValueError):
        raise _RowError(f"{column} '{row.get(column, '')}' is not a whole number.") from None


def _segment_id(connection: Connection, row: dict[str, str]) -> int:
    if row.get("segment_id"):
        return _int(row, "segment_id")
    if row.get("document_path"):
        return _by_offsets(connection, row["document_path"], _int(row, "start"), _int(row, "end"))
    if row.get("text"):
        return _by_text(connection, row["text"])
    raise _RowError("no segment: fill segment_id, or document_path + start + end, or text.")


def _finest(found: list[SegmentMatch], what: str) -> int:
    """The segment of the finest unit, when the matches are all in one document."""
    if not found:
        raise _RowError(f"no segment matches {what}.")
    if len({match.document_id for match in found}) > 1:
        raise _RowError(
            f"{len(found)} segments in different documents match {what}; give segment_id instead."
        )
    return min(found, key=lambda f: UNIT_ORDER.index(f.unit) if f.unit in UNIT_ORDER else 99).id


def _by_offsets(connection: Connection, document_path: str, start: int, end: int) -> int:
    found = segments_at(connection, document_path, start, end)
    return _finest(found, f"{document_path} [{start}:{end}]")


def _by_text(connection: Connection, text: str) -> int:
    preview = text if len(text) <= 40 else text[:37] + "..."
    return _finest(segments_with_text(connection, text), f"the text '{preview}'")


def export_reviews_csv(project: Project, path: str | Path, *, codebook_name: str | None = None) -> int:
    """Write every review (append-only history, oldest first) to ``path``; returns the row count."""
    path = private_file(path)
    count = 0
    with project.connect() as connection, path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=EXPORT_COLUMNS)
        writer.writeheader()
        for values in review_history_rows(connection, codebook_name):
            values["created"] = values["created"].isoformat() if values["created"] else ""
            writer.writerow(values)
            count += 1
    return count
