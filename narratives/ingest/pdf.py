"""PDF files: the text layer of every page, pages joined by blank lines."""

from __future__ import annotations

import logging
from pathlib import Path

from pypdf import PageObject, PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

from narratives.errors import IngestError
from narratives.ingest.checks import DEFAULT_MAX_BYTES, read_bytes_checked
from narratives.ingest.text import guess_title
from narratives.schema import Document, SourceKind

logger = logging.getLogger(__name__)

OCR_FIX = (
    "the PDF is probably scanned images: run OCR on it first (for example "
    "'ocrmypdf in.pdf out.pdf') and read the OCR'd copy, or paste the text into a .txt file."
)


def read_pdf(
    path: str | Path, kind: SourceKind = SourceKind.blog, max_bytes: int = DEFAULT_MAX_BYTES
) -> Document:
    """Read a PDF's text into one Document; title and author from its metadata when present."""
    read_bytes_checked(path, max_bytes)
    reader = _open(path)
    pages = [_page_text(page, path, n) for n, page in enumerate(reader.pages, start=1)]
    text = "\n\n".join(page.strip("\n") for page in pages if page.strip())
    if not text.strip():
        raise IngestError(
            f"the PDF has no text layer ({len(pages)} page(s), no extractable text).",
            where=path,
            fix=OCR_FIX,
        )
    metadata = reader.metadata
    title = (metadata.title or "").strip() if metadata else ""
    author = (metadata.author or "").strip() if metadata else ""
    return Document(
        kind=kind,
        title=title or guess_title(text, path),
        text=text,
        author=author or None,
        path=str(path),
        source_format="pdf",
    )


def _open(path: str | Path) -> PdfReader:
    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted and not reader.decrypt(""):
            raise FileNotDecryptedError("a password is needed")
        return reader
    except (FileNotDecryptedError, DependencyError) as exc:
        raise IngestError(
            f"the PDF is encrypted ({exc}).",
            where=path,
            fix="open it with its password and save or print an unprotected copy, then read that.",
        ) from exc
    except (PdfReadError, ValueError, OSError) as exc:
        raise IngestError(
            f"not a readable PDF ({exc}).",
            where=path,
            fix="check the file opens in a PDF viewer; export it again if it does not.",
        ) from exc


def _page_text(page: PageObject, path: str | Path, number: int) -> str:
    try:
        return page.extract_text() or ""
    except Exception as exc:  # pypdf raises many kinds on damaged pages
        logger.warning("%s: page %d: text could not be extracted (%s)", path, number, exc)
        return ""
