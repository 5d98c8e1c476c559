"""Figures for the explorer's Overview page, all counted from one :func:`~narratives.review.state.coding_state`.

What a segment carries, which threshold a suggestion is judged by and which reviews still count
are :mod:`narratives.review.state`'s answers; this module only counts them. The coded share, code
frequencies, review progress and machine-reviewer agreement of one overview therefore agree with
each other, with the document view and with every export.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import combinations

from sqlalchemy import Connection

from narratives.analysis.coded import CodeHierarchy, carried_with_ancestors, code_hierarchy
from narratives.analysis.metrics import binary_kappa
from narratives.review.audit import undone_review_ids
from narratives.review.state import ENSEMBLE, CodingState, coding_state, latest_by_reviewer
from narratives.store.coding_runs import last_coded_unit
from narratives.store.documents import current_document_rows
from narratives.store.reviews import decision_counts, review_counts
from narratives.store.segments import count_segments
from narratives.store.status import CorpusRow, corpus_counts, most_common_unit
from narratives.store.suggestions import suggestion_pair_count

__all__ = ["CorpusRow", "Overview", "ReviewsMade", "Scope", "corpus_counts", "overview", "reviews_made"]


@dataclass
class Scope:
    """What the figures are about: a codebook, the unit it was coded in, the coder, and thresholds
    that replace the coding runs' own (per code) where given."""

    codebook: str
    unit: str | None = None
    coder: str = ENSEMBLE
    thresholds: Mapping[str, float] = field(default_factory=dict)

    def state(self, connection: Connection) -> CodingState:
        return coding_state(
            connection,
            self.codebook,
            unit=self.unit,
            coder=self.coder,
            threshold=dict(self.thresholds) or None,
        )


@dataclass
class CodedShare:
    segments: int
    coded: int

    @property
    def share(self) -> float:
        return self.coded / self.segments if self.segments else 0.0


@dataclass
class CodeFrequency:
    """One active code: the segments carrying it or any code below it, and the distinct
    participants who said them; ``level`` 0 is a top-level theme, ``parent`` its nearest active
    parent, ``has_subcodes`` says the counts take in its sub-codes'."""

    code_id: str
    name: str
    segments: int
    participants: int
    level: int = 0
    parent: str | None = None
    has_subcodes: bool = False


@dataclass
class ReviewProgress:
    suggestions: int  # distinct (segment, code) pairs with a current suggestion
    reviewed: int
    accepted: int
    rejected: int
    reviews: int  # review rows, all reviewers
    reviewers: int

    @property
    def pending(self) -> int:
        return self.suggestions - self.reviewed


@dataclass
class ReviewsMade:
    """The decisions people took, one per review still standing (an undone review, or the copy an
    undo or merge wrote, is not counted), all units: the record of work, not the state of the codes.
    Five rejections of one suggestion are five here, however many suggestions a retrain leaves."""

    accept: int = 0
    reject: int = 0
    add: int = 0  # coded by hand
    remove: int = 0  # uncoded by hand
    reviewers: int = 0

    @property
    def total(self) -> int:
        return self.accept + self.reject + self.add + self.remove


@dataclass
class Agreement:
    items: int
    agreement: float  # share of items both said the same about
    kappa: float
    both_yes: int = 0
    first_only: int = 0  # machine only, or the first reviewer only
    second_only: int = 0
    both_no: int = 0


@dataclass
class ReviewerAgreement:
    first: str
    second: str
    agreement: Agreement


@dataclass
class Overview:
    scope: Scope
    corpus: list[CorpusRow]
    coded: CodedShare
    frequency: list[CodeFrequency]
    progress: ReviewProgress
    machine: Agreement
    reviewers: list[ReviewerAgreement]
    made: ReviewsMade = field(default_factory=ReviewsMade)


def coding_unit(connection: Connection, codebook: str) -> str | None:
    """The unit the codebook was last coded in, else the most common segment unit."""
    return last_coded_unit(connection, codebook) or most_common_unit(connection)


def coded_share(connection: Connection, scope: Scope, state: CodingState | None = None) -> CodedShare:
    state = state or scope.state(connection)
    coded = {pair.segment_id for pair in state.carried()}
    return CodedShare(count_segments(connection, unit=scope.unit), len(coded))


def code_frequency(
    connection: Connection, scope: Scope, state: CodingState | None = None
) -> list[CodeFrequency]:
    """Per active code, its sub-codes' segments included (each segment once): segments and distinct
    participants. Tree order: the top-level codes most first, each followed by its sub-codes,
    most first."""
    state = state or scope.state(connection)
    hierarchy = code_hierarchy(connection, scope.codebook)
    person = {row.id: row.participant_id for row in current_document_rows(connection)}
    segments: dict[str, set[int]] = defaultdict(set)
    people: dict[str, set[int]] = defaultdict(set)
    for pair, code_id in carried_with_ancestors(state, hierarchy):
        segments[code_id].add(pair.segment_id)
        if person.get(pair.document_id) is not None:
            people[code_id].add(int(person[pair.document_id] or 0))
    found = {
        code.id: CodeFrequency(
            code.id,
            code.name or code.id,
            len(segments[code.id]),
            len(people[code.id]),
            hierarchy.level(code.id),
            hierarchy.parent[code.id],
            hierarchy.has_subcodes(code.id),
        )
        for code in hierarchy.codes
    }
    return _most_first_in_tree(found, hierarchy)


