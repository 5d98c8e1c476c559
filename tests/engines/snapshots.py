"""What the Ray engine tests compare: a project's segments, vectors and suggestions, by content."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import select

from narratives.store.project import open_project
from narratives.store.tables import embeddings, events, segments, suggestions


def copy_project(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


def snapshot(path: Path) -> dict[str, Any]:
    """Segments, vectors and suggestions, by what they are rather than their row ids; suggestions in
    the order they were written."""
    project = open_project(path)
    with project.connect() as connection:
        rows = connection.execute(select(segments)).all()
        where = {r.id: (r.document_id, r.unit, r.idx) for r in rows}
        written = connection.execute(select(suggestions).order_by(suggestions.c.id)).all()
        vectors = connection.execute(select(embeddings)).all()
        runs = connection.execute(select(events.c.kind).where(events.c.kind == "segment.run")).all()
    project.close()
    return {
        "segments": sorted(tuple(r)[1:] for r in rows),
        "suggestions": [(where[r.segment_id], r.run_id, *tuple(r)[3:-1]) for r in written],  # not the time
        "vectors": sorted(tuple(r) for r in vectors),
        "segment_runs": len(runs),
    }
