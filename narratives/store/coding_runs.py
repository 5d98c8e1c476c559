"""Coding runs and their suggestions: writing them, and reading back what a run recorded.

A coding run is one row of ``coding_runs`` (codebook, version, unit, model, config with its hash,
the codes it coded, stats once finished) plus the suggestions it wrote, each a
:class:`~narratives.schema.Suggestion`. The coding runner (``narratives.coding.runner``), a code
split and the test and benchmark builders all write runs through these functions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from narratives.schema import Suggestion, utcnow
from narratives.store.events import record_event
from narratives.store.rows import chunked, inserted_id
from narratives.store.tables import coding_runs, segments, suggestions

INSERT_CHUNK = 5000
SUGGESTION_FIELDS = tuple(name for name in Suggestion.model_fields if name not in ("id", "run_id"))


@dataclass(frozen=True)
class CodingRun:
    """One coding run as stored."""

    id: int
    codebook: str
    codebook_version: str
    unit: str | None
    model: str | None
    config: dict[str, Any]
    config_hash: str
    codes: list[str]
    stats: dict[str, Any]
    user: str
    started: datetime
    finished: datetime | None


def _run(row: Any) -> CodingRun:
    return CodingRun(
        id=int(row.id),
        codebook=row.codebook,
        codebook_version=row.codebook_version,
        unit=row.unit,
        model=row.model,
        config=dict(row.config or {}),
        config_hash=row.config_hash,
        codes=list(row.codes or []),
        stats=dict(row.stats or {}),
        user=row.user,
        started=row.started,
        finished=row.finished,
    )


def start_run(
    connection: Connection,
    *,
    codebook: str,
    codebook_version: str,
    unit: str | None,
    model: str | None,
    config: dict[str, Any],
    config_hash: str,
    codes: Sequence[str],
    stats: dict[str, Any],
    user: str,
    started: datetime | None = None,
) -> int:
    """Insert an unfinished run; returns its id."""
    result = connection.execute(
        insert(coding_runs).values(
            codebook=codebook,
            codebook_version=codebook_version,
            unit=unit,
            model=model,
            config=config,
            config_hash=config_hash,
            codes=list(codes),
            stats=stats,
            user=user,
            started=started or utcnow(),
        )
    )
    return inserted_id(result)


def insert_suggestions(
    connection: Connection, run_id: int, items: Sequence[Suggestion], **provenance: str | None
) -> int:
    """Store the run's suggestions (current); returns how many were written. ``provenance`` fields
    (``codebook``, ``codebook_version``, ``config_hash``, ``model``) replace those of every item."""
    unknown = set(provenance) - set(SUGGESTION_FIELDS)
    if unknown:
        raise ValueError(f"not suggestion fields: {sorted(unknown)}")
    common = {"run_id": run_id, "current": True, "created": utcnow(), **provenance}
    fields = [name for name in SUGGESTION_FIELDS if name not in provenance]
    for chunk in chunked(items, INSERT_CHUNK):
        rows = [{**{name: getattr(item, name) for name in fields}, **common} for item in chunk]
        connection.execute(insert(suggestions), rows)
    return len(items)


def supersede(connection: Connection, codebook: str, unit: str, codes: Sequence[str], full: bool) -> int:
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
        query = query.where(suggestions.c.code_id.in_(list(codes)))
    return int(connection.execute(query).rowcount or 0)


def finish_run(
    connection: Connection, run_id: int, stats: dict[str, Any], user: str, *, event: dict[str, Any]
) -> None:
    """Add ``stats`` to the run, mark it finished and record the ``coding.run`` event."""
    row = connection.execute(select(coding_runs).where(coding_runs.c.id == run_id)).one()
    connection.execute(
        update(coding_runs)
        .where(coding_runs.c.id == run_id)
        .values(stats={**(row.stats or {}), **stats}, finished=utcnow())
    )
    record_event(
        connection,
        "coding.run",
        user,
        target=f"{row.codebook}@{row.codebook_version}",
        payload={"run_id": run_id, "unit": row.unit, **event},
    )


def record_coding_run(
    connection: Connection,
    *,
    codebook: str,
    codebook_version: str,
    items: Sequence[Suggestion],
    user: str,
    unit: str | None,
    model: str | None,
    config: dict[str, Any] | None = None,
    stats: dict[str, Any] | None = None,
) -> int:
    """One finished run with its suggestions and event, for writers that score outside the runner
    (a code split, the test and benchmark builders); returns the run id."""
    config = config or {}
    run_id = start_run(
        connection,
        codebook=codebook,
        codebook_version=codebook_version,
        unit=unit,
        model=model,
        config=config,
        config_hash=str(config.get("config_hash", "")) or config_hash(config),
        codes=sorted({item.code_id for item in items}),
        stats={},
        user=user,
    )
    insert_suggestions(connection, run_id, items)
    finish_run(connection, run_id, stats or {}, user, event={"suggestions": len(items)})
    return run_id


def config_hash(config: Mapping[str, Any]) -> str:
    """SHA-256 of a coder config as sorted JSON: the hash every run, suggestion and manifest records."""
    import hashlib
    import json

    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()


def latest_run(connection: Connection, codebook: str, unit: str | None = None) -> CodingRun | None:
    """The newest finished run of ``codebook`` (of ``unit``, when given)."""
    query = select(coding_runs).where(coding_runs.c.codebook == codebook, coding_runs.c.finished.is_not(None))
    if unit is not None:
        query = query.where(coding_runs.c.unit == unit)
    row = connection.execute(query.order_by(coding_runs.c.id.desc()).limit(1)).first()
    return None if row is None else _run(row)


def coding_runs_of(connection: Connection, codebook: str) -> list[CodingRun]:
    """Every run of ``codebook``, oldest first."""
    rows = connection.execute(
        select(coding_runs).where(coding_runs.c.codebook == codebook).order_by(coding_runs.c.id)
    )
    return [_run(row) for row in rows]


def last_coded_unit(connection: Connection, codebook: str) -> str | None:
    """The segment unit the codebook was last coded in (None before any coding run)."""
    unit = connection.execute(
        select(coding_runs.c.unit)
        .where(coding_runs.c.codebook == codebook, coding_runs.c.unit.is_not(None))
        .order_by(coding_runs.c.id.desc())
        .limit(1)
    ).scalar()
    return str(unit) if unit else None


def last_model(connection: Connection, codebook: str) -> str | None:
    """The embedding model of the latest finished coding run of ``codebook``."""
    run = latest_run(connection, codebook)
    return run.model if run is not None else None


def run_suggestion_ids(connection: Connection, run_id: int) -> list[int]:
    """The ids of the suggestions ``run_id`` wrote, in the order written."""
    rows = connection.execute(
        select(suggestions.c.id).where(suggestions.c.run_id == run_id).order_by(suggestions.c.id)
    )
    return [int(i) for i in rows.scalars()]
