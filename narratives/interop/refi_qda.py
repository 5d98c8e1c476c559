"""REFI-QDA exchange: ``.qdpx`` projects and ``.qdc`` codebooks for NVivo, ATLAS.ti, MAXQDA, QualCoder.

A ``.qdpx`` is a zip holding ``project.qde`` (QDA-XML, namespace ``urn:QDA-XML:project:1.0``,
checked against the bundled ``Project.xsd``) and ``sources/<guid>.txt``, each document's text in
UTF-8 exactly as stored. What goes in:

- ``Users``: the exporting user, every reviewer, and ``narratives (machine)`` for machine codings;
- ``CodeBook``: the active codes, nested by parent, ``Description`` = the code's definition;
- ``Variables`` and ``Cases``: one case per participant with their attributes and documents;
- ``Sources``: one ``TextSource`` per current document, its document attributes, source kind and wave
  as variable values, and one ``PlainTextSelection`` per coded span with a ``Coding`` per code — the
  codes :func:`~narratives.analysis.coded.coded_segments` says the span carries now;
- ``Notes``: reviewers' memos, referenced from the selection they are about.

Positions count Unicode code points from 0, end exclusive (the standard says "characters"), which is
how Python indexes a ``str``: ``text[start:end]`` is the coded text. GUIDs are UUID5s of the project
name and our ids, so exporting again gives the same GUIDs (and, without dates, the same bytes).
Reading such files back is :mod:`narratives.interop.refi_qda_import`.
"""

from __future__ import annotations

import math
import re
import uuid
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

from lxml import etree
from sqlalchemy import Connection

from narratives import __version__
from narratives.analysis.coded import Threshold, coded_segments
from narratives.errors import RefiExportError
from narratives.interop.refi_qda_codings import MACHINE_USER, ExportCoding, machine_codings, reviewer_codings
from narratives.schema import Code, Codebook, as_utc
from narratives.store.codebooks import current_codebook
from narratives.store.documents import attribute_rows, case_rows, current_document_rows, document_texts
from narratives.store.files import private_file
from narratives.store.project import Project

NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
SCHEMA_PATH = Path(__file__).with_name("Project.xsd")
CODEBOOK_SCHEMA_PATH = Path(__file__).with_name("Codebook.xsd")
GUID_ROOT = uuid.UUID("6f6e6172-7261-7469-7665-732d71646121")
__all__ = ["MACHINE_USER", "export_codebook_qdc", "export_qdpx", "schema_errors"]
VARIABLE_TYPES = {"str": "Text", "int": "Integer", "float": "Float", "bool": "Boolean"}
VALUE_ELEMENTS = {
    "Text": "TextValue",
    "Integer": "IntegerValue",
    "Float": "FloatValue",
    "Boolean": "BooleanValue",
}
COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def make_guid(*parts: object) -> str:
    """A stable GUID for a thing: UUID5 of its parts (project name, kind, our id)."""
    return str(uuid.uuid5(GUID_ROOT, "\x1f".join(str(p) for p in parts)))


def _q(tag: str, ns: str = NS) -> str:
    return f"{{{ns}}}{tag}"


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, _q(tag, etree.QName(parent).namespace or NS), attrs)
    if text is not None:
        element.text = _xml_safe(text)
    return element


def _xml_safe(text: str) -> str:
    """XML 1.0 cannot hold most control characters; they are dropped from names and notes."""
    return re.sub(r"[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]", "", text)


# ------------------------------------------------------------------------------------------ codebook


def _codes_element(parent: etree._Element, codebook: Codebook, key: str) -> None:
    active = [c for c in codebook.codes if not c.retired]
    ids = {c.id for c in active}
    children: dict[str | None, list[Code]] = defaultdict(list)
    for code in active:
        children[code.parent if code.parent in ids and code.parent != code.id else None].append(code)
    codes = _sub(parent, "Codes")

    def add(into: etree._Element, code: Code, seen: frozenset[str]) -> None:
        attrs = {"guid": make_guid(key, "code", code.id), "name": _xml_safe(code.name), "isCodable": "true"}
        if code.colour and COLOUR.match(code.colour):
            attrs["color"] = code.colour
        element = _sub(into, "Code", **attrs)
        if code.definition:
            _sub(element, "Description", code.definition)
        for child in children.get(code.id, []):
            if child.id not in seen:
                add(element, child, seen | {child.id})

    for code in children[None]:
        add(codes, code, frozenset({code.id}))


