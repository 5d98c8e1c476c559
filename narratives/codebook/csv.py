"""Codebooks as spreadsheets: the one-code-a-row CSV researchers keep, and the NHS framework shape.

The standard layout has the columns of :data:`STANDARD_COLUMNS`; list fields hold their entries
joined with `` | `` (or one entry a line, when an entry itself holds a ``|``). A CSV carries no
codebook name or version, so importing asks for them. Problems name the CSV row (the header is row 1).

The NHS layout (``category,subcategory,description,examples``) is the patient experience framework
of The-Strategy-Unit/pxtextmining: each category becomes a parent theme, each subcategory a code whose
name is the subcategory text exactly as written, since labelled data names codes by that text.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Collection, Iterable
from difflib import get_close_matches
from pathlib import Path
from typing import Any

from narratives.codebook.validate import LIST_FIELDS, CodebookProblems, Problem, validate_codebook
from narratives.schema import Code, Codebook

STANDARD_COLUMNS = (
    "id", "name", "parent", "definition", "inclusion", "exclusion", "examples", "near_misses",
    "phrases", "patterns", "colour", "plain_name",
)  # fmt: skip
REQUIRED_COLUMNS = ("id", "name", "definition")
OPTIONAL_COLUMNS = ("retired",)
NHS_COLUMNS = ("category", "subcategory", "description", "examples")
TRUE_WORDS = {"true", "yes", "y", "1", "retired"}
FALSE_WORDS = {"false", "no", "n", "0", ""}


class CsvLocator:
    """Names the CSV row (1-based, header row 1) and column of a code's field."""

    def __init__(self, source: str | Path, rows: list[int]):
        self.source = str(source)
        self.rows = rows

    def where(self, index: int | None = None, key: str | None = None, item: int | None = None) -> str:
        if index is None or index >= len(self.rows):
            return self.source
        row = f"{self.source} row {self.rows[index]}"
        return f"{row}, column '{key}'" if key else row


# ------------------------------------------------------------------------------------ cells


def split_cell(cell: str | None) -> list[str]:
    """A list field's entries: one a line when the cell has line breaks, else split on ``|``."""
    if not cell:
        return []
    parts = re.split(r"\r\n|\r|\n", cell) if "\n" in cell or "\r" in cell else cell.split("|")
    return [part.strip() for part in parts if part.strip()]


def join_cell(items: list[str]) -> str:
    """The inverse of :func:`split_cell` for entries without line breaks."""
    if any("|" in item for item in items):
        return "".join(f"{item}\n" for item in items)
    return " | ".join(items)


# ------------------------------------------------------------------------------ standard layout


def load_codebook_csv(
    path: str | Path, name: str, version: str, *, title: str | None = None, description: str = ""
) -> Codebook:
    """Read a one-code-a-row CSV into a validated codebook named ``name`` at ``version``."""
    header, rows = _read_rows(path)
    known = (*STANDARD_COLUMNS, *OPTIONAL_COLUMNS)
    problems = _header_problems(header, REQUIRED_COLUMNS, known, path)
    if problems:
        raise CodebookProblems(problems, path)
    codes = [_code_from_row(row) for _, row in rows]
    data = {"name": name, "version": version, "title": title, "description": description, "codes": codes}
    return validate_codebook(data, path, locator=CsvLocator(path, [number for number, _ in rows]))


def _code_from_row(row: dict[str, str]) -> dict[str, Any]:
    code: dict[str, Any] = {}
    for column, cell in row.items():
        if column in LIST_FIELDS:
            code[column] = split_cell(cell)
        elif column == "retired":
            word = (cell or "").strip().lower()
            code[column] = word in TRUE_WORDS if word in TRUE_WORDS | FALSE_WORDS else cell
        elif (cell or "").strip() or column in REQUIRED_COLUMNS:
            code[column] = (cell or "").strip()
    return code


def dump_codebook_csv(codebook: Codebook) -> str:
    """The codebook's codes as CSV text in the standard layout (metadata stays in the YAML)."""
    columns = list(STANDARD_COLUMNS) + (["retired"] if any(c.retired for c in codebook.codes) else [])
    problems = [
        problem for index, code in enumerate(codebook.codes) for problem in _unsplittable(code, index)
    ]
    if problems:
        raise CodebookProblems(problems, codebook.name)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for code in codebook.codes:
        writer.writerow({column: _cell(getattr(code, column)) for column in columns})
    return buffer.getvalue()


