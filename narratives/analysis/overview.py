"""Figures for the explorer's Overview page, each one SQL aggregate (fast on 20,000 segments).

A (segment, code) pair is *applied* when its latest review says so (accept or add), or, where no one
has reviewed it, when the ensemble's current score reaches the code's threshold. Reviews withdrawn by
an undo are left out everywhere.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from sqlalchemy import Connection, Select, and_, case, exists, func, literal, select, union
from sqlalchemy.sql.elements import ColumnElement

from narratives.analysis.metrics import binary_kappa
from narratives.coding.runner import code_thresholds
from narratives.review.audit import withdrawn_review_ids
from narratives.review.record import POSITIVE
from narratives.store.codebooks import current_codes
from narratives.store.coding_runs import last_coded_unit
from narratives.store.tables import documents, reviews, segments, suggestions

ENSEMBLE = "ensemble"
DEFAULT_THRESHOLD = 0.5


@dataclass
class Scope:
    """What the figures are about: a codebook, the unit it was coded in, the coder and thresholds."""

    codebook: str
    unit: str | None = None
    coder: str = ENSEMBLE
    thresholds: Mapping[str, float] = field(default_factory=dict)
    default_threshold: float = DEFAULT_THRESHOLD


@dataclass
class CorpusRow:
    kind: str
    wave: int | None
    documents: int
    participants: int
    segments: int


@dataclass
class CodedShare:
    segments: int
    coded: int

    @property
    def share(self) -> float:
        return self.coded / self.segments if self.segments else 0.0


@dataclass
class CodeFrequency:
    code_id: str
    name: str
    segments: int
    participants: int


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


# ------------------------------------------------------------------------------------ building blocks


def coding_unit(connection: Connection, codebook: str) -> str | None:
    """The unit the codebook was last coded in, else the most common segment unit."""
    unit = last_coded_unit(connection, codebook)
    if unit:
        return unit
    common = connection.execute(
        select(segments.c.unit).group_by(segments.c.unit).order_by(func.count().desc()).limit(1)
    ).scalar()
    return str(common) if common else None


def _threshold(scope: Scope) -> ColumnElement[Any]:
    if not scope.thresholds:
        return literal(scope.default_threshold)
    return case(dict(scope.thresholds), value=suggestions.c.code_id, else_=scope.default_threshold)


def _latest_reviews(connection: Connection, codebook: str, per_user: bool = False) -> Any:
    """Subquery of the latest non-withdrawn review per (segment, code) (and per user if asked)."""
    withdrawn = withdrawn_review_ids(connection)
    keys = [reviews.c.segment_id, reviews.c.code_id] + ([reviews.c.user] if per_user else [])
    latest = select(func.max(reviews.c.id).label("id")).where(reviews.c.codebook == codebook)
    if withdrawn:
        latest = latest.where(reviews.c.id.not_in(withdrawn))
    latest_ids = latest.group_by(*keys).subquery()
    return (
        select(reviews.c.segment_id, reviews.c.code_id, reviews.c.user, reviews.c.decision)
        .join(latest_ids, latest_ids.c.id == reviews.c.id)
        .subquery()
    )


def _machine_pairs(scope: Scope) -> Select[Any]:
    return select(suggestions.c.segment_id, suggestions.c.code_id).where(
        suggestions.c.codebook == scope.codebook,
        suggestions.c.current.is_(True),
        suggestions.c.coder == scope.coder,
        suggestions.c.score >= _threshold(scope),
    )


def _reviewed(connection: Connection, codebook: str, segment_id: Any, code_id: Any) -> ColumnElement[bool]:
    """EXISTS a (non-withdrawn) review of this (segment, code): probes the reviews' segment index."""
    condition = exists().where(
        reviews.c.segment_id == segment_id, reviews.c.code_id == code_id, reviews.c.codebook == codebook
    )
    withdrawn = withdrawn_review_ids(connection)
    if withdrawn:
        condition = exists().where(
            reviews.c.segment_id == segment_id,
            reviews.c.code_id == code_id,
            reviews.c.codebook == codebook,
            reviews.c.id.not_in(withdrawn),
        )
    return condition


