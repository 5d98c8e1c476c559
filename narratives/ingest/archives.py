"""Limits checked before python-docx or openpyxl open a .docx/.xlsx (both are zip archives of XML).

:func:`check_office_archive` reads the zip central directory and refuses, with an
:class:`IngestError` naming the file and the part, an archive that would cost far more to open than
its size suggests: too much uncompressed data in all, a member compressed beyond any real document
(a zip bomb), too many members, a nested archive, or a member name that climbs out of the folder.
It then streams every XML part through lxml in chunks, without building a tree, and refuses a DTD or
entity declaration (OOXML never has one; refusing it stops "billion laughs" and external entities), a
run of text over 10 million characters, nesting deeper than 256, more elements than the reader could
hold, and XML that is not well formed. Decompression is capped by the declared sizes (``zipfile``
stops a member at its declared size and checks its CRC), so the checks cost one streamed pass and
little memory. :func:`describe_library_error` words a reader library's exception for our messages.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from lxml import etree

from narratives.errors import IngestError

MEGABYTE = 1024 * 1024
CHUNK_BYTES = MEGABYTE
MAX_DEPTH = 256  # libxml2's own limit without XML_PARSE_HUGE
MAX_TEXT_CHARS = 10_000_000  # likewise for one text node
# Parts the readers never open: OOXML keeps embedded objects (a chart's workbook, an OLE object) here.
EMBEDDED_FOLDERS = ("word/embeddings/", "xl/embeddings/", "word/media/", "xl/media/")
NESTED_SUFFIXES = (".zip", ".docx", ".docm", ".xlsx", ".xlsm", ".pptx", ".jar", ".gz", ".7z", ".rar")
# Exceptions zipfile and zlib raise on a damaged archive or member.
ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    OSError,
    EOFError,
    ValueError,
    KeyError,
    NotImplementedError,
    RuntimeError,
    zlib.error,
    struct.error,
)


@dataclass(frozen=True)
class ArchiveLimits:
    """What a .docx/.xlsx may hold; the defaults are far above any real document or survey."""

    max_total_bytes: int = 200 * MEGABYTE  # all members, uncompressed
    max_members: int = 10_000
    max_ratio: float = 200.0  # uncompressed / compressed, checked for members over ratio_floor_bytes
    ratio_floor_bytes: int = 10 * MEGABYTE
    max_elements: int = 2_000_000  # XML elements in the parts the reader loads whole
    streamed_prefixes: tuple[str, ...] = ()  # parts the reader streams: not counted in max_elements


def limits_for(max_bytes: int, streamed_prefixes: tuple[str, ...] = ()) -> ArchiveLimits:
    """Limits for a file size limit: 200 MB uncompressed in all, or four times ``max_bytes`` if more."""
    return ArchiveLimits(
        max_total_bytes=max(200 * MEGABYTE, 4 * max_bytes), streamed_prefixes=streamed_prefixes
    )


def check_office_archive(
    data: bytes, path: str | Path, *, what: str, resave_fix: str, limits: ArchiveLimits
) -> None:
    """Raise :class:`IngestError` unless the zip in ``data`` is within ``limits`` and its XML parts
    are well formed; ``what`` names the format ("Word (.docx) file"), ``resave_fix`` is the fix for
    a damaged file ("open it in Word and save it again ...")."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except ZIP_ERRORS as exc:
        raise IngestError(
            f"not a readable {what} (not a zip archive: {exc}).", where=path, fix=resave_fix
        ) from exc
    with archive:
        members = _checked_members(archive, path, limits)
        elements = 0
        for info in members:
            if _is_xml(info.filename):
                streamed = info.filename.startswith(limits.streamed_prefixes)
                budget = None if streamed else limits.max_elements - elements
                counted = _scan_xml(archive, info, path, resave_fix, limits, budget)
                elements += 0 if streamed else counted
            elif not info.filename.startswith(EMBEDDED_FOLDERS):
                _refuse_nested(archive, info, path, resave_fix)


