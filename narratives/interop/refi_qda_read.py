"""Reading a REFI-QDA file (``.qdpx``, ``.qde`` or ``.qdc``) into plain values, touching no project.

:func:`read_refi` gives a :class:`RefiProject`: users, the codes (nested, with colours and
descriptions), variables, cases with their values, text sources with their text and coded selections
(who coded what, when, with memos), and notes. What it cannot take (PDF, picture, audio and video
sources, sets, links, graphs, notes attached to nothing it keeps) is listed in ``not_taken``, and
what it took with a change or had to leave out of a source (a position outside the text, a text read
in another encoding than UTF-8) in ``problems``; nothing is dropped silently.

It is tolerant of what other programs write: ``Sources/`` or ``sources/``, ``project.qde`` in a
subfolder, a ``plainTextPath`` with or without ``internal://``, positions written as ``320.0``, GUIDs
in any case or in braces. An archive is checked as :mod:`narratives.ingest.archives` checks Office
files (names outside the archive, encryption, zip bombs, too many members) before anything is read,
and the XML may declare no DTD or entities. Positions count Unicode code points from 0, end exclusive.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from lxml import etree

from narratives.errors import IngestError, RefiImportError
from narratives.ingest.archives import ZIP_ERRORS, ArchiveLimits, _checked_members
from narratives.ingest.checks import decode_text
from narratives.interop.refi_qda_archive import FIX, RefiArchive, parse_part, part_bytes

COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")
VALUE_TAGS = ("TextValue", "BooleanValue", "IntegerValue", "FloatValue", "DateValue", "DateTimeValue")
OTHER_SOURCES = {
    "PDFSource": "PDF",
    "PictureSource": "picture",
    "AudioSource": "audio",
    "VideoSource": "video",
}
Value = str | int | float | bool | None


@dataclass
class RefiCode:
    guid: str
    id: str  # ours, made from the name (unique within the file)
    name: str
    parent: str | None  # our id of the parent code
    description: str = ""
    colour: str | None = None


@dataclass
class RefiCoding:
    code_guid: str
    user: str
    created: str | None = None  # ISO date-time, as written
    memos: list[str] = field(default_factory=list)  # notes referenced from the coding itself


@dataclass
class RefiSelection:
    guid: str
    start: int
    end: int
    codings: list[RefiCoding] = field(default_factory=list)
    description: str | None = None  # QualCoder keeps a coding's memo here
    note_guids: list[str] = field(default_factory=list)


@dataclass
class RefiSource:
    guid: str
    name: str
    text: str
    values: dict[str, Value] = field(default_factory=dict)
    selections: list[RefiSelection] = field(default_factory=list)


@dataclass
class RefiCase:
    guid: str
    name: str
    values: dict[str, Value] = field(default_factory=dict)
    source_guids: list[str] = field(default_factory=list)


@dataclass
class RefiNote:
    guid: str
    name: str
    text: str
    user: str | None
    created: str | None


@dataclass
class RefiProject:
    name: str
    users: dict[str, str] = field(default_factory=dict)  # guid -> name
    codes: list[RefiCode] = field(default_factory=list)
    variables: dict[str, tuple[str, str]] = field(default_factory=dict)  # guid -> (name, type)
    cases: list[RefiCase] = field(default_factory=list)
    sources: list[RefiSource] = field(default_factory=list)
    notes: dict[str, RefiNote] = field(default_factory=dict)
    not_taken: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    is_codebook: bool = False  # a .qdc: codes only
    _by_guid: dict[str, RefiCode] = field(default_factory=dict, repr=False)

    def code(self, guid: str) -> RefiCode | None:
        if len(self._by_guid) != len(self.codes):
            self._by_guid = {c.guid: c for c in self.codes}
        return self._by_guid.get(guid)


def guid_of(value: str | None) -> str:
    """A GUID as one spelling: lower case, no braces."""
    return (value or "").strip().strip("{}").lower()


def slug(name: str) -> str:
    return re.sub(r"[^\w]+", "_", name.strip().lower(), flags=re.UNICODE).strip("_") or "code"


def read_refi(path: str | Path, limits: ArchiveLimits | None = None) -> RefiProject:
    """Everything :mod:`narratives.interop.refi_qda_import` needs from a REFI-QDA file."""
    path = Path(path)
    try:
        if not zipfile.is_zipfile(path):
            return _read_root(parse_part(path.read_bytes(), path, path.name), RefiArchive(path, None), path)
        with zipfile.ZipFile(path) as archive:
            _checked_members(archive, path, limits or ArchiveLimits())
            files = RefiArchive(path, archive)
            part = files.project_part()
            return _read_root(parse_part(files.member(part) or b"", path, part), files, path)
    except IngestError as error:
        if isinstance(error, RefiImportError):
            raise
        raise RefiImportError(error.message, where=path, fix=error.fix) from None
    except (OSError, *ZIP_ERRORS) as error:
        raise RefiImportError(f"not a readable REFI-QDA file ({error}).", where=path, fix=FIX) from None


def _read_root(root: etree._Element, files: RefiArchive, path: Path) -> RefiProject:
    tag = etree.QName(root).localname
    if tag == "CodeBook":
        project = RefiProject(name=root.get("name") or path.stem, is_codebook=True)
        _read_codes(root.find("{*}Codes"), project)
        return project
    if tag != "Project":
        raise RefiImportError(
            f"the root element is <{tag}>, not <Project> or <CodeBook>.", where=path, fix=FIX
        )
    project = RefiProject(name=root.get("name") or path.stem)
    project.users = {
        guid_of(u.get("guid")): u.get("name") or u.get("guid", "") for u in root.iterfind("{*}Users/{*}User")
    }
    default_user = project.users.get(guid_of(root.get("creatingUserGUID")), "")
    _read_codes(root.find("{*}CodeBook/{*}Codes"), project)
    for variable in root.iterfind("{*}Variables/{*}Variable"):
        project.variables[guid_of(variable.get("guid"))] = (
            variable.get("name", ""),
            variable.get("typeOfVariable", "Text"),
        )
    for note in root.iterfind("{*}Notes/{*}Note"):
        project.notes[guid_of(note.get("guid"))] = RefiNote(
            guid_of(note.get("guid")),
            note.get("name") or "",
            _note_text(note, files),
            project.users.get(guid_of(note.get("creatingUser"))),
            note.get("creationDateTime"),
        )
    for case in root.iterfind("{*}Cases/{*}Case"):
        _read_case(case, project)
    sources = root.find("{*}Sources")
    for source in [] if sources is None else sources:
        _read_source(source, project, files, default_user)
    _not_taken_parts(root, project)
    return project


def _not_taken_parts(root: etree._Element, project: RefiProject) -> None:
    for tag, what in (("Sets/{*}Set", "set"), ("Links/{*}Link", "link"), ("Graphs/{*}Graph", "graph")):
        for element in root.iterfind("{*}" + tag):
            project.not_taken.append(f"{what} '{element.get('name') or element.get('guid')}'")
    for ref in root.iterfind("{*}NoteRef"):
        project.not_taken.append(f"project note {guid_of(ref.get('targetGUID'))}")
    for element in root.iterfind(".//{*}Code/{*}NoteRef"):
        project.not_taken.append(f"a note on code '{element.getparent().get('name')}'")


# ------------------------------------------------------------------------------------ the parts


def _read_codes(codes: etree._Element | None, project: RefiProject) -> None:
    used: set[str] = set()

    def walk(element: etree._Element, parent: str | None) -> None:
        for child in element.iterfind("{*}Code"):
            code_id = slug(child.get("name", ""))
            if code_id in used and parent:
                code_id = f"{parent}/{code_id}"
            base, n = code_id, 2
            while code_id in used:
                code_id, n = f"{base}_{n}", n + 1
            used.add(code_id)
            colour = child.get("color") if COLOUR.match(child.get("color") or "") else None
            description = child.findtext("{*}Description") or ""
            project.codes.append(
                RefiCode(
                    guid_of(child.get("guid")),
                    code_id,
                    child.get("name") or code_id,
                    parent,
                    description,
                    colour,
                )
            )
            walk(child, code_id)

    if codes is not None:
        walk(codes, None)


def _value(element: etree._Element, kind: str) -> Value:
    for tag in VALUE_TAGS:
        found = element.find("{*}" + tag)
        if found is not None:
            text = (found.text or "").strip()
            try:
                if tag == "IntegerValue":
                    return int(float(text))
                if tag == "FloatValue":
                    return float(text)
            except ValueError:
                return text
            if tag == "BooleanValue":
                return text.lower() in {"true", "1"}
            return found.text or ""
    return None


def _values(element: etree._Element, project: RefiProject) -> dict[str, Value]:
    found: dict[str, Value] = {}
    for value in element.iterfind("{*}VariableValue"):
        ref = value.find("{*}VariableRef")
        guid = guid_of(None if ref is None else ref.get("targetGUID"))
        name, kind = project.variables.get(guid, (guid, "Text"))
        found[name] = _value(value, kind)
    return found


def _read_case(case: etree._Element, project: RefiProject) -> None:
    name = case.get("name") or guid_of(case.get("guid"))
    project.cases.append(
        RefiCase(
            guid_of(case.get("guid")),
            name,
            _values(case, project),
            [guid_of(ref.get("targetGUID")) for ref in case.iterfind("{*}SourceRef")],
        )
    )
    for tag, what in (("CodeRef", "code"), ("SelectionRef", "selection")):
        count = len(case.findall("{*}" + tag))
        if count:
            project.not_taken.append(f"case '{name}': {count} {what} link(s) (cases hold documents here)")


def _note_text(note: etree._Element, files: RefiArchive) -> str:
    inline = note.findtext("{*}PlainTextContent")
    if inline is not None:
        return inline
    data = part_bytes(note.get("plainTextPath"), files)
    return "" if data is None else data.decode("utf-8", errors="replace")


def _read_source(source: etree._Element, project: RefiProject, files: RefiArchive, default_user: str) -> None:
    tag = etree.QName(source).localname
    name = (
        source.get("name")
        or PurePosixPath(source.get("plainTextPath") or "").name
        or guid_of(source.get("guid"))
    )
    if tag != "TextSource":
        selections = len(source.findall("{*}*Selection"))
        kind = OTHER_SOURCES.get(tag, tag)
        project.not_taken.append(f"{kind} source '{name}' ({selections} coded selection(s))")
        return
    text = _text_of(source, name, project, files)
    if text is None:
        return
    found = RefiSource(guid_of(source.get("guid")), name, text, _values(source, project))
    for selection in source.iterfind("{*}PlainTextSelection"):
        read = _read_selection(selection, name, text, project, default_user)
        if read is not None:
            found.selections.append(read)
    whole = source.findall("{*}Coding")
    if whole:  # codings of the whole source
        codings = [_coding(c, None, project, default_user) for c in whole]
        found.selections.append(RefiSelection(found.guid, 0, len(text), codings))
    if source.find("{*}NoteRef") is not None:
        project.not_taken.append(
            f"source '{name}': {len(source.findall('{*}NoteRef'))} note(s) on the whole text"
        )
    project.sources.append(found)


def _text_of(source: etree._Element, name: str, project: RefiProject, files: RefiArchive) -> str | None:
    inline = source.find("{*}PlainTextContent")
    if inline is not None:
        return inline.text or ""
    path = source.get("plainTextPath")
    data = part_bytes(path, files)
    if data is None:
        what = f"its text ({path}) is not in the archive" if path else "it has no plain text (rich text only)"
        project.not_taken.append(f"text source '{name}': {what}")
        return None
    try:
        decoded = decode_text(data, f"{files.path}: {path}")
    except IngestError as error:
        project.not_taken.append(f"text source '{name}': {error.message}")
        return None
    if decoded.guessed:
        project.problems.append(
            f"source '{name}': its text is not UTF-8; read as {decoded.encoding} "
            f"(confidence {decoded.confidence:.2f}); check its coded passages"
        )
    return decoded.text


def _position(value: str | None) -> int | None:
    try:
        number = float((value or "").strip())
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


def _coding(
    element: etree._Element, selection_user: str | None, project: RefiProject, default: str
) -> RefiCoding:
    user = project.users.get(guid_of(element.get("creatingUser"))) or selection_user or default or "imported"
    ref = element.find("{*}CodeRef")
    memos = [guid_of(r.get("targetGUID")) for r in element.iterfind("{*}NoteRef")]
    return RefiCoding(
        guid_of(None if ref is None else ref.get("targetGUID")), user, element.get("creationDateTime"), memos
    )


def _read_selection(
    selection: etree._Element, name: str, text: str, project: RefiProject, default_user: str
) -> RefiSelection | None:
    start, end = _position(selection.get("startPosition")), _position(selection.get("endPosition"))
    where = f"source '{name}' selection {selection.get('name') or guid_of(selection.get('guid'))}"
    codings = selection.findall("{*}Coding")
    if start is None or end is None or not 0 <= start < end <= len(text):
        project.problems.append(
            f"{where}: positions {selection.get('startPosition')}-{selection.get('endPosition')} are not "
            f"inside the text (0-{len(text)}); its {len(codings)} coding(s) were left out"
        )
        return None
    user = project.users.get(guid_of(selection.get("creatingUser")))
    read = RefiSelection(
        guid_of(selection.get("guid")),
        start,
        end,
        description=selection.findtext("{*}Description"),
        note_guids=[guid_of(r.get("targetGUID")) for r in selection.iterfind("{*}NoteRef")],
    )
    for element in codings:
        coding = _coding(element, user, project, default_user)
        if project.code(coding.code_guid) is None:
            project.problems.append(
                f"{where}: a coding refers to code {coding.code_guid}, which is not in the codebook; left out"
            )
            continue
        read.codings.append(coding)
    return read
