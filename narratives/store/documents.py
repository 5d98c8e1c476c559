"""Writing and reading documents, participants and their attributes."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, NamedTuple

from sqlalchemy import Connection, bindparam, insert, select, update

from narratives.schema import Attribute, Document, SourceKind, Turn, utcnow
from narratives.store.tables import attributes, documents, participants

SaveOutcome = Literal["added", "unchanged", "new_version"]
SAVE_CHUNK = 500  # documents stored together by save_documents: a few statements per chunk


@dataclass
class SavedDocument:
    outcome: SaveOutcome
    document_id: int
    title: str
    path: str | None


def participant_id(connection: Connection, key: str) -> int:
    """The id of participant ``key``, created if new."""
    return participant_ids(connection, [key])[key]


def save_document(connection: Connection, document: Document, batch: int | None = None) -> SavedDocument:
    """Store one document unless the same content is already there (content hash).

    A document whose ``path`` is known with other content is stored as the next version of it; the
    old version stays (with its segments and codes) but is no longer current.
    """
    return _save_chunk(connection, [document], batch)[0]


def save_documents(
    connection: Connection,
    items: Iterable[Document],
    batch: int | None = None,
    *,
    chunk_size: int = SAVE_CHUNK,
) -> Iterator[SavedDocument]:
    """Store ``items`` as :func:`save_document` would one after another, ``chunk_size`` at a time:
    each chunk is a few statements of many rows, not several statements per document. Yields one
    :class:`SavedDocument` per document, in order, as each chunk is stored, so a stream of documents
    is never held in memory whole. Within a chunk the same content twice is stored once and a second
    document at the same path (and question) becomes the next version of the first, as one by one."""
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, chunk_size)):
        yield from _save_chunk(connection, chunk, batch)


def _save_chunk(connection: Connection, chunk: list[Document], batch: int | None) -> list[SavedDocument]:
    """A chunk in runs where no document shares content or a version chain with an earlier one of
    its run, so each run's lookups see the database as one-by-one saving would."""
    saved: list[SavedDocument] = []
    run: list[Document] = []
    seen: set[tuple[str, str, str | None]] = set()
    for document in chunk:
        keys: set[tuple[str, str, str | None]] = {("hash", document.content_hash, None)}
        if document.path:
            keys.add(("path", document.path, document.question))
        if keys & seen:
            saved.extend(_save_run(connection, run, batch))
            run, seen = [], set()
        run.append(document)
        seen |= keys
    saved.extend(_save_run(connection, run, batch))
    return saved


class _Previous(NamedTuple):
    id: int
    version: int


def _save_run(connection: Connection, run: list[Document], batch: int | None) -> list[SavedDocument]:
    if not run:
        return []
    stored = _stored_hashes(connection, [d.content_hash for d in run])
    fresh = [d for d in run if d.content_hash not in stored]
    previous = _current_versions(connection, fresh)
    people = participant_ids(connection, [d.participant for d in fresh if d.participant])
    now = utcnow()
    rows = [_document_row(d, previous.get((d.path, d.question)), people, now, batch) for d in fresh]
    new_ids: dict[str, int] = {}
    if rows:  # one executemany; the new ids are found by content hash, unique to each document
        connection.execute(insert(documents), rows)
        new_ids = _stored_hashes(connection, [d.content_hash for d in fresh])
    superseded = [p.id for d in fresh if (p := previous.get((d.path, d.question)))]
    if superseded:
        connection.execute(update(documents).where(documents.c.id.in_(superseded)).values(current=False))
    _save_attributes(connection, fresh, new_ids, people)
    saved = []
    for d in run:
        if d.content_hash in stored:
            saved.append(SavedDocument("unchanged", stored[d.content_hash], d.title, d.path))
        else:
            outcome: SaveOutcome = "new_version" if (d.path, d.question) in previous else "added"
            saved.append(SavedDocument(outcome, new_ids[d.content_hash], d.title, d.path))
    return saved


def _stored_hashes(connection: Connection, hashes: list[str]) -> dict[str, int]:
    query = select(documents.c.content_hash, documents.c.id).where(documents.c.content_hash.in_(hashes))
    return {str(h): int(i) for h, i in connection.execute(query)}


def _current_versions(
    connection: Connection, fresh: list[Document]
) -> dict[tuple[str | None, str | None], _Previous]:
    """The current version of each path (and question) of ``fresh``: the newest, if several are."""
    paths = sorted({d.path for d in fresh if d.path})
    if not paths:
        return {}
    wanted = {(d.path, d.question) for d in fresh if d.path}
    query = (
        select(documents.c.path, documents.c.question, documents.c.id, documents.c.version)
        .where(documents.c.path.in_(paths), documents.c.current.is_(True))
        .order_by(documents.c.version.desc(), documents.c.id)
    )
    found: dict[tuple[str | None, str | None], _Previous] = {}
    for path, question, doc_id, version in connection.execute(query):
        if (path, question) in wanted:
            found.setdefault((path, question), _Previous(int(doc_id), int(version)))
    return found


