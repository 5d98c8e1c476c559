"""Word documents (.docx): paragraphs, and table rows, in reading order, joined by blank lines."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import docx
from docx.document import Document as DocxDocument
from docx.table import Table

from narratives.errors import IngestError
from narratives.ingest.archives import check_office_archive, describe_library_error, limits_for
from narratives.ingest.checks import DEFAULT_MAX_BYTES, read_bytes_checked
from narratives.ingest.text import guess_title
from narratives.schema import Document, SourceKind

logger = logging.getLogger(__name__)

# Authors that tools write by default rather than a person's name.
PLACEHOLDER_AUTHORS = frozenset({"python-docx", "", "author", "user"})


WORD_FIX = "open it in Word and save it again as .docx (old .doc files must be converted)."


def read_docx(
    path: str | Path, kind: SourceKind = SourceKind.blog, max_bytes: int = DEFAULT_MAX_BYTES
) -> Document:
    """Read a .docx into one Document; title and author come from the document properties.

    The archive is checked first (:func:`check_office_archive`: zip bombs, entities, damaged XML),
    and anything python-docx raises on a damaged document becomes an :class:`IngestError`."""
    data = read_bytes_checked(path, max_bytes)
    check_office_archive(
        data, path, what="Word (.docx) file", resave_fix=WORD_FIX, limits=limits_for(max_bytes)
    )
    word = _open(data, path)
    text = "\n\n".join(_read_blocks(word, path))
    if not text.strip():
        raise IngestError(
            "the Word document has no text.",
            where=path,
            fix="check the file: text inside images or text boxes cannot be read; "
            "paste it into the body of the document.",
        )
    title, author = _properties(word, path)
    return Document(
        kind=kind,
        title=title or guess_title(text, path),
        text=text,
        author=None if author.lower() in PLACEHOLDER_AUTHORS else author,
        path=str(path),
        source_format="docx",
    )


def _open(data: bytes, path: str | Path) -> DocxDocument:
    try:
        return docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx, lxml and zipfile raise many kinds on a damaged file
        raise IngestError(
            f"not a readable Word (.docx) file ({describe_library_error(exc)}).", where=path, fix=WORD_FIX
        ) from exc


def _read_blocks(word: DocxDocument, path: str | Path) -> list[str]:
    try:
        return _blocks(word)
    except Exception as exc:  # a damaged body: a table without rows, a part python-docx cannot follow
        raise IngestError(
            f"the body of the Word document cannot be read ({describe_library_error(exc)}).",
            where=f"{path}: word/document.xml",
            fix=WORD_FIX,
        ) from exc


def _properties(word: DocxDocument, path: str | Path) -> tuple[str, str]:
    """Title and author from docProps/core.xml; empty when that part is missing or damaged."""
    try:
        properties = word.core_properties
        return (properties.title or "").strip(), (properties.author or "").strip()
    except Exception as exc:  # a damaged core.xml loses only the title and author
        logger.warning("%s: docProps/core.xml cannot be read (%s)", path, describe_library_error(exc))
        return "", ""


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
