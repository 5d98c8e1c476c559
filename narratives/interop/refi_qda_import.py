"""Reading REFI-QDA files: the codebook and the coded text sources of a ``.qdpx``, ``.qde`` or ``.qdc``.

Positions count Unicode code points from 0, end exclusive, as :mod:`narratives.interop.refi_qda`
writes them, so ``text[start:end]`` is the coded text. Code ids are made from the code names.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from lxml import etree

from narratives.errors import CodebookError, IngestError
from narratives.interop.refi_qda import COLOUR, xml_parser
from narratives.schema import Code, Codebook


@dataclass
class ImportedSelection:
    start: int
    end: int
    text: str  # the source text at [start:end]
    codes: list[str]  # code names, in the order of the Codings


@dataclass
class ImportedSource:
    guid: str
    name: str
    text: str | None  # None when the text lies outside the archive
    selections: list[ImportedSelection] = field(default_factory=list)


def _read_project(path: str | Path) -> tuple[etree._Element, dict[str, bytes]]:
    """The root element of a .qdpx's project.qde (or of a bare .qde / .qdc) and the archive's files."""
    path = Path(path)
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                files = {name: archive.read(name) for name in archive.namelist() if not name.endswith("/")}
            qde = next((n for n in files if PurePosixPath(n).name.lower() == "project.qde"), None)
            if qde is None:
                raise IngestError(
                    "the archive has no project.qde.", where=path, fix="export it again as .qdpx."
                )
            return etree.fromstring(files[qde], xml_parser()), files
        return etree.fromstring(path.read_bytes(), xml_parser()), {}
    except (OSError, zipfile.BadZipFile, etree.XMLSyntaxError) as error:
        raise IngestError(
            f"not a readable REFI-QDA file ({error}).",
            where=path,
            fix="check it is a .qdpx, .qde or .qdc file.",
        ) from None


def _slug(name: str) -> str:
    return re.sub(r"[^\w]+", "_", name.strip().lower(), flags=re.UNICODE).strip("_") or "code"


def import_qdpx_codebook(path: str | Path, name: str | None = None) -> Codebook:
    """The codes of a .qdpx or .qdc: names, nesting, descriptions, colours; ids made from names."""
    root, _ = _read_project(path)
    book = root if etree.QName(root).localname == "CodeBook" else root.find("{*}CodeBook")
    if book is None or book.find("{*}Codes") is None:
        raise CodebookError("the file has no codebook.", where=path, fix="export the project with its codes.")
    codes: list[Code] = []
    used: set[str] = set()

    def walk(element: etree._Element, parent: str | None) -> None:
        for child in element.findall("{*}Code"):
            code_id = _slug(child.get("name", ""))
            if code_id in used and parent:
                code_id = f"{parent}/{code_id}"
            base, n = code_id, 2
            while code_id in used:
                code_id, n = f"{base}_{n}", n + 1
            used.add(code_id)
            description = child.findtext("{*}Description") or ""
            colour = child.get("color") if COLOUR.match(child.get("color") or "") else None
            codes.append(
                Code(
                    id=code_id,
                    name=child.get("name", code_id),
                    parent=parent,
                    definition=description,
                    colour=colour,
                )
            )
            walk(child, code_id)

    walk(book.find("{*}Codes"), None)
    return Codebook(name=name or root.get("name") or Path(path).stem, codes=codes)


def _source_text(source: etree._Element, files: dict[str, bytes]) -> str | None:
    inline = source.find("{*}PlainTextContent")
    if inline is not None:
        return inline.text or ""
    target = (source.get("plainTextPath") or "").removeprefix("internal://")
    for candidate in (f"sources/{target}", target):
        if ".." not in PurePosixPath(candidate).parts and candidate in files:
            return files[candidate].decode("utf-8-sig")
    return None


def import_qdpx_codings(path: str | Path) -> list[ImportedSource]:
    """Every text source of a .qdpx with its text and coded selections (code names)."""
    root, files = _read_project(path)
    names = {code.get("guid", "").lower(): code.get("name", "") for code in root.iter("{*}Code")}
    found = []
    for source in root.iterfind("{*}Sources/{*}TextSource"):
        text = _source_text(source, files)
        name = source.get("name") or PurePosixPath(source.get("plainTextPath") or "").name
        imported = ImportedSource(source.get("guid", ""), name, text)
        for selection in source.iterfind("{*}PlainTextSelection"):
            start, end = int(selection.get("startPosition", 0)), int(selection.get("endPosition", 0))
            codes = [
                names.get(ref.get("targetGUID", "").lower(), ref.get("targetGUID", ""))
                for ref in selection.iterfind("{*}Coding/{*}CodeRef")
            ]
            imported.selections.append(ImportedSelection(start, end, (text or "")[start:end], codes))
        found.append(imported)
    return found