def applied_pairs(connection: Connection, scope: Scope) -> Any:
    """Subquery (segment_id, code_id) of every applied pair (see the module docstring)."""
    latest = _latest_reviews(connection, scope.codebook)
    unreviewed = _machine_pairs(scope).where(
        ~_reviewed(connection, scope.codebook, suggestions.c.segment_id, suggestions.c.code_id)
    )
    accepted = select(latest.c.segment_id, latest.c.code_id).where(latest.c.decision.in_(POSITIVE))
    return union(unreviewed, accepted).subquery()


def _in_scope(scope: Scope) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [documents.c.current.is_(True)]
    if scope.unit:
        conditions.append(segments.c.unit == scope.unit)
    return conditions


# ----------------------------------------------------------------------------------------- figures


def corpus_counts(connection: Connection, unit: str | None = None) -> list[CorpusRow]:
    """Current documents, distinct participants and segments (of ``unit``) by source kind and wave."""
    docs = connection.execute(
        select(
            documents.c.kind,
            documents.c.wave,
            func.count(documents.c.id),
            func.count(documents.c.participant_id.distinct()),
        )
        .where(documents.c.current.is_(True))
        .group_by(documents.c.kind, documents.c.wave)
    ).all()
    segment_query = (
        select(documents.c.kind, documents.c.wave, func.count(segments.c.id))
        .join(documents, documents.c.id == segments.c.document_id)
        .where(documents.c.current.is_(True))
        .group_by(documents.c.kind, documents.c.wave)
    )
    if unit:
        segment_query = segment_query.where(segments.c.unit == unit)
    segment_counts = {(k, w): n for k, w, n in connection.execute(segment_query)}
    rows = [CorpusRow(k, w, int(d), int(p), int(segment_counts.get((k, w), 0))) for k, w, d, p in docs]
    return sorted(rows, key=lambda r: (r.kind, -1 if r.wave is None else r.wave))


def coded_share(connection: Connection, scope: Scope) -> CodedShare:
    applied = applied_pairs(connection, scope)
    in_scope = _in_scope(scope)
    total = connection.execute(
        select(func.count(segments.c.id))
        .join(documents, documents.c.id == segments.c.document_id)
        .where(*in_scope)
    ).scalar_one()
    coded = connection.execute(
        select(func.count(applied.c.segment_id.distinct()))
        .join(segments, segments.c.id == applied.c.segment_id)
        .join(documents, documents.c.id == segments.c.document_id)
        .where(*in_scope)
    ).scalar_one()
    return CodedShare(int(total), int(coded))


def code_frequency(connection: Connection, scope: Scope) -> list[CodeFrequency]:
    """Per code: segments it applies to and distinct participants who said them (most first)."""
    applied = applied_pairs(connection, scope)
    rows = connection.execute(
        select(
            applied.c.code_id,
            func.count(applied.c.segment_id.distinct()),
            func.count(documents.c.participant_id.distinct()),
        )
        .join(segments, segments.c.id == applied.c.segment_id)
        .join(documents, documents.c.id == segments.c.document_id)
        .where(*_in_scope(scope))
        .group_by(applied.c.code_id)
    ).all()
    codes = current_codes(connection, scope.codebook, include_retired=True)
    names = {c.id: c.name for c in codes}
    found = {code_id: (int(s), int(p)) for code_id, s, p in rows}
    active = [c.id for c in codes if not c.retired]
    shown = active + [code_id for code_id in found if code_id not in active]
    result = [
        CodeFrequency(code_id, names.get(code_id) or code_id, *found.get(code_id, (0, 0)))
        for code_id in shown
    ]
    return sorted(result, key=lambda f: (-f.segments, f.name))


def latest_decisions_by_pair(connection: Connection, codebook: str) -> dict[tuple[int, str], str]:
    """(segment, code) -> the latest non-withdrawn decision on it, by anyone."""
    latest = _latest_reviews(connection, codebook)
    rows = connection.execute(select(latest.c.segment_id, latest.c.code_id, latest.c.decision))
    return {(segment_id, code_id): decision for segment_id, code_id, decision in rows}


def _best_scores(
    connection: Connection, scope: Scope, segment_ids: list[int], chunk: int = 5000
) -> dict[tuple[int, str], float]:
    """(segment, code) -> highest current score of the scope's coder, for these segments only."""
    found: dict[tuple[int, str], float] = {}
    for start in range(0, len(segment_ids), chunk):
        rows = connection.execute(
            select(suggestions.c.segment_id, suggestions.c.code_id, func.max(suggestions.c.score))
            .where(
                suggestions.c.segment_id.in_(segment_ids[start : start + chunk]),
                suggestions.c.codebook == scope.codebook,
                suggestions.c.current.is_(True),
                suggestions.c.coder == scope.coder,
            )
            .group_by(suggestions.c.segment_id, suggestions.c.code_id)
        )
        found.update({(segment_id, code_id): float(score) for segment_id, code_id, score in rows})
    return found


