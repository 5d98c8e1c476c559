"""The parts of a REFI-QDA file: a ``.qdpx`` archive's members and their XML, read safely.

:class:`RefiArchive` finds members by lower-case name (``Sources/`` or ``sources/``, ``project.qde``
in a subfolder) and reads one only when asked; :func:`part_bytes` follows a ``plainTextPath`` (with or
without ``internal://``) but never out of the archive; :func:`parse_part` parses XML that may declare
no DTD or entities. The archive itself is checked by :mod:`narratives.ingest.archives` before any of
this (in :func:`~narratives.interop.refi_qda_read.read_refi`).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path, PurePosixPath

from lxml import etree

from narratives.errors import RefiImportError
from narratives.ingest.archives import ZIP_ERRORS

FIX = "export the project again from the program that made it, as a REFI-QDA project (.qdpx)."


class RefiArchive:
    """The members of a .qdpx by lower-case name, read only when asked for."""

    def __init__(self, path: Path, archive: zipfile.ZipFile | None):
        self.path, self.archive = path, archive
        self.names = {} if archive is None else {i.filename.lower(): i for i in archive.infolist()}

    def member(self, name: str) -> bytes | None:
        info = self.names.get(name.lower())
        if info is None or self.archive is None:
            return None
        try:
            return self.archive.read(info)
        except ZIP_ERRORS as error:
            raise RefiImportError(
                f"part '{info.filename}' is damaged ({error}).", where=self.path, fix=FIX
            ) from None

    def project_part(self) -> str:
        found = sorted(
            (n for n in self.names if PurePosixPath(n).name == "project.qde"), key=lambda n: n.count("/")
        )
        if not found:
            raise RefiImportError("the archive holds no project.qde.", where=self.path, fix=FIX)
        return found[0]


def parse_part(data: bytes, path: Path, part: str) -> etree._Element:
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, remove_blank_text=True, huge_tree=False
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        raise RefiImportError(f"{part} is not readable XML ({error}).", where=path, fix=FIX) from None
    if root.getroottree().docinfo.doctype:
        raise RefiImportError(
            f"{part} declares a DTD or entities, which REFI-QDA files never do.",
            where=path,
            fix="do not read this file; it was not written by a QDA program (entities can expand "
            "without limit or read other files).",
        )
    return root


def part_bytes(target: str | None, files: RefiArchive) -> bytes | None:
    """The bytes a ``plainTextPath`` names (under ``sources/`` or not), or None; never outside the
    archive."""
    target = (target or "").strip().replace("\\", "/")
    target = re.sub(r"^(internal|relative|absolute)://", "", target)
    if not target or ".." in PurePosixPath(target).parts or target.startswith("/"):
        return None
    for candidate in (f"sources/{target}", target):
        data = files.member(candidate)
        if data is not None:
            return data
    return None
