"""Survey tables (.csv, .tsv, .xlsx): one Document per non-empty free-text answer.

Rows are numbered as a spreadsheet shows them: the header is row 1, the first answer row is 2.
A problem with one row (no respondent id, an id used twice, too many cells, a cell over
:data:`MAX_CELL_CHARS`) is recorded as a :class:`RowFailure` and the other rows still go through.
A CSV is read as a stream twice (column types first, then the answers), so a file of any size within
the limit is never held in memory; :meth:`SurveyReader.documents` yields answers as they are read.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from narratives.errors import IngestError, SurveyColumnError
from narratives.ingest.cells import ColumnType, infer_column_type, is_blankish, typed_attribute
from narratives.ingest.checks import DEFAULT_MAX_BYTES, detect_file_encoding, read_bytes_checked
from narratives.ingest.csv_records import ByteProgress, CsvSource
from narratives.ingest.table_columns import is_copy_of, resolve_columns, unique_header, unnamed_notes
from narratives.schema import Attribute, Document, SourceKind

logger = logging.getLogger(__name__)

__all__ = ["infer_column_type", "is_blankish", "read_survey", "survey_reader", "typed_attribute"]

MAX_CELL_CHARS = 1_000_000  # one cell (an answer or attribute) longer than this fails its row


@dataclass
class Table:
    """A table read as text cells; ``rows[i]`` is spreadsheet row ``i + 2``."""

    header: list[str]
    rows: list[list[str]]
    encoding: str | None = None
    confidence: float = 1.0


@dataclass(frozen=True)
class RowFailure:
    row: int  # as a spreadsheet shows it: the header is row 1
    message: str


@dataclass
class SurveyResult:
    """What a survey read produced and what it could not use."""

    documents: list[Document] = field(default_factory=list)
    failures: list[RowFailure] = field(default_factory=list)
    encoding: str | None = None  # None for .xlsx
    encoding_confidence: float = 1.0
    skipped_blank: int = 0  # empty answers, not turned into Documents
    skipped_empty_rows: int = 0
    notes: list[str] = field(default_factory=list)  # e.g. duplicated column names, as renamed


def read_table(
    path: str | Path,
    max_bytes: int = DEFAULT_MAX_BYTES,
    encoding: str | None = None,
    sheet: str | None = None,
) -> Table:
    """Read a .csv/.tsv (encoding detected) or .xlsx (first or named sheet) as text cells, all in
    memory (for small tables such as an attributes file; surveys stream with :func:`open_rows`)."""
    source = open_rows(path, max_bytes, encoding, sheet)
    return Table(source.header, [cells for _, cells in source.rows(None)], source.encoding, source.confidence)


@dataclass(frozen=True)
class RowSource:
    """A table's header, and ``rows(progress)``: its ``(row number, cells)`` read afresh each call."""

    header: list[str]
    rows: Callable[[ByteProgress | None], Iterator[tuple[int, list[str]]]]
    encoding: str | None = None  # None for .xlsx
    confidence: float = 1.0


def open_rows(
    path: str | Path,
    max_bytes: int = DEFAULT_MAX_BYTES,
    encoding: str | None = None,
    sheet: str | None = None,
) -> RowSource:
    """A table's header and rows: a .csv/.tsv as a stream, a .xlsx read whole (first or named sheet)."""
    if Path(path).suffix.lower() == ".xlsx":
        table = _xlsx_table(read_bytes_checked(path, max_bytes), path, sheet, max_bytes)
        rows = table.rows
        source = RowSource(table.header, lambda _progress: iter(enumerate(rows, start=2)))
    else:
        source = _csv_rows(path, max_bytes, encoding)
    if not source.header or not any(source.header):
        raise IngestError(
            "the table has no header row.", where=path, fix="put the column names in the first row."
        )
    return source


def _csv_rows(path: str | Path, max_bytes: int, encoding: str | None) -> RowSource:
    chosen, confidence = detect_file_encoding(path, max_bytes, encoding)
    csv_source = CsvSource.open(path, chosen)
    records = csv_source.records()
    first = next(records, None)
    records.close()
    header = [h.strip() for h in first.cells] if first else []

    def rows(progress: ByteProgress | None) -> Iterator[tuple[int, list[str]]]:
        for record in csv_source.records(progress):
            if record.row > 1:
                yield record.row, record.cells

    return RowSource(header, rows, chosen, confidence)


