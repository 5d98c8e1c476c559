"""Segment the project's documents and store the segments (the store side of `segment.py`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from narratives.errors import SegmentError
from narratives.schema import Segment, SegmentUnit, SourceKind
from narratives.segment.nlp import load_pipeline, pipeline_description
from narratives.segment.split import as_unit, segment_documents, segment_text
from narratives.store.events import record_event
from narratives.store.project import Project

if TYPE_CHECKING:
    from spacy.language import Language
from narratives.store.segments import documents_without_segments, save_segments

# What each unit means for each kind: a survey answer has no speaker turns, so "turn" falls back
# to "response" there; a blog post has no turns either, so "turn" falls back to "paragraph".
TURN_FALLBACK = {SourceKind.survey.value: SegmentUnit.response, SourceKind.blog.value: SegmentUnit.paragraph}


@dataclass
class SegmentReport:
    unit: SegmentUnit
    pipeline: str
    documents: int = 0
    segments: int = 0
    skipped: int = 0  # documents already segmented into this unit
    failures: list[str] = field(default_factory=list)


def segment_project(
    project: Project,
    unit: SegmentUnit | str,
    *,
    user: str,
    kinds: list[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SegmentReport:
    """Segment every current document not yet segmented into ``unit``, in one transaction.

    Documents already segmented are left alone, so running it twice adds nothing. When a lock or
    a conflict refuses the write (SQLite busy, a PostgreSQL deadlock), the transaction is rolled
    back and the whole run done again, its report counted afresh.
    """
    unit = as_unit(unit)
    nlp = load_pipeline()
    description = pipeline_description(nlp)

    def attempt(connection: Connection) -> SegmentReport:
        report = SegmentReport(unit=unit, pipeline=description)
        _segment_pending(connection, unit, nlp, report, kinds, progress)
        record_segment_run(connection, report, user)
        return report

    return project.write(attempt, what=f"the {unit.value} segments")


def _segment_pending(
    connection: Connection,
    unit: SegmentUnit,
    nlp: Language,
    report: SegmentReport,
    kinds: list[str] | None,
    progress: Callable[[int, int], None] | None,
) -> None:
    pending = documents_without_segments(connection, unit, kinds)
    batch: list[Segment] = []
    done = 0
    for use_unit, docs in group_by_unit(pending, unit).items():
        failed_before = len(report.failures)
        for piece in segment_group(docs, use_unit, nlp, report):
            # Stored under the unit asked for, so `--unit turn` finds every document.
            batch.append(piece.model_copy(update={"unit": unit}))
            if len(batch) >= 2000:
                report.segments += save_segments(connection, batch, report.pipeline)
                batch.clear()
        done += len(docs)
        report.documents += len(docs) - (len(report.failures) - failed_before)
        if progress:
            progress(done, len(pending))
    report.segments += save_segments(connection, batch, report.pipeline)


def record_segment_run(connection: Connection, report: SegmentReport, user: str) -> None:
    """The ``segment.run`` event of a finished run (any engine)."""
    payload = {
        "unit": report.unit.value,
        "pipeline": report.pipeline,
        "documents": report.documents,
        "segments": report.segments,
    }
    record_event(connection, "segment.run", user, payload=payload)


def group_by_unit(
    pending: list[tuple[int, str, str, list[dict[str, Any]]]], unit: SegmentUnit
) -> dict[SegmentUnit, list[tuple[int, str, list[dict[str, Any]]]]]:
    """Pending (id, kind, text, turns) by the unit each is split into (``turn`` falls back by kind)."""
    groups: dict[SegmentUnit, list[tuple[int, str, list[dict[str, Any]]]]] = defaultdict(list)
    for document_id, kind, text, turns in pending:
        use_unit = TURN_FALLBACK.get(kind, unit) if unit is SegmentUnit.turn and not turns else unit
        groups[use_unit].append((document_id, text, turns))
    return groups


def segment_group(
    docs: list[tuple[int, str, list[dict[str, Any]]]],
    unit: SegmentUnit,
    nlp: Language,
    report: SegmentReport,
) -> Iterator[Segment]:
    """Batch through spaCy; if one document is bad, redo the group one by one to name it."""
    try:
        yield from list(segment_documents(docs, unit, nlp))
        return
    except SegmentError:
        pass
    for document_id, text, turns in docs:
        try:
            yield from segment_text(text, unit, turns=turns, nlp=nlp, document_id=document_id)
        except SegmentError as error:
            report.failures.append(str(error))
