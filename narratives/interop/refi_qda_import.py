"""Bringing a REFI-QDA project (``.qdpx``) or codebook (``.qdc``) into a project: ``narratives import``.

:func:`import_refi` reads the file with :func:`~narratives.interop.refi_qda_read.read_refi`, then in
one write transaction (:meth:`Project.write`, so a failure leaves nothing half-written) stores:

- the codes, nested and coloured, in a codebook of the project (an imported code with the name and
  parent of one already there is that code; new ones are added, none is retired);
- each text source as a document, its case as the participant, the case's variables as participant
  attributes and the source's as document attributes (``source kind`` and ``wave``, which
  :mod:`narratives.interop.refi_qda` writes, become the document's kind and wave);
- one segment (of ``unit``) per coded span of a new document, at the exact offsets; in a document
  the project had segmented already, a span inside one segment codes that segment's part, as hand
  coding does;
- each coding as an ``add`` review by the REFI user who made it, with the notes about it (or
  QualCoder's ``<Description>``) as its memo; it is dated when imported (the store records when a
  review was written here, so the file's ``creationDateTime`` is not kept).

Importing the same file again adds nothing: documents are recognised by content, segments by
offsets, codings by (segment, code, user, span). What the file holds that a project cannot (PDF and
media sources, sets, links, notes on nothing coded) is listed in :attr:`RefiImport.not_taken`.
:func:`import_qdpx_codebook` and :func:`import_qdpx_codings` read a file without a project.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection

from narratives.errors import RefiImportError
from narratives.interop.refi_qda_read import (
    RefiCode,
    RefiProject,
    RefiSelection,
    RefiSource,
    Value,
    read_refi,
    slug,
)
from narratives.review.record import record_review
from narratives.review.state import live_reviews
from narratives.schema import (
    Attribute,
    Code,
    Codebook,
    Decision,
    Document,
    Review,
    Segment,
    SegmentUnit,
    SourceKind,
)
from narratives.store.codebooks import codebook_version, current_codes, store_codebook
from narratives.store.documents import save_document
from narratives.store.events import record_event
from narratives.store.project import Project
from narratives.store.segments import load_segments, save_segments

REVIEW_SOURCE = "refi-qda"
PIPELINE = "refi-qda import"
KIND_VARIABLE, WAVE_VARIABLE, QUESTION_VARIABLE = "source kind", "wave", "question"


@dataclass
class RefiImport:
    """What one import stored, found already there, and could not take."""

    path: Path
    codebook: str
    codes_added: int = 0
    documents_added: int = 0
    documents_known: int = 0
    participants: int = 0
    segments_added: int = 0
    codings_added: int = 0
    codings_known: int = 0
    memos: int = 0
    not_taken: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------- without a project


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
    text: str | None
    selections: list[ImportedSelection] = field(default_factory=list)


def _codebook_of(parsed: RefiProject, name: str) -> Codebook:
    codes = [
        Code(id=c.id, name=c.name, parent=c.parent, definition=c.description, colour=c.colour)
        for c in parsed.codes
    ]
    return Codebook(name=name, codes=codes)


def import_qdpx_codebook(path: str | Path, name: str | None = None) -> Codebook:
    """The codes of a .qdpx or .qdc: names, nesting, descriptions, colours; ids made from names."""
    parsed = read_refi(path)
    if not parsed.codes:
        raise RefiImportError(
            "the file has no codes.", where=path, fix="export the project with its codebook."
        )
    return _codebook_of(parsed, name or parsed.name)


def import_qdpx_codings(path: str | Path) -> list[ImportedSource]:
    """Every text source of a .qdpx with its text and coded selections (code names)."""
    parsed = read_refi(path)
    names = {c.guid: c.name for c in parsed.codes}
    return [
        ImportedSource(
            s.guid,
            s.name,
            s.text,
            [
                ImportedSelection(
                    x.start, x.end, s.text[x.start : x.end], [names[c.code_guid] for c in x.codings]
                )
                for x in s.selections
            ],
        )
        for s in parsed.sources
    ]


# ------------------------------------------------------------------------------- into a project


def import_refi(
    project: Project,
    path: str | Path,
    *,
    user: str,
    codebook: str | None = None,
    unit: SegmentUnit = SegmentUnit.sentence,
    kind: SourceKind = SourceKind.interview,
) -> RefiImport:
    """Store a REFI-QDA file's codes, documents, participants and codings (see the module docstring)."""
    path = Path(path)
    parsed = read_refi(path)
    name = codebook or slug(parsed.name)

    def body(connection: Connection) -> RefiImport:
        summary = RefiImport(path, name, not_taken=list(parsed.not_taken), problems=list(parsed.problems))
        codes = _store_codes(connection, parsed, name, user, summary)
        if not parsed.is_codebook:
            _Writer(connection, parsed, name, codes, unit, kind, summary).run()
        record_event(
            connection,
            "import.refi",
            user,
            target=path.name,
            payload={
                "codebook": name,
                "documents": summary.documents_added,
                "codings": summary.codings_added,
                "not_taken": len(summary.not_taken),
            },
        )
        return summary

    return project.write(body, what=f"the import of {path.name}")


