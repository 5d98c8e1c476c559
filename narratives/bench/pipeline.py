"""`narratives bench`: speed figures for the stages a researcher waits on.

Builds a throw-away project from the bundled survey (answers resampled to the size asked for), then
times ingest, segmentation, embedding (cold and from the cache), coding and the review queue; the
explorer's interactions are timed by :mod:`narratives.bench.ui` on a large generated project.
:func:`bench_startup` times how long the command line takes to answer for quick commands.
"""

from __future__ import annotations

import csv
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from narratives.ingest.readers import ReadOptions
from narratives.ingest.to_project import ingest_paths
from narratives.schema import SegmentUnit, SourceKind
from narratives.segment.to_project import segment_project
from narratives.store.project import init_project

REPO_ROOT = Path(__file__).resolve().parents[2]
SURVEY = REPO_ROOT / "corpus" / "survey" / "synthetic_survey_2025.csv"
CODEBOOK = REPO_ROOT / "models" / "codebooks" / "social-care-lived-experience.yaml"
USER = "bench"


def resampled_survey(path: Path, rows: int, seed: int = 0) -> Path:
    """A survey of ``rows`` respondents drawn with replacement from the bundled one."""
    with SURVEY.open(encoding="utf-8", newline="") as handle:
        source = list(csv.DictReader(handle))
    rng = random.Random(seed)
    fields = list(source[0])
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        for number in range(rows):
            row = dict(rng.choice(source))
            row["respondent_id"] = f"B{number:06d}"
            writer.writerow(row)
    return path


def timed(func: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = func()
    return result, time.perf_counter() - started


def median_ms(func: Callable[[], Any], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        _, seconds = timed(func)
        times.append(seconds * 1000)
    return round(statistics.median(times), 1)


def bench_pipeline(rows: int = 2000, model: str | None = None) -> dict[str, Any]:
    """Times of each stage on a survey of ``rows`` respondents (two questions each)."""
    from narratives.codebook.files import load_codebook
    from narratives.coding.runner import code_project
    from narratives.embed import EmbeddingCache, load_embedder
    from narratives.review.queue import review_queue
    from narratives.store.segments import load_segments

    figures: dict[str, Any] = {"survey respondents": rows}
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        survey = resampled_survey(base / "survey.csv", rows)
        project = init_project(base / "project")
        options = ReadOptions(
            kind=SourceKind.survey, id_column="respondent_id", text_columns=["q1_experience", "q2_change"]
        )
        report, seconds = timed(lambda: ingest_paths(project, [survey], options, user=USER))
        figures["ingest: answers/s"] = round(report.documents_added / seconds)
        segmented, seconds = timed(lambda: segment_project(project, SegmentUnit.sentence, user=USER))
        figures["segment (sentences): documents/s"] = round(segmented.documents / seconds)
        figures["sentences"] = segmented.segments
        embedder = load_embedder(model)
        with project.connect() as connection:
            texts = [s.text for s in load_segments(connection, unit=SegmentUnit.sentence)]
        unique = len(set(texts))
        cache = EmbeddingCache(project.engine)
        _, seconds = timed(lambda: cache.embed(embedder, texts))
        figures[f"embed cold ({embedder.name}): sentences/s"] = round(unique / seconds)
        _, seconds = timed(lambda: EmbeddingCache(project.engine).embed(embedder, texts))
        figures["embed from cache: sentences/s"] = round(len(texts) / seconds)
        codebook = load_codebook(CODEBOOK)
        coded, seconds = timed(
            lambda: code_project(project, codebook, embedder=embedder, user=USER, unit=SegmentUnit.sentence)
        )
        figures["code (cached embeddings): segments/s"] = round(coded.segments_coded / seconds)
        figures["suggestions written"] = coded.suggestions_written
        _, seconds = timed(
            lambda: code_project(project, codebook, embedder=embedder, user=USER, unit=SegmentUnit.sentence)
        )
        figures["re-code with nothing changed: s"] = round(seconds, 2)
        figures["review queue (50 items): ms"] = median_ms(
            lambda: review_queue(project, codebook.name, limit=50)
        )
        project.close()
    return figures


def narratives_command() -> list[str]:
    """The `narratives` console script beside this Python, else the same entry point through ``-c``."""
    script = Path(sys.executable).with_name("narratives")
    if script.is_file():
        return [str(script)]
    found = shutil.which("narratives")
    return [found] if found else [sys.executable, "-c", "from narratives.cli import main; main()"]


def median_command_ms(arguments: list[str], repeat: int = 5) -> float:
    """Median wall time of running ``narratives ARGUMENTS`` as a new process, in milliseconds."""
    command = [*narratives_command(), *arguments]
    environment = {**os.environ, "HF_HUB_OFFLINE": "1"}
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        completed = subprocess.run(command, capture_output=True, text=True, env=environment, check=False)
        times.append((time.perf_counter() - started) * 1000)
        if completed.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} exited {completed.returncode}: {completed.stderr}")
    return round(statistics.median(times), 1)


def bench_startup(repeat: int = 5) -> dict[str, Any]:
    """Wall time of quick commands, each a fresh process: what a researcher waits for at the prompt."""
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        project = init_project(base / "small")
        survey = resampled_survey(base / "survey.csv", 20)
        options = ReadOptions(
            kind=SourceKind.survey, id_column="respondent_id", text_columns=["q1_experience", "q2_change"]
        )
        ingest_paths(project, [survey], options, user=USER)
        project.close()
        return {
            "runs (median)": repeat,
            "narratives --help: ms": median_command_ms(["--help"], repeat),
            "narratives status (40 documents): ms": median_command_ms(
                ["status", str(base / "small")], repeat
            ),
            f"narratives codebook validate {CODEBOOK.name}: ms": median_command_ms(
                ["codebook", "validate", str(CODEBOOK)], repeat
            ),
        }


def bench_all(
    rows: int = 2000,
    ui: bool = True,
    model: str | None = None,
    startup: bool = True,
    ui_segments: int = 20_000,
    pipeline: bool = True,
) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    if startup:
        results["start-up (fresh process)"] = bench_startup()
    if pipeline:
        results["pipeline"] = bench_pipeline(rows, model)
    if ui:
        from narratives.bench.project import build_large_project
        from narratives.bench.ui import bench_ui

        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "large"
            _, seconds = timed(lambda: build_large_project(path, ui_segments, 5 * ui_segments))
            interactions = bench_ui(path)
            title = f"explorer ({ui_segments:,} segments, {5 * ui_segments:,} suggestions): ms"
            results[title] = {
                "build the large project (s)": round(seconds, 1),
                **interactions,
            }
    return results
