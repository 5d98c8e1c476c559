"""The two steps of a coding run that an engine may spread over workers: embedding and scoring.

:func:`narratives.coding.runner.code_project` plans a run, fits the ensemble once and writes the run;
in between it asks its engine to embed the segments (through the project's cache) and to score the
cells the plan asks for. :class:`LocalEngine` does both in this process (the default);
``narratives.engines.ray_engine`` does them on Ray workers and must return exactly what the local
engine would: the same vectors and the same suggestions, in the same order (:func:`in_local_order`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

import numpy as np

from narratives.coding.config import CodingConfig
from narratives.coding.ensemble import EnsembleCoder
from narratives.embed import Embedder, EmbeddingCache
from narratives.schema import Suggestion

Progress = Callable[[str, int, int], None]  # (stage, done, total)
PROGRESS_STEPS = 50  # coding reports progress about this many times ...
PROGRESS_MIN_STEP = 16  # ... but scores at least this many segments between reports
EMBED_CHUNK = 512


@dataclass
class ScoringJob:
    """What scoring needs, fitted and planned: every row is scored on its own, so any split of
    ``rows`` gives the same suggestions (``step`` only sets how often progress is shown locally)."""

    ensemble: EnsembleCoder
    config: CodingConfig
    segment_ids: np.ndarray  # int64, one per segment
    texts: list[str]
    vectors: np.ndarray
    new_rows: np.ndarray  # bool per segment: never coded with this codebook and unit
    recode_columns: np.ndarray  # bool per ensemble code: scored again on every segment
    rows: np.ndarray  # positions of the segments to score, ascending
    step: int


class CodingEngine(Protocol):
    """Where a coding run embeds and scores (the run itself is always written by the caller)."""

    name: str
    workers: int

    def embed(
        self, cache: EmbeddingCache, embedder: Embedder, texts: list[str], report: Progress
    ) -> np.ndarray: ...

    def score(self, job: ScoringJob, report: Progress) -> list[Suggestion]: ...


class LocalEngine:
    """Embedding and scoring in this process."""

    name = "local"
    workers = 1

    def embed(
        self, cache: EmbeddingCache, embedder: Embedder, texts: list[str], report: Progress
    ) -> np.ndarray:
        parts = [np.zeros((0, embedder.dim), dtype=np.float32)] if not texts else []
        for start in range(0, len(texts), EMBED_CHUNK):
            parts.append(cache.embed(embedder, texts[start : start + EMBED_CHUNK]))
            report("embedding", min(start + EMBED_CHUNK, len(texts)), len(texts))
        return np.vstack(parts)

    def score(self, job: ScoringJob, report: Progress) -> list[Suggestion]:
        """Suggestions (without run provenance) for the planned cells, reporting progress after each
        step of at most ``batch_size`` segments."""
        found: list[Suggestion] = []
        report("coding", 0, len(job.rows))
        for start in range(0, len(job.rows), job.step):
            found.extend(score_rows(job, job.rows[start : start + job.step]))
            report("coding", min(start + job.step, len(job.rows)), len(job.rows))
        return found


def scoring_step(config: CodingConfig, rows: int) -> int:
    return min(config.batch_size, max(PROGRESS_MIN_STEP, -(-rows // PROGRESS_STEPS)))


def score_rows(job: ScoringJob, batch: np.ndarray) -> list[Suggestion]:
    """Suggestions for the segments at positions ``batch``: each scorer (the ensemble, then the
    components it stores) in turn, row by row, code by code."""
    ensemble, config = job.ensemble, job.config
    components = [c for c in cast(list[Any], ensemble.coders) if c.name in config.store_components]
    texts = [job.texts[i] for i in batch]
    needed = job.new_rows[batch][:, None] | job.recode_columns[None, :]
    found: list[Suggestion] = []
    for coder in [ensemble, *components]:
        output = coder.predict(texts, job.vectors[batch])
        scores = _aligned_scores(output.scores, output.code_ids, ensemble.code_ids_)
        keep = _keep(scores, config) & needed
        column = {code_id: k for k, code_id in enumerate(output.code_ids)}
        for i, j in zip(*np.nonzero(keep), strict=True):
            evidence = output.evidence.get((int(i), column.get(ensemble.code_ids_[j], -1)))
            found.append(
                Suggestion(
                    segment_id=int(job.segment_ids[batch[i]]),
                    code_id=ensemble.code_ids_[j],
                    coder=coder.name,
                    coder_version=coder.version,
                    score=round(float(scores[i, j]), 5),
                    evidence=evidence.text if evidence else None,
                    evidence_start=evidence.start if evidence else None,
                    evidence_end=evidence.end if evidence else None,
                    reason=evidence.reason if evidence else None,
                )
            )
    return found


def in_local_order(job: ScoringJob, found: Sequence[Suggestion]) -> list[Suggestion]:
    """``found`` (scored in any split of the rows) in the order :class:`LocalEngine` gives: by step,
    then scorer, then row, then code."""
    scorers = [job.ensemble.name] + [
        c.name for c in cast(list[Any], job.ensemble.coders) if c.name in job.config.store_components
    ]
    rank = {name: k for k, name in enumerate(scorers)}
    column = {code_id: j for j, code_id in enumerate(job.ensemble.code_ids_)}
    order = {int(job.segment_ids[position]): k for k, position in enumerate(job.rows)}

    def key(s: Suggestion) -> tuple[int, int, int, int]:
        k = order[s.segment_id]
        return (k // job.step, rank[s.coder], k, column[s.code_id])

    return sorted(found, key=key)


def _aligned_scores(scores: np.ndarray, code_ids: list[str], wanted: list[str]) -> np.ndarray:
    if code_ids == wanted:
        return scores
    index = {code_id: j for j, code_id in enumerate(code_ids)}
    aligned = np.zeros((scores.shape[0], len(wanted)), dtype=np.float32)
    for j, code_id in enumerate(wanted):
        if code_id in index:
            aligned[:, j] = scores[:, index[code_id]]
    return aligned


def _keep(scores: np.ndarray, config: CodingConfig) -> np.ndarray:
    """Scores worth storing: at least ``floor``, or among the row's ``top_k`` and at least ``min_score``."""
    keep = scores >= config.floor
    if config.top_k and scores.shape[1]:
        k = min(config.top_k, scores.shape[1])
        top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        in_top = np.zeros_like(keep)
        np.put_along_axis(in_top, top, True, axis=1)
        keep |= in_top & (scores >= config.min_score)
    return keep
