"""Survey tables (.csv, .tsv, .xlsx): one Document per non-empty free-text answer.

Rows are numbered as a spreadsheet shows them: the header is row 1, the first answer row is 2.
A problem with one row (no respondent id, an id used twice, too many cells) is recorded as a
:class:`RowFailure` and the other rows still go through.
"""

from __future__ import annotations

import csv
import difflib
import io
import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from narratives.errors import IngestError, SurveyColumnError
from narratives.ingest.checks import DEFAULT_MAX_BYTES, decode_text, read_bytes_checked
from narratives.schema import Attribute, Document, SourceKind

logger = logging.getLogger(__name__)

BOOL_VALUES = {"yes": True, "y": True, "true": True, "no": False, "n": False, "false": False}
INT_RE = re.compile(r"^[+-]?(?:0|[1-9]\d*)$")
_BLANKISH = (
    "n/a|na|n.a.|none|nothing|nothing to add|nothing further|nothing else|no comment|no comments|"
    "not applicable|nil|no answer|don't know|dont know|no idea|not sure|idk|see above|as above"
)
BLANKISH_ANSWERS = frozenset(_BLANKISH.split("|"))


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


def read_table(
    path: str | Path,
    max_bytes: int = DEFAULT_MAX_BYTES,
    encoding: str | None = None,
    sheet: str | None = None,
) -> Table:
    """Read a .csv/.tsv (encoding detected) or .xlsx (first or named sheet) as text cells."""
    data = read_bytes_checked(path, max_bytes)
    if Path(path).suffix.lower() == ".xlsx":
        table = _xlsx_table(data, path, sheet, max_bytes)
    else:
        decoded = decode_text(data, path, encoding)
        table = _csv_table(decoded.text, path)
        table.encoding, table.confidence = decoded.encoding, decoded.confidence
    if not table.header or not any(table.header):
        raise IngestError(
            "the table has no header row.", where=path, fix="put the column names in the first row."
        )
    return table


def _csv_table(text: str, path: str | Path) -> Table:
    first_line = text.split("\n", 1)[0]
    if Path(path).suffix.lower() == ".tsv":
        delimiter = "\t"
    else:
        delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise IngestError(
            f"the CSV cannot be parsed ({exc}).",
            where=path,
            fix="check quotes are balanced; export the table again.",
        ) from exc
    if not records:
        return Table([], [])
    return Table([h.strip() for h in records[0]], records[1:])


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


def resolve_columns(table: Table, wanted: list[str], path: str | Path) -> list[str]:
    """The header names for ``wanted`` (exact, else ignoring case and spaces), or an error."""
    by_key = {_column_key(h): h for h in table.header}
    resolved, missing = [], []
    for name in wanted:
        if name in table.header:
            resolved.append(name)
        elif _column_key(name) in by_key:
            resolved.append(by_key[_column_key(name)])
        else:
            missing.append(name)
    if missing:
        raise SurveyColumnError(
            f"column(s) not found: {', '.join(repr(m) for m in missing)}. "
            f"The columns are: {', '.join(repr(h) for h in table.header if h)}.",
            where=path,
            fix=_column_fix(missing, table.header),
        )
    return resolved


def _column_key(name: str) -> str:
    return re.sub(r"\s+", "", name).casefold()


def _column_fix(missing: list[str], header: list[str]) -> str:
    hints = []
    for name in missing:
        close = difflib.get_close_matches(name, header, n=1, cutoff=0.5)
        if close:
            hints.append(f"did you mean '{close[0]}' for '{name}'?")
    return " ".join(hints) or "give column names exactly as in the first row of the table."


def infer_column_type(values: list[str]) -> str:
    """bool for yes/no columns, int for whole numbers, float for numbers, else str."""
    present = [v.strip() for v in values if v.strip()]
    if not present:
        return "str"
    if all(v.lower() in BOOL_VALUES for v in present):
        return "bool"
    if all(INT_RE.match(v) for v in present):
        return "int"
    if any(re.match(r"^[+-]?0\d", v) for v in present):  # codes with leading zeros stay text
        return "str"
    try:
        for v in present:
            float(v.replace(",", ""))
    except ValueError:
        return "str"
    return "float"