def review_progress(connection: Connection, scope: Scope, min_score: float = 0.0) -> ReviewProgress:
    pairs = (
        select(suggestions.c.segment_id, suggestions.c.code_id)
        .where(
            suggestions.c.codebook == scope.codebook,
            suggestions.c.current.is_(True),
            suggestions.c.coder == scope.coder,
            suggestions.c.score >= min_score,
        )
        .distinct()
        .subquery()
    )
    total = connection.execute(select(func.count()).select_from(pairs)).scalar_one()
    latest = latest_decisions_by_pair(connection, scope.codebook)
    scores = _best_scores(connection, scope, sorted({segment_id for segment_id, _ in latest}))
    suggested = [decision for pair, decision in latest.items() if scores.get(pair, -1.0) >= min_score]
    accepted = sum(decision in POSITIVE for decision in suggested)
    counts = connection.execute(
        select(func.count(), func.count(reviews.c.user.distinct())).where(
            reviews.c.codebook == scope.codebook
        )
    ).one()
    return ReviewProgress(
        suggestions=int(total),
        reviewed=len(suggested),
        accepted=accepted,
        rejected=len(suggested) - accepted,
        reviews=int(counts[0]),
        reviewers=int(counts[1]),
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


def machine_agreement(connection: Connection, scope: Scope) -> Agreement:
    """Machine (score at or above threshold) against the latest review, over every reviewed pair."""
    latest = latest_decisions_by_pair(connection, scope.codebook)
    scores = _best_scores(connection, scope, sorted({segment_id for segment_id, _ in latest}))
    pairs = sorted(latest)
    machine = [
        pair in scores and scores[pair] >= scope.thresholds.get(pair[1], scope.default_threshold)
        for pair in pairs
    ]
    return agreement_of(machine, [latest[pair] in POSITIVE for pair in pairs])


def reviewer_agreement(connection: Connection, codebook: str) -> list[ReviewerAgreement]:
    """Each pair of reviewers over the (segment, code) pairs both decided (latest decision each)."""
    latest = _latest_reviews(connection, codebook, per_user=True)
    shared = (
        select(latest.c.segment_id, latest.c.code_id)
        .group_by(latest.c.segment_id, latest.c.code_id)
        .having(func.count() > 1)
        .subquery()
    )
    rows = connection.execute(
        select(latest.c.segment_id, latest.c.code_id, latest.c.user, latest.c.decision).join(
            shared, and_(shared.c.segment_id == latest.c.segment_id, shared.c.code_id == latest.c.code_id)
        )
    ).all()
    decisions: dict[tuple[int, str], dict[str, bool]] = defaultdict(dict)
    for segment_id, code_id, user, decision in rows:
        decisions[(segment_id, code_id)][user] = decision in POSITIVE
    by_pair: dict[tuple[str, str], tuple[list[bool], list[bool]]] = defaultdict(lambda: ([], []))
    for votes in decisions.values():
        for first, second in combinations(sorted(votes), 2):
            by_pair[(first, second)][0].append(votes[first])
            by_pair[(first, second)][1].append(votes[second])
    return [
        ReviewerAgreement(first, second, agreement_of(a, b))
        for (first, second), (a, b) in sorted(by_pair.items())
    ]


def overview(
    connection: Connection, codebook: str, *, coder: str = ENSEMBLE, unit: str | None = None
) -> Overview:
    """Every figure of the Overview page in one call."""
    scope = Scope(
        codebook=codebook,
        unit=unit or coding_unit(connection, codebook),
        coder=coder,
        thresholds=code_thresholds(connection, codebook),
    )
    return Overview(
        scope=scope,
        corpus=corpus_counts(connection, scope.unit),
        coded=coded_share(connection, scope),
        frequency=code_frequency(connection, scope),
        progress=review_progress(connection, scope),
        machine=machine_agreement(connection, scope),
        reviewers=reviewer_agreement(connection, codebook),
    )
