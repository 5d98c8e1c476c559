"""The review queue: which suggestions a reviewer should look at next (active learning).

Ranking, done in SQL over the current suggestions of the machine coder (:mod:`narratives.store.queue`):

* uncertainty: ``1 - |score - threshold|``, highest where the coder is least sure (the code's
  threshold in the latest run; each item shows the threshold its own run set, as
  :mod:`narratives.review.state` judges it);
* rare codes first: a code with few reviewed segments is weighted ``1 + rare_boost / (1 + reviewed)``;
* pairs the reviewer has already decided are left out.

A pool a few times the page size is then picked greedily for diversity: at most one item per
segment, and items close in meaning to ones already chosen (cached embeddings) are pushed down.

An item's ``score`` is on the decision scale (it applies from ``threshold``); its ``probability`` is
the ensemble's own: the same number, except for a text's best code, which the ensemble maps from
``[top_threshold, 1]`` onto ``[threshold, 1]`` (:func:`best_code_probability` undoes that, for runs of
ensemble version 2 on). :func:`queue_size` counts the whole queue, not a page of it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import Connection

from narratives.review.state import (
    RunThresholds,
    Thresholds,
    reviewed_counts,
    run_thresholds_of,
    withdrawn_review_ids,
)
from narratives.store.coding_runs import CodingRun, coding_runs_of, last_model, latest_run
from narratives.store.embeddings import load_vectors
from narratives.store.project import Project
from narratives.store.queue import (
    BANDS,
    Band,
    Priority,
    QueueFilters,
    count_eligible,
    queue_rows,
    ranked_suggestions,
)

__all__ = [
    "BANDS",
    "Band",
    "QueueFilters",
    "QueueItem",
    "best_code_probability",
    "queue_size",
    "review_queue",
]

logger = logging.getLogger(__name__)

RARE_BOOST = 1.0
DIVERSITY_PENALTY = 0.5
NEAR_DUPLICATE = 0.95


@dataclass
class QueueItem:
    suggestion_id: int
    segment_id: int
    text: str
    document_id: int
    document_title: str
    document_kind: str
    wave: int | None
    speaker: str | None
    code_id: str
    code_name: str
    score: float
    threshold: float
    priority: float
    evidence: str | None
    evidence_start: int | None
    evidence_end: int | None
    coder: str
    reasons: list[str] = field(default_factory=list)
    probability: float | None = None  # the ensemble's probability (None: the same as ``score``)
    applies_from: float | None = None  # what ``probability`` must reach to apply (a best code's rule)
    coder_reason: str | None = None  # the coder's own one-sentence reason (the LLM coder's)

    @property
    def confidence(self) -> float:
        return self.score if self.probability is None else self.probability

    @property
    def confidence_needed(self) -> float:
        return self.threshold if self.applies_from is None else self.applies_from


def review_queue(
    project: Project,
    codebook_name: str,
    *,
    limit: int = 50,
    filters: QueueFilters | None = None,
    user: str | None = None,
) -> list[QueueItem]:
    """The ``limit`` suggestions whose review would teach the coders most, best first."""
    filters = filters or QueueFilters()
    with project.connect() as connection:
        runs = {run.id: run for run in coding_runs_of(connection, codebook_name)}
        judged = Thresholds({run_id: run_thresholds_of(run) for run_id, run in runs.items()})
        reviewed = reviewed_counts(connection, codebook_name)
        priority = _priority(connection, codebook_name, reviewed)
        withdrawn = sorted(withdrawn_review_ids(connection))
        pool_size = max(100, limit * 4)
        ranked = ranked_suggestions(connection, codebook_name, priority, filters, user, pool_size, withdrawn)
        pool = queue_rows(connection, ranked)
        vectors = _pool_vectors(connection, codebook_name, pool)
    chosen = _diverse(pool, vectors, limit)
    return [_item(row, judged, reviewed, runs.get(int(row["run_id"]))) for row in chosen]


def queue_size(
    project: Project, codebook_name: str, *, filters: QueueFilters | None = None, user: str | None = None
) -> int:
    """How many suggestions wait in the queue with these filters (what :func:`review_queue` pages)."""
    with project.connect() as connection:
        withdrawn = sorted(withdrawn_review_ids(connection))
        return count_eligible(connection, codebook_name, filters or QueueFilters(), user, withdrawn)


def best_code_probability(score: float, threshold: float, top: float) -> float:
    """The probability behind a best code's score: the inverse of
    :func:`narratives.coding.ensemble.best_code_score` (``[threshold, 1] -> [top, 1]``)."""
    if threshold <= top or threshold >= 1.0:
        return score
    return top + (score - threshold) * (1.0 - top) / (1.0 - threshold)


def _top_threshold(run: CodingRun | None, coder_version: str) -> float | None:
    """The best-code rule's threshold of ``run``, when its scores are on the version-2 scale."""
    if run is None or not coder_version.isdigit() or int(coder_version) < 2:
        return None
    top = (run.config.get("ensemble") or {}).get("top_threshold")
    return float(top) if isinstance(top, int | float) else None


