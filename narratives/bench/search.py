"""How fast search answers on a large project (`narratives bench --search`).

``bench_search(path)`` times, on a project made by
:func:`~narratives.bench.project.build_large_project` (plus one short interview naming a rare word,
:func:`add_rare_word_document`), the calls a search box makes: keyword search for a common word, a
rare word, a phrase and an OR query, each over every kind and over interviews only; keyword search
with a code filter, given the ``codes_by_segment`` mapping the explorer keeps (that pass timed on its
own); the semantic index built (first build and rebuild) and semantic search per query; and the
first keyword search after the project is opened. Each figure is the median and 95th percentile of
``repeats`` runs after one untimed warm-up, in milliseconds. The target (issue 11) is under 300 ms
at 100,000 segments.

The generated project's vectors are random, stored under the fake model name
:data:`~narratives.bench.project.MODEL`, so a query is embedded by :class:`BenchQueryEmbedder`
(same name, a vector drawn from the query's hash): the semantic figures leave out the real model's
query encoding, which is timed apart with all-MiniLM-L6-v2 when it loads offline.
"""

from __future__ import annotations

import hashlib
import logging
import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from narratives.bench.browser import percentile
from narratives.bench.project import CODEBOOK, DIM, MODEL, WORDS, build_large_project
from narratives.schema import Document, Segment, SegmentUnit, SourceKind, text_hash
from narratives.store.documents import save_document
from narratives.store.project import Project, open_project
from narratives.store.segments import save_segments

logger = logging.getLogger(__name__)

UNIT = "sentence"
RARE_WORD = "ombudsman"
RARE_SENTENCES = 25
KIND = "interview"
CODE = "system"  # a theme: its four sub-codes count too
KEYWORD_QUERIES = {
    "common word": "money",
    "rare word": RARE_WORD,
    "phrase": '"care home"',
    "OR query": "respite OR nurse",
}
SEMANTIC_QUERIES = {
    "word": "money",
    "sentence": "We waited weeks for the council to phone back about her care.",
}
NOTE = (
    "Semantic figures use a hashed query vector under the project's fake model name: they leave out "
    "the real model's query encoding (timed apart as 'all-MiniLM-L6-v2: encode one query')."
)


class BenchQueryEmbedder:
    """A deterministic stand-in for the model the bench project's random vectors are stored under."""

    name = MODEL
    dim = DIM

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        rows = np.empty((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            seed = int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:16], 16)
            rows[i] = np.random.default_rng(seed).standard_normal(self.dim)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@dataclass(frozen=True)
class SearchTiming:
    """One row of the table: what was timed, in which scope, and its figures in milliseconds."""

    measure: str
    scope: str  # "all kinds", "interviews", "code system" or "-" where no search runs
    median_ms: float
    p95_ms: float
    runs: int
    matches: int | None  # segments matched (keyword) or compared (semantic); None for other steps


# -------------------------------------------------------------------------------- the project


def add_rare_word_document(project: Project, seed: int = 0) -> None:
    """One short interview whose every sentence names :data:`RARE_WORD` (the generated vocabulary has
    no rare word), with its vectors stored under the bench model."""
    from narratives.analysis.search import build_semantic_index

    rng = random.Random(seed)
    sentences = [
        f"The {RARE_WORD} " + " ".join(rng.choices(WORDS, k=rng.randint(6, 16))) + "."
        for _ in range(RARE_SENTENCES)
    ]
    text = " ".join(sentences)
    document = Document(
        kind=SourceKind.interview,
        title="Interview with a rare word",
        text=text,
        participant="R00001",
        wave=1,
        path="bench/interview/rare",
        source_format="txt",
        content_hash=text_hash(f"rare\x1f{text}"),
    )
    with project.begin() as connection:
        document_id = save_document(connection, document).document_id
        found, start = [], 0
        for index, sentence in enumerate(sentences):
            found.append(
                Segment(
                    document_id=document_id,
                    unit=SegmentUnit.sentence,
                    index=index,
                    start=start,
                    end=start + len(sentence),
                    text=sentence,
                )
            )
            start += len(sentence) + 1
        save_segments(connection, found, pipeline="bench")
        build_semantic_index(connection, BenchQueryEmbedder(), UNIT)  # stores the new vectors


def search_project(path: str | Path, n_segments: int, seed: int = 0) -> Path:
    """A new bench project at ``path`` for timing search: ``n_segments`` generated segments (three
    suggestions each, as the coding runner keeps) and the rare-word interview."""
    project = build_large_project(path, n_segments=n_segments, n_suggestions=3 * n_segments, seed=seed)
    try:
        add_rare_word_document(project, seed)
    finally:
        project.close()
    return Path(path)


# ---------------------------------------------------------------------------------- timing


def _timed(measure: str, scope: str, action: Callable[[], int | None], repeats: int) -> SearchTiming:
    matches = action()  # the warm-up
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return _row(measure, scope, times, matches)


def _row(measure: str, scope: str, times: Sequence[float], matches: int | None) -> SearchTiming:
    median, p95 = statistics.median(times), percentile(times, 0.95)
    return SearchTiming(measure, scope, round(median, 2), round(p95, 2), len(times), matches)


