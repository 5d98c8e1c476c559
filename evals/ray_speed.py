"""Wall time of segmenting and coding on the local engine and on Ray with 1 and 2 workers, same corpus.

    python evals/ray_speed.py --segments 2000 --json evals/results-ray.json
    python evals/ray_speed.py --segments 2000 --unit sentence --segment-only \
        --json evals/results-ray-segment-sentences.json

Builds the bench corpus (:mod:`narratives.bench.corpus`: survey answers and a few transcripts) of
about ``--segments`` segments, ingests it once, then for each engine segments a fresh copy of that
project into the bench unit (turns: a survey answer is one segment) and codes it with the real MiniLM
and the social-care codebook, as `narratives code` does. Every copy starts with an empty embedding
cache, so each coding encodes everything. Ray starts once (a local Ray with 2 CPUs, timed apart);
each stage's time includes starting its Ray actors and loading spaCy or the model in each of them.
The load average is recorded before and after each run: on a shared machine the figures mean
little without it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from narratives.bench.corpus import write_bench_corpus
from narratives.bench.sizes import CODEBOOK, UNIT, USER
from narratives.codebook.files import load_codebook
from narratives.coding.config import CodingConfig
from narratives.embed import Embedder, load_embedder
from narratives.engines import LOCAL, EngineOptions, code_with, segment_with, start_engine
from narratives.ingest.readers import ReadOptions
from narratives.ingest.to_project import ingest_paths
from narratives.schema import SegmentUnit, SourceKind
from narratives.store.project import init_project, open_project

ENGINES = {
    "local": LOCAL,
    "ray, 1 worker": EngineOptions(name="ray", workers=1),
    "ray, 2 workers": EngineOptions(name="ray", workers=2),
}


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def ingested_project(folder: Path, segments: int, seed: int) -> Path:
    """The bench corpus of about ``segments`` segments, ingested (not segmented) into a new project."""
    corpus = write_bench_corpus(folder / "corpus", segments, seed)
    project = init_project(folder / "ingested")
    survey = ReadOptions(
        kind=SourceKind.survey, id_column="respondent_id", text_columns=["q1_experience", "q2_change"]
    )
    ingest_paths(project, [corpus.survey], survey, user=USER)
    if corpus.transcripts:
        ingest_paths(project, corpus.transcripts, ReadOptions(kind=SourceKind.interview), user=USER)
    project.close()
    return folder / "ingested"


class StageClock:
    """The progress callback of a coding run: when each of its stages (embedding, coding) first and
    last reported, so a run's time splits into fitting, embedding and scoring."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.spans: dict[str, list[float]] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.perf_counter() - self.started
        self.spans.setdefault(stage, [now, now])[1] = now

    def figures(self) -> dict[str, list[float]]:
        return {stage: [round(t, 2) for t in span] for stage, span in self.spans.items()}


def run_engine(
    source: Path, target: Path, options: EngineOptions, embedder: Embedder | None, unit: SegmentUnit
) -> dict[str, Any]:
    """Segment a copy of ``source`` on ``options`` and code it (unless ``embedder`` is None); seconds
    and counts of each stage."""
    project = open_project(shutil.copytree(source, target))
    figures: dict[str, Any] = {"load_before": load()}
    started = time.perf_counter()
    report = segment_with(options, project, unit, user=USER)
    figures["segment_s"] = round(time.perf_counter() - started, 2)
    figures.update(
        segments=report.segments, segments_per_s_segment=round(report.segments / figures["segment_s"], 1)
    )
    if embedder is None:
        figures["load_after"] = load()
        project.close()
        return figures
    book = load_codebook(CODEBOOK)
    started, clock = time.perf_counter(), StageClock()
    result = code_with(
        options, project, book, embedder=embedder, user=USER, config=CodingConfig(), progress=clock
    )
    figures["code_s"] = round(time.perf_counter() - started, 2)
    figures["code_stage_spans_s"] = clock.figures()  # [first, last] report of each stage, from the start
    figures["load_after"] = load()
    project.close()
    figures.update(
        texts_encoded=result.cache_misses,
        suggestions=result.suggestions_written,
        segments_per_s_code=round(report.segments / figures["code_s"], 1),
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--unit", type=SegmentUnit, default=UNIT, help="segment unit (default: turn)")
    parser.add_argument("--segment-only", action="store_true", help="time segmenting only, no coding")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    embedder = None if args.segment_only else load_embedder()
    if embedder is not None:
        embedder.encode(["Loading the model before anything is timed."])
    report: dict[str, Any] = {
        "command": f"python evals/ray_speed.py --segments {args.segments} --unit {args.unit.value}"
        + (" --segment-only" if args.segment_only else ""),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs (shared with other work)",
        "model": embedder.name if embedder else None,
        "unit": args.unit.value,
        "load_at_start": load(),
    }
    started = time.perf_counter()
    start_engine(EngineOptions(name="ray", workers=2))  # one local Ray with 2 CPUs for both Ray runs
    report["ray_start_s"] = round(time.perf_counter() - started, 2)
    runs: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        source = ingested_project(Path(folder), args.segments, args.seed)
        for n, (label, options) in enumerate(ENGINES.items()):
            runs[label] = run_engine(source, Path(folder) / f"run{n}", options, embedder, args.unit)
            print(label, json.dumps(runs[label]), flush=True)
    report["runs"] = runs
    report["load_at_end"] = load()
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