def _xlsx_table(
    data: bytes, path: str | Path, sheet: str | None, max_bytes: int = DEFAULT_MAX_BYTES
) -> Table:
    """The cells of one sheet; the archive is checked first (zip bombs, entities, damaged XML) and
    anything openpyxl raises on a damaged workbook becomes an :class:`IngestError`."""
    import openpyxl

    from narratives.ingest.archives import check_office_archive, describe_library_error, limits_for

    fix = "open it in Excel and save it again as .xlsx."
    limits = limits_for(max_bytes, streamed_prefixes=("xl/worksheets/",))
    check_office_archive(data, path, what=".xlsx workbook", resave_fix=fix, limits=limits)
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        if sheet is not None and sheet not in book.sheetnames:
            raise IngestError(
                f"no sheet named '{sheet}'; sheets: {', '.join(book.sheetnames)}.",
                where=path,
                fix="give one of the sheet names.",
            )
        worksheet = book[sheet] if sheet is not None else book.worksheets[0]
        records = [[_cell_text(v) for v in row] for row in worksheet.iter_rows(values_only=True)]
        book.close()
    except IngestError:
        raise
    except Exception as exc:  # openpyxl, zipfile and the XML parsers raise many kinds on damage
        raise IngestError(
            f"not a readable .xlsx workbook ({describe_library_error(exc)}).", where=path, fix=fix
        ) from exc
    if not records:
        return Table([], [])
    return Table([h.strip() for h in records[0]], records[1:])


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def read_survey(
    path: str | Path,
    id_column: str | None,
    text_columns: list[str],
    attribute_columns: list[str] | None = None,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    encoding: str | None = None,
    sheet: str | None = None,
) -> SurveyResult:
    """Read a survey table: one Document per non-empty answer in each of ``text_columns``.

    ``id_column`` holds the respondent id (None: the row number is used, as ``row12``);
    ``attribute_columns`` default to every other column. All answers are kept in the result; to
    stream a big table, use :func:`survey_reader` and its ``documents()``.
    """
    reader = survey_reader(
        path, id_column, text_columns, attribute_columns, max_bytes=max_bytes, encoding=encoding, sheet=sheet
    )
    reader.result.documents = list(reader.documents())
    return reader.result


def survey_reader(
    path: str | Path,
    id_column: str | None,
    text_columns: list[str],
    attribute_columns: list[str] | None = None,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    encoding: str | None = None,
    sheet: str | None = None,
) -> SurveyReader:
    """A reader over a survey table whose header and columns are already checked."""
    source = open_rows(path, max_bytes, encoding, sheet)
    return SurveyReader(source, path, id_column, text_columns, attribute_columns)


def survey_documents(
    table: Table,
    path: str | Path,
    id_column: str | None,
    text_columns: list[str],
    attribute_columns: list[str] | None = None,
) -> SurveyResult:
    """Documents and row failures for a table already read."""
    rows = table.rows
    source = RowSource(
        table.header, lambda _progress: iter(enumerate(rows, start=2)), table.encoding, table.confidence
    )
    reader = SurveyReader(source, path, id_column, text_columns, attribute_columns)
    reader.result.documents = list(reader.documents())
    return reader.result