def _no_active_codes(codebook: Codebook) -> RefiExportError:
    return RefiExportError(
        f"codebook '{codebook.name}' has no active codes (all {len(codebook.codes)} are retired), and a "
        "REFI-QDA codebook must hold at least one code.",
        fix="bring a code back into use (load a codebook file that has it active) or export another codebook.",
    )


def export_codebook_qdc(codebook: Codebook, path: str | Path) -> Path:
    """Write the codebook-only exchange file (``.qdc``, namespace ``urn:QDA-XML:codebook:1.0``),
    checked against the bundled Codebook.xsd; a codebook whose codes are all retired is refused
    (the standard's ``<Codes>`` needs a code)."""
    if not codebook.active_codes:
        raise _no_active_codes(codebook)
    root = etree.Element(
        _q("CodeBook", CODEBOOK_NS), nsmap={None: CODEBOOK_NS}, origin=f"narratives {__version__}"
    )
    _codes_element(root, codebook, codebook.name)
    xml = etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)
    errors = schema_errors(xml, CODEBOOK_SCHEMA_PATH)
    if errors:
        raise RefiExportError("the REFI-QDA codebook does not match Codebook.xsd: " + "; ".join(errors[:5]))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    private_file(path).write_bytes(xml)
    return path


# ------------------------------------------------------------------------------------------ export


@dataclass
class QdpxExport:
    path: Path
    codes: int = 0
    sources: int = 0
    selections: int = 0
    codings: int = 0
    cases: int = 0
    notes: int = 0


@dataclass
class _Exporter:
    connection: Connection
    key: str  # project name, for GUIDs
    codebook: Codebook
    codings: list[ExportCoding]
    user: str
    users: dict[str, str] = field(default_factory=dict)  # name -> guid

    def user_guid(self, name: str) -> str:
        return self.users.setdefault(name, make_guid(self.key, "user", name))


def export_qdpx(
    project: Project | Connection,
    codebook: str | Codebook,
    path: str | Path,
    *,
    user: str,
    include_machine: bool = False,
    threshold: Threshold = None,
    project_name: str | None = None,
) -> QdpxExport:
    """Write a REFI-QDA project (see the module docstring); reviewed codes only unless ``include_machine``."""
    if isinstance(project, Project):
        with project.connect() as connection:
            return export_qdpx(
                connection,
                codebook,
                path,
                user=user,
                include_machine=include_machine,
                threshold=threshold,
                project_name=project_name or project.path.name,
            )
    connection = project
    book = current_codebook(connection, codebook) if isinstance(codebook, str) else codebook
    active = {c.id for c in book.codes if not c.retired}
    if not active:
        raise _no_active_codes(book)
    codings = reviewer_codings(connection, book.name, active)
    if include_machine:
        coded = coded_segments(connection, book.name, include_machine=True, threshold=threshold)
        codings += machine_codings(coded[coded["code_id"].isin(active)])
    exporter = _Exporter(connection, project_name or "narratives", book, codings, user)
    xml, texts, summary = _project_xml(exporter)
    errors = schema_errors(xml)
    if errors:
        raise RefiExportError("the REFI-QDA export does not match Project.xsd: " + "; ".join(errors[:5]))
    summary.path = _write_zip(Path(path), xml, texts)
    return summary


