"""What is true now: the one definition of the current coding state.

Every page, analysis and export asks this module, never the tables, what holds now:

- **withdrawn ids**: reviews, panel responses and panel quotes taken back by an undo (or a quote
  removed) are listed in the payload of the undo event; they no longer count anywhere.
- **the latest review** of a (segment, code): the latest live adjudication of the pair (the team's
  final decision where coders disagreed, :mod:`narratives.review.adjudication`), else the live review
  (not withdrawn) with the highest id, by anyone; :func:`latest_by_reviewer` keeps each reviewer's
  own latest decision and ignores adjudications (agreement between coders is measured on it).
- **the thresholds a run used**: for each coding run, in order, the per-code threshold it recorded
  in ``stats`` (what the calibrated ensemble used), a per-code override in its ``config``
  (``settings.thresholds`` or ``thresholds``), the run's default (``settings.threshold`` or
  ``threshold``), else 0.5. A suggestion is judged against the thresholds of the run that wrote it.
- **which codes a segment carries**: a (segment, code) pair applies when its latest review says
  ``accept`` or ``add``; a latest ``reject`` or ``remove`` takes it off whatever the machine says;
  where no one has reviewed the pair, it applies when the machine coder's current score (the
  ``ensemble``'s, or, for a codebook without ensemble rows, the coder with most current suggestions)
  reaches its run's threshold for the code. Retired codes carry nothing.

The store hands over plain rows; everything above is worked out here in Python, so that it can be
checked against a replay of the events (``tests/review/test_state.py``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from sqlalchemy import Connection

from narratives.schema import Decision, Review
from narratives.store.adjudications import AdjudicationRow, adjudication_rows
from narratives.store.codebooks import retired_code_ids
from narratives.store.coding_runs import CodingRun, coding_runs_of
from narratives.store.events import undo_records
from narratives.store.reviews import ReviewRow, load_reviews, review_rows, reviewed_segment_counts
from narratives.store.segments import SegmentSpan, load_segments, segment_spans
from narratives.store.suggestions import ScoredPair, coder_counts, scored_pairs

POSITIVE = frozenset({Decision.accept.value, Decision.add.value})
ENSEMBLE = "ensemble"
DEFAULT_THRESHOLD = 0.5
WITHDRAWN_KEYS = ("withdrawn_reviews", "withdrawn_responses", "withdrawn_quotes", "withdrawn_adjudications")

Pair = tuple[int, str]  # (segment id, code id)
Threshold = float | Mapping[str, float] | None  # a number for every code, or per-code numbers


# ------------------------------------------------------------------------------------ withdrawn


def withdrawn_ids(connection: Connection, key: str) -> set[int]:
    """Ids listed under ``key`` (one of :data:`WITHDRAWN_KEYS`) by undo and removal events."""
    return {int(i) for record in undo_records(connection) for i in record.payload.get(key, [])}


def _withdrawn_by_key(connection: Connection, keys: Iterable[str]) -> dict[str, set[int]]:
    """:func:`withdrawn_ids` for several keys from one read of the undo events."""
    records = undo_records(connection)
    return {key: {int(i) for record in records for i in record.payload.get(key, [])} for key in keys}


def withdrawn_review_ids(connection: Connection) -> set[int]:
    return withdrawn_ids(connection, "withdrawn_reviews")


# -------------------------------------------------------------------------------------- reviews


class LatestReview(NamedTuple):
    """The decision that counts now on one (segment, code), by one reviewer or by anyone."""

    review_id: int
    segment_id: int
    code_id: str
    decision: str
    user: str
    start: int | None  # a hand-coded span's document offsets, when it has one
    end: int | None
    memo: str | None = None
    adjudication_id: int | None = None  # set when the team's adjudication decides the pair

    @property
    def applies(self) -> bool:
        return self.decision in POSITIVE


def _latest(row: ReviewRow) -> LatestReview:
    return LatestReview(
        row.id, row.segment_id, row.code_id, row.decision, row.user, row.start, row.end, row.memo
    )


def _live_rows(
    connection: Connection, codebook: str, segment_ids: Iterable[int] | None = None
) -> list[ReviewRow]:
    withdrawn = withdrawn_review_ids(connection)
    return [r for r in review_rows(connection, codebook, segment_ids=segment_ids) if r.id not in withdrawn]


def _live_decisions(
    connection: Connection, codebook: str, segment_ids: list[int] | None = None
) -> tuple[list[ReviewRow], dict[Pair, LatestReview]]:
    """The live review rows and the live adjudications, from one read of the undo events."""
    withdrawn = _withdrawn_by_key(connection, ("withdrawn_reviews", "withdrawn_adjudications"))
    rows = review_rows(connection, codebook, segment_ids=segment_ids)
    live = [r for r in rows if r.id not in withdrawn["withdrawn_reviews"]]
    decided = adjudication_rows(connection, codebook, segment_ids=segment_ids)
    return live, _adjudications_of(decided, withdrawn["withdrawn_adjudications"])


def _latest_of(rows: Iterable[ReviewRow]) -> dict[Pair, LatestReview]:
    return {(r.segment_id, r.code_id): _latest(r) for r in rows}


def adjudicated(
    connection: Connection, codebook: str, *, segment_ids: Iterable[int] | None = None
) -> dict[Pair, LatestReview]:
    """(segment, code) -> its latest live adjudication, as the decision that holds (by the adjudicator)."""
    withdrawn = withdrawn_ids(connection, "withdrawn_adjudications")
    return _adjudications_of(adjudication_rows(connection, codebook, segment_ids=segment_ids), withdrawn)


def _adjudications_of(rows: Iterable[AdjudicationRow], withdrawn: set[int]) -> dict[Pair, LatestReview]:
    found: dict[Pair, LatestReview] = {}
    for row in rows:
        if row.event_id not in withdrawn:
            pair = (row.segment_id, row.code_id)
            found[pair] = LatestReview(
                row.event_id, *pair, row.decision, row.user, None, None, row.memo, row.event_id
            )
    return found


def _with_adjudications(
    latest: dict[Pair, LatestReview], adjudications: Mapping[Pair, LatestReview]
) -> dict[Pair, LatestReview]:
    """``latest`` with every adjudicated pair decided by its adjudication (keeping the span of the
    review it replaces, so a hand-coded span stays where it was)."""
    for pair, decided in adjudications.items():
        under = latest.get(pair)
        latest[pair] = decided if under is None else decided._replace(start=under.start, end=under.end)
    return latest


def _by_reviewer_of(rows: Iterable[ReviewRow]) -> dict[Pair, dict[str, LatestReview]]:
    found: dict[Pair, dict[str, LatestReview]] = defaultdict(dict)
    for row in rows:
        found[(row.segment_id, row.code_id)][row.user] = _latest(row)
    return dict(found)


def live_reviews(
    connection: Connection, codebook: str, *, segment_ids: Iterable[int] | None = None
) -> list[Review]:
    """The reviews of ``codebook`` that still count (not withdrawn by an undo), oldest first."""
    withdrawn = withdrawn_review_ids(connection)
    return [r for r in load_reviews(connection, codebook, segment_ids=segment_ids) if r.id not in withdrawn]


def latest_reviews(
    connection: Connection, codebook: str, *, segment_ids: Iterable[int] | None = None
) -> dict[Pair, LatestReview]:
    """(segment, code) -> the decision that holds: its latest live adjudication, else its latest
    live review, by anyone."""
    rows, decided = _live_decisions(connection, codebook, None if segment_ids is None else list(segment_ids))
    return _with_adjudications(_latest_of(rows), decided)


def latest_by_reviewer(
    connection: Connection, codebook: str, *, segment_ids: Iterable[int] | None = None
) -> dict[Pair, dict[str, LatestReview]]:
    """(segment, code) -> {reviewer: their latest live review}."""
    return _by_reviewer_of(_live_rows(connection, codebook, segment_ids))


def latest_decisions(connection: Connection, codebook: str) -> dict[Pair, dict[str, str]]:
    """(segment, code) -> {reviewer: latest decision}."""
    return {
        pair: {user: review.decision for user, review in by_user.items()}
        for pair, by_user in latest_by_reviewer(connection, codebook).items()
    }


@dataclass(frozen=True)
class ReviewedLabel:
    """One reviewed (segment, code): what the latest decision says, and whether reviewers differ."""

    segment_id: int
    code_id: str
    applies: bool  # the latest decision, by anyone
    users: tuple[str, ...]
    disagreement: bool
    start: int | None = None  # a hand-coded span's document offsets, when the decision has one
    end: int | None = None


def reviewed_labels(connection: Connection, codebook: str) -> list[ReviewedLabel]:
    """One label per reviewed (segment, code), in the order the pairs were first reviewed."""
    rows, decided = _live_decisions(connection, codebook)
    latest = _with_adjudications(_latest_of(rows), decided)
    by_user = _by_reviewer_of(rows)
    labels = []
    for pair, review in latest.items():
        votes = by_user.get(pair, {})
        labels.append(
            ReviewedLabel(
                segment_id=pair[0],
                code_id=pair[1],
                applies=review.applies,
                users=tuple(sorted(votes)),
                disagreement=len({v.applies for v in votes.values()}) > 1,
                start=review.start,
                end=review.end,
            )
        )
    return labels


def applies_by_review(connection: Connection, codebook: str, code_id: str, segment_id: int) -> bool:
    """Whether the latest live review of this (segment, code) says the code applies."""
    review = latest_reviews(connection, codebook, segment_ids=[segment_id]).get((segment_id, code_id))
    return review is not None and review.applies


def accepted_segment_ids(connection: Connection, codebook: str, code_id: str) -> list[int]:
    """Segments whose latest live review says ``code_id`` applies, in review order."""
    return [
        segment_id
        for (segment_id, code), review in latest_reviews(connection, codebook).items()
        if code == code_id and review.applies
    ]


def accepted_segment_texts(connection: Connection, codebook: str, code_id: str) -> dict[int, str]:
    """Segments whose latest live review says ``code_id`` applies: segment id -> text."""
    ids = accepted_segment_ids(connection, codebook, code_id)
    return {int(s.id or 0): s.text for s in load_segments(connection, ids=ids)} if ids else {}


def reviewed_counts(connection: Connection, codebook: str) -> dict[str, int]:
    """code id -> distinct segments with a live review of it (by anyone)."""
    return reviewed_segment_counts(connection, codebook, leave_out=withdrawn_review_ids(connection))


# ----------------------------------------------------------------------------------- thresholds


@dataclass(frozen=True)
class RunThresholds:
    """The thresholds one coding run used: a default and per-code values."""

    default: float = DEFAULT_THRESHOLD
    per_code: Mapping[str, float] = field(default_factory=dict)

    def of(self, code_id: str) -> float:
        return float(self.per_code.get(code_id, self.default))


def run_thresholds_of(run: CodingRun) -> RunThresholds:
    """What ``run`` recorded (see the module docstring for the order)."""
    config, stats = run.config, run.stats
    settings = config.get("settings") or {}
    default = settings.get("threshold", config.get("threshold", DEFAULT_THRESHOLD))
    per_code = {
        **(config.get("thresholds") or {}),
        **(settings.get("thresholds") or {}),
        **(stats.get("thresholds") or {}),
    }
    return RunThresholds(float(default), {k: float(v) for k, v in per_code.items()})


@dataclass(frozen=True)
class Thresholds:
    """The threshold each suggestion is judged against: its run's, unless ``override`` replaces it."""

    runs: Mapping[int, RunThresholds] = field(default_factory=dict)
    override: Threshold = None

    def of(self, run_id: int, code_id: str) -> float:
        if isinstance(self.override, int | float):
            return float(self.override)
        if self.override and code_id in self.override:
            return float(self.override[code_id])
        return self.runs.get(run_id, RunThresholds()).of(code_id)

    def floor(self) -> float:
        """No suggestion below this can apply: the lowest threshold in play."""
        if isinstance(self.override, int | float):
            return float(self.override)
        values = [DEFAULT_THRESHOLD, *dict(self.override or {}).values()]
        for run in self.runs.values():
            values += [run.default, *run.per_code.values()]
        return min(values)


