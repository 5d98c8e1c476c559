"""Writing and reading documents, participants and their attributes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from sqlalchemy import ColumnElement, Connection, insert, select, update

from narratives.schema import Attribute, Document, SourceKind, Turn, utcnow
from narratives.store.rows import inserted_id
from narratives.store.tables import attributes, documents, participants

SaveOutcome = Literal["added", "unchanged", "new_version"]


@dataclass
class SavedDocument:
    outcome: SaveOutcome
    document_id: int
    title: str
    path: str | None


def participant_id(connection: Connection, key: str) -> int:
    """The id of participant ``key``, created if new."""
    found = connection.execute(select(participants.c.id).where(participants.c.key == key)).scalar()
    if found is not None:
        return int(found)
    result = connection.execute(insert(participants).values(key=key, created=utcnow()))
    return inserted_id(result)


def save_document(connection: Connection, document: Document, batch: int | None = None) -> SavedDocument:
    """Store one document unless the same content is already there (content hash).

    A document whose ``path`` is known with other content is stored as the next version of it; the
    old version stays (with its segments and codes) but is no longer current.
    """
    existing = connection.execute(
        select(documents.c.id).where(documents.c.content_hash == document.content_hash)
    ).scalar()
    if existing is not None:
        return SavedDocument("unchanged", int(existing), document.title, document.path)
    previous = None
    if document.path:
        previous = connection.execute(
            select(documents.c.id, documents.c.version)
            .where(
                documents.c.path == document.path,
                _same(documents.c.question, document.question),
                documents.c.current.is_(True),
            )
            .order_by(documents.c.version.desc())
        ).first()
    person = participant_id(connection, document.participant) if document.participant else None
    values = document.model_dump(
        include={
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
    )
    values["kind"] = document.kind.value
    result = connection.execute(
        insert(documents).values(
            **values,
            participant_id=person,
            version=previous.version + 1 if previous else 1,
            previous_id=previous.id if previous else None,
            current=True,
            turns=[turn.model_dump() for turn in document.turns],
            ingested=utcnow(),
            ingest_batch=batch,
        )
    )
    new_id = inserted_id(result)
    if previous:
        connection.execute(update(documents).where(documents.c.id == previous.id).values(current=False))
    _save_attributes(connection, document.attributes, document_id=new_id)
    if person is not None:
        _save_attributes(connection, document.participant_attributes, participant_id=person)
    return SavedDocument("new_version" if previous else "added", new_id, document.title, document.path)


def _same(column: Any, value: object) -> ColumnElement[bool]:
    return column.is_(None) if value is None else column == value


def _save_attributes(
    connection: Connection,
    items: list[Attribute],
    *,
    document_id: int | None = None,
    participant_id: int | None = None,
) -> None:
    """Attributes are set, not stacked: a participant's age band is replaced by a newer value."""
    for item in items:
        owner = (
            attributes.c.document_id == document_id
            if document_id is not None
            else attributes.c.participant_id == participant_id
        )
        connection.execute(attributes.delete().where(owner, attributes.c.key == item.key))
        connection.execute(
            insert(attributes).values(
                document_id=document_id,
                participant_id=participant_id,
                key=item.key,
                value=None if item.value is None else str(item.value),
                value_type=item.value_type,
            )
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
