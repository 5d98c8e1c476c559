"""An attributes table (.csv or .xlsx) describing files or participants.

Columns ``file``, ``participant``, ``wave`` and ``date`` are special; every other column is a
participant attribute, typed as survey attribute columns are (yes/no as bool, whole numbers as
int). Rows are matched to Documents by the file's name (with or without its extension), or by
participant key when the table has no ``file`` column (or the row's ``file`` cell is empty).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from narratives.errors import IngestError
from narratives.ingest.cells import infer_column_type, typed_attribute
from narratives.ingest.checks import DEFAULT_MAX_BYTES
from narratives.ingest.source_paths import source_file
from narratives.ingest.survey import read_table
from narratives.schema import Attribute, Document

logger = logging.getLogger(__name__)

SPECIAL_COLUMNS = ("file", "participant", "wave", "date")


@dataclass(frozen=True)
class AttributeRow:
    """What one row of the attributes table says."""

    row: int
    file: str | None = None
    participant: str | None = None
    wave: int | None = None
    date: str | None = None
    attributes: tuple[Attribute, ...] = ()


@dataclass
class AttributesLookup:
    """Rows of an attributes table by file name and by participant key."""

    source: Path | None = None
    by_file: dict[str, AttributeRow] = field(default_factory=dict)
    by_participant: dict[str, AttributeRow] = field(default_factory=dict)

    def find(self, path: str | Path | None, participant: str | None = None) -> AttributeRow | None:
        """The row for a document's file (name, or name without extension), else its participant."""
        if path:
            file_path = PurePath(source_file(str(path)))
            for key in (file_path.name.casefold(), file_path.stem.casefold()):
                if key in self.by_file:
                    return self.by_file[key]
        if participant and participant in self.by_participant:
            return self.by_participant[participant]
        return None

    def apply(self, document: Document) -> Document:
        """Fill participant, wave, date and participant attributes the document lacks."""
        row = self.find(document.path, document.participant)
        if row is None:
            return document
        have = {a.key for a in document.participant_attributes}
        # a row about one file says nothing of the wave or date of other documents of the person
        own_row = row.file is None or self.find(document.path) is row
        updates = {
            "participant": document.participant or row.participant,
            "wave": document.wave if document.wave is not None or not own_row else row.wave,
            "date": document.date or (row.date if own_row else None),
            "participant_attributes": document.participant_attributes
            + [a for a in row.attributes if a.key not in have],
        }
        return document.model_copy(update=updates)


def read_attributes_file(path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> AttributesLookup:
    """Read an attributes table; a bad row (wave not a number, file listed twice) is an error."""
    table = read_table(path, max_bytes)
    columns = _columns(table.header, path)
    if "file" not in columns and "participant" not in columns:
        raise IngestError(
            f"the attributes table needs a 'file' or 'participant' column; it has: "
            f"{', '.join(table.header)}.",
            where=path,
            fix="add a 'file' column naming each file, or a 'participant' column.",
        )
    extra = [(h, i) for h, i in columns.items() if h not in SPECIAL_COLUMNS]
    names = {i: table.header[i].strip() for _, i in extra}
    types = {i: infer_column_type([_cell(r, i) for r in table.rows]) for _, i in extra}
    lookup = AttributesLookup(source=Path(path))
    for offset, row in enumerate(table.rows):
        if any(c.strip() for c in row):
            _add_row(lookup, _parse_row(row, offset + 2, columns, names, types, path), row, columns, path)
    return lookup


def _columns(header: list[str], path: str | Path) -> dict[str, int]:
    """Column positions by lower-case name; a name used twice is an error, not a silent choice."""
    columns: dict[str, int] = {}
    for position, name in enumerate(header):
        key = name.strip().lower()
        if not key:
            continue
        if key in columns:
            raise IngestError(
                f"column '{name.strip()}' appears twice (columns {columns[key] + 1} and {position + 1}).",
                where=path,
                fix="rename or remove one of them, so each column says one thing.",
            )
        columns[key] = position
    return columns


def _cell(row: list[str], i: int) -> str:
    return row[i].strip() if i < len(row) else ""


def _parse_row(
    row: list[str],
    number: int,
    columns: dict[str, int],
    names: dict[int, str],
    types: dict[int, str],
    path: str | Path,
) -> AttributeRow:
    def special(name: str) -> str | None:
        return (_cell(row, columns[name]) or None) if name in columns else None

    wave_text = special("wave")
    if wave_text is not None and not wave_text.isdigit():
        raise IngestError(
            f"row {number}: wave '{wave_text}' is not a whole number.",
            where=path,
            fix="write waves as 1, 2, 3, ...",
        )
    return AttributeRow(
        row=number,
        file=special("file"),
        participant=special("participant"),
        wave=int(wave_text) if wave_text is not None else None,
        date=special("date"),
        attributes=tuple(typed_attribute(names[i], _cell(row, i), types[i]) for i in names),
    )


def _add_row(
    lookup: AttributesLookup,
    parsed: AttributeRow,
    row: list[str],
    columns: dict[str, int],
    path: str | Path,
) -> None:
    file_name = _cell(row, columns["file"]) if "file" in columns else ""
    if file_name:
        key = PurePath(file_name.replace("\\", "/")).name.casefold()
        if key in lookup.by_file:
            raise IngestError(
                f"row {parsed.row}: file '{file_name}' is already described on row "
                f"{lookup.by_file[key].row}.",
                where=path,
                fix="keep one row per file.",
            )
        lookup.by_file[key] = parsed
    elif parsed.participant is None:
        raise IngestError(
            f"row {parsed.row}: neither a file nor a participant is given.",
            where=path,
            fix="fill in the 'file' or 'participant' cell.",
        )
    if parsed.participant and parsed.participant not in lookup.by_participant:
        lookup.by_participant[parsed.participant] = parsed