def _weight(code_id: str, reviewed: dict[str, int]) -> float:
    return 1.0 + RARE_BOOST / (1.0 + reviewed.get(code_id, 0))


def _priority(connection: Connection, codebook_name: str, reviewed: dict[str, int]) -> Priority:
    """Uncertainty around each code's threshold in the latest run, times the rarity weight of its
    code. The ranking is a heuristic, so it takes the newest thresholds (and stays one index scan);
    each item then shows the threshold its own suggestion is judged by."""
    run = latest_run(connection, codebook_name)
    latest = run_thresholds_of(run) if run is not None else RunThresholds()
    return Priority(
        thresholds=dict(latest.per_code),
        default_threshold=latest.default,
        weights={code_id: _weight(code_id, reviewed) for code_id in reviewed},
        default_weight=1.0 + RARE_BOOST,
    )


def _pool_vectors(
    connection: Connection, codebook_name: str, pool: list[dict[str, Any]]
) -> dict[str, np.ndarray]:
    model = last_model(connection, codebook_name)
    hashes = sorted({row["text_hash"] for row in pool})
    if model is None or not hashes:
        return {}
    return load_vectors(connection, model, hashes)


def _diverse(pool: list[dict[str, Any]], vectors: dict[str, np.ndarray], limit: int) -> list[dict[str, Any]]:
    """Greedy pick: best priority minus a penalty for similarity to what is already chosen.

    One item per segment and no near-duplicates while the pool allows; what is left fills the page
    in priority order when the pool runs short (small projects).
    """
    if not pool:
        return []
    priority = np.array([float(row["priority"]) for row in pool])
    segment_ids = np.array([row["segment_id"] for row in pool])
    dim = len(next(iter(vectors.values()))) if vectors else 1
    matrix = np.zeros((len(pool), dim), dtype=np.float32)
    for index, row in enumerate(pool):
        if (vector := vectors.get(row["text_hash"])) is not None:
            matrix[index] = vector
    closest = np.zeros(len(pool))  # highest similarity to anything chosen so far
    available = np.ones(len(pool), dtype=bool)
    chosen: list[int] = []
    while len(chosen) < limit:
        open_ = available & (closest < NEAR_DUPLICATE)
        if not open_.any():
            break
        value = np.where(open_, priority - DIVERSITY_PENALTY * np.maximum(closest, 0.0), -np.inf)
        best = int(np.argmax(value))
        chosen.append(best)
        available[segment_ids == segment_ids[best]] = False
        closest = np.maximum(closest, matrix @ matrix[best])
    taken = set(chosen)
    rest = [index for index in range(len(pool)) if index not in taken]
    return [pool[index] for index in chosen + rest[: limit - len(chosen)]]


def _item(
    row: dict[str, Any], judged: Thresholds, reviewed: dict[str, int], run: CodingRun | None
) -> QueueItem:
    threshold = judged.of(int(row["run_id"]), row["code_id"])
    probability, applies_from = None, None
    top = _top_threshold(run, str(row["coder_version"])) if row["best_in_segment"] else None
    if top is not None and threshold > top and row["score"] >= threshold:
        probability = round(best_code_probability(float(row["score"]), threshold, top), 5)
        applies_from = top
    reasons = []
    if abs(row["score"] - threshold) < 0.15:
        reasons.append("uncertain")
    count = reviewed.get(row["code_id"], 0)
    if count < 5:
        reasons.append(f"rare code ({count} reviewed)")
    return QueueItem(
        suggestion_id=row["suggestion_id"],
        segment_id=row["segment_id"],
        text=row["text"],
        document_id=row["document_id"],
        document_title=row["document_title"],
        document_kind=row["document_kind"],
        wave=row["wave"],
        speaker=row["speaker"],
        code_id=row["code_id"],
        code_name=row["code_name"],
        score=float(row["score"]),
        threshold=threshold,
        priority=round(float(row["priority"]), 4),
        evidence=row["evidence"],
        evidence_start=row["evidence_start"],
        evidence_end=row["evidence_end"],
        coder=row["coder"],
        reasons=reasons,
        probability=probability,
        applies_from=applies_from,
        coder_reason=row.get("reason"),
    )