def _project_xml(exporter: _Exporter) -> tuple[bytes, dict[str, str], QdpxExport]:
    """Children in the order the schema wants: Users, CodeBook, Variables, Cases, Sources, Notes."""
    root = etree.Element(
        _q("Project"),
        nsmap={None: NS},
        name=_xml_safe(exporter.key),
        origin=f"narratives {__version__}",
        creatingUserGUID=exporter.user_guid(exporter.user),
    )
    users = _sub(root, "Users")
    _codes_element(_sub(root, "CodeBook"), exporter.codebook, exporter.key)
    summary = QdpxExport(Path(), codes=len(root.findall(f".//{_q('Code')}")))
    variables = _variables(exporter)
    element = _sub(root, "Variables")
    for name, kind in variables.items():
        _sub(
            element,
            "Variable",
            guid=make_guid(exporter.key, "variable", name),
            name=name,
            typeOfVariable=kind,
        )
    _cases(exporter, root, variables, summary)
    notes = etree.Element(_q("Notes"))
    texts = _sources(exporter, root, variables, notes, summary)
    if len(notes):
        root.append(notes)
    for name, guid in exporter.users.items():
        _sub(users, "User", guid=guid, name=_xml_safe(name))
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True), texts, summary


def _variables(exporter: _Exporter) -> dict[str, str]:
    """Variable name -> REFI type; a key stored with mixed types becomes Text."""
    found: dict[str, set[str]] = {"source kind": {"Text"}, "wave": {"Integer"}}
    if any(row.question for row in current_document_rows(exporter.connection)):
        found["question"] = {"Text"}  # part of a survey answer's identity: import needs it back
    for _, _, key, _, value_type in attribute_rows(exporter.connection, current_only=True):
        found.setdefault(key, set()).add(VARIABLE_TYPES.get(value_type, "Text"))
    return {name: kinds.pop() if len(kinds) == 1 else "Text" for name, kinds in sorted(found.items())}


def _value(parent: etree._Element, key: str, name: str, kind: str, value: object) -> None:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return
    if kind == "Boolean":
        text = "true" if str(value) in {"True", "true", "1"} else "false"
    elif kind == "Float":
        text = format(Decimal(str(value)), "f")
    else:
        text = str(value)
    element = _sub(parent, "VariableValue")
    _sub(element, "VariableRef", targetGUID=make_guid(key, "variable", name))
    _sub(element, VALUE_ELEMENTS[kind], text)


def _cases(exporter: _Exporter, root: etree._Element, variables: dict[str, str], summary: QdpxExport) -> None:
    """One case per participant: their attributes and the documents they are in."""
    rows = case_rows(exporter.connection)
    if not rows:
        return
    values: dict[int, list[tuple[str, str | None]]] = defaultdict(list)
    for document_id, person, key, value, _ in attribute_rows(exporter.connection, current_only=True):
        if document_id is None and person is not None:
            values[person].append((key, value))
    cases = _sub(root, "Cases")
    by_person: dict[tuple[int, str], list[int]] = defaultdict(list)
    for person, name, document_id in rows:
        by_person[(person, name)].append(document_id)
    for (person, name), document_ids in by_person.items():
        case = _sub(cases, "Case", guid=make_guid(exporter.key, "case", name), name=_xml_safe(name))
        for key, value in values[person]:
            _value(case, exporter.key, key, variables[key], value)
        for document_id in document_ids:
            _sub(case, "SourceRef", targetGUID=make_guid(exporter.key, "source", document_id))
        summary.cases += 1


def _stamp(moment: datetime | None) -> str | None:
    """A stored moment as xsd:dateTime in UTC, to the second."""
    return None if moment is None else as_utc(moment).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _dated(attrs: dict[str, str], moment: datetime | None) -> dict[str, str]:
    stamp = _stamp(moment)
    return attrs if stamp is None else {**attrs, "creationDateTime": stamp}


def _sources(
    exporter: _Exporter,
    root: etree._Element,
    variables: dict[str, str],
    notes: etree._Element,
    summary: QdpxExport,
) -> dict[str, str]:
    rows = document_texts(exporter.connection)
    questions = {row.id: row.question for row in current_document_rows(exporter.connection)}
    doc_values: dict[int, list[tuple[str, str | None]]] = defaultdict(list)
    for document_id, _, key, value, _ in attribute_rows(exporter.connection, current_only=True):
        if document_id is not None:
            doc_values[document_id].append((key, value))
    by_document: dict[int, list[ExportCoding]] = defaultdict(list)
    for coding in exporter.codings:
        by_document[coding.document_id].append(coding)
    texts: dict[str, str] = {}
    sources = _sub(root, "Sources") if rows else root
    for document_id, title, text, kind, wave in rows:
        guid = make_guid(exporter.key, "source", document_id)
        texts[guid] = text
        source = _sub(
            sources, "TextSource", guid=guid, name=_xml_safe(title), plainTextPath=f"internal://{guid}.txt"
        )
        _selections(exporter, source, text, by_document.get(document_id, []), notes, summary)
        facts = [("source kind", kind), ("wave", wave), ("question", questions.get(document_id))]
        for name, stored in [*facts, *doc_values[document_id]]:
            if name == "question" and stored is None:
                continue
            _value(source, exporter.key, name, variables[name], stored)
        summary.sources += 1
    return texts


