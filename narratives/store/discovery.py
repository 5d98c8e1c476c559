"""Discovery runs and their candidate themes, as stored.

A discovery run (``discovery_runs``) records its settings and figures; each candidate theme it found
is a row of ``candidates``. What researchers then do with a candidate (promote, merge, dismiss) is
``candidate_events``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection, insert

from narratives.schema import utcnow
from narratives.store.events import record_event
from narratives.store.rows import inserted_id
from narratives.store.tables import candidates, discovery_runs


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
