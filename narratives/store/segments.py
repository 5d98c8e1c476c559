"""Writing and reading segments."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from sqlalchemy import Connection, and_, exists, func, insert, or_, select

from narratives.schema import Segment, SegmentUnit, text_hash
from narratives.store.idempotent import insert_new_rows
from narratives.store.rows import chunked
from narratives.store.tables import documents, segments


def documents_without_segments(
    connection: Connection, unit: SegmentUnit, kinds: list[str] | None = None
) -> list[tuple[int, str, str, list[dict]]]:
    """Current documents not yet segmented into ``unit``: (id, kind, text, turns)."""
    already = exists().where(and_(segments.c.document_id == documents.c.id, segments.c.unit == unit.value))
    query = (
        select(documents.c.id, documents.c.kind, documents.c.text, documents.c.turns)
        .where(documents.c.current.is_(True), ~already)
        .order_by(documents.c.id)
    )
    if kinds:
        query = query.where(documents.c.kind.in_(kinds))
    return [(int(r.id), r.kind, r.text, r.turns or []) for r in connection.execute(query)]


def save_segments(connection: Connection, items: Iterable[Segment], pipeline: str) -> int:
    rows = [_segment_row(s, pipeline) for s in items]
    if rows:
        connection.execute(insert(segments), rows)
    return len(rows)


def _segment_row(s: Segment, pipeline: str) -> dict[str, Any]:
    return {
        "document_id": s.document_id,
        "unit": s.unit.value,
        "idx": s.index,
        "start": s.start,
        "end": s.end,
        "text": s.text,
        "text_hash": text_hash(s.text),
        "speaker": s.speaker,
        "pipeline": pipeline,
    }


def _segment(row: Any) -> Segment:
    return Segment(
        id=row.id,
        document_id=row.document_id,
        unit=SegmentUnit(row.unit),
        index=row.idx,
        start=row.start,
        end=row.end,
        text=row.text,
        speaker=row.speaker,
    )


def load_segments(
    connection: Connection,
    *,
    unit: SegmentUnit | None = None,
    document_id: int | None = None,
    ids: Iterable[int] | None = None,
    current_only: bool = True,
    exclude_speakers: Sequence[str] = (),
) -> list[Segment]:
    """Segments in document order; ``exclude_speakers`` leaves out turns such as the interviewer's.
    ``ids`` may be as long as you like: it is asked for in chunks."""
    query = select(segments).order_by(segments.c.document_id, segments.c.idx)
    if exclude_speakers:
        query = query.where(
            or_(segments.c.speaker.is_(None), segments.c.speaker.not_in(list(exclude_speakers)))
        )
    if unit is not None:
        query = query.where(segments.c.unit == unit.value)
    if document_id is not None:
        query = query.where(segments.c.document_id == document_id)
    if current_only:
        query = query.join(documents, documents.c.id == segments.c.document_id).where(
            documents.c.current.is_(True)
        )
    if ids is None:
        return [_segment(row) for row in connection.execute(query)]
    found = [
        _segment(row)
        for chunk in chunked(sorted(set(ids)))
        for row in connection.execute(query.where(segments.c.id.in_(chunk)))
    ]
    return sorted(found, key=lambda s: (s.document_id, s.index))


def segmented_units(connection: Connection) -> list[str]:
    return sorted(str(u) for u in connection.execute(select(segments.c.unit).distinct()).scalars())


def neighbours(items: Sequence[Segment], segment_id: int) -> tuple[Segment | None, Segment | None]:
    """The segments just before and after ``segment_id`` in the same unit of the same document.

    ``items`` may hold several units of a document (sentences and turns, say): only the segment's
    own unit counts, in document order.
    """
    this = next((s for s in items if s.id == segment_id), None)
    if this is None:
        return None, None
    same = sorted(
        (s for s in items if s.unit == this.unit and s.document_id == this.document_id), key=lambda s: s.index
    )
    at = next(i for i, s in enumerate(same) if s.id == segment_id)
    return (same[at - 1] if at > 0 else None), (same[at + 1] if at + 1 < len(same) else None)


class SegmentSpan(NamedTuple):
    document_id: int
    start: int
    end: int


def segment_spans(
    connection: Connection,
    *,
    ids: Iterable[int] | None = None,
    unit: str | None = None,
    document_id: int | None = None,
) -> dict[int, SegmentSpan]:
    """segment id -> (document, start, end) for segments of current documents, narrowed as asked."""
    query = (
        select(segments.c.id, segments.c.document_id, segments.c.start, segments.c.end, segments.c.unit)
        .join(documents, documents.c.id == segments.c.document_id)
        .where(documents.c.current.is_(True))
    )
    if document_id is not None:
        query = query.where(segments.c.document_id == document_id)
    if ids is None:
        if unit is not None:
            query = query.where(segments.c.unit == unit)
        return {int(row.id): SegmentSpan(*row[1:4]) for row in connection.execute(query).all()}
    # By id: primary-key lookups, the unit checked here (a unit condition in SQL can make the
    # planner scan the unit's index instead).
    found: dict[int, SegmentSpan] = {}
    for chunk in chunked(sorted(set(ids))):
        narrowed = query.where(segments.c.id.in_(chunk))
        found.update(
            {
                int(row.id): SegmentSpan(*row[1:4])
                for row in connection.execute(narrowed).all()
                if unit is None or row.unit == unit
            }
        )
    return found


def count_segments(connection: Connection, *, unit: str | None = None) -> int:
    """Segments of current documents (of ``unit``, when given)."""
    query = (
        select(func.count(segments.c.id))
        .join(documents, documents.c.id == segments.c.document_id)
        .where(documents.c.current.is_(True))
    )
    if unit is not None:
        query = query.where(segments.c.unit == unit)
    return int(connection.execute(query).scalar_one())


class SegmentMatch(NamedTuple):
    """A segment found by where it is or what it says."""

    id: int
    unit: str
    document_id: int


def segments_at(connection: Connection, document_path: str, start: int, end: int) -> list[SegmentMatch]:
    """Segments of the current document at ``document_path`` spanning exactly ``start:end`` (any unit)."""
    rows = connection.execute(
        select(segments.c.id, segments.c.unit, segments.c.document_id)
        .join(documents, documents.c.id == segments.c.document_id)
        .where(
            documents.c.path == document_path,
            documents.c.current.is_(True),
            segments.c.start == start,
            segments.c.end == end,
        )
    )
    return [SegmentMatch(*row) for row in rows]


def segments_with_text(connection: Connection, text: str) -> list[SegmentMatch]:
    """Segments of current documents whose text is exactly ``text`` (any unit, any document)."""
    rows = connection.execute(
        select(segments.c.id, segments.c.unit, segments.c.document_id)
        .join(documents, documents.c.id == segments.c.document_id)
        .where(segments.c.text_hash == text_hash(text), documents.c.current.is_(True))
    )
    return [SegmentMatch(*row) for row in rows]


def segment_counts_by_document(connection: Connection) -> dict[int, int]:
    """document id -> how many segments it has (every unit, current or not)."""
    rows = connection.execute(select(segments.c.document_id, func.count()).group_by(segments.c.document_id))
    return {int(document_id): int(n) for document_id, n in rows}


def segment_text_hashes(connection: Connection) -> list[str]:
    """The distinct text hashes of every stored segment, sorted."""
    return sorted(str(h) for h in connection.execute(select(segments.c.text_hash).distinct()).scalars())


def save_new_segments(connection: Connection, items: Iterable[Segment], pipeline: str) -> int:
    """:func:`save_segments`, skipping segments already stored at their (document, unit, index) (the
    table's unique key), so a batch written twice (a retried Ray task) adds nothing; returns how many
    segments the batch holds, stored now or before."""
    rows = [_segment_row(s, pipeline) for s in items]
    insert_new_rows(connection, segments, rows, keys=("document_id", "unit", "idx"))
    return len(rows)
