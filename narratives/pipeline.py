"""Run a pipeline configuration (TOML in `pipelines/`): ingest -> segment -> code -> sentiment -> discover.

A configuration holds settings only, checked by :mod:`narratives.pipeline_config` before anything
runs; each step calls the same library function as its CLI command, with its options built the same
way (:meth:`ReadOptions.from_settings` for ingest), so `narratives demo` does exactly what a
researcher would do by hand.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from narratives.coding.config import CodingConfig, CodingRunResult
from narratives.engines import LOCAL, EngineOptions, code_with, segment_with
from narratives.ingest.readers import ReadOptions
from narratives.ingest.to_project import IngestReport, ingest_paths
from narratives.pipeline_config import (
    CodeStep,
    DiscoverStep,
    IngestStep,
    PipelineConfig,
    check_pipeline_config,
    load_pipeline_config,
)
from narratives.segment.to_project import SegmentReport
from narratives.store.project import Project

if TYPE_CHECKING:
    from narratives.coding.sentiment_run import SentimentRunResult
    from narratives.discovery.topics import DiscoveryResult
    from narratives.embed import Embedder

logger = logging.getLogger(__name__)

Say = Callable[[str], None]

__all__ = [
    "PipelineConfig",
    "PipelineResult",
    "check_pipeline_config",
    "load_pipeline_config",
    "run_pipeline",
]


@dataclass
class PipelineResult:
    ingest: list[IngestReport] = field(default_factory=list)
    segment: list[SegmentReport] = field(default_factory=list)
    coding: CodingRunResult | None = None
    sentiment: SentimentRunResult | None = None
    discovery: DiscoveryResult | None = None
    timings: dict[str, float] = field(default_factory=dict)


def run_pipeline(
    project: Project,
    config: PipelineConfig,
    *,
    base: Path,
    user: str,
    say: Say = logger.info,
    engine: EngineOptions = LOCAL,
) -> PipelineResult:
    """Run every step the configuration names, in order; paths are relative to ``base``. ``engine``
    says where segmentation and coding run (:mod:`narratives.engines`; ingest and discovery run here)."""
    result = PipelineResult()
    for step in config.ingest:
        started = time.perf_counter()
        report = ingest_paths(project, [base / f for f in step.files], read_options(step, base), user=user)
        result.ingest.append(report)
        result.timings[f"ingest {', '.join(step.files)}"] = time.perf_counter() - started
        say(
            f"ingested {', '.join(step.files)}: {report.documents_added} new documents, "
            f"{report.count('skipped')} files unchanged, {report.count('failed')} failed"
        )
    segment = config.segment
    kinds = [kind.value for kind in segment.kinds] if segment and segment.kinds else None
    for unit in segment.units if segment else []:
        started = time.perf_counter()
        segmented = segment_with(engine, project, unit, user=user, kinds=kinds)
        result.segment.append(segmented)
        result.timings[f"segment {unit.value}"] = time.perf_counter() - started
        say(f"segmented into {unit.value}s: {segmented.segments} new segments ({segmented.pipeline})")
    if config.code is None and config.sentiment is None and config.discover is None:
        return result
    from narratives.embed import load_embedder
    from narratives.models_local import project_model

    embedder = load_embedder(project_model(project, config.embedding_model))  # one model for every step
    if config.code is not None:
        started = time.perf_counter()
        result.coding = _code(project, config.code, embedder, base, user, say, engine)
        result.timings["code"] = time.perf_counter() - started
    if config.sentiment is not None:
        from narratives.coding.sentiment_run import score_sentiment

        started = time.perf_counter()
        scoring = config.sentiment
        result.sentiment = score_sentiment(project, embedder, user=user, unit=scoring.unit, seed=scoring.seed)
        result.timings["sentiment"] = time.perf_counter() - started
        counts = ", ".join(f"{n:,} {label}" for label, n in result.sentiment.counts.items())
        say(f"sentiment of {result.sentiment.segments:,} {result.sentiment.unit} segments: {counts}")
    if config.discover is not None:
        started = time.perf_counter()
        codebook_name = result.coding.codebook if result.coding is not None else None
        result.discovery = _discover(project, config.discover, embedder, codebook_name, user, say)
        result.timings["discover"] = time.perf_counter() - started
    return result


def read_options(step: IngestStep, base: Path) -> ReadOptions:
    """The reader options of an ``[[ingest]]`` step, built as `narratives ingest` builds them."""
    return ReadOptions.from_settings(
        kind=step.kind,
        split=step.split,
        id_column=step.id_column,
        text_columns=step.text_columns,
        attribute_columns=step.attribute_columns,
        sheet=step.sheet,
        participant=step.participant,
        wave=step.wave,
        date=step.date,
        encoding=step.encoding,
        max_mb=step.max_mb,
        attributes=base / step.attributes if step.attributes else None,
    )


def _code(
    project: Project,
    step: CodeStep,
    embedder: Embedder,
    base: Path,
    user: str,
    say: Say,
    engine: EngineOptions,
) -> CodingRunResult:
    from narratives.codebook.files import load_codebook

    codebook = load_codebook(base / step.codebook)
    config = CodingConfig.model_validate(step.model_dump(exclude={"codebook"}))
    from narratives.coding.llm.settings import llm_for

    # the [code] step's own LLM server, else the project's (`narratives llm set`), as `narratives code` does
    config = config.model_copy(update={"llm": llm_for(project, config.llm)})
    outcome = code_with(
        engine, project, codebook, unit=step.unit, embedder=embedder, user=user, config=config
    )
    say(f"coded with {codebook.name} {codebook.version}: {outcome}")
    return outcome


def _discover(
    project: Project,
    step: DiscoverStep,
    embedder: Embedder,
    codebook_name: str | None,
    user: str,
    say: Say,
) -> DiscoveryResult:
    from narratives.discovery.topics import discover_themes

    outcome = discover_themes(
        project,
        embedder=embedder,
        codebook_name=codebook_name,
        seed=step.seed,
        min_topic_size=step.min_topic_size,
        unit=step.unit,
        seed_topics=step.guided,
        zeroshot=step.zeroshot,
        user=user,
    )
    say(f"discovery: {outcome}")
    return outcome