def thresholds(connection: Connection, codebook: str, override: Threshold = None) -> Thresholds:
    """The thresholds of every coding run of ``codebook``."""
    runs = {run.id: run_thresholds_of(run) for run in coding_runs_of(connection, codebook)}
    return Thresholds(runs, override)


def machine_coder(connection: Connection, codebook: str) -> str | None:
    """``ensemble`` when the codebook has current ensemble suggestions, else the most frequent coder."""
    counts = coder_counts(connection, codebook)
    if ENSEMBLE in counts:
        return ENSEMBLE
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return ranked[0][0] if ranked else None


# -------------------------------------------------------------------------------- the pair state


class PairState(NamedTuple):
    """One (segment, code) the machine scored or someone reviewed, and what holds for it now."""

    segment_id: int
    document_id: int
    code_id: str
    segment_start: int
    segment_end: int
    score: float | None  # the machine coder's current score, when it has one
    run_id: int | None
    threshold: float | None  # the threshold of the run that wrote the score
    review: LatestReview | None

    @property
    def machine_applies(self) -> bool:
        return self.score is not None and self.threshold is not None and self.score >= self.threshold

    @property
    def applies(self) -> bool:
        return self.review.applies if self.review is not None else self.machine_applies

    @property
    def status(self) -> str:
        """``accepted``, ``rejected``, ``suggested`` (machine, unreviewed) or ``below`` (machine, no)."""
        if self.review is not None:
            return "accepted" if self.review.applies else "rejected"
        return "suggested" if self.machine_applies else "below"

    @property
    def span(self) -> tuple[int, int]:
        """Document offsets the code covers: a hand-coded span, else the whole segment."""
        review = self.review
        if review is not None and review.start is not None and review.end is not None:
            return review.start, review.end
        return self.segment_start, self.segment_end


