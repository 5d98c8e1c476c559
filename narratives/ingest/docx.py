"""Word documents (.docx): paragraphs, and table rows, in reading order, joined by blank lines."""

from __future__ import annotations

import logging
import zipfile
from pathlib import Path

import docx
from docx.document import Document as DocxDocument
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table

from narratives.errors import IngestError
from narratives.ingest.checks import DEFAULT_MAX_BYTES, read_bytes_checked
from narratives.ingest.text import guess_title
from narratives.schema import Document, SourceKind

logger = logging.getLogger(__name__)

# Authors that tools write by default rather than a person's name.
PLACEHOLDER_AUTHORS = frozenset({"python-docx", "", "author", "user"})


def read_docx(
    path: str | Path, kind: SourceKind = SourceKind.blog, max_bytes: int = DEFAULT_MAX_BYTES
) -> Document:
    """Read a .docx into one Document; title and author come from the document properties."""
    read_bytes_checked(path, max_bytes)
    word = _open(path)
    text = "\n\n".join(_blocks(word))
    if not text.strip():
        raise IngestError(
            "the Word document has no text.",
            where=path,
            fix="check the file: text inside images or text boxes cannot be read; "
            "paste it into the body of the document.",
        )
    properties = word.core_properties
    author = (properties.author or "").strip()
    return Document(
        kind=kind,
        title=(properties.title or "").strip() or guess_title(text, path),
        text=text,
        author=None if author.lower() in PLACEHOLDER_AUTHORS else author,
        path=str(path),
        source_format="docx",
    )


def _open(path: str | Path) -> DocxDocument:
    try:
        return docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise IngestError(
            f"not a readable Word (.docx) file ({exc}).",
            where=path,
            fix="open it in Word and save it again as .docx (old .doc files must be converted).",
        ) from exc


def _blocks(word: DocxDocument) -> list[str]:
    """Non-empty paragraphs and table rows (cells joined by ' | '), in document order."""
    blocks = []
    for item in word.iter_inner_content():
        if isinstance(item, Table):
            blocks.extend(_table_rows(item))
        elif item.text.strip():
            blocks.append(item.text)
    return blocks


def _table_rows(table: Table) -> list[str]:
    rows = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            if cell.text.strip() and (not cells or cells[-1] != cell.text):  # merged cells repeat
                cells.append(cell.text)
        if cells:
            rows.append(" | ".join(cells))
    return rows