def participant_ids(connection: Connection, keys: Sequence[str]) -> dict[str, int]:
    """The ids of participants ``keys``; those new are created, in the order first given."""
    wanted = list(dict.fromkeys(keys))
    if not wanted:
        return {}

    def lookup() -> dict[str, int]:
        query = select(participants.c.key, participants.c.id).where(participants.c.key.in_(wanted))
        return {str(k): int(i) for k, i in connection.execute(query)}

    found = lookup()
    missing = [key for key in wanted if key not in found]
    if missing:
        now = utcnow()
        connection.execute(insert(participants), [{"key": key, "created": now} for key in missing])
        found = lookup()
    return found


def _document_row(
    document: Document,
    previous: _Previous | None,
    people: dict[str, int],
    now: datetime,
    batch: int | None,
) -> dict[str, Any]:
    values = document.model_dump(include=_DOCUMENT_FIELDS)
    values["kind"] = document.kind.value
    return {
        **values,
        "participant_id": people[document.participant] if document.participant else None,
        "version": previous.version + 1 if previous else 1,
        "previous_id": previous.id if previous else None,
        "current": True,
        "turns": [turn.model_dump() for turn in document.turns],
        "ingested": now,
        "ingest_batch": batch,
    }


# the columns of a documents row that are copied from the Document as they are
_DOCUMENT_FIELDS = {
    "kind",
    "title",
    "author",
    "date",
    "wave",
    "question",
    "path",
    "source_format",
    "content_hash",
    "text",
}


def _save_attributes(
    connection: Connection, fresh: list[Document], new_ids: dict[str, int], people: dict[str, int]
) -> None:
    """Attributes are set, not stacked: a participant's age band is replaced by a newer value.

    Each new document's attributes, then its participant's, in document order; of one owner's key
    given more than once, the last is kept, where it came (as setting them one at a time would).
    A new document has no attributes yet, so only participants' older values are deleted."""
    entries: list[tuple[tuple[str, int, str], Attribute]] = []
    for document in fresh:
        entries += [(("document", new_ids[document.content_hash], a.key), a) for a in document.attributes]
        if document.participant:
            person = people[document.participant]
            entries += [(("participant", person, a.key), a) for a in document.participant_attributes]
    last = {owner: index for index, (owner, _) in enumerate(entries)}
    kept = [(owner, item) for index, (owner, item) in enumerate(entries) if last[owner] == index]
    replaced = [
        {"owner": owner_id, "attribute": key} for (kind, owner_id, key), _ in kept if kind == "participant"
    ]
    if replaced:
        connection.execute(
            attributes.delete().where(
                attributes.c.participant_id == bindparam("owner"), attributes.c.key == bindparam("attribute")
            ),
            replaced,
        )
    if kept:
        connection.execute(
            insert(attributes),
            [
                {
                    "document_id": owner_id if kind == "document" else None,
                    "participant_id": owner_id if kind == "participant" else None,
                    "key": key,
                    "value": None if item.value is None else str(item.value),
                    "value_type": item.value_type,
                }
                for (kind, owner_id, key), item in kept
            ],
        )


def parse_attribute_value(value: str | None, value_type: str) -> str | int | float | bool | None:
    if value is None:
        return None
    if value_type == "int":
        return int(value)
    if value_type == "float":
        return float(value)
    if value_type == "bool":
        return value == "True"
    return value


def load_document(connection: Connection, document_id: int) -> Document:
    row = connection.execute(select(documents).where(documents.c.id == document_id)).one()
    person = None
    if row.participant_id is not None:
        person = connection.execute(
            select(participants.c.key).where(participants.c.id == row.participant_id)
        ).scalar()
    doc_attributes = [
        Attribute(key=a.key, value=parse_attribute_value(a.value, a.value_type), value_type=a.value_type)
        for a in connection.execute(select(attributes).where(attributes.c.document_id == document_id))
    ]
    person_attributes = []
    if row.participant_id is not None:
        person_attributes = [
            Attribute(key=a.key, value=parse_attribute_value(a.value, a.value_type), value_type=a.value_type)
            for a in connection.execute(
                select(attributes).where(attributes.c.participant_id == row.participant_id)
            )
        ]
    return Document(
        id=row.id,
        kind=SourceKind(row.kind),
        title=row.title,
        text=row.text,
        author=row.author,
        participant=person,
        date=row.date,
        wave=row.wave,
        question=row.question,
        path=row.path,
        source_format=row.source_format,
        attributes=doc_attributes,
        participant_attributes=person_attributes,
        turns=[Turn(**turn) for turn in row.turns or []],
        content_hash=row.content_hash,
        version=row.version,
    )


