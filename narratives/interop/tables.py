"""Coded segments as spreadsheets: CSV and XLSX for Excel, QualCoder, MAXQDA and R users.

One row per (segment, code) applied now (:func:`~narratives.analysis.coded.coded_segments`) with its
document, participant, attributes, wave, code, where the code sits (``parent``, ``level``, and every
``ancestors`` id, top first), source (reviewed or machine), score and reviewer; and a code-by-document
matrix counting coded segments, where a parent theme's column (marked "(incl. sub-codes)") counts the
segments carrying it or any code below it, each once
(:func:`~narratives.analysis.coded.carried_codes`), parents before their sub-codes. The XLSX holds
both plus the codebook (in tree order, with each code's level), one sheet each.

Spreadsheet programs run a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula, so a text
cell starting so is prefixed with an apostrophe (``excel_safe``, on by default); XLSX text cells are
written as text, never as formulas.

``deidentify`` (off by default: this is the research team's own export) replaces personal details in
the coded text and document titles (:mod:`narratives.deidentify`) for a spreadsheet that leaves it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter
from sqlalchemy import Connection

from narratives.analysis.coded import (
    DOCUMENT_COLUMNS,
    CodeHierarchy,
    Threshold,
    carried_codes,
    code_hierarchy,
    codebook_name,
    coded_segments,
    coded_with_documents,
    document_table,
)
from narratives.analysis.quotes import quote_texts
from narratives.analysis.sentiment import segment_sentiment_column
from narratives.deidentify import DeidentificationSettings, texts_redactor
from narratives.schema import Codebook
from narratives.store.codebooks import current_codes
from narratives.store.files import private_file

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
EXCEL_CELL_LIMIT = 32_767
LEADING = [
    "document_id",
    "document",
    "path",
    "kind",
    "participant",
    "wave",
    "question",
    "segment_id",
    "start",
    "end",
    "text",
    "code_id",
    "code",
    "parent",
    "level",
    "ancestors",
    "source",
    "score",
    "reviewer",
    "sentiment",  # of the segment now: positive, mixed or negative (empty until `narratives sentiment`)
]


def _coded_and_documents(
    connection: Connection,
    codebook: str | Codebook,
    include_machine: bool,
    threshold: Threshold,
    kinds: Iterable[str] | None,
) -> tuple[str, pd.DataFrame, pd.DataFrame]:
    """The codebook's name, the document table, and the coded segments joined to their documents."""
    name = codebook_name(codebook)
    docs = document_table(connection, kinds=kinds)
    coded = coded_with_documents(
        coded_segments(connection, name, include_machine=include_machine, threshold=threshold), docs
    )
    return name, docs, coded


def coded_table(
    connection: Connection,
    codebook: str | Codebook,
    *,
    include_machine: bool = True,
    threshold: Threshold = None,
    kinds: Iterable[str] | None = None,
) -> pd.DataFrame:
    """One row per coded (segment, code): :data:`LEADING` columns, then one column per attribute."""
    name, docs, coded = _coded_and_documents(connection, codebook, include_machine, threshold, kinds)
    codes = {c.id: c for c in current_codes(connection, name, include_retired=True)}
    coded["text"] = quote_texts(connection, coded) if not coded.empty else []
    coded["code"] = coded["code_id"].map(lambda c: codes[c].name if c in codes else c)
    coded["parent"] = coded["code_id"].map(lambda c: codes[c].parent if c in codes else None)
    hierarchy = code_hierarchy(connection, name)
    coded["level"] = coded["code_id"].map(hierarchy.level)
    coded["ancestors"] = coded["code_id"].map(lambda c: " > ".join(reversed(hierarchy.ancestors.get(c, ()))))
    coded["sentiment"] = segment_sentiment_column(connection, coded["segment_id"]) if not coded.empty else []
    coded = coded.rename(columns={"title": "document"})
    attribute_columns = [c for c in docs.columns if c not in DOCUMENT_COLUMNS]
    return coded.reindex(columns=LEADING + attribute_columns).reset_index(drop=True)


def code_document_matrix(
    connection: Connection,
    codebook: str | Codebook,
    *,
    include_machine: bool = True,
    threshold: Threshold = None,
    kinds: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Documents × active codes in tree order: how many segments of each document carry each code
    (a parent: it or any code below it, each segment once); every document a row."""
    name = codebook_name(codebook)
    docs = document_table(connection, kinds=kinds)
    carried = carried_codes(connection, name, include_machine=include_machine, threshold=threshold)
    coded = coded_with_documents(carried, docs)
    counts = coded.groupby(["document_id", "code_id"])["segment_id"].nunique().unstack(fill_value=0)
    hierarchy = code_hierarchy(connection, name)
    ids = [c.id for c in hierarchy.codes]
    matrix = counts.reindex(index=docs["document_id"], columns=ids, fill_value=0)
    matrix.columns = matrix_columns(hierarchy)
    info = docs.set_index("document_id")[["title", "kind", "participant", "wave"]]
    return info.join(matrix).reset_index().rename(columns={"title": "document"})


def matrix_columns(hierarchy: CodeHierarchy) -> list[str]:
    """A column name per active code: its name (with its id where two share a name), and
    "(incl. sub-codes)" after a code whose counts take in codes below it."""
    names = [c.name or c.id for c in hierarchy.codes]
    columns = []
    for name, code in zip(names, hierarchy.codes, strict=True):
        column = name if names.count(name) == 1 else f"{name} [{code.id}]"
        columns.append(f"{column} (incl. sub-codes)" if hierarchy.has_subcodes(code.id) else column)
    return columns


def excel_safe_text(value: object) -> object:
    """Prefix text that a spreadsheet would run as a formula with an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    text_columns = [
        c for c in frame.columns if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c])
    ]
    return frame.assign(**{str(c): frame[c].map(excel_safe_text) for c in text_columns})