def _selections(
    exporter: _Exporter,
    source: etree._Element,
    text: str,
    codings: list[ExportCoding],
    notes: etree._Element,
    summary: QdpxExport,
) -> None:
    """One selection per (span, user), one Coding per code on it; a memo is a Note referenced from
    its Coding, and the selection's memos are also its Description (where QualCoder reads them)."""
    key, source_guid = exporter.key, source.get("guid")
    spans: dict[tuple[int, int, str], list[ExportCoding]] = defaultdict(list)
    for coding in codings:
        spans[(coding.start, coding.end, coding.user)].append(coding)
    for (start, end, user), found in sorted(spans.items()):
        group = sorted(found, key=lambda c: (exporter.codebook.code(c.code_id).name, c.code_id))
        attrs = {
            "guid": make_guid(key, "selection", source_guid, start, end, user),
            "name": _xml_safe(" ".join(text[start:end].split())[:60]),
            "startPosition": str(start),
            "endPosition": str(end),
            "creatingUser": exporter.user_guid(user),
        }
        dates = [c.created for c in group if c.created is not None]
        selection = _sub(source, "PlainTextSelection", **_dated(attrs, min(dates) if dates else None))
        memos = [c.memo for c in group if c.memo]
        if memos:
            _sub(selection, "Description", "\n\n".join(memos))
        for coding in group:  # by code name, so a copy with other code ids writes the same
            attrs = {
                "guid": make_guid(key, "coding", source_guid, start, end, user, coding.code_id),
                "creatingUser": exporter.user_guid(user),
            }
            element = _sub(selection, "Coding", **_dated(attrs, coding.created))
            _sub(element, "CodeRef", targetGUID=make_guid(key, "code", coding.code_id))
            if coding.memo:
                note_guid = make_guid(key, "note", coding.review_id)
                _sub(element, "NoteRef", targetGUID=note_guid)
                _note(exporter, notes, note_guid, coding)
                summary.notes += 1
            summary.codings += 1
        summary.selections += 1


def _note(exporter: _Exporter, notes: etree._Element, guid: str, coding: ExportCoding) -> None:
    code = exporter.codebook.code(coding.code_id).name
    attrs = {
        "guid": guid,
        "name": _xml_safe(f"Memo by {coding.user} on {code}"),
        "creatingUser": exporter.user_guid(coding.user),
    }
    note = _sub(notes, "Note", **_dated(attrs, coding.created))
    _sub(note, "PlainTextContent", coding.memo or "")


def _write_zip(path: Path, xml: bytes, texts: dict[str, str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(private_file(path), "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("project.qde", FIXED_ZIP_TIME), xml, zipfile.ZIP_DEFLATED)
        for guid, text in texts.items():
            archive.writestr(
                zipfile.ZipInfo(f"sources/{guid}.txt", FIXED_ZIP_TIME),
                text.encode("utf-8"),
                zipfile.ZIP_DEFLATED,
            )
    return path


def schema_errors(xml: bytes, schema_path: Path = SCHEMA_PATH) -> list[str]:
    """Where ``xml`` breaks the bundled REFI-QDA Project.xsd (or Codebook.xsd) ([] when valid)."""
    schema = etree.XMLSchema(etree.parse(str(schema_path)))
    document = etree.fromstring(xml, xml_parser())
    return [] if schema.validate(document) else [f"line {e.line}: {e.message}" for e in schema.error_log]


def xml_parser() -> etree.XMLParser:
    """A parser that resolves no entities and reaches no network, for files from elsewhere."""
    return etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=True)