def current_document_ids(connection: Connection, kind: SourceKind | None = None) -> list[int]:
    query = select(documents.c.id).where(documents.c.current.is_(True)).order_by(documents.c.id)
    if kind is not None:
        query = query.where(documents.c.kind == kind.value)
    return [int(i) for i in connection.execute(query).scalars()]


class DocumentRow(NamedTuple):
    """A current document's facts, without its text: what analyses group by."""

    id: int
    title: str
    kind: str
    wave: int | None
    participant: str | None  # the participant key
    participant_id: int | None
    date: str | None
    question: str | None
    path: str | None


def current_document_rows(connection: Connection, *, kinds: Iterable[str] | None = None) -> list[DocumentRow]:
    """Every current document (of ``kinds``), in id order."""
    query = (
        select(
            documents.c.id,
            documents.c.title,
            documents.c.kind,
            documents.c.wave,
            participants.c.key,
            documents.c.participant_id,
            documents.c.date,
            documents.c.question,
            documents.c.path,
        )
        .outerjoin(participants, participants.c.id == documents.c.participant_id)
        .where(documents.c.current.is_(True))
        .order_by(documents.c.id)
    )
    if kinds:
        query = query.where(documents.c.kind.in_([str(k) for k in kinds]))
    return [DocumentRow(*row) for row in connection.execute(query)]


class AttributeRow(NamedTuple):
    """One stored attribute: of a document (``document_id``) or of a participant (``participant_id``)."""

    document_id: int | None
    participant_id: int | None
    key: str
    value: str | None
    value_type: str


def attribute_rows(connection: Connection, *, current_only: bool = False) -> list[AttributeRow]:
    """Every attribute, in the order stored.

    ``current_only`` leaves out attributes of documents that are no longer current.
    """
    query = select(
        attributes.c.document_id,
        attributes.c.participant_id,
        attributes.c.key,
        attributes.c.value,
        attributes.c.value_type,
    ).order_by(attributes.c.id)
    if current_only:
        current = select(documents.c.id).where(documents.c.current.is_(True))
        query = query.where(attributes.c.document_id.is_(None) | attributes.c.document_id.in_(current))
    return [AttributeRow(*row) for row in connection.execute(query)]


def document_choices(connection: Connection) -> list[tuple[int, str, str]]:
    """(id, title, kind) of every current document, by kind and title, for pickers."""
    rows = connection.execute(
        select(documents.c.id, documents.c.title, documents.c.kind)
        .where(documents.c.current.is_(True))
        .order_by(documents.c.kind, documents.c.title, documents.c.id)
    )
    return [(int(i), str(t), str(k)) for i, t, k in rows]


class DocumentText(NamedTuple):
    """A document's text with the facts an export names it by."""

    id: int
    title: str
    text: str
    kind: str
    wave: int | None


def document_texts(connection: Connection, *, ids: Sequence[int] | None = None) -> list[DocumentText]:
    """Every current document's text, in id order; or those of ``ids`` (current or not)."""
    query = select(
        documents.c.id, documents.c.title, documents.c.text, documents.c.kind, documents.c.wave
    ).order_by(documents.c.id)
    query = query.where(documents.c.current.is_(True) if ids is None else documents.c.id.in_(list(ids)))
    return [DocumentText(*row) for row in connection.execute(query)]


def document_text(connection: Connection, document_id: int) -> str:
    """The text of one document (current or not)."""
    return str(connection.execute(select(documents.c.text).where(documents.c.id == document_id)).scalar_one())


class CaseRow(NamedTuple):
    """A participant and one current document they are in."""

    participant_id: int
    participant: str  # the participant key
    document_id: int


def case_rows(connection: Connection) -> list[CaseRow]:
    """(participant, document) for every current document with a participant, by key then document."""
    rows = connection.execute(
        select(participants.c.id, participants.c.key, documents.c.id)
        .join(documents, documents.c.participant_id == participants.c.id)
        .where(documents.c.current.is_(True))
        .order_by(participants.c.key, documents.c.id)
    )
    return [CaseRow(*row) for row in rows]


def participant_keys(connection: Connection) -> list[str]:
    """Every participant key, in the order stored."""
    return [
        str(k) for k in connection.execute(select(participants.c.key).order_by(participants.c.id)).scalars()
    ]


def author_names(connection: Connection) -> list[str]:
    """The distinct authors of stored documents (any version), sorted."""
    query = select(documents.c.author).where(documents.c.author.is_not(None)).distinct()
    return sorted(str(a) for a in connection.execute(query).scalars())


def first_content_hash(connection: Connection) -> str | None:
    """The content hash of the first document ever stored (None in an empty project)."""
    found = connection.execute(select(documents.c.content_hash).order_by(documents.c.id).limit(1)).scalar()
    return None if found is None else str(found)
