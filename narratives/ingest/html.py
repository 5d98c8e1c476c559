"""Web pages: the main text found by trafilatura, without navigation, sidebars or footers."""

from __future__ import annotations

import logging
from pathlib import Path

import lxml.html
import trafilatura

from narratives.errors import IngestError
from narratives.ingest.archives import describe_library_error
from narratives.ingest.checks import DEFAULT_MAX_BYTES, read_text_checked
from narratives.schema import Document, SourceKind

logger = logging.getLogger(__name__)


def html_document(html: str, path: str | Path, kind: SourceKind = SourceKind.blog) -> Document:
    """Build a Document from decoded HTML. lxml's HTML parser never expands entities declared in the
    page (nor reads external ones); anything trafilatura or lxml raises becomes an IngestError."""
    try:
        text = trafilatura.extract(html, include_comments=False, include_tables=True)
        boilerplate = bool(text) and _only_boilerplate(text or "", html)
        metadata = trafilatura.extract_metadata(html)
    except Exception as exc:  # trafilatura and lxml raise many kinds on damaged markup
        raise IngestError(
            f"the web page cannot be parsed ({describe_library_error(exc)}).",
            where=path,
            fix="open it in a browser and save it again (Save Page As, HTML only), or copy the text "
            "into a .txt file.",
        ) from exc
    if not text or not text.strip() or boilerplate:
        raise IngestError(
            "no main text found in the web page.",
            where=path,
            fix="save the page with its article text (not only the menu), or copy the text into a .txt file.",
        )
    title = (metadata.title or "").strip() if metadata else ""
    return Document(
        kind=kind,
        title=title or Path(path).stem,
        text=text,
        author=(metadata.author or None) if metadata else None,
        date=(metadata.date or None) if metadata else None,
        path=str(path),
        source_format="html",
    )


def _only_boilerplate(text: str, html: str) -> bool:
    """True when every line found is link, menu, header or footer text (trafilatura's fallback)."""
    try:
        tree = lxml.html.fromstring(html)
    except (ValueError, lxml.etree.LxmlError):
        return False
    boilerplate = {
        " ".join(element.text_content().split())
        for element in tree.xpath("//a|//nav//*|//header//*|//footer//*|//li")
    }
    lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    return all(line in boilerplate for line in lines)


def read_html(
    path: str | Path,
    kind: SourceKind = SourceKind.blog,
    max_bytes: int = DEFAULT_MAX_BYTES,
    encoding: str | None = None,
) -> Document:
    """Read a saved .html/.htm page into one Document."""
    decoded = read_text_checked(path, max_bytes, encoding)
    return html_document(decoded.text, path, kind)
