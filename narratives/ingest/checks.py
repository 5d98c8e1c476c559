"""Checks every reader runs first: the file exists, is not empty, not too large, not binary,
and decodes to text.

Decoded text is kept exactly as decoded (no newline or unicode normalisation): later stages store
character offsets into it.
"""

from __future__ import annotations

import codecs
import logging
import re
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
# Guesses this close to charset-normalizer's least chaos count as near-best (its chaos for "Déjà" in
# cp1252 is 0.10 beside 0.0 for cp1257's "Déją": on a few words its measure cannot tell them apart)
NEAR_BEST_CHAOS = 0.15
# The most confidence a guess gets when a near-best guess reads the bytes as a different text
CLOSE_CALL_CONFIDENCE = 0.5
# At most this share of non-ASCII letters makes English text with a few accented words
ENGLISH_HIGH_LETTERS = 0.1
_LATIN_SINGLE_BYTE = frozenset(
    codecs.lookup(name).name
    for name in (
        "cp1250",
        "cp1252",
        "cp1254",
        "cp1257",
        "latin_1",
        "iso8859_2",
        "iso8859_3",
        "iso8859_4",
        "iso8859_9",
        "iso8859_10",
        "iso8859_13",
        "iso8859_14",
        "iso8859_15",
        "iso8859_16",
        "mac_roman",
        "mac_latin2",
        "mac_iceland",
        "mac_turkish",
        "cp437",
        "cp775",
        "cp850",
        "cp852",
        "cp858",
        "cp860",
        "cp861",
        "cp863",
        "cp865",
    )
)
_RESAVE_FIX = "open the file in a text editor and save it as UTF-8, then read it again"
# Non-letters that Windows-written English text holds in cp1252: currency, quotes, dashes, ...
CP1252_TYPICAL = frozenset("£€¢¥‘’‚“”„–—…•·°±½¼¾©®™«»§¶¦×÷\xa0")
# Text with nothing to read: whitespace, byte order marks (one may survive decoding) and zero-width marks
BLANK_TEXT_RE = re.compile(r"[\s\ufeff\u200b-\u200d\u2060]*")


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


