"""`narratives bench --sizes`: every stage of the pipeline at chosen sizes, against the model's own time.

For each size a synthetic corpus (:mod:`narratives.bench.corpus`: survey answers and interview
transcripts) goes through what a researcher runs: ingest, segment (turns; a survey answer is one
segment), embed, code, re-code after new reviews, re-code after editing one code, discover, analyse
(themes by need group) and export (the coded-segments table as CSV). Each stage gives its wall time,
segments per second and the process's peak resident memory while it ran. In the same run the bare
``model.encode`` of the same unique texts (model already loaded, same batch size) is timed, and the
pipeline (ingest to coded, without discovery) is given as a multiple of it. The coders also score each
sentence of a segment of two or more sentences on its own, so the model reads those texts twice; a
second bare encoding of the segments and their sentences gives the multiple over all the model must
read: everything above 1.0 there is overhead of ours.
"""

from __future__ import annotations

import os
import random
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from narratives.bench.corpus import write_bench_corpus
from narratives.schema import Decision, Review, SegmentUnit, SourceKind

if TYPE_CHECKING:
    from narratives.embed import Embedder
    from narratives.schema import Codebook
    from narratives.store.project import Project

CODEBOOK = Path(__file__).resolve().parents[2] / "models" / "codebooks" / "social-care-lived-experience.yaml"
USER = "bench"
UNIT = SegmentUnit.turn
REVIEWS_PER_CODE = 20  # the first 12 best-scored suggestions accepted, the next 8 rejected
PIPELINE_STAGES = ("ingest", "segment", "embed", "code")


def resident_bytes() -> int:
    """This process's resident memory now (Linux /proc; 0 where it cannot be read)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            pages = int(handle.read().split()[1])
    except (OSError, ValueError, IndexError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


class PeakMemory:
    """The highest resident memory seen while a block ran, sampled every 20 ms by a thread."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> PeakMemory:
        self.peak = resident_bytes()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.peak = max(self.peak, resident_bytes())

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, resident_bytes())


@dataclass
class SizeFigures:
    segments: int
    stages: dict[str, dict[str, float]] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str, count: int | None = None) -> Iterator[dict[str, float]]:
        """Time a stage; ``row["count"]`` may be set inside for its segments per second."""
        row: dict[str, float] = {}
        started = time.perf_counter()
        with PeakMemory() as memory:
            yield row
        seconds = time.perf_counter() - started
        done = row.pop("count", count if count is not None else self.segments)
        row.update(
            {
                "seconds": round(seconds, 2),
                "segments_per_s": round(done / seconds) if seconds > 0 else 0,
                "peak_memory_mb": round(memory.peak / 2**20),
            }
        )
        self.stages[name] = row

    def as_dict(self) -> dict[str, Any]:
        return {"segments": self.segments, "stages": self.stages, **self.figures}


def bench_sizes(
    sizes: list[int],
    *,
    model: str | None = None,
    embedder: Embedder | None = None,
    discover: bool = True,
    seed: int = 0,
    say: Callable[[str], None] = lambda message: None,
) -> dict[str, Any]:
    """Figures for each size (see the module doc), with the model (``embedder``, else the one named
    ``model``) loaded once beforehand."""
    from narratives.embed import load_embedder

    embedder = embedder if embedder is not None else load_embedder(model)
    started = time.perf_counter()
    embedder.encode(["Loading the model before anything is timed."])
    report: dict[str, Any] = {
        "model": embedder.name,
        "model_load_s": round(time.perf_counter() - started, 2),
        "unit": UNIT.value,
        "sizes": [],
    }
    for size in sizes:
        say(f"{size:,} segments…")
        with tempfile.TemporaryDirectory() as folder:
            report["sizes"].append(bench_size(Path(folder), size, embedder, discover, seed).as_dict())
    return report


def bench_size(folder: Path, size: int, embedder: Embedder, discover: bool, seed: int) -> SizeFigures:
    from narratives.codebook.files import load_codebook
    from narratives.embed import EmbeddingCache
    from narratives.store.project import init_project
    from narratives.store.segments import load_segments

    corpus = write_bench_corpus(folder / "corpus", size, seed)
    project = init_project(folder / "project")
    result = SizeFigures(segments=corpus.segments)
    try:
        _ingest_and_segment(project, corpus, result)
        with project.connect() as connection:
            texts = [s.text for s in load_segments(connection, unit=UNIT)]
        unique = list(dict.fromkeys(texts))
        result.segments = len(texts)
        result.figures["unique_texts"] = len(unique)
        with result.stage("bare model.encode", len(unique)):
            embedder.encode(unique)
        everything = _texts_the_coders_embed(unique)
        result.figures["texts_the_coders_embed"] = len(everything)
        with result.stage("bare model.encode (segments and their sentences)", len(everything)):
            embedder.encode(everything)
        with result.stage("embed"):
            EmbeddingCache(project.engine).embed(embedder, texts)
        codebook = load_codebook(CODEBOOK)
        _code_and_recode(project, codebook, embedder, result, random.Random(seed))
        if discover:
            _discover(project, codebook, embedder, result)
        _analyse_and_export(project, codebook, folder, result)
        _ratios(result)
    finally:
        project.close()
    return result