def typed_attribute(key: str, raw: str, value_type: str) -> Attribute:
    value = raw.strip()
    if not value:
        return Attribute(key=key, value=None, value_type=value_type)
    if value_type == "bool":
        return Attribute.of(key, BOOL_VALUES[value.lower()])
    if value_type == "int":
        return Attribute.of(key, int(value))
    if value_type == "float":
        return Attribute.of(key, float(value.replace(",", "")))
    return Attribute.of(key, value)


def is_blankish(answer: str) -> bool:
    """An answer with no content to code: 'N/A', '-', 'nothing to add', only punctuation, ..."""
    text = " ".join(answer.lower().split()).strip(" .!")
    return text in BLANKISH_ANSWERS or not any(ch.isalnum() for ch in text)


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
    ``attribute_columns`` default to every other column.
    """
    table = read_table(path, max_bytes, encoding, sheet)
    return survey_documents(table, path, id_column, text_columns, attribute_columns)


def survey_documents(
    table: Table,
    path: str | Path,
    id_column: str | None,
    text_columns: list[str],
    attribute_columns: list[str] | None = None,
) -> SurveyResult:
    """Documents and row failures for a table already read."""
    if not text_columns:
        raise SurveyColumnError(
            "no text columns given.",
            where=path,
            fix=f"name the free-text column(s); the columns are: {', '.join(table.header)}.",
        )
    id_col = resolve_columns(table, [id_column], path)[0] if id_column else None
    texts = resolve_columns(table, text_columns, path)
    if attribute_columns is None:
        attribute_columns = [h for h in table.header if h and h != id_col and h not in texts]
    attrs = resolve_columns(table, attribute_columns, path)
    index = {h: i for i, h in reversed(list(enumerate(table.header)))}
    types = {a: infer_column_type([_cell(r, index[a]) for r in table.rows]) for a in attrs}
    result = SurveyResult(encoding=table.encoding, encoding_confidence=table.confidence)
    seen: dict[str, int] = {}
    for offset, row in enumerate(table.rows):
        _add_row(result, row, offset + 2, table, path, id_col, texts, types, index, seen)
    logger.info(
        "%s: %d answers, %d row failures, %d blank answers skipped",
        path,
        len(result.documents),
        len(result.failures),
        result.skipped_blank,
    )
    return result


def _cell(row: list[str], i: int) -> str:
    return row[i] if i < len(row) else ""


def _add_row(
    result: SurveyResult,
    row: list[str],
    number: int,
    table: Table,
    path: str | Path,
    id_col: str | None,
    texts: list[str],
    types: dict[str, str],
    index: dict[str, int],
    seen: dict[str, int],
) -> None:
    if not any(cell.strip() for cell in row):
        result.skipped_empty_rows += 1
        return
    failure = _row_problem(row, number, table, id_col, index, seen)
    if failure:
        result.failures.append(RowFailure(number, failure))
        return
    respondent = _cell(row, index[id_col]).strip() if id_col else f"row{number}"
    seen[respondent] = number
    attributes = [typed_attribute(a, _cell(row, index[a]), t) for a, t in types.items()]
    for column in texts:
        answer = _cell(row, index[column])
        if not answer.strip():
            result.skipped_blank += 1
            continue
        flags = [Attribute.of("answer_is_blankish", True)] if is_blankish(answer) else []
        result.documents.append(
            Document(
                kind=SourceKind.survey,
                title=f"{respondent} – {column}",
                text=answer,
                participant=respondent,
                question=column,
                path=f"{path}#row={number}",
                source_format=Path(path).suffix.lower().lstrip("."),
                attributes=attributes + flags,
            )
        )


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
