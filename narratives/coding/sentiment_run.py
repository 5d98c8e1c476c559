"""Scoring a project's segments for sentiment: train (shipped comments + the project's corrections),
predict every segment of one unit, and store the labels in one transaction.

The shipped comments' vectors are cached outside the project, in ``~/.cache/narratives/embeddings``
(public data: embedded once per machine); the project's segments and corrections go through the
project's own cache. Interviewers' turns are left out, as coding leaves them out.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import numpy as np
from sqlalchemy import Connection

from narratives.coding.engine import Progress
from narratives.coding.runner import choose_unit
from narratives.coding.sentiment import LABELS, VERSION, corrections_digest, train_sentiment
from narratives.embed import CachedEmbedder, Embedder, EmbeddingCache, NpyEmbeddingCache
from narratives.paths import user_cache
from narratives.schema import SegmentUnit
from narratives.store.events import record_event
from narratives.store.project import Project
from narratives.store.segments import load_segments
from narratives.store.sentiments import save_sentiments, sentiment_corrections

SKIPPED_SPEAKERS = ["Interviewer"]


def shipped_cache_folder() -> Path:
    """Where the shipped comments' vectors are cached: the folder `narratives evaluate` uses."""
    return user_cache("embeddings")


@dataclass
class SentimentRunResult:
    unit: str
    segments: int
    corrections: int
    counts: dict[str, int] = field(default_factory=dict)
    model: str = ""
    version: str = ""
    seconds: float = 0.0


def score_sentiment(
    project: Project,
    embedder: Embedder,
    *,
    user: str,
    unit: SegmentUnit | None = None,
    seed: int = 0,
    progress: Progress | None = None,
) -> SentimentRunResult:
    """Label every segment of ``unit`` (default: the finest present) positive, mixed or negative."""
    report = progress or (lambda stage, done, total: None)
    started = time.perf_counter()
    with project.connect() as connection:
        chosen = choose_unit(connection, unit)
        segs = load_segments(connection, unit=chosen, exclude_speakers=SKIPPED_SPEAKERS)
        corrections = sentiment_corrections(connection)
    own = cast(Embedder, CachedEmbedder(embedder, EmbeddingCache(project.engine)))
    shipped = cast(Embedder, CachedEmbedder(embedder, NpyEmbeddingCache(shipped_cache_folder())))
    report("learning sentiment", 0, 1)
    model = train_sentiment(shipped.encode, own.encode, corrections, seed=seed)
    report("learning sentiment", 1, 1)
    texts = [s.text for s in segs]
    vectors = own.encode(texts) if texts else np.zeros((0, embedder.dim), dtype=np.float32)
    probabilities = model.predict_proba(texts, vectors)
    rows = [
        {
            "segment_id": int(s.id or 0),
            "label": LABELS[int(p.argmax())],
            **{label: round(float(p[k]), 5) for k, label in enumerate(LABELS)},
        }
        for s, p in zip(segs, probabilities, strict=True)
    ]
    version = f"{VERSION}:{corrections_digest(corrections)}"
    result = SentimentRunResult(
        unit=chosen.value,
        segments=len(rows),
        corrections=len(corrections),
        counts=dict(Counter(str(row["label"]) for row in rows)),
        model=embedder.name,
        version=version,
    )

    def store(connection: Connection) -> None:
        save_sentiments(connection, rows, embedder.name, version)
        record_event(
            connection,
            "sentiment.run",
            user,
            payload={
                "unit": chosen.value,
                "segments": len(rows),
                "corrections": len(corrections),
                "model": embedder.name,
                "version": version,
                "seed": seed,
            },
        )

    project.write(store, what="the segments' sentiment")
    result.seconds = round(time.perf_counter() - started, 2)
    report("done", 1, 1)
    return result