def check_file(path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> int:
    """The size of a file a reader can open, or :class:`IngestError` (missing, not a file, too large)."""
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
    return size


def read_bytes_checked(path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """Read a file's bytes, raising :class:`IngestError` for anything a reader cannot use."""
    path = Path(path)
    check_file(path, max_bytes)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _unreadable(path, exc) from exc
    check_content(data, path)
    return data


def check_content(data: bytes, path: Path) -> None:
    """:class:`IngestError` for bytes that are empty, or binary in a file named as text."""
    if not data.strip():
        raise blank_file_error(path)
    if path.suffix.lower() in TEXT_SUFFIXES and looks_binary(data):
        raise IngestError(
            f"file looks binary, not {path.suffix} text.",
            where=path,
            fix="check the file type: a Word or PDF file renamed to .txt must be read as "
            ".docx/.pdf, or exported again as plain text.",
        )


def blank_file_error(path: str | Path) -> IngestError:
    """The one error for a file with nothing in it to read, before or after decoding."""
    return IngestError(
        "the file has no text: it is empty, or holds only blank characters or a byte order mark.",
        where=path,
        fix="check you exported the right file.",
    )


def check_text(text: str, path: str | Path) -> None:
    """:func:`blank_file_error` for decoded text that is only whitespace, byte order marks or
    zero-width characters (such as a file of only a UTF-8 or UTF-16 byte order mark)."""
    if BLANK_TEXT_RE.fullmatch(text):
        raise blank_file_error(path)


def _unreadable(path: Path, exc: OSError) -> IngestError:
    return IngestError(
        f"cannot read the file ({exc.strerror or exc}).",
        where=path,
        fix="check the file's permissions and that it is not open in another program.",
    )


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
            f"cannot decode the file as {encoding} ({exc}).", where=path, fix=encoding_fix()
        ) from exc
    _reject_garbage(text, path, encoding)
    return DecodedText(text, encoding, 1.0)


def _guess(data: bytes, path: str | Path) -> DecodedText:
    """charset-normalizer's guess where it found a language in the text; else cp1252 where the bytes
    read as mostly-ASCII cp1252 text (short answers such as "Café" give the guesser no evidence)."""
    chosen = _normalizer_guess(data)
    if chosen is not None and chosen.confidence > 0 and _garbage_share(chosen.text) <= 0.05:
        return chosen
    fallback = cp1252_fallback(data)
    if fallback is not None:
        return fallback
    if chosen is not None and _garbage_share(chosen.text) <= 0.05:
        return chosen
    raise IngestError(
        "the file is not UTF-8 and its encoding cannot be recognised.",
        where=path,
        fix=encoding_fix(chosen.encoding if chosen else None),
    )


def encoding_fix(best_guess: str | None = None) -> str:
    """What to tell a user whose file's encoding could not be found."""
    guess = f" (the best guess was {best_guess})" if best_guess and best_guess != "cp1252" else ""
    return (
        f"give the encoding, e.g. --encoding cp1252 for a file saved on Windows{guess}, "
        "or re-save the file as UTF-8 and read it again."
    )


def _normalizer_guess(data: bytes) -> DecodedText | None:
    """The least chaotic, most coherent ASCII-compatible guess, or cp1252 where :func:`_prefer_cp1252`
    says so. Confidence is 0.0 when charset-normalizer recognised no language (its coherence), else
    1 - chaos divided by the number of different texts the near-best guesses read (two equally good
    readings of "Déjà" are a coin toss, not a certainty)."""
    # without a byte-order mark, guesses such as UTF-16 or EBCDIC for "Café" read ASCII as other
    # letters: such text (no NUL bytes, past looks_binary) is in an ASCII-compatible encoding
    results = [r for r in from_bytes(data) if _ascii_compatible(r.encoding)]
    if not results:
        return None
    least_chaos = min(r.chaos for r in results)
    tied = [r for r in results if r.chaos <= least_chaos + 0.01]
    most_coherent = max(r.coherence for r in tied)
    tied = [r for r in tied if r.coherence >= most_coherent - 0.01]
    chosen = tied[0]
    for name in PREFERRED_LEGACY:
        preferred = [r for r in tied if r.encoding == name]
        if preferred:
            chosen = preferred[0]
            break
    near_best = [r for r in results if r.chaos <= least_chaos + NEAR_BEST_CHAOS]
    close_call = any(str(r) != str(chosen) for r in near_best)
    text, encoding, chaos = str(chosen), chosen.encoding, chosen.chaos
    cp1252 = _prefer_cp1252(data, text, encoding)
    if cp1252 is not None:
        text, encoding = cp1252, "cp1252"
        chaos = min((r.chaos for r in near_best if r.encoding == "cp1252"), default=chaos)
    confidence = round(1.0 - chaos, 3) if chosen.coherence > 0 else 0.0
    if close_call:
        confidence = min(confidence, CLOSE_CALL_CONFIDENCE)
    return DecodedText(text, encoding, confidence)


def _prefer_cp1252(data: bytes, text: str, encoding: str) -> str | None:
    """The cp1252 text where it should replace a guess that reads the bytes as other Latin letters:
    the guess is a single-byte Latin encoding (cp1257 reads "Déjà" as "Déją"), the cp1252 text passes
    :func:`cp1252_fallback`, and at most :data:`ENGLISH_HIGH_LETTERS` of its letters are non-ASCII
    (English with a few French, Irish or Welsh words, not Czech or Lithuanian prose). Else None."""
    if encoding == "cp1252" or not _latin_single_byte(encoding):
        return None
    fallback = cp1252_fallback(data)
    if fallback is None:
        return None
    if fallback.text == text:  # the same text: name it by the encoding Windows users save in
        return fallback.text
    letters = sum(1 for ch in fallback.text if ch.isalpha())
    high_letters = sum(1 for ch in fallback.text if ch.isalpha() and ord(ch) > 127)
    return fallback.text if high_letters <= ENGLISH_HIGH_LETTERS * letters else None


def _latin_single_byte(encoding: str) -> bool:
    """Whether an encoding is a single-byte one for Latin-script languages (Windows, ISO or Mac)."""
    name = codecs.lookup(encoding).name
    return name in _LATIN_SINGLE_BYTE


def _ascii_compatible(encoding: str) -> bool:
    probe = "Az09 ,;.\"'\n"
    try:
        return probe.encode("ascii").decode(encoding) == probe
    except (UnicodeDecodeError, LookupError):
        return False


def cp1252_fallback(data: bytes) -> DecodedText | None:
    """cp1252 text when the bytes decode under it, most letters are ASCII, and every other non-ASCII
    character is a letter or typical Windows punctuation (£, €, curly quotes, dashes); else None."""
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return None
    high = [ch for ch in text if ord(ch) > 127]
    letters = sum(1 for ch in text if ch.isalpha())
    high_letters = sum(1 for ch in high if ch.isalpha())
    if not high or any(not ch.isalpha() and ch not in CP1252_TYPICAL for ch in high):
        return None
    if high_letters > 0.3 * letters:  # Cyrillic or Greek bytes read as accented Latin letters
        return None
    return DecodedText(text, "cp1252", 0.9)


def _garbage_share(text: str) -> float:
    if not text:
        return 0.0
    bad = sum(1 for ch in text if ch == "\ufffd" or (ord(ch) < 32 and ch not in "\t\n\r\f"))
    return bad / len(text)


def _reject_garbage(text: str, path: str | Path, encoding: str) -> None:
    if _garbage_share(text) > 0.05:
        raise IngestError(
            f"the file decodes as {encoding} to mostly unreadable characters.",
            where=path,
            fix=_RESAVE_FIX,
        )


def read_text_checked(
    path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES, encoding: str | None = None
) -> DecodedText:
    """:func:`read_bytes_checked` then :func:`decode_text`; text that is blank once decoded (only
    whitespace or a byte order mark) is :func:`blank_file_error`, checked here for every text file."""
    decoded = decode_text(read_bytes_checked(path, max_bytes), path, encoding)
    check_text(decoded.text, path)
    return decoded


STREAM_CHUNK = 1024 * 1024
GUESS_SAMPLE = 2 * 1024 * 1024


def detect_file_encoding(
    path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES, encoding: str | None = None
) -> tuple[str, float]:
    """The encoding to read a text file as a stream, and how sure the guess is, without holding
    the file in memory; raises :class:`IngestError` as :func:`read_bytes_checked` does.

    A forced ``encoding`` (checked to be a codec), else a byte-order mark, else UTF-8 when the whole
    file decodes as UTF-8 (checked chunk by chunk), else a guess from the first bytes and those
    around the first byte that is not UTF-8. A file that fits in that first sample and is blank
    once decoded is refused as :func:`read_text_checked` refuses it.
    """
    path = Path(path)
    size = check_file(path, max_bytes)
    head = _read_range(path, 0, GUESS_SAMPLE)
    if head.strip() or size <= len(head):  # a blank first sample of a bigger file may lead to text
        check_content(head, path)
    chosen, confidence = _stream_encoding(path, head, encoding)
    if size <= len(head):
        check_text(head.decode(chosen, errors="replace"), path)
    return chosen, confidence


def _stream_encoding(path: Path, head: bytes, encoding: str | None) -> tuple[str, float]:
    """The encoding :func:`detect_file_encoding` chooses, given the file's first bytes."""
    if encoding:
        try:
            return codecs.lookup(encoding).name, 1.0
        except LookupError as exc:
            raise IngestError(
                f"'{encoding}' is not an encoding Python knows.",
                where=path,
                fix="give a known encoding, e.g. --encoding cp1252, utf-8 or latin-1.",
            ) from exc
    if head.startswith(_UTF16_BOMS):
        return "utf-16", 1.0
    position = first_non_utf8(path)
    if position is None:
        return ("utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"), 1.0
    sample = head if position < len(head) else head + _read_range(path, position - 1024, GUESS_SAMPLE)
    decoded = _guess(sample, path)
    logger.info("%s: not UTF-8, read as %s (confidence %.2f)", path, decoded.encoding, decoded.confidence)
    return decoded.encoding, decoded.confidence


def first_non_utf8(path: str | Path, encoding: str = "utf-8") -> int | None:
    """The offset of the first byte that does not decode (as UTF-8 unless ``encoding`` is given),
    or None when the whole file decodes."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    offset = 0
    try:
        with open(path, "rb") as stream:
            while chunk := stream.read(STREAM_CHUNK):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    return offset + max(exc.start, 0)
                offset += len(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return offset
    except OSError as exc:
        raise _unreadable(Path(path), exc) from exc
    return None


def _read_range(path: Path, start: int, length: int) -> bytes:
    try:
        with open(path, "rb") as stream:
            stream.seek(max(start, 0))
            return stream.read(length)
    except OSError as exc:
        raise _unreadable(path, exc) from exc


def line_of_offset(path: str | Path, offset: int) -> int:
    """The line (from 1) holding byte ``offset`` of a file, counted without reading it whole."""
    newlines, done = 0, 0
    with open(path, "rb") as stream:
        while done < offset and (chunk := stream.read(min(STREAM_CHUNK, offset - done))):
            newlines += chunk.count(b"\n")
            done += len(chunk)
    return newlines + 1
