"""A de-identified copy of a project's documents, segments and current codings, one JSON file each.

:func:`deidentified_documents` runs the project's rules over every current document in a stable
order (participant, wave, id) with one :class:`~narratives.deidentify.pseudonyms.PseudonymBook`, so
one person has one pseudonym in every document and wave. :func:`export_deidentified` writes, per
document, ``document-<id>.json`` holding the de-identified text, its segments and the codes each
carries now (every codebook), with offsets valid in the de-identified text
(``text[start:end] == segment text``), plus ``index.json``; folder 0700, files 0600.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from narratives.analysis.coded import coded_segments
from narratives.deidentify.key import PREFIXES, PseudonymKey
from narratives.deidentify.project import DeidentificationSettings
from narratives.deidentify.pseudonyms import MappedText, PseudonymBook, deidentify_document, identity
from narratives.store.codebooks import codebook_names
from narratives.store.documents import current_document_rows, document_texts
from narratives.store.files import private_folder, write_private
from narratives.store.segments import load_segments


@dataclass(frozen=True)
class DeidentifiedDocument:
    document_id: int
    title: str  # de-identified
    kind: str
    wave: int | None
    participant: str | None  # the key, or its pseudonym where the key is a known name
    mapped: MappedText


@dataclass
class ExportSummary:
    folder: Path
    documents: int = 0
    segments: int = 0
    codings: int = 0
    pseudonyms: int = 0
    files: list[Path] = field(default_factory=list)


def deidentified_documents(
    connection: Connection, settings: DeidentificationSettings, key: PseudonymKey
) -> Iterator[DeidentifiedDocument]:
    """Every current document de-identified with one book over ``key`` (extended as it goes)."""
    rows = sorted(
        current_document_rows(connection),
        key=lambda r: (r.participant or "", r.wave if r.wave is not None else -1, r.id),
    )
    texts = {t.id: t.text for t in document_texts(connection)}
    found = {row.id: settings.find(texts[row.id]) for row in rows}
    book = PseudonymBook(key)
    book.know_full_names(settings.names)
    book.know_full_names(
        s.text for spans in found.values() for s in spans if PREFIXES.get(s.kind) == "Person"
    )
    known = {identity(n) for n in settings.names}
    for row in rows:
        mapped = deidentify_document(texts[row.id], found[row.id], book)
        title = deidentify_document(row.title, settings.find(row.title), book).text
        participant = row.participant
        if participant is not None and identity(participant) in known:
            participant = book.pseudonym("name", participant)
        yield DeidentifiedDocument(row.id, title, row.kind, row.wave, participant, mapped)


def _codings(connection: Connection) -> dict[int, list[dict[str, Any]]]:
    """Current codings by document, every codebook: code, segment, document offsets, source, score."""
    by_document: dict[int, list[dict[str, Any]]] = {}
    for name in codebook_names(connection):
        for row in coded_segments(connection, name).itertuples(index=False):
            by_document.setdefault(int(row.document_id), []).append(
                {
                    "codebook": name,
                    "code_id": str(row.code_id),
                    "segment_id": int(row.segment_id),
                    "start": int(row.start),
                    "end": int(row.end),
                    "source": str(row.source),
                    "score": None if row.score != row.score else round(float(row.score), 4),
                }
            )
    return by_document


def export_deidentified(
    connection: Connection, settings: DeidentificationSettings, key: PseudonymKey, folder: Path
) -> ExportSummary:
    """Write the de-identified documents, segments and codings into ``folder`` (see the module)."""
    folder = private_folder(Path(folder))
    summary = ExportSummary(folder)
    codings = _codings(connection)
    index = []
    for document in deidentified_documents(connection, settings, key):
        offsets, text = document.mapped.offsets, document.mapped.text
        pieces = []
        for segment in load_segments(connection, document_id=document.document_id):
            start, end = offsets.span(segment.start, segment.end)
            pieces.append(
                {
                    "id": segment.id,
                    "unit": segment.unit.value,
                    "start": start,
                    "end": end,
                    "text": text[start:end],
                }
            )
        coded = []
        for coding in codings.get(document.document_id, []):
            start, end = offsets.span(coding["start"], coding["end"])
            coded.append({**coding, "start": start, "end": end})
        name = f"document-{document.document_id}.json"
        facts: dict[str, Any] = {
            "id": document.document_id,
            "title": document.title,
            "kind": document.kind,
            "wave": document.wave,
            "participant": document.participant,
        }
        content = {
            "document": facts,
            "text": text,
            "segments": pieces,
            "codings": coded,
        }
        write_private(folder / name, json.dumps(content, ensure_ascii=False, indent=1) + "\n")
        summary.files.append(folder / name)
        index.append({"file": name, **facts})
        summary.documents += 1
        summary.segments += len(pieces)
        summary.codings += len(coded)
    write_private(folder / "index.json", json.dumps(index, ensure_ascii=False, indent=1) + "\n")
    summary.files.append(folder / "index.json")
    summary.pseudonyms = len(key.entries)
    return summary
