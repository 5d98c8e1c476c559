"""Writing test projects through the library's own writers, never by inserting rows by hand.

A :class:`ProjectBuilder` wraps one open transaction and writes what a test describes the way the
tool would: documents with their segments (``store.documents``, ``store.segments``), a codebook
(``store.codebooks``), a coding run of given (segment, code, score) cells
(``store.coding_runs.record_coding_run``, which also records its ``coding.run`` event), a later
run's supersession (``store.suggestions.set_current``), reviews (``review.record.record_review``)
and discovery candidates (``store.discovery.store_candidates``)::

    with project.begin() as connection:
        build = ProjectBuilder(connection, codebook="care")
        ids = build.add_documents(DOCUMENTS, split=sentences)
        build.store_codebook(Codebook(name="care", codes=CODES))
        run = build.coding_run([Cell(segment_id, "waiting", 0.8)], thresholds={"waiting": 0.7})
        build.review(segment_id, "waiting", Decision.accept, user="ana", suggestion_id=run.suggestion_ids[0])

Tests may still read tables to check what was stored; only the writes go through here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import Connection

from narratives.review.record import record_review
from narratives.schema import Codebook, Decision, Document, Review, Segment, Suggestion
from narratives.store.codebooks import store_codebook
from narratives.store.coding_runs import record_coding_run, run_suggestion_ids
from narratives.store.discovery import Candidate, store_candidates
from narratives.store.documents import save_document
from narratives.store.segments import load_segments, save_segments
from narratives.store.suggestions import set_current

Splitter = Callable[[int, Document], list[Segment]]  # (document id, document) -> its segments


class Cell(NamedTuple):
    """One suggestion a coding run writes: a coder's score of a code on a segment, with its evidence."""

    segment_id: int
    code_id: str
    score: float
    coder: str = "ensemble"
    evidence: str | None = None
    evidence_start: int | None = None  # offsets into the segment text, when the evidence is a span
    evidence_end: int | None = None


CellLike = Cell | tuple[Any, ...]  # a Cell, or (segment, code, score[, coder[, evidence, start, end]])


@dataclass(frozen=True)
class WrittenRun:
    """A coding run written by :meth:`ProjectBuilder.coding_run`: its id and, cell by cell, the ids
    of the suggestions it wrote (a run writes them in order; empty when asked not to look them up)."""

    run_id: int
    suggestion_ids: list[int] = field(default_factory=list)


@dataclass
class ProjectBuilder:
    """Writes test data into one open transaction (``connection``) through library calls."""

    connection: Connection
    codebook: str
    user: str = "setup"
    codebook_version: str = "1"
    model: str | None = "fake"
    config_hash: str = "x"  # recorded on every suggestion
    pipeline: str = "test"  # recorded on every segment

    # ---------------------------------------------------------------------------- documents

    def add_document(self, document: Document, split: Splitter | None = None) -> int:
        """Store a document (and, with ``split``, its segments); returns its id."""
        document_id = save_document(self.connection, document).document_id
        if split is not None:
            save_segments(self.connection, split(document_id, document), pipeline=self.pipeline)
        return document_id

    def add_documents(self, documents: Iterable[Document], split: Splitter | None = None) -> dict[str, int]:
        """Store each document with its segments; returns title -> document id."""
        return {document.title: self.add_document(document, split) for document in documents}

    def segment_ids(self) -> dict[str, int]:
        """segment text -> segment id, for every stored segment (a text found twice: the later one)."""
        return {s.text: int(s.id or 0) for s in load_segments(self.connection, current_only=False)}

    def store_codebook(self, codebook: Codebook) -> None:
        store_codebook(self.connection, codebook, self.user)

    # ------------------------------------------------------------------------------- coding

    def coding_run(
        self,
        cells: Sequence[CellLike],
        *,
        thresholds: dict[str, float] | None = None,
        config: dict[str, Any] | None = None,
        unit: str | None = "sentence",
        with_ids: bool = True,
    ) -> WrittenRun:
        """One finished coding run writing exactly ``cells`` (all current), with the per-code
        ``thresholds`` the run recorded; ``with_ids=False`` skips looking up the suggestion ids."""
        items = [self._suggestion(cell if isinstance(cell, Cell) else Cell(*cell)) for cell in cells]
        run_id = record_coding_run(
            self.connection,
            codebook=self.codebook,
            codebook_version=self.codebook_version,
            items=items,
            user=self.user,
            unit=unit,
            model=self.model,
            config=config or {},
            stats={"thresholds": thresholds} if thresholds is not None else {},
        )
        return WrittenRun(run_id, run_suggestion_ids(self.connection, run_id) if with_ids else [])

    def _suggestion(self, cell: Cell) -> Suggestion:
        return Suggestion(
            segment_id=cell.segment_id,
            code_id=cell.code_id,
            score=cell.score,
            evidence=cell.evidence,
            evidence_start=cell.evidence_start,
            evidence_end=cell.evidence_end,
            coder=cell.coder,
            coder_version="1",
            codebook=self.codebook,
            codebook_version=self.codebook_version,
            model=self.model,
            config_hash=self.config_hash,
        )

    def supersede(self, suggestion_ids: Sequence[int]) -> None:
        """These suggestions stop being current, as when a later run re-codes their codes."""
        set_current(self.connection, suggestion_ids, False)

    # ------------------------------------------------------------------------------ reviews

    def review(
        self,
        segment_id: int,
        code_id: str,
        decision: Decision,
        *,
        user: str,
        suggestion_id: int | None = None,
        source: str | None = None,
        **extra: Any,
    ) -> int:
        """Record one review (and its event) as the explorer would; returns its id."""
        review = Review(
            segment_id=segment_id,
            code_id=code_id,
            decision=decision,
            user=user,
            codebook=self.codebook,
            suggestion_id=suggestion_id,
            **extra,
        )
        return record_review(self.connection, review, source=source)

    # ---------------------------------------------------------------------------- discovery

    def candidates(
        self, found: list[Candidate], *, config: dict[str, Any], stats: dict[str, Any] | None = None
    ) -> list[int]:
        """One discovery run holding ``found`` (and its event); returns the candidates' ids."""
        store_candidates(self.connection, found, config, stats or {}, self.model or "", self.user)
        return [int(candidate.id or 0) for candidate in found]
