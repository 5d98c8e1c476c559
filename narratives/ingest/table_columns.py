"""Column names of a table: finding the columns a user names, making repeated names unique and
noting columns with values but no name, each with a message naming the file."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from narratives.errors import SurveyColumnError


def resolve_columns(header: list[str], wanted: list[str], path: str | Path) -> list[str]:
    """The header names for ``wanted`` (exact, else ignoring case and spaces), or an error."""
    by_key = {_column_key(h): h for h in header}
    resolved, missing = [], []
    for name in wanted:
        if name in header:
            resolved.append(name)
        elif _column_key(name) in by_key:
            resolved.append(by_key[_column_key(name)])
        else:
            missing.append(name)
    if missing:
        raise SurveyColumnError(
            f"column(s) not found: {', '.join(repr(m) for m in missing)}. "
            f"The columns are: {', '.join(repr(h) for h in header if h)}.",
            where=path,
            fix=_column_fix(missing, header),
        )
    return resolved


def _column_key(name: str) -> str:
    """A name as compared when not found exactly: without spaces, case folded."""
    return re.sub(r"\s+", "", name).casefold()


def _column_fix(missing: list[str], header: list[str]) -> str:
    """A 'did you mean' for each missing name with a close match in the header."""
    hints = []
    for name in missing:
        close = difflib.get_close_matches(name, header, n=1, cutoff=0.5)
        if close:
            hints.append(f"did you mean '{close[0]}' for '{name}'?")
    return " ".join(hints) or "give column names exactly as in the first row of the table."


def unique_header(header: list[str], path: str | Path) -> tuple[list[str], list[str]]:
    """Column names made unique (a repeated 'q1' becomes 'q1 (2)') and a note for each repeat."""
    names: list[str] = []
    notes: list[str] = []
    positions: dict[str, list[int]] = {}
    for number, name in enumerate(header, start=1):
        positions.setdefault(name, []).append(number)
    for name in header:
        if name and name in names:
            copy = 2
            while f"{name} ({copy})" in names or f"{name} ({copy})" in header:
                copy += 1
            name = f"{name} ({copy})"
        names.append(name)
    for name, numbers in positions.items():
        if name and len(numbers) > 1:
            renamed = [names[n - 1] for n in numbers[1:]]
            notes.append(
                f"{path}: column '{name}' appears {len(numbers)} times (columns "
                f"{', '.join(map(str, numbers))}); the later ones are read as "
                f"{', '.join(repr(r) for r in renamed)}. Rename them in the file to give them meaning"
            )
    return names, notes


def is_copy_of(name: str, columns: list[str]) -> bool:
    """A renamed repeat ('q1 (2)') of one of ``columns``: its answers are read as answers too."""
    match = re.fullmatch(r"(.*) \((\d+)\)", name)
    return bool(match) and match is not None and match.group(1) in columns


def unnamed_notes(path: str | Path, first_rows: dict[int, int]) -> list[str]:
    """A note for each column with no name in the header but with values under it."""
    return [
        f"{path}: column {position + 1} has no name; its values were not read (the first is on row "
        f"{row}); give it a header in row 1 and read the file again"
        for position, row in sorted(first_rows.items())
    ]
