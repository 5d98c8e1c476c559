"""PDF files: the text layer of every page, pages joined by blank lines."""

from __future__ import annotations

import io
import logging
from pathlib import Path

from pypdf import PageObject, PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError

from narratives.errors import IngestError
from narratives.ingest.archives import describe_library_error
from narratives.ingest.checks import DEFAULT_MAX_BYTES, read_bytes_checked
from narratives.ingest.text import guess_title
from narratives.schema import Document, SourceKind

logger = logging.getLogger(__name__)

OCR_FIX = (
    "the PDF is probably scanned images: run OCR on it first (for example "
    "'ocrmypdf in.pdf out.pdf') and read the OCR'd copy, or paste the text into a .txt file."
)


PDF_FIX = "check the file opens in a PDF viewer; export or print it to PDF again if it does not."


def read_pdf(
    path: str | Path, kind: SourceKind = SourceKind.blog, max_bytes: int = DEFAULT_MAX_BYTES
) -> Document:
    """Read a PDF's text into one Document; title and author from its metadata when present.

    Anything pypdf raises on a damaged file becomes an :class:`IngestError`; a page whose text
    cannot be extracted is logged and skipped, naming the page."""
    data = read_bytes_checked(path, max_bytes)
    reader = _open(data, path)
    pages = [_page_text(page, path, n) for n, page in enumerate(_pages(reader, path), start=1)]
    text = "\n\n".join(page.strip("\n") for page in pages if page.strip())
    if not text.strip():
        raise IngestError(
            f"the PDF has no text layer ({len(pages)} page(s), no extractable text).",
            where=path,
            fix=OCR_FIX,
        )
    title, author = _metadata(reader, path)
    return Document(
        kind=kind,
        title=title or guess_title(text, path),
        text=text,
        author=author or None,
        path=str(path),
        source_format="pdf",
    )


def _open(data: bytes, path: str | Path) -> PdfReader:
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise FileNotDecryptedError("a password is needed")
        return reader
    except (FileNotDecryptedError, DependencyError) as exc:
        raise IngestError(
            f"the PDF is encrypted ({exc}).",
            where=path,
            fix="open it with its password and save or print an unprotected copy, then read that.",
        ) from exc
    except Exception as exc:  # pypdf raises many kinds (PdfReadError, KeyError, struct.error, ...)
        raise IngestError(
            f"not a readable PDF ({describe_library_error(exc)}).", where=path, fix=PDF_FIX
        ) from exc


def _pages(reader: PdfReader, path: str | Path) -> list[PageObject]:
    """Every page; a page tree pypdf cannot walk is an error (the pages cannot be counted)."""
    try:
        return list(reader.pages)
    except Exception as exc:  # a damaged page tree: loops, missing objects, wrong types
        raise IngestError(
            f"the PDF's list of pages is damaged ({describe_library_error(exc)}).",
            where=path,
            fix=PDF_FIX,
        ) from exc


def _metadata(reader: PdfReader, path: str | Path) -> tuple[str, str]:
    """Title and author from the document information; empty when missing or damaged."""
    try:
        metadata = reader.metadata
        if not metadata:
            return "", ""
        return str(metadata.title or "").strip(), str(metadata.author or "").strip()
    except Exception as exc:  # a damaged /Info dictionary loses only the title and author
        logger.warning("%s: the PDF's metadata cannot be read (%s)", path, describe_library_error(exc))
        return "", ""


def _page_text(page: PageObject, path: str | Path, number: int) -> str:
    try:
        return page.extract_text() or ""
    except Exception as exc:  # pypdf raises many kinds on damaged pages
        logger.warning("%s: page %d: text could not be extracted (%s)", path, number, exc)
        return ""