def _store_codes(
    connection: Connection, parsed: RefiProject, name: str, user: str, summary: RefiImport
) -> dict[str, str]:
    """Add the file's codes to codebook ``name``; returns REFI code GUID -> our code id."""
    existing = current_codes(connection, name, include_retired=True)
    taken = {c.id for c in existing}
    by_place = {(c.name.strip().casefold(), c.parent): c.id for c in existing if not c.retired}
    ours: dict[str, str] = {}  # the file's code id -> ours
    added: list[Code] = []
    for code in parsed.codes:
        parent = None if code.parent is None else ours.get(code.parent)
        known = by_place.get((code.name.strip().casefold(), parent))
        if known is not None:
            ours[code.id] = known
            continue
        code_id, n = code.id, 2
        while code_id in taken:
            code_id, n = f"{code.id}_{n}", n + 1
        taken.add(code_id)
        ours[code.id] = code_id
        by_place[(code.name.strip().casefold(), parent)] = code_id
        added.append(_code(code, code_id, parent))
    if added:
        version = codebook_version(connection, name) if existing else "1"
        store_codebook(
            connection,
            Codebook(name=name, version=version, codes=[*existing, *added]),
            user,
            str(summary.path),
        )
    summary.codes_added = len(added)
    return {code.guid: ours[code.id] for code in parsed.codes}


def _code(code: RefiCode, code_id: str, parent: str | None) -> Code:
    return Code(id=code_id, name=code.name, parent=parent, definition=code.description, colour=code.colour)


def _attributes(values: dict[str, Value]) -> list[Attribute]:
    return [Attribute.of(key, value) for key, value in values.items() if value is not None]


def _source_paths(file: str, sources: list[RefiSource]) -> dict[str, str]:
    """``file#name`` for each source, ``file#name (2)`` for the second of that name, ...: two
    sources of one name are two documents, not versions of one."""
    seen: dict[str, int] = defaultdict(int)
    paths = {}
    for source in sources:
        seen[source.name] += 1
        count = seen[source.name]
        paths[source.guid] = f"{file}#{source.name}" + (f" ({count})" if count > 1 else "")
    return paths


