"""Writing coding runs and their suggestions (the store side of ``narratives.coding.runner``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, insert, select, update

from narratives.schema import Segment, utcnow
from narratives.store.events import record_event
from narratives.store.tables import coding_runs, segments, suggestions

if TYPE_CHECKING:
    from narratives.coding.base import Embedder
    from narratives.coding.runner import CodingRunResult


def insert_run(
    connection: Connection,
    result: CodingRunResult,
    config_doc: dict[str, Any],
    fingerprints: dict[str, str],
    segs: list[Segment],
    user: str,
    started_at: Any,
    embedder: Embedder,
) -> int:
    inserted = connection.execute(
        insert(coding_runs).values(
            codebook=result.codebook,
            codebook_version=result.codebook_version,
            unit=result.unit,
            model=embedder.name,
            config={**config_doc, "fingerprints": fingerprints},
            config_hash=result.config_hash,
            codes=result.codes_recoded,
            stats={"max_segment_id": max((int(s.id or 0) for s in segs), default=0)},
            user=user,
            started=started_at,
        )
    )
    return int(inserted.inserted_primary_key[0])  # type: ignore[index]


def supersede(connection: Connection, codebook: str, unit: str, codes: list[str], full: bool) -> int:
    """Old suggestions of re-coded and dropped codes on this unit's segments stop being current
    (every code's, when ``full``)."""
    if not codes:
        return 0
    query = (
        update(suggestions)
        .where(
            suggestions.c.codebook == codebook,
            suggestions.c.current.is_(True),
            suggestions.c.segment_id.in_(select(segments.c.id).where(segments.c.unit == unit)),
        )
        .values(current=False)
    )
    if not full:
        query = query.where(suggestions.c.code_id.in_(codes))
    return int(connection.execute(query).rowcount or 0)


def insert_suggestions(connection: Connection, rows: list[dict], result: CodingRunResult, model: str) -> None:
    common = {
        "run_id": result.run_id,
        "codebook": result.codebook,
        "codebook_version": result.codebook_version,
        "config_hash": result.config_hash,
        "model": model,
        "current": True,
        "created": utcnow(),
    }
    for start in range(0, len(rows), 5000):
        connection.execute(insert(suggestions), [{**row, **common} for row in rows[start : start + 5000]])


def finish_run(connection: Connection, result: CodingRunResult, user: str) -> None:
    run_id = result.run_id
    stats = {
        key: getattr(result, key)
        for key in (
            "segments_total",
            "segments_coded",
            "new_segments",
            "codes_unchanged",
            "codes_retired",
            "suggestions_written",
            "suggestions_superseded",
            "cache_hits",
            "cache_misses",
            "learned",
            "seconds",
            "thresholds",
        )
    }
    current = connection.execute(select(coding_runs.c.stats).where(coding_runs.c.id == run_id)).scalar() or {}
    connection.execute(
        update(coding_runs)
        .where(coding_runs.c.id == run_id)
        .values(stats={**current, **stats}, finished=utcnow())
    )
    record_event(
        connection,
        "coding.run",
        user,
        target=f"{result.codebook}@{result.codebook_version}",
        payload={"run_id": run_id, "unit": result.unit, "codes": result.codes_recoded, **stats},
    )


def last_coded_unit(connection: Connection, codebook: str) -> str | None:
    """The segment unit the codebook was last coded in (None before any coding run)."""
    unit = connection.execute(
        select(coding_runs.c.unit)
        .where(coding_runs.c.codebook == codebook, coding_runs.c.unit.is_not(None))
        .order_by(coding_runs.c.id.desc())
        .limit(1)
    ).scalar()
    return str(unit) if unit else None