def deidentified_frame(
    connection: Connection, frame: pd.DataFrame, deidentify: bool | DeidentificationSettings
) -> pd.DataFrame:
    """``frame`` with its ``text`` and ``document`` columns de-identified (unchanged when off)."""
    if deidentify is False:
        return frame
    redact_all = texts_redactor(connection, deidentify)
    columns = [c for c in ("text", "document") if c in frame.columns]
    return frame.assign(**{c: redact_all(frame[c].tolist()) for c in columns})


def export_csv(
    connection: Connection,
    codebook: str | Codebook,
    path: str | Path,
    *,
    include_machine: bool = True,
    threshold: Threshold = None,
    excel_safe: bool = True,
    deidentify: bool | DeidentificationSettings = False,
) -> list[Path]:
    """Write ``path`` (coded segments) and ``<stem>_by_document.csv`` beside it; UTF-8 with a BOM for Excel."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    coded = coded_table(connection, codebook, include_machine=include_machine, threshold=threshold)
    matrix = code_document_matrix(connection, codebook, include_machine=include_machine, threshold=threshold)
    coded, matrix = (deidentified_frame(connection, f, deidentify) for f in (coded, matrix))
    matrix_path = path.with_name(f"{path.stem}_by_document.csv")
    for frame, target in ((coded, path), (matrix, matrix_path)):
        frame = _safe_frame(frame) if excel_safe else frame
        frame.to_csv(private_file(target), index=False, encoding="utf-8-sig")  # owner-only first
    return [path, matrix_path]


def codebook_frame(connection: Connection, codebook: str | Codebook) -> pd.DataFrame:
    """The active codes in tree order (parents before their sub-codes), with each one's level."""
    hierarchy = code_hierarchy(connection, codebook_name(codebook))
    return pd.DataFrame(
        [
            (
                c.id,
                c.name,
                hierarchy.parent[c.id],
                hierarchy.level(c.id),
                c.definition,
                "; ".join(c.inclusion),
                "; ".join(c.exclusion),
            )
            for c in hierarchy.codes
        ],
        columns=["code_id", "code", "parent", "level", "definition", "include", "exclude"],
    )


def _xlsx_value(value: object) -> object:
    if value is None or (not isinstance(value, str) and bool(pd.isna(value))):
        return None
    if hasattr(value, "item"):
        value = value.item()  # numpy scalar -> Python
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)[:EXCEL_CELL_LIMIT]
    return value


def _write_sheet(workbook: Workbook, title: str, frame: pd.DataFrame, excel_safe: bool) -> None:
    sheet = workbook.create_sheet(title)
    sheet.append([str(c) for c in frame.columns])
    for row in frame.itertuples(index=False):
        sheet.append([_xlsx_value(v) for v in row])
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, str) and cell.data_type == "f":
                cell.data_type = "s"  # text that looks like a formula stays text
            if excel_safe and isinstance(cell.value, str):
                cell.value = excel_safe_text(cell.value)
                cell.data_type = "s"
    sheet.freeze_panes = "A2"
    for index, column in enumerate(frame.columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = (
            60 if column in {"text", "definition"} else 16
        )


def export_xlsx(
    connection: Connection,
    codebook: str | Codebook,
    path: str | Path,
    *,
    include_machine: bool = True,
    threshold: Threshold = None,
    excel_safe: bool = False,
    deidentify: bool | DeidentificationSettings = False,
) -> Path:
    """One workbook: sheets ``coded segments``, ``code by document`` and ``codebook``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = Workbook()
    workbook.remove(workbook.active)
    coded = coded_table(connection, codebook, include_machine=include_machine, threshold=threshold)
    matrix = code_document_matrix(connection, codebook, include_machine=include_machine, threshold=threshold)
    coded, matrix = (deidentified_frame(connection, f, deidentify) for f in (coded, matrix))
    _write_sheet(workbook, "coded segments", coded, excel_safe)
    _write_sheet(workbook, "code by document", matrix, excel_safe)
    _write_sheet(workbook, "codebook", codebook_frame(connection, codebook), excel_safe)
    workbook.save(private_file(path))  # owner-only before a cell is written
    return path