def _cell(value: Any) -> str:
    if isinstance(value, list):
        return join_cell(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _unsplittable(code: Code, index: int) -> Iterable[Problem]:
    for key in LIST_FIELDS:
        for number, item in enumerate(getattr(code, key), start=1):
            if "\n" in item or "\r" in item:
                yield Problem.of(
                    "E417", f"code #{index + 1}", label=f"code '{code.id}'", key=key, number=number
                )


def save_codebook_csv(codebook: Codebook, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as file:
        file.write(dump_codebook_csv(codebook))
    return path


# ----------------------------------------------------------------------------------- NHS layout


def codebook_from_nhs_csv(
    path: str | Path,
    name: str,
    version: str,
    *,
    leave_out: Collection[str] = (),
    title: str | None = None,
    description: str = "",
    licence: str | None = None,
) -> Codebook:
    """Read a ``category,subcategory,description,examples`` framework CSV.

    Each category becomes a parent theme code; each subcategory a code named exactly as written.
    Subcategories named in ``leave_out`` (a residual such as "Not assigned") are skipped.
    """
    header, rows = _read_rows(path)
    problems = _header_problems(header, NHS_COLUMNS[:3], NHS_COLUMNS, path)
    if problems:
        raise CodebookProblems(problems, path)
    kept = [(number, row) for number, row in rows if (row.get("subcategory") or "").strip() not in leave_out]
    codes, code_rows = _nhs_codes(kept)
    data = {"name": name, "version": version, "title": title, "description": description,
            "licence": licence, "codes": codes}  # fmt: skip
    return validate_codebook(data, path, locator=CsvLocator(path, code_rows))


def _nhs_codes(rows: list[tuple[int, dict[str, str]]]) -> tuple[list[dict[str, Any]], list[int]]:
    by_category: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for number, row in rows:
        by_category.setdefault((row.get("category") or "").strip(), []).append((number, row))
    sub_ids = {slugify(row.get("subcategory") or "") for _, row in rows}
    codes: list[dict[str, Any]] = []
    code_rows: list[int] = []
    for category, members in by_category.items():
        theme_id = slugify(category) + ("-theme" if slugify(category) in sub_ids else "")
        names = "; ".join((row.get("subcategory") or "").strip() for _, row in members)
        codes.append({"id": theme_id, "name": category,
                      "definition": f"Theme grouping the {category} codes: {names}."})  # fmt: skip
        code_rows.append(members[0][0])
        for number, row in members:
            subcategory = (row.get("subcategory") or "").strip()
            codes.append({"id": slugify(subcategory), "name": subcategory, "parent": theme_id,
                          "definition": (row.get("description") or "").strip(),
                          "examples": parse_quoted_examples(row.get("examples") or "")})  # fmt: skip
            code_rows.append(number)
    return codes, code_rows


_LABEL = re.compile(
    r"(?<![\w'])(?:Positi?ve|Negative(?:\s*/\s*wishlist)?|Mixed(?:\s*(?:/|or)\s*neutral)?|Neutral)\s*:"
)
_SEPARATOR = re.compile(r"[’']\s*[,.;]\s*[‘']?|[’']\s+[‘']|\x00")
_EDGES = " \t\r\n,'‘’\"“”"


def parse_quoted_examples(text: str) -> list[str]:
    """Quotes from a cell like ``Positive: 'Good.', ‘Kind staff’ Negative/ wishlist: 'More staff'``."""
    marked = _LABEL.sub("\x00", text)
    examples = [part.strip(_EDGES) for part in _SEPARATOR.split(marked)]
    return [ex for ex in examples if re.search(r"\w", ex) and not re.fullmatch(r"\(.*\)", ex)]


def slugify(text: str) -> str:
    """A machine id from a name: ``Transport to/ from services`` -> ``transport-to-from-services``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.replace("&", " and ").lower()).strip("-")


# ---------------------------------------------------------------------------------------- reading


def _read_rows(path: str | Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Header and non-blank rows, each with its 1-based row number in the file."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as file:
            text = file.read()
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "it is not UTF-8 text"
        raise CodebookProblems([Problem.of("E414", str(path), reason=reason)], path) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [column.strip() for column in next(reader, [])]
    rows: list[tuple[int, dict[str, str]]] = []
    for number, cells in enumerate(reader, start=2):
        if any(cell.strip() for cell in cells):
            named = zip(header, cells, strict=False)
            rows.append((number, {column: cell for column, cell in named if column}))
    return header, rows


def _header_problems(
    header: list[str], required: tuple[str, ...], known: tuple[str, ...], path: str | Path
) -> list[Problem]:
    where = f"{path} row 1"
    problems: list[Problem] = []
    missing = [column for column in required if column not in header]
    if missing:
        columns = ", ".join(repr(column) for column in missing)
        problems.append(Problem.of("E416", where, columns=columns, required=", ".join(required)))
    problems += [_unknown_column(column, known, where) for column in header if column and column not in known]
    return problems


def _unknown_column(column: str, known: tuple[str, ...], where: str) -> Problem:
    close = get_close_matches(column, known, n=1, cutoff=0.6)
    fix = f"did you mean '{close[0]}'? Rename it." if close else f"remove it; known: {', '.join(known)}."
    return Problem.of("E411", where, label="the CSV header", key=column, fix=fix)