def _keyword_rows(project: Project, carried: Any, repeats: int) -> list[SearchTiming]:
    from narratives.analysis.search import SearchFilters, keyword_search

    def search(typed: str, filters: SearchFilters, codes: Any = None) -> Callable[[], int]:
        def run() -> int:
            with project.connect() as connection:
                return keyword_search(connection, typed, filters, carried=codes).total

        return run

    everything = SearchFilters(unit=UNIT)
    interviews = SearchFilters(unit=UNIT, kinds=(KIND,))
    rows = []
    for label, typed in KEYWORD_QUERIES.items():
        rows.append(_timed(f"keyword: {label} ({typed})", "all kinds", search(typed, everything), repeats))
        rows.append(_timed(f"keyword: {label} ({typed})", "interviews", search(typed, interviews), repeats))
    coded = SearchFilters(unit=UNIT, code=CODE, codebook=CODEBOOK)
    common = KEYWORD_QUERIES["common word"]
    rows.append(
        _timed(f"keyword: common word ({common})", f"code {CODE}", search(common, coded, carried), repeats)
    )
    return rows


def _semantic_rows(project: Project, carried: Any, repeats: int) -> list[SearchTiming]:
    from narratives.analysis.search import SearchFilters, build_semantic_index, semantic_search

    embedder = BenchQueryEmbedder()

    def build() -> int:
        with project.connect() as connection:
            return build_semantic_index(connection, embedder, UNIT).size

    started = time.perf_counter()
    size = build()
    first = _row("semantic index: first build", "-", [(time.perf_counter() - started) * 1000], size)
    rows = [first, _timed("semantic index: rebuild", "-", build, repeats)]
    with project.connect() as connection:
        index = build_semantic_index(connection, embedder, UNIT)

    def search(typed: str, filters: SearchFilters) -> Callable[[], int]:
        def run() -> int:
            with project.connect() as connection:
                return semantic_search(connection, typed, index, embedder, filters, carried=carried).total

        return run

    scopes = {
        "all kinds": SearchFilters(unit=UNIT),
        "interviews": SearchFilters(unit=UNIT, kinds=(KIND,)),
        f"code {CODE}": SearchFilters(unit=UNIT, code=CODE, codebook=CODEBOOK),
    }
    for label, typed in SEMANTIC_QUERIES.items():
        for scope, filters in scopes.items():
            rows.append(_timed(f"semantic: {label}", scope, search(typed, filters), repeats))
    return rows


def _first_open_row(path: Path, repeats: int) -> SearchTiming:
    """The first keyword search after the project is opened (a new engine each time, same process)."""
    from narratives.analysis.search import SearchFilters, keyword_search

    times, matches = [], 0
    for _ in range(max(1, repeats // 4)):
        project = open_project(path)
        try:
            started = time.perf_counter()
            with project.connect() as connection:
                matches = keyword_search(connection, KEYWORD_QUERIES["common word"], SearchFilters()).total
            times.append((time.perf_counter() - started) * 1000)
        finally:
            project.close()
    return _row(
        f"keyword: first call after opening ({KEYWORD_QUERIES['common word']})", "all kinds", times, matches
    )


def _model_row(repeats: int) -> SearchTiming | None:
    """One query encoded by the real all-MiniLM-L6-v2 (loaded untimed), or None if it will not load."""
    from narratives.embed import load_embedder
    from narratives.errors import NarrativesError

    try:
        embedder = load_embedder()
        embedder.encode(["warm-up"])
    except (NarrativesError, OSError, ImportError) as error:
        logger.warning("all-MiniLM-L6-v2 did not load (%s): its query encoding is not timed", error)
        return None
    query = SEMANTIC_QUERIES["sentence"]
    return _timed(f"{embedder.name}: encode one query", "-", lambda: len(embedder.encode([query])), repeats)


def bench_search(path: str | Path, repeats: int = 20, real_model: bool = True) -> list[SearchTiming]:
    """The search timings on the project at ``path`` (made by :func:`search_project`)."""
    from narratives.analysis.search import codes_by_segment

    path = Path(path)
    rows = [_first_open_row(path, repeats)]
    project = open_project(path)
    try:

        def carried_pass() -> int:
            with project.connect() as connection:
                return len(codes_by_segment(connection, CODEBOOK, UNIT))

        rows.append(_timed("codes_by_segment (once per data version)", "-", carried_pass, repeats))
        with project.connect() as connection:
            carried = codes_by_segment(connection, CODEBOOK, UNIT)
        rows += _keyword_rows(project, carried, repeats)
        rows += _semantic_rows(project, carried, repeats)
    finally:
        project.close()
    model = _model_row(repeats) if real_model else None
    return rows + ([model] if model else [])


def bench_search_report(
    path: str | Path, n_segments: int, repeats: int = 20, real_model: bool = True
) -> dict[str, Any]:
    """Build the project at ``path``, time search on it, and return everything as one JSON-ready dict."""
    import os

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    started = time.perf_counter()
    search_project(path, n_segments)
    built = time.perf_counter() - started
    rows = bench_search(path, repeats, real_model)
    return {
        "segments": n_segments + RARE_SENTENCES,
        "suggestions": 3 * n_segments,
        "build_s": round(built, 1),
        "load_average_1min_before": round(load, 2),
        "repeats": repeats,
        "query_embedder": MODEL,
        "note": NOTE,
        "timings": [asdict(row) for row in rows],
    }