def _texts_the_coders_embed(unique: list[str]) -> list[str]:
    """The segments and, for those of two or more sentences, each sentence (scored on its own by the
    ensemble), once each: all the model must read to code them, bar the codebook's own examples."""
    from narratives.coding.ensemble import sentences_of

    found = dict.fromkeys(unique)
    for text in unique:
        found.update(dict.fromkeys(sentences_of(text)))
    return list(found)


def _ingest_and_segment(project: Project, corpus: Any, result: SizeFigures) -> None:
    from narratives.ingest.readers import ReadOptions
    from narratives.ingest.to_project import ingest_paths
    from narratives.segment.to_project import segment_project

    survey = ReadOptions(
        kind=SourceKind.survey, id_column="respondent_id", text_columns=["q1_experience", "q2_change"]
    )
    with result.stage("ingest", corpus.segments):
        ingest_paths(project, [corpus.survey], survey, user=USER)
        if corpus.transcripts:
            ingest_paths(project, corpus.transcripts, ReadOptions(kind=SourceKind.interview), user=USER)
    with result.stage("segment") as row:
        row["count"] = segment_project(project, UNIT, user=USER).segments


def _code_and_recode(
    project: Project, codebook: Codebook, embedder: Embedder, result: SizeFigures, rng: random.Random
) -> None:
    from narratives.coding.runner import code_project

    with result.stage("code"):
        first = code_project(project, codebook, embedder=embedder, user=USER, unit=UNIT)
    result.figures["suggestions"] = first.suggestions_written
    result.figures["reviews"] = _review(project, codebook, rng)
    with result.stage("re-code after reviews"):
        code_project(project, codebook, embedder=embedder, user=USER, unit=UNIT)
    edited = _edit_one_code(codebook)
    with result.stage("re-code after editing one code") as row:
        run = code_project(project, edited, embedder=embedder, user=USER, unit=UNIT)
        row["count"] = run.segments_coded
    result.figures["codes_recoded_after_edit"] = run.codes_recoded


def _review(project: Project, codebook: Codebook, rng: random.Random) -> int:
    """A researcher's first round: per code, accept the best-scored suggestions and reject the next."""
    from narratives.coding.similarity import codes_to_score
    from narratives.review.record import record_review
    from narratives.review.state import ENSEMBLE
    from narratives.store.suggestions import current_suggestions

    def write(connection: Any) -> int:
        made = 0
        for code in codes_to_score(codebook):
            found = current_suggestions(connection, codebook.name, code.id, coder=ENSEMBLE)
            best = sorted(found, key=lambda s: (-s.score, s.segment_id))[:REVIEWS_PER_CODE]
            for rank, suggestion in enumerate(best):
                decision = Decision.accept if rank < REVIEWS_PER_CODE * 3 // 5 else Decision.reject
                review = Review(
                    segment_id=suggestion.segment_id,
                    code_id=code.id,
                    decision=decision,
                    user=rng.choice(("reviewer-a", "reviewer-b")),
                    suggestion_id=suggestion.id,
                    codebook=codebook.name,
                )
                record_review(connection, review, source="cli")
                made += 1
        return made

    return project.write(write, what="the bench reviews")


def _edit_one_code(codebook: Codebook) -> Codebook:
    """The codebook with one code's definition reworded, as a researcher refines one code."""
    from narratives.coding.similarity import codes_to_score

    target = codes_to_score(codebook)[0].id
    codes = [
        code.model_copy(update={"definition": f"{code.definition} Includes waiting for a reply."})
        if code.id == target
        else code
        for code in codebook.codes
    ]
    return codebook.model_copy(update={"codes": codes})


def _discover(project: Project, codebook: Codebook, embedder: Embedder, result: SizeFigures) -> None:
    from narratives.discovery.topics import discover_themes

    with result.stage("discover"):
        found = discover_themes(project, embedder=embedder, user=USER, codebook_name=codebook.name, unit=UNIT)
    result.figures["candidates"] = len(found.candidates)


def _analyse_and_export(project: Project, codebook: Codebook, folder: Path, result: SizeFigures) -> None:
    from narratives.analysis.crosstab import themes_by_attribute
    from narratives.interop.tables import coded_table

    with result.stage("analyse (themes by need group)"), project.connect() as connection:
        themes_by_attribute(connection, codebook.name, "need_group")
    with result.stage("export (coded segments CSV)"), project.connect() as connection:
        coded_table(connection, codebook.name).to_csv(folder / "coded.csv", index=False)


def _ratios(result: SizeFigures) -> None:
    stages = result.stages
    pipeline = sum(stages[name]["seconds"] for name in PIPELINE_STAGES)
    bare = stages["bare model.encode"]["seconds"]
    first = stages["embed"]["seconds"] + stages["code"]["seconds"]
    result.figures["pipeline_s"] = round(pipeline, 2)
    result.figures["pipeline_over_bare_encode"] = round(pipeline / bare, 3) if bare else None
    every = stages["bare model.encode (segments and their sentences)"]["seconds"]
    result.figures["pipeline_over_bare_encode_of_every_text"] = round(pipeline / every, 3) if every else None
    result.figures["recode_after_reviews_share_of_first_coding"] = round(
        stages["re-code after reviews"]["seconds"] / first, 3
    )
    result.figures["recode_after_edit_share_of_first_coding"] = round(
        stages["re-code after editing one code"]["seconds"] / first, 3
    )
    result.figures["peak_memory_mb"] = max(row["peak_memory_mb"] for row in stages.values())
