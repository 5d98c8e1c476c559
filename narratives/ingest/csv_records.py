"""CSV and TSV files read as a stream of records, each with its row and line number.

The file is decoded incrementally (never held whole in memory) and parsed with the csv module in
strict mode, so a quote that opens a cell and is not closed properly is an error naming the row and
line where the cell starts, never later rows folded into one answer. Rows are numbered as a
spreadsheet shows them (the header is row 1); lines count the file's physical lines from 1.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path

from narratives.errors import IngestError
from narratives.ingest.checks import encoding_fix, first_non_utf8, format_size, line_of_offset

# A cell larger than this is not an answer but a quote left open over the rest of the file: the
# csv module holds a cell in memory at 4 bytes a character, so this also bounds its memory.
PARSE_CELL_LIMIT = 32 * 1024 * 1024
PROGRESS_BYTES = 1024 * 1024  # progress is reported after each megabyte read ...
PROGRESS_CHECK = 64  # ... looked at every 64 records

ByteProgress = Callable[[int, int], None]  # (bytes read, bytes in the file)


@dataclass(frozen=True)
class Record:
    """One parsed record: ``row`` as a spreadsheet numbers it, ``line`` where it starts."""

    row: int
    line: int
    cells: list[str]


@dataclass(frozen=True)
class CsvSource:
    """A CSV/TSV file and how to parse it; :meth:`records` reads it afresh on every call."""

    path: Path
    encoding: str
    delimiter: str
    size: int

    @classmethod
    def open(cls, path: str | Path, encoding: str) -> CsvSource:
        """The source, with the delimiter chosen from the first line (tab for .tsv files)."""
        path = Path(path)
        if path.suffix.lower() == ".tsv":
            delimiter = "\t"
        else:
            with open_binary(path) as raw, _decoding(raw, encoding) as stream:
                first_line = _first_line(stream, path, encoding)
            delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
        return cls(path, encoding, delimiter, path.stat().st_size)

    def records(self, progress: ByteProgress | None = None) -> Generator[Record, None, None]:
        """Every record, the header first; raises :class:`IngestError` naming the row and line."""
        csv.field_size_limit(PARSE_CELL_LIMIT)  # process-wide; csv's own default is 128 KB
        with open_binary(self.path) as raw, _decoding(raw, self.encoding) as stream:
            reader = csv.reader(stream, delimiter=self.delimiter, strict=True)
            row, line, reported, width = 0, 1, 0, 0
            while True:
                try:
                    cells = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    raise _parse_error(self.path, row + 1, line, reader.line_num, exc) from exc
                except UnicodeDecodeError as exc:
                    raise _decode_error(self.path, self.encoding, exc) from exc
                row += 1
                width = width or len(cells)
                if reader.line_num > line and row > 1:
                    self._check_swallowed(Record(row, line, cells), width)
                yield Record(row, line, cells)
                line = reader.line_num + 1
                if progress and row % PROGRESS_CHECK == 0 and raw.tell() - reported >= PROGRESS_BYTES:
                    reported = raw.tell()
                    progress(reported, self.size)
        if progress:
            progress(self.size, self.size)

    def _check_swallowed(self, record: Record, width: int) -> None:
        """:class:`IngestError` when a cell that spans lines holds a line that reads as a row of its
        own, starting with an id shaped like this record's ('R4' inside R3's answer): a stray quote
        opened the cell and a later one closed it."""
        shape = _id_shape(record.cells[0]) if record.cells else ""
        if width < 2 or not any(ch.isdigit() for ch in shape):
            return
        line = record.line
        for cell in record.cells:
            for offset, text in enumerate(cell.split("\n")[1:], start=1):
                fields = next(csv.reader([text], delimiter=self.delimiter), [])
                if len(fields) == width and _id_shape(fields[0]) == shape:
                    raise IngestError(
                        f"row {record.row} (the record starting on line {record.line}): a cell starts "
                        f'with a quote (") that runs on over line {line + offset}, which reads as a '
                        f"row of its own ('{fields[0].strip()}'); nothing from this file was stored.",
                        where=self.path,
                        fix=f'on line {record.line}, close the quoted cell with " or write a quote '
                        'inside it as "", then read the file again.',
                    )
            line += cell.count("\n")


def _id_shape(cell: str) -> str:
    """'R12' -> 'a9', 'P01' -> 'a9', '2024' -> '9': how an id looks, to find a row inside a cell."""
    return re.sub(r"\d+", "9", re.sub(r"[^\W\d_]+", "a", cell.strip()))


def open_binary(path: Path) -> io.BufferedReader:
    """The file opened for reading bytes, or :class:`IngestError`."""
    try:
        return open(path, "rb")
    except OSError as exc:
        raise IngestError(
            f"cannot read the file ({exc.strerror or exc}).",
            where=path,
            fix="check the file's permissions and that it is not open in another program.",
        ) from exc


def _decoding(raw: io.BufferedReader, encoding: str) -> io.TextIOWrapper:
    """Text decoded incrementally from ``raw``, newlines kept as they are (as csv needs)."""
    return io.TextIOWrapper(raw, encoding=encoding, errors="strict", newline="")


def _first_line(stream: io.TextIOWrapper, path: Path, encoding: str) -> str:
    try:
        return stream.readline(64 * 1024)
    except UnicodeDecodeError as exc:
        raise _decode_error(path, encoding, exc) from exc


def _parse_error(path: Path, row: int, line: int, last_line: int, exc: csv.Error) -> IngestError:
    reason = str(exc)
    where = f"row {row} (the record starting on line {line})"
    if "field larger than field limit" in reason:
        message = (
            f"{where}: a cell is larger than {format_size(PARSE_CELL_LIMIT)}, which is a quote "
            "opened at the start of a cell and never closed, so the rest of the file ran into it."
        )
    elif "unexpected end of data" in reason or "expected after" in reason:
        end = "the end of the file" if "end of data" in reason else f"line {last_line}"
        if last_line > line:
            lines = f"line {last_line}" if last_line == line + 1 else f"lines {line + 1} to {last_line}"
            swallowed = f"so {lines} after it would be read into that one cell; nothing"
        else:  # the trouble is all on the record's own line
            swallowed = "no other row is read into it, but nothing"
        message = (
            f'{where}: a cell starts with a quote (") that is not closed properly before {end}, '
            f"{swallowed} from this file was stored."
        )
    else:
        message = f"{where}: the CSV cannot be parsed ({reason}); nothing from this file was stored."
    return IngestError(
        message,
        where=path,
        fix=f'on line {line}, close the quoted cell with " or write a quote inside it as "", '
        "then read the file again (exporting from a spreadsheet program writes quotes correctly).",
    )


def _decode_error(path: Path, encoding: str, exc: UnicodeDecodeError) -> IngestError:
    offset = first_non_utf8(path, encoding)  # the stream decodes ahead of the parser: find the line
    line = line_of_offset(path, offset) if offset is not None else 1
    return IngestError(
        f"cannot decode the file as {encoding}: the bytes on line {line} are not {encoding} ({exc.reason}).",
        where=path,
        fix=encoding_fix(),
    )