class SurveyReader:
    """Answers of a survey table as Documents, read as a stream; :attr:`result` holds the row
    failures, counts and notes, complete once :meth:`documents` is exhausted."""

    def __init__(
        self,
        source: RowSource,
        path: str | Path,
        id_column: str | None,
        text_columns: list[str],
        attribute_columns: list[str] | None = None,
    ) -> None:
        self.source, self.path = source, path
        header, notes = unique_header(source.header, path)
        self.table = Table(header, [])
        if not text_columns:
            raise SurveyColumnError(
                "no text columns given.",
                where=path,
                fix=f"name the free-text column(s); the columns are: {', '.join(header)}.",
            )
        self.id_col = resolve_columns(header, [id_column], path)[0] if id_column else None
        texts = resolve_columns(header, text_columns, path)
        self.texts = texts + [h for h in header if h not in texts and is_copy_of(h, texts)]
        if attribute_columns is None:
            attribute_columns = [h for h in header if h and h != self.id_col and h not in self.texts]
        self.attrs = resolve_columns(header, attribute_columns, path)
        self.index = {h: i for i, h in enumerate(header)}
        read = {*self.texts, *self.attrs, self.id_col}
        self.unnamed = [position for position, name in enumerate(header) if not name and name not in read]
        self.result = SurveyResult(
            encoding=source.encoding, encoding_confidence=source.confidence, notes=notes
        )

    def documents(self, progress: ByteProgress | None = None) -> Iterator[Document]:
        """Every answer as a Document, in file order; the file is read twice (types, then answers),
        and ``progress(done, total)`` is told of both readings as one."""
        first, second = _halves(progress)
        guesses = {a: ColumnType() for a in self.attrs}
        unnamed_data: dict[int, int] = {}  # position of a column with no name -> first row with data
        for number, row in self.source.rows(first):
            for name, guess in guesses.items():
                guess.add(_cell(row, self.index[name]))
            for position in self.unnamed:
                if position not in unnamed_data and _cell(row, position).strip():
                    unnamed_data[position] = number
        self.result.notes.extend(unnamed_notes(self.path, unnamed_data))
        types = {name: guess.name for name, guess in guesses.items()}
        seen: dict[str, int] = {}
        for number, row in self.source.rows(second):
            yield from self._row_documents(row, number, types, seen)
        logger.info(
            "%s: %d row failures, %d blank answers skipped",
            self.path,
            len(self.result.failures),
            self.result.skipped_blank,
        )

    def _row_documents(
        self, row: list[str], number: int, types: dict[str, str], seen: dict[str, int]
    ) -> Iterator[Document]:
        result = self.result
        if not any(cell.strip() for cell in row):
            result.skipped_empty_rows += 1
            return
        failure = _row_problem(row, number, self.table, self.id_col, self.index, seen)
        if failure:
            result.failures.append(RowFailure(number, failure))
            return
        respondent = _cell(row, self.index[self.id_col]).strip() if self.id_col else f"row{number}"
        seen[respondent] = number
        attributes = [typed_attribute(a, _cell(row, self.index[a]), t) for a, t in types.items()]
        for column in self.texts:
            answer = _cell(row, self.index[column])
            if not answer.strip():
                result.skipped_blank += 1
                continue
            flags = [Attribute.of("answer_is_blankish", True)] if is_blankish(answer) else []
            yield Document(
                kind=SourceKind.survey,
                title=f"{respondent} – {column}",
                text=answer,
                participant=respondent,
                question=column,
                path=f"{self.path}#row={number}",
                source_format=Path(self.path).suffix.lower().lstrip("."),
                attributes=attributes + flags,
            )


def _halves(progress: ByteProgress | None) -> tuple[ByteProgress | None, ByteProgress | None]:
    if progress is None:
        return None, None

    def first(done: int, total: int) -> None:
        progress(done, 2 * total)

    def second(done: int, total: int) -> None:
        progress(total + done, 2 * total)

    return first, second


def _cell(row: list[str], i: int) -> str:
    return row[i] if i < len(row) else ""


def _row_problem(
    row: list[str],
    number: int,
    table: Table,
    id_col: str | None,
    index: dict[str, int],
    seen: dict[str, int],
) -> str | None:
    extra = [c for c in row[len(table.header) :] if c.strip()]
    if extra:
        return (
            f"row {number} has {len(row)} cells but the header has {len(table.header)} "
            "columns (an unquoted comma in an answer?); the row was skipped."
        )
    for position, cell in enumerate(row):
        if len(cell) > MAX_CELL_CHARS:
            return (
                f"row {number}: the cell in column '{table.header[position]}' holds {len(cell):,} "
                f"characters, more than the limit of {MAX_CELL_CHARS:,} for one cell; the row was "
                "skipped. Fix: split that answer into shorter ones, or check the cell holds what "
                "you expect."
            )
    if id_col is None:
        return None
    respondent = _cell(row, index[id_col]).strip()
    if not respondent:
        return f"row {number}: no respondent id in column '{id_col}'; the row was skipped."
    if respondent in seen:
        return (
            f"row {number}: respondent id '{respondent}' is already used on row "
            f"{seen[respondent]}; the row was skipped."
        )
    return None