def _most_first_in_tree(found: dict[str, CodeFrequency], hierarchy: CodeHierarchy) -> list[CodeFrequency]:
    below: dict[str | None, list[CodeFrequency]] = defaultdict(list)
    for frequency in found.values():
        below[hierarchy.parent[frequency.code_id]].append(frequency)
    ordered: list[CodeFrequency] = []
    stack = _most_last(below[None])
    while stack:
        frequency = stack.pop()
        ordered.append(frequency)
        stack.extend(_most_last(below[frequency.code_id]))
    return ordered


def _most_last(frequencies: list[CodeFrequency]) -> list[CodeFrequency]:
    """Most segments last (then by name), for a stack that pops the most first."""
    return sorted(frequencies, key=lambda f: (-f.segments, f.name), reverse=True)


def review_progress(
    connection: Connection, scope: Scope, min_score: float = 0.0, state: CodingState | None = None
) -> ReviewProgress:
    """Suggested pairs, how many are reviewed (accepted or not), and how many reviews by how many."""
    state = state or scope.state(connection)
    total = suggestion_pair_count(
        connection, scope.codebook, scope.coder, min_score=min_score, unit=scope.unit
    )
    reviewed = [p for p in state.reviewed() if p.score is not None and p.score >= min_score]
    accepted = sum(1 for p in reviewed if p.applies)
    rows, reviewers = review_counts(connection, scope.codebook)
    return ReviewProgress(
        suggestions=total,
        reviewed=len(reviewed),
        accepted=accepted,
        rejected=len(reviewed) - accepted,
        reviews=rows,
        reviewers=reviewers,
    )


def reviews_made(connection: Connection, codebook: str) -> ReviewsMade:
    """Reviews people made on ``codebook`` that still stand, by decision (see :class:`ReviewsMade`)."""
    counts, reviewers = decision_counts(
        connection, codebook, leave_out=undone_review_ids(connection), skip_sources=("undo", "merge")
    )
    return ReviewsMade(
        accept=counts.get("accept", 0),
        reject=counts.get("reject", 0),
        add=counts.get("add", 0),
        remove=counts.get("remove", 0),
        reviewers=reviewers,
    )


def agreement_of(first: list[bool], second: list[bool]) -> Agreement:
    pairs = list(zip(first, second, strict=True))
    same = sum(a == b for a, b in pairs)
    return Agreement(
        items=len(pairs),
        agreement=same / len(pairs) if pairs else float("nan"),
        kappa=binary_kappa(first, second),
        both_yes=sum(a and b for a, b in pairs),
        first_only=sum(a and not b for a, b in pairs),
        second_only=sum(b and not a for a, b in pairs),
        both_no=sum(not a and not b for a, b in pairs),
    )


def machine_agreement(connection: Connection, scope: Scope, state: CodingState | None = None) -> Agreement:
    """Machine (score at or above its run's threshold) against the latest review, every reviewed pair."""
    state = state or scope.state(connection)
    reviewed = sorted(state.reviewed(), key=lambda p: (p.segment_id, p.code_id))
    return agreement_of([p.machine_applies for p in reviewed], [p.applies for p in reviewed])


def reviewer_agreement(
    connection: Connection, codebook: str, state: CodingState | None = None
) -> list[ReviewerAgreement]:
    """Each pair of reviewers over the (segment, code) pairs both decided (latest decision each):
    every pair of the codebook, or those of ``state``'s scope when given."""
    by_pair: dict[tuple[str, str], tuple[list[bool], list[bool]]] = defaultdict(lambda: ([], []))
    votes_by_pair = state.by_reviewer if state is not None else latest_by_reviewer(connection, codebook)
    for votes in votes_by_pair.values():
        for first, second in combinations(sorted(votes), 2):
            by_pair[(first, second)][0].append(votes[first].applies)
            by_pair[(first, second)][1].append(votes[second].applies)
    return [
        ReviewerAgreement(first, second, agreement_of(a, b))
        for (first, second), (a, b) in sorted(by_pair.items())
    ]


def overview(
    connection: Connection, codebook: str, *, coder: str = ENSEMBLE, unit: str | None = None
) -> Overview:
    """Every figure of the Overview page in one call, from one reading of the current state."""
    scope = Scope(codebook=codebook, unit=unit or coding_unit(connection, codebook), coder=coder)
    state = scope.state(connection)
    return Overview(
        scope=scope,
        corpus=corpus_counts(connection, scope.unit),
        coded=coded_share(connection, scope, state),
        frequency=code_frequency(connection, scope, state),
        progress=review_progress(connection, scope, state=state),
        machine=machine_agreement(connection, scope, state),
        reviewers=reviewer_agreement(connection, codebook, state),
        made=reviews_made(connection, codebook),
    )
