"""Counts that describe a project: what `narratives status` prints and the explorer's overview shows."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Connection, Table, func, select

from narratives.store.tables import (
    candidates,
    documents,
    events,
    participants,
    reviews,
    segments,
    suggestions,
)


@dataclass
class ProjectStatus:
    documents_by_kind: dict[str, int] = field(default_factory=dict)
    document_versions: int = 0
    participants: int = 0
    waves: dict[int, int] = field(default_factory=dict)
    segments_by_unit: dict[str, int] = field(default_factory=dict)
    suggestions: int = 0
    reviews: int = 0
    events: int = 0

    @property
    def documents(self) -> int:
        return sum(self.documents_by_kind.values())


def project_status(connection: Connection) -> ProjectStatus:
    current = documents.c.current.is_(True)
    by_kind = connection.execute(
        select(documents.c.kind, func.count()).where(current).group_by(documents.c.kind)
    ).all()
    waves = connection.execute(
        select(documents.c.wave, func.count())
        .where(current, documents.c.wave.is_not(None))
        .group_by(documents.c.wave)
    ).all()
    by_unit = connection.execute(
        select(segments.c.unit, func.count())
        .join(documents, documents.c.id == segments.c.document_id)
        .where(current)
        .group_by(segments.c.unit)
    ).all()

    def count(table: Table, *where: ColumnElement[bool]) -> int:
        return int(connection.execute(select(func.count()).select_from(table).where(*where)).scalar_one())

    return ProjectStatus(
        documents_by_kind={kind: n for kind, n in by_kind},
        document_versions=count(documents),
        participants=count(participants),
        waves={int(w): n for w, n in waves},
        segments_by_unit={unit: n for unit, n in by_unit},
        suggestions=count(suggestions, suggestions.c.current.is_(True)),
        reviews=count(reviews),
        events=count(events),
    )


def data_version(connection: Connection) -> str:
    """Changes whenever anything is written (events, suggestions, reviews, candidates): a cache key."""
    parts = [
        connection.execute(select(func.max(table.c.id))).scalar() or 0
        for table in (events, suggestions, reviews, candidates)
    ]
    return ":".join(str(p) for p in parts)


@dataclass
class CorpusRow:
    """Current documents, distinct participants and segments of one source kind and wave."""

    kind: str
    wave: int | None
    documents: int
    participants: int
    segments: int


def corpus_counts(connection: Connection, unit: str | None = None) -> list[CorpusRow]:
    """Current documents, distinct participants and segments (of ``unit``) by source kind and wave."""
    docs = connection.execute(
        select(
            documents.c.kind,
            documents.c.wave,
            func.count(documents.c.id),
            func.count(documents.c.participant_id.distinct()),
        )
        .where(documents.c.current.is_(True))
        .group_by(documents.c.kind, documents.c.wave)
    ).all()
    segment_query = (
        select(documents.c.kind, documents.c.wave, func.count(segments.c.id))
        .join(documents, documents.c.id == segments.c.document_id)
        .where(documents.c.current.is_(True))
        .group_by(documents.c.kind, documents.c.wave)
    )
    if unit:
        segment_query = segment_query.where(segments.c.unit == unit)
    segment_counts = {(k, w): n for k, w, n in connection.execute(segment_query)}
    rows = [CorpusRow(k, w, int(d), int(p), int(segment_counts.get((k, w), 0))) for k, w, d, p in docs]
    return sorted(rows, key=lambda r: (r.kind, -1 if r.wave is None else r.wave))


def most_common_unit(connection: Connection) -> str | None:
    """The segment unit with most segments, if any."""
    common = connection.execute(
        select(segments.c.unit).group_by(segments.c.unit).order_by(func.count().desc()).limit(1)
    ).scalar()
    return str(common) if common else None