@dataclass
class CodingState:
    """Every (segment, code) in scope the machine scored (at or above the threshold floor, unless
    asked for all) or a reviewer decided, with what holds for it now."""

    codebook: str
    coder: str | None
    pairs: dict[Pair, PairState]
    retired: frozenset[str] = frozenset()
    by_reviewer: dict[Pair, dict[str, LatestReview]] = field(default_factory=dict)  # pairs in scope

    def carried(self, *, include_machine: bool = True, include_retired: bool = False) -> list[PairState]:
        """The pairs that apply now: reviewed ones, and unreviewed machine ones if asked."""
        return [
            state
            for state in self.pairs.values()
            if state.applies
            and (include_machine or state.review is not None)
            and (include_retired or state.code_id not in self.retired)
        ]

    def reviewed(self) -> list[PairState]:
        return [state for state in self.pairs.values() if state.review is not None]


def _best_scores(rows: Iterable[ScoredPair]) -> dict[Pair, ScoredPair]:
    """One score per pair: the highest (then the newest run's)."""
    best: dict[Pair, ScoredPair] = {}
    for row in rows:
        pair = (row.segment_id, row.code_id)
        known = best.get(pair)
        if known is None or (row.score, row.run_id) > (known.score, known.run_id):
            best[pair] = row
    return best


