"""Limits checked before python-docx or openpyxl open a .docx/.xlsx (both are zip archives of XML).

:func:`check_office_archive` reads the zip central directory and refuses, with an
:class:`IngestError` naming the file and the part, an archive that would cost far more to open than
its size suggests: too much uncompressed data in all, a member compressed beyond any real document
(a zip bomb), too many members, a nested archive, or a member name that climbs out of the folder.
It then streams every XML part through lxml in chunks, without building a tree, and refuses a DTD or
entity declaration (OOXML never has one; refusing it stops "billion laughs" and external entities), a
text node over 10 MB, nesting deeper than 256, more elements than the reader could hold, and XML that
is not well formed. Decompression is capped by the declared sizes (``zipfile`` stops a member at its
declared size and checks its CRC), so the checks cost at most one streamed pass and little memory.
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
    return name.lower().endswith((".xml", ".rels", ".vml"))


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
    """Stream one XML part through lxml; return its element count, refusing more than ``budget``
    (None: no element limit, for parts the reader streams)."""
    parser = etree.XMLPullParser(
        events=("end",), resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    elements = 0
    try:
        for number, chunk in enumerate(_chunks(archive, info)):
            if number == 0:
                _refuse_dtd(chunk, info.filename, path)
            parser.feed(chunk)
            elements += _drain(parser)
            if budget is not None and elements > budget:
                raise _too_many_elements(path, info.filename, limits)
        parser.close()
        elements += _drain(parser)
    except IngestError:
        raise  # a ValueError, so it must pass before ZIP_ERRORS
    except etree.LxmlError as exc:
        raise IngestError(
            f"part '{info.filename}' is not readable XML ({_xml_reason(exc)}).", where=path, fix=fix
        ) from exc
    except ZIP_ERRORS as exc:
        raise IngestError(f"part '{info.filename}' is damaged ({exc}).", where=path, fix=fix) from exc
    if budget is not None and elements > budget:
        raise _too_many_elements(path, info.filename, limits)
    return elements


def _chunks(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[bytes]:
    with archive.open(info) as member:
        while chunk := member.read(CHUNK_BYTES):
            yield chunk


def _drain(parser: etree.XMLPullParser) -> int:
    """Count finished elements and free them, so the scan never holds the tree."""
    count = 0
    for _event, element in parser.read_events():
        count += 1
        element.clear(keep_tail=False)
        parent = element.getparent()
        while parent is not None and element.getprevious() is not None:
            del parent[0]
    return count


def _refuse_dtd(first_chunk: bytes, part: str, path: str | Path) -> None:
    head = first_chunk[:4096]
    markers = (b"<!DOCTYPE", b"<!ENTITY", "<!DOCTYPE".encode("utf-16-le"), "<!DOCTYPE".encode("utf-16-be"))
    if any(marker in head for marker in markers):
        raise IngestError(
            f"part '{part}' declares a DTD or entities, which Office files never do.",
            where=path,
            fix="do not read this file; it was not written by an Office program (entities can "
            "expand without limit or read other files).",
        )


def _xml_reason(exc: etree.LxmlError) -> str:
    message = str(getattr(exc, "msg", None) or exc)
    if "Text node too long" in message:
        return "a single run of text is longer than 10 MB"
    if "Excessive depth" in message:
        return "elements nested more than 256 deep"
    return message


def _too_many_elements(path: str | Path, part: str, limits: ArchiveLimits) -> IngestError:
    return IngestError(
        f"more than {limits.max_elements:,} XML elements (limit reached in part '{part}').",
        where=path,
        fix="split the document into smaller files; a document this large cannot be held in memory.",
    )


def describe_library_error(exc: BaseException, limit: int = 200) -> str:
    """A reader library's exception as one short line for an error message: its type and text."""
    text = " ".join(str(exc).split()) or "no details"
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return f"{type(exc).__name__}: {text}"
