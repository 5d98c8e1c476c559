"""Counts that describe a project: what `narratives status` prints and the explorer's overview shows."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, func, select

from narratives.store.tables import documents, events, participants, reviews, segments, suggestions


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

    def count(table, *where) -> int:  # type: ignore[no-untyped-def]
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