@dataclass
class _Writer:
    connection: Connection
    parsed: RefiProject
    codebook: str
    codes: dict[str, str]  # REFI code GUID -> our code id
    unit: SegmentUnit
    kind: SourceKind
    summary: RefiImport
    used_notes: set[str] = field(default_factory=set)
    paths: dict[str, str] = field(default_factory=dict)  # source GUID -> the document's path

    def run(self) -> None:
        cases = self._case_of_sources()
        self.paths = _source_paths(self.summary.path.name, self.parsed.sources)
        known = {
            (r.segment_id, r.code_id, r.user, r.start, r.end)
            for r in live_reviews(self.connection, self.codebook)
        }
        for source in self.parsed.sources:
            document_id = self._document(source, cases.get(source.guid))
            segments = self._segments(document_id, source)
            for selection in source.selections:
                self._codings(selection, segments, known)
        for guid, note in self.parsed.notes.items():
            if guid not in self.used_notes:
                self.summary.not_taken.append(
                    f"note '{note.name or guid}' (about nothing this import stores)"
                )

    def _case_of_sources(self) -> dict[str, tuple[str, dict[str, Value]]]:
        found: dict[str, tuple[str, dict[str, Value]]] = {}
        for case in self.parsed.cases:
            for guid in case.source_guids:
                if guid in found:
                    self.summary.problems.append(
                        f"a source is in cases '{found[guid][0]}' and '{case.name}'; its participant is "
                        f"'{found[guid][0]}'"
                    )
                    continue
                found[guid] = (case.name, case.values)
        self.summary.participants = len({name for name, _ in found.values()})
        return found

    def _document(self, source: RefiSource, case: tuple[str, dict[str, Value]] | None) -> int:
        values = dict(source.values)
        kind_value, wave_value = values.pop(KIND_VARIABLE, None), values.pop(WAVE_VARIABLE, None)
        question = values.pop(QUESTION_VARIABLE, None)
        kind = SourceKind(kind_value) if kind_value in {k.value for k in SourceKind} else self.kind
        document = Document(
            kind=kind,
            title=source.name,
            text=source.text,
            participant=None if case is None else case[0],
            wave=wave_value if isinstance(wave_value, int) and not isinstance(wave_value, bool) else None,
            question=None if question is None else str(question),
            path=self.paths[source.guid],
            source_format="qdpx",
            attributes=_attributes(values),
            participant_attributes=[] if case is None else _attributes(case[1]),
        )
        saved = save_document(self.connection, document)
        if saved.outcome == "unchanged":
            self.summary.documents_known += 1
        else:
            self.summary.documents_added += 1
        return saved.document_id

    def _segments(self, document_id: int, source: RefiSource) -> list[Segment]:
        """The document's segments of the unit, with one added for each coded span that needs one."""
        before = load_segments(self.connection, unit=self.unit, document_id=document_id)
        spans = {(s.start, s.end) for s in before}
        new: list[tuple[int, int]] = []
        for selection in sorted(source.selections, key=lambda x: (x.start, -x.end)):
            span = (selection.start, selection.end)
            if span in spans or (before and any(s.start <= span[0] and span[1] <= s.end for s in before)):
                continue
            spans.add(span)
            new.append(span)
        index = max((s.index for s in before), default=-1) + 1
        save_segments(
            self.connection,
            [
                Segment(
                    document_id=document_id,
                    unit=self.unit,
                    index=index + i,
                    start=s,
                    end=e,
                    text=source.text[s:e],
                )
                for i, (s, e) in enumerate(new)
            ],
            PIPELINE,
        )
        self.summary.segments_added += len(new)
        return load_segments(self.connection, unit=self.unit, document_id=document_id) if new else before

    def _codings(self, selection: RefiSelection, segments: list[Segment], known: set[tuple]) -> None:
        exact = [s for s in segments if (s.start, s.end) == (selection.start, selection.end)]
        around = exact or [s for s in segments if s.start <= selection.start and selection.end <= s.end]
        segment = min(around, key=lambda s: s.end - s.start)
        start, end = (None, None) if exact else (selection.start, selection.end)
        for position, coding in enumerate(selection.codings):
            memo = self._memo(coding.memos, selection if position == 0 else None)
            key = (int(segment.id or 0), self.codes[coding.code_guid], coding.user, start, end)
            if key in known:
                self.summary.codings_known += 1
                continue
            known.add(key)
            review = Review(
                segment_id=key[0],
                code_id=key[1],
                decision=Decision.add,
                user=coding.user,
                memo=memo,
                codebook=self.codebook,
                start=start,
                end=end,
            )
            record_review(self.connection, review, source=REVIEW_SOURCE)
            self.summary.codings_added += 1
            self.summary.memos += memo is not None

    def _memo(self, note_guids: list[str], selection: RefiSelection | None) -> str | None:
        """The notes about a coding; the first coding of a selection also takes the selection's
        notes, or its Description where neither it nor its codings refer to a note (QualCoder's
        memo; where there are notes, as in our exports, the Description repeats them)."""
        guids = list(note_guids)
        if selection is not None:
            guids += selection.note_guids
        texts = []
        for guid in guids:
            note = self.parsed.notes.get(guid)
            if note is not None and note.text.strip():
                self.used_notes.add(guid)
                texts.append(note.text)
        if not texts and selection is not None and _description_is_memo(selection):
            texts.append(selection.description or "")
        return "\n\n".join(texts) if texts else None


def _description_is_memo(selection: RefiSelection) -> bool:
    if selection.note_guids or any(coding.memos for coding in selection.codings):
        return False
    return bool((selection.description or "").strip())


def group_problems(lines: list[str], limit: int = 20) -> list[str]:
    """At most ``limit`` lines, the rest counted, for printing."""
    counted: dict[str, int] = defaultdict(int)
    for line in lines:
        counted[line] += 1
    shown = [f"{line} (x{n})" if n > 1 else line for line, n in counted.items()]
    return shown[:limit] + ([f"... and {len(shown) - limit} more"] if len(shown) > limit else [])
