"""Checks every reader runs first: the file exists, is not empty, not too large, not binary,
and decodes to text.

Decoded text is kept exactly as decoded (no newline or unicode normalisation): later stages store
character offsets into it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from charset_normalizer import from_bytes

from narratives.errors import IngestError

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".csv", ".tsv", ".vtt", ".srt"})
# Legacy encodings preferred when charset-normalizer finds several equally good guesses: the
# tool's users mostly write English on Windows, where cp1252 is the usual non-UTF-8 encoding.
PREFERRED_LEGACY = ("cp1252", "iso8859_15", "latin_1")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_RESAVE_FIX = "open the file in a text editor and save it as UTF-8, then read it again"


@dataclass(frozen=True)
class DecodedText:
    """Text as decoded, the encoding used and how sure the guess is (1.0 for valid UTF-8)."""

    text: str
    encoding: str
    confidence: float

    @property
    def guessed(self) -> bool:
        return self.encoding not in ("utf-8", "utf-8-sig", "ascii")


def format_size(n_bytes: int) -> str:
    if n_bytes < 1024:
        return f"{n_bytes} bytes"
    if n_bytes < 1024 * 1024:
        return f"{n_bytes / 1024:.1f} KB"
    return f"{n_bytes / (1024 * 1024):.1f} MB"


def read_bytes_checked(path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """Read a file's bytes, raising :class:`IngestError` for anything a reader cannot use."""
    path = Path(path)
    if not path.exists():
        raise IngestError("file not found.", where=path, fix="check the path and spelling.")
    if not path.is_file():
        raise IngestError("not a regular file.", where=path, fix="give the path of a file.")
    size = path.stat().st_size
    if size > max_bytes:
        raise IngestError(
            f"file is {format_size(size)}, larger than the limit of {format_size(max_bytes)}.",
            where=path,
            fix="raise the limit with --max-mb on the command line (max_bytes in ReadOptions) "
            "or split the file into smaller files.",
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError(
            f"cannot read the file ({exc.strerror or exc}).",
            where=path,
            fix="check the file's permissions and that it is not open in another program.",
        ) from exc
    if not data.strip():
        raise IngestError("file is empty.", where=path, fix="check you exported the right file.")
    if path.suffix.lower() in TEXT_SUFFIXES and looks_binary(data):
        raise IngestError(
            f"file looks binary, not {path.suffix} text.",
            where=path,
            fix="check the file type: a Word or PDF file renamed to .txt must be read as "
            ".docx/.pdf, or exported again as plain text.",
        )
    return data


def looks_binary(data: bytes, sample_size: int = 8192) -> bool:
    """NUL bytes or many control characters in the first ``sample_size`` bytes."""
    if data.startswith(_UTF16_BOMS):
        return False
    sample = data[:sample_size]
    if b"\x00" in sample:
        return True
    control = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    return control / max(len(sample), 1) > 0.05


def decode_text(data: bytes, path: str | Path, encoding: str | None = None) -> DecodedText:
    """Decode bytes: a forced ``encoding``, else UTF-8 (with or without BOM), else a guess."""
    if encoding:
        return _decode_forced(data, path, encoding)
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return DecodedText(data[3:].decode("utf-8"), "utf-8-sig", 1.0)
        except UnicodeDecodeError:
            pass
    elif data.startswith(_UTF16_BOMS):
        return _decode_forced(data, path, "utf-16")
    try:
        return DecodedText(data.decode("utf-8"), "utf-8", 1.0)
    except UnicodeDecodeError:
        pass
    decoded = _guess(data, path)
    logger.info("%s: not UTF-8, read as %s (confidence %.2f)", path, decoded.encoding, decoded.confidence)
    return decoded


def _decode_forced(data: bytes, path: str | Path, encoding: str) -> DecodedText:
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise IngestError(
            f"cannot decode the file as {encoding} ({exc}).", where=path, fix=_RESAVE_FIX
        ) from exc
    _reject_garbage(text, path, encoding)
    return DecodedText(text, encoding, 1.0)


def _guess(data: bytes, path: str | Path) -> DecodedText:
    results = list(from_bytes(data))
    if not results:
        raise IngestError(
            "the file is not UTF-8 and its encoding cannot be recognised.",
            where=path,
            fix=_RESAVE_FIX,
        )
    least_chaos = min(r.chaos for r in results)
    tied = [r for r in results if r.chaos <= least_chaos + 0.01]
    chosen = tied[0]
    for name in PREFERRED_LEGACY:
        preferred = [r for r in tied if r.encoding == name]
        if preferred:
            chosen = preferred[0]
            break
    text = str(chosen)
    _reject_garbage(text, path, chosen.encoding)
    return DecodedText(text, chosen.encoding, round(1.0 - chosen.chaos, 3))


def _reject_garbage(text: str, path: str | Path, encoding: str) -> None:
    if not text:
        return
    bad = sum(1 for ch in text if ch == "\ufffd" or (ord(ch) < 32 and ch not in "\t\n\r\f"))
    if bad / len(text) > 0.05:
        raise IngestError(
            f"the file decodes as {encoding} to mostly unreadable characters.",
            where=path,
            fix=_RESAVE_FIX,
        )


def read_text_checked(
    path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES, encoding: str | None = None
) -> DecodedText:
    """:func:`read_bytes_checked` then :func:`decode_text`."""
    return decode_text(read_bytes_checked(path, max_bytes), path, encoding)