def coding_state(
    connection: Connection,
    codebook: str,
    *,
    unit: str | None = None,
    document_id: int | None = None,
    coder: str | None = None,
    threshold: Threshold = None,
    all_scores: bool = False,
) -> CodingState:
    """The state of ``codebook`` on segments of current documents (of ``unit`` / ``document_id``).

    ``threshold`` (a number, or per-code numbers) replaces the runs' thresholds; ``coder`` replaces
    the machine coder; ``all_scores`` keeps machine scores below every threshold too (the document
    view shows them once reviewed, and needs nothing else).
    """
    coder = coder or machine_coder(connection, codebook)
    judged = thresholds(connection, codebook, threshold)
    scoped_segments = None
    if document_id is not None:
        scoped_segments = segment_spans(connection, document_id=document_id, unit=unit)
    scope = None if scoped_segments is None else list(scoped_segments)
    rows, decided = _live_decisions(connection, codebook, scope)
    seen = {r.segment_id for r in rows} | {segment_id for segment_id, _ in decided}
    spans = scoped_segments or segment_spans(connection, ids=seen, unit=unit)
    rows = [row for row in rows if row.segment_id in spans]
    latest = _with_adjudications(_latest_of(rows), {p: d for p, d in decided.items() if p[0] in spans})
    machine: list[ScoredPair] = []
    if coder is not None:
        floor = None if all_scores else judged.floor()
        machine = scored_pairs(
            connection, codebook, coder, min_score=floor, unit=unit, document_id=document_id
        )
        if floor is not None and latest:  # reviewed pairs count whatever their score: the rest of theirs
            reviewed_segments = sorted({segment_id for segment_id, _ in latest})
            machine += scored_pairs(
                connection, codebook, coder, below=floor, unit=unit, segment_ids=reviewed_segments
            )
    best = _best_scores(machine)
    judged_by: dict[tuple[int, str], float] = {}  # (run, code) -> threshold, worked out once each
    pairs: dict[Pair, PairState] = {}
    for pair, row in best.items():
        key = (row.run_id, row.code_id)
        if key not in judged_by:
            judged_by[key] = judged.of(row.run_id, row.code_id)
        pairs[pair] = PairState(
            row.segment_id,
            row.document_id,
            row.code_id,
            row.start,
            row.end,
            float(row.score),
            row.run_id,
            judged_by[key],
            latest.get(pair),
        )
    for pair, review in latest.items():
        if pair not in pairs:
            span: SegmentSpan = spans[pair[0]]
            pairs[pair] = PairState(
                pair[0], span.document_id, pair[1], span.start, span.end, None, None, None, review
            )
    retired = frozenset(retired_code_ids(connection, codebook))
    return CodingState(codebook, coder, pairs, retired, _by_reviewer_of(rows))
