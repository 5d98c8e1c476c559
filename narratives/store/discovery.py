"""Discovery runs and their candidate themes, as stored.

A discovery run (``discovery_runs``) records its settings and figures; each candidate theme it found
is a row of ``candidates``. What researchers then do with a candidate (promote, merge, dismiss) is
``candidate_events``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

from sqlalchemy import Connection, Select, insert, select

from narratives.schema import utcnow
from narratives.store.events import record_event
from narratives.store.rows import chunked, inserted_id
from narratives.store.tables import candidate_events, candidates, discovery_runs, documents, segments


@dataclass
class Candidate:
    """One discovered theme, as stored in ``candidates``."""

    id: int | None
    topic: int
    label: str
    keywords: list[str]
    quotes: list[dict[str, Any]]  # [{segment_id, text}]
    segment_ids: list[int]
    size: int
    sizes: dict[str, dict[str, int]]  # {"kind": {"blog": 3}, "need_group": {...}}
    overlap: list[dict[str, Any]]  # [{code_id, name, share}], top 3


def store_candidates(
    connection: Connection,
    found: list[Candidate],
    config: dict[str, Any],
    stats: dict[str, Any],
    model: str,
    user: str,
) -> int:
    result = connection.execute(
        insert(discovery_runs).values(config=config, model=model, stats=stats, user=user, created=utcnow())
    )
    run_id = inserted_id(result)
    for candidate in found:
        values = asdict(candidate)
        values.pop("id")
        inserted = connection.execute(insert(candidates).values(run_id=run_id, **values))
        candidate.id = inserted_id(inserted)
    record_event(
        connection,
        "discovery.run",
        user,
        target=f"discovery/{run_id}",
        payload={"candidates": len(found), "config": config, "stats": stats},
    )
    return run_id


@dataclass
class StoredCandidate:
    """A stored candidate with its run's codebook and what has been done with it since."""

    id: int
    run_id: int
    topic: int
    label: str
    keywords: list[str]
    quotes: list[dict[str, Any]]
    segment_ids: list[int]
    size: int
    sizes: dict[str, dict[str, int]]
    overlap: list[dict[str, Any]]
    codebook: str | None  # the codebook the discovery run compared against
    status: str | None  # None, or the action taken: promote, merge, dismiss
    status_code_id: str | None


def _with_run_config() -> Select[Any]:
    return select(candidates, discovery_runs.c.config).join(
        discovery_runs, discovery_runs.c.id == candidates.c.run_id
    )


def _stored(connection: Connection, row: Any) -> StoredCandidate:
    last = connection.execute(
        select(candidate_events.c.action, candidate_events.c.code_id)
        .where(candidate_events.c.candidate_id == row.id)
        .order_by(candidate_events.c.id.desc())
    ).first()
    return StoredCandidate(
        id=row.id,
        run_id=row.run_id,
        topic=row.topic,
        label=row.label,
        keywords=list(row.keywords),
        quotes=list(row.quotes),
        segment_ids=list(row.segment_ids),
        size=row.size,
        sizes=dict(row.sizes),
        overlap=list(row.overlap),
        codebook=(row.config or {}).get("codebook"),
        status=last.action if last else None,
        status_code_id=last.code_id if last else None,
    )


def stored_candidate(connection: Connection, candidate_id: int) -> StoredCandidate | None:
    """One candidate with its last action, or None when there is no such candidate."""
    row = connection.execute(_with_run_config().where(candidates.c.id == candidate_id)).first()
    return None if row is None else _stored(connection, row)


def latest_discovery_run_id(connection: Connection) -> int | None:
    found = connection.execute(select(discovery_runs.c.id).order_by(discovery_runs.c.id.desc())).scalar()
    return None if found is None else int(found)


def discovery_run_stats(connection: Connection, run_id: int) -> dict[str, Any]:
    """What a discovery run recorded: sizes, outliers, redundancy and (when asked for) stability."""
    found = connection.execute(select(discovery_runs.c.stats).where(discovery_runs.c.id == run_id)).scalar()
    return dict(found or {})


def stored_candidates(connection: Connection, run_id: int) -> list[StoredCandidate]:
    """The candidates of one discovery run with their last actions, largest first."""
    rows = connection.execute(
        _with_run_config()
        .where(candidates.c.run_id == run_id)
        .order_by(candidates.c.size.desc(), candidates.c.id)
    )
    return [_stored(connection, row) for row in rows]


def insert_candidate_event(
    connection: Connection, candidate_id: int, action: str, code_id: str | None, user: str
) -> int:
    """Record what a researcher did with a candidate (promote, merge, dismiss); returns the row id."""
    result = connection.execute(
        insert(candidate_events).values(
            candidate_id=candidate_id, action=action, code_id=code_id, user=user, created=utcnow()
        )
    )
    return inserted_id(result)


class SegmentOwner(NamedTuple):
    """Where a segment comes from: what a candidate's sizes are grouped by."""

    document_id: int
    kind: str
    participant_id: int | None


def segment_owners(connection: Connection, segment_ids: Iterable[int]) -> dict[int, SegmentOwner]:
    """segment id -> its document, the document's source kind and participant (any version)."""
    found: dict[int, SegmentOwner] = {}
    for chunk in chunked(sorted(set(segment_ids))):
        rows = connection.execute(
            select(segments.c.id, segments.c.document_id, documents.c.kind, documents.c.participant_id)
            .join(documents, documents.c.id == segments.c.document_id)
            .where(segments.c.id.in_(chunk))
        )
        found.update(
            {int(row.id): SegmentOwner(row.document_id, row.kind, row.participant_id) for row in rows}
        )
    return found