def _checked_members(
    archive: zipfile.ZipFile, path: str | Path, limits: ArchiveLimits
) -> list[zipfile.ZipInfo]:
    members = [info for info in archive.infolist() if not info.is_dir()]
    if len(members) > limits.max_members:
        raise IngestError(
            f"the archive holds {len(members)} parts, more than the limit of {limits.max_members}.",
            where=path,
            fix="this is not a normal Office file; export the text again from the program that made it.",
        )
    total = 0
    for info in members:
        _check_name(info.filename, path)
        if info.flag_bits & 0x1:
            raise IngestError(
                f"part '{info.filename}' is encrypted.",
                where=path,
                fix="remove the password (save an unprotected copy) and read that copy.",
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > limits.ratio_floor_bytes and ratio > limits.max_ratio:
            raise IngestError(
                f"part '{info.filename}' expands {ratio:.0f} times, to {info.file_size // MEGABYTE} MB "
                f"(a zip bomb, or a document no reader can hold; the limit is {limits.max_ratio:.0f}:1).",
                where=path,
                fix="do not read this file; if it should be a real document, open it in its program "
                "and save the text as a new .docx/.xlsx or .txt.",
            )
        total += info.file_size
    if total > limits.max_total_bytes:
        raise IngestError(
            f"the archive expands to {total // MEGABYTE} MB, more than the limit of "
            f"{limits.max_total_bytes // MEGABYTE} MB.",
            where=path,
            fix="split the document into smaller files, or raise --max-mb (the limit is four times it).",
        )
    return members


def _check_name(name: str, path: str | Path) -> None:
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if name.startswith(("/", "\\")) or ".." in parts or (len(name) > 1 and name[1] == ":"):
        raise IngestError(
            f"part name '{name}' points outside the archive.",
            where=path,
            fix="do not read this file; it was not written by an Office program.",
        )


def _is_xml(name: str) -> bool:
    return name.lower().endswith((".xml", ".rels"))


def _refuse_nested(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: str | Path, fix: str) -> None:
    nested = info.filename.lower().endswith(NESTED_SUFFIXES)
    if not nested and info.file_size >= 4:
        try:
            with archive.open(info) as member:
                nested = member.read(4) == b"PK\x03\x04"
        except ZIP_ERRORS as exc:
            raise IngestError(f"part '{info.filename}' is damaged ({exc}).", where=path, fix=fix) from exc
    if nested:
        raise IngestError(
            f"part '{info.filename}' is an archive inside the archive.",
            where=path,
            fix="do not read this file; save the document again from its program (embedded objects "
            "belong in word/embeddings or xl/embeddings).",
        )


def _scan_xml(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    path: str | Path,
    fix: str,
    limits: ArchiveLimits,
    budget: int | None,
) -> int:
    """Stream one XML part through lxml without building a tree; return its element count, refusing
    a DTD, more than ``budget`` elements or nesting deeper than MAX_DEPTH (None: the part is one the
    reader streams, so only its DTD, well-formedness and text sizes are checked, at C speed)."""
    target: _BareScan = (
        _BareScan(path, info.filename)
        if budget is None
        else _CountingScan(path, info.filename, budget, limits.max_elements)
    )
    parser = etree.XMLParser(
        target=target, resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        for chunk in _chunks(archive, info):
            parser.feed(chunk)
        parser.close()
    except IngestError:
        raise  # a ValueError, so it must pass before ZIP_ERRORS
    except etree.LxmlError as exc:
        raise IngestError(
            f"part '{info.filename}' is not readable XML ({_xml_reason(exc)}).", where=path, fix=fix
        ) from exc
    except ZIP_ERRORS as exc:
        raise IngestError(f"part '{info.filename}' is damaged ({exc}).", where=path, fix=fix) from exc
    return target.elements


class _BareScan:
    """An lxml parser target that keeps nothing and refuses a document type declaration and a run
    of text longer than MAX_TEXT_CHARS."""

    def __init__(self, path: str | Path, part: str) -> None:
        self.path, self.part, self.elements, self.text_run = path, part, 0, 0

    def data(self, text: str) -> None:
        self.text_run += len(text)
        if self.text_run > MAX_TEXT_CHARS:
            raise IngestError(
                f"part '{self.part}' holds a single run of text longer than "
                f"{MAX_TEXT_CHARS // 1_000_000:,} million characters.",
                where=self.path,
                fix="split the text into paragraphs or smaller files; no real document has a run this long.",
            )

    def start(self, tag: str, attrib: object) -> None:
        self.text_run = 0

    def end(self, tag: str) -> None:
        self.text_run = 0

    def doctype(self, name: str, pubid: str | None, system: str | None) -> None:
        raise IngestError(
            f"part '{self.part}' declares a DTD or entities, which Office files never do.",
            where=self.path,
            fix="do not read this file; it was not written by an Office program (entities can "
            "expand without limit or read other files).",
        )

    def close(self) -> None:
        return None


class _CountingScan(_BareScan):
    """:class:`_BareScan` that also counts elements and their depth, for parts read whole."""

    def __init__(self, path: str | Path, part: str, budget: int, limit: int) -> None:
        super().__init__(path, part)
        self.budget, self.limit, self.depth = budget, limit, 0

    def start(self, tag: str, attrib: object) -> None:
        self.text_run = 0
        self.elements += 1
        self.depth += 1
        if self.elements > self.budget:
            raise IngestError(
                f"more than {self.limit:,} XML elements (limit reached in part '{self.part}').",
                where=self.path,
                fix="split the document into smaller files; a document this large cannot be held in memory.",
            )
        if self.depth > MAX_DEPTH:
            raise IngestError(
                f"part '{self.part}' has elements nested more than {MAX_DEPTH} deep.",
                where=self.path,
                fix="do not read this file; it was not written by an Office program.",
            )

    def end(self, tag: str) -> None:
        self.text_run = 0
        self.depth -= 1


def _chunks(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[bytes]:
    with archive.open(info) as member:
        while chunk := member.read(CHUNK_BYTES):
            yield chunk


def _xml_reason(exc: etree.LxmlError) -> str:
    message = str(getattr(exc, "msg", None) or exc)
    if "Text node too long" in message or "Buffer size limit exceeded" in message:
        return "a single run of text or a single tag is longer than the parser's limit of 10 MB"
    return message


def describe_library_error(exc: BaseException, limit: int = 200) -> str:
    """A reader library's exception as one short line for an error message: its type and text."""
    text = " ".join(str(exc).split()) or "no details"
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return f"{type(exc).__name__}: {text}"
