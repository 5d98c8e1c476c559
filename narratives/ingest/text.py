"""Plain text and Markdown: one file, one Document whose text is the file text exactly."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from narratives.ingest.checks import DEFAULT_MAX_BYTES, read_text_checked
from narratives.schema import Document, SourceKind

logger = logging.getLogger(__name__)

# A Markdown heading; group 2 is its text without trailing spaces or #s. Written so matching is
# linear in the line's length (the earlier "(.+?)[ \t#]*$" took minutes on a long line of spaces).
HEADING_RE = re.compile(r"^(#{1,6})[ \t]+(.*[^ \t#\n]|.)[ \t#]*$", re.MULTILINE)
MAX_TITLE_WORDS = 15


def source_format(path: str | Path) -> str:
    suffix = Path(path).suffix.lower().lstrip(".")
    return {"markdown": "md", "htm": "html"}.get(suffix, suffix)


def guess_title(text: str, path: str | Path) -> str:
    """The first Markdown heading with text, else a short first line, else the file name."""
    for heading in HEADING_RE.finditer(text):
        if heading.group(2).strip():
            return heading.group(2).strip()
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            if len(line.split()) <= MAX_TITLE_WORDS:
                return line
            break
    return Path(path).stem


def text_document(text: str, path: str | Path, kind: SourceKind = SourceKind.blog) -> Document:
    """Build the Document for text decoded by :func:`~narratives.ingest.checks.read_text_checked`
    (which refuses a file that is blank once decoded)."""
    return Document(
        kind=kind,
        title=guess_title(text, path),
        text=text,
        path=str(path),
        source_format=source_format(path),
    )


def read_text(
    path: str | Path,
    kind: SourceKind = SourceKind.blog,
    max_bytes: int = DEFAULT_MAX_BYTES,
    encoding: str | None = None,
) -> Document:
    """Read a .txt or .md file into one Document."""
    decoded = read_text_checked(path, max_bytes, encoding)
    return text_document(decoded.text, path, kind)
