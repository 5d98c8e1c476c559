"""Reviewer decisions to and from CSV.

Import columns: a segment given by ``segment_id``, or ``document_path`` + ``start`` + ``end``
(character offsets into the document), or its exact ``text``; ``code`` (id or name); ``decision``
(accept, reject, add, remove); ``user``; optional ``memo`` and ``suggestion_id``. Every row goes
through :func:`~narratives.review.record_review` with ``source="csv"``, all in one transaction. A bad
row is reported with its row number (the header is row 1) and the good rows are still imported,
unless ``strict`` is set, when one bad row stops the whole file.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection

from narratives.errors import ReviewError
from narratives.review.record import record_review
from narratives.schema import Decision, Review, SegmentUnit
from narratives.store.codebooks import current_codes
from narratives.store.project import Project
from narratives.store.reviews import review_history_rows
from narratives.store.segments import SegmentMatch, segments_at, segments_with_text
from narratives.store.suggestions import best_current_suggestion

logger = logging.getLogger(__name__)

UNIT_ORDER = [
    u.value for u in (SegmentUnit.sentence, SegmentUnit.paragraph, SegmentUnit.turn, SegmentUnit.response)
]
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
    path: str
    imported: int = 0
    review_ids: list[int] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)


class _RowError(Exception):
    pass


def import_reviews_csv(
    project: Project,
    path: str | Path,
    *,
    codebook_name: str,
    strict: bool = False,
    default_user: str | None = None,
) -> ImportReport:
    """Record every good row of the CSV as a review; returns what was imported and what was not."""
    path = Path(path)
    rows = _read_rows(path)
    report = ImportReport(path=str(path))
    with project.begin() as connection:
        codes_by_key = _code_lookup(connection, codebook_name)
        for number, row in rows:
            try:
                review = _review(connection, row, codebook_name, codes_by_key, default_user)
            except _RowError as error:
                report.problems.append(RowProblem(number, str(error)))
                continue
            try:  # record_review checks every target before it writes anything
                report.review_ids.append(record_review(connection, review, source="csv"))
            except ReviewError as error:
                report.problems.append(RowProblem(number, error.message))
        if strict and report.problems:  # raising inside the transaction rolls it back
            listing = "; ".join(str(p) for p in report.problems[:10])
            more = f" (and {len(report.problems) - 10} more)" if len(report.problems) > 10 else ""
            raise ReviewError(
                f"{len(report.problems)} bad rows, nothing imported: {listing}{more}.",
                where=path,
                fix="correct those rows, or import without --strict to keep the good ones.",
            )
    report.imported = len(report.review_ids)
    logger.info("imported %d reviews from %s, %d rows refused", report.imported, path, len(report.problems))
    return report


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
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with project.connect() as connection, path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=EXPORT_COLUMNS)
        writer.writeheader()
        for values in review_history_rows(connection, codebook_name):
            values["created"] = values["created"].isoformat() if values["created"] else ""
            writer.writerow(values)
            count += 1
    return count
