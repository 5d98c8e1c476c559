"""Run a pipeline configuration (TOML in `pipelines/`): ingest -> segment -> code -> discover.

A configuration holds settings only; each step calls the same library function as its CLI command,
so `narratives demo` does exactly what a researcher would do by hand.
"""

from __future__ import annotations

import logging
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from narratives.embed import Embedder
from narratives.errors import ProjectError
from narratives.ingest.attributes_file import read_attributes_file
from narratives.ingest.readers import ReadOptions
from narratives.ingest.to_project import IngestReport, ingest_paths
from narratives.schema import SourceKind
from narratives.segment.to_project import SegmentReport, segment_project
from narratives.store.project import Project

logger = logging.getLogger(__name__)

Say = Callable[[str], None]


@dataclass
class PipelineResult:
    ingest: list[IngestReport] = field(default_factory=list)
    segment: list[SegmentReport] = field(default_factory=list)
    coding: Any = None
    discovery: Any = None
    timings: dict[str, float] = field(default_factory=dict)


def load_pipeline_config(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProjectError(
            "pipeline file not found.", where=path, fix="give a TOML file from pipelines/."
        ) from None
    except tomllib.TOMLDecodeError as error:
        raise ProjectError(f"not valid TOML ({error}).", where=path) from None


def run_pipeline(
    project: Project, config: dict[str, Any], *, base: Path, user: str, say: Say = logger.info
) -> PipelineResult:
    """Run every step the configuration names, in order."""
    result = PipelineResult()
    for step in config.get("ingest", []):
        started = time.perf_counter()
        report = ingest_paths(
            project, [base / f for f in step["files"]], _read_options(step, base), user=user
        )
        result.ingest.append(report)
        result.timings[f"ingest {', '.join(step['files'])}"] = time.perf_counter() - started
        say(
            f"ingested {', '.join(step['files'])}: {report.documents_added} new documents, "
            f"{report.count('skipped')} files unchanged, {report.count('failed')} failed"
        )
    for unit in config.get("segment", {}).get("units", []):
        started = time.perf_counter()
        segmented = segment_project(project, unit, user=user)
        result.segment.append(segmented)
        result.timings[f"segment {unit}"] = time.perf_counter() - started
        say(f"segmented into {unit}s: {segmented.segments} new segments ({segmented.pipeline})")
    if "code" not in config and "discover" not in config:
        return result
    from narratives.embed import load_embedder

    embedder = load_embedder(config.get("code", {}).get("model"))  # one model for both steps
    if "code" in config:
        started = time.perf_counter()
        result.coding = _code(project, config["code"], embedder, base, user, say)
        result.timings["code"] = time.perf_counter() - started
    if "discover" in config:
        started = time.perf_counter()
        codebook_name = result.coding.codebook if result.coding is not None else None
        result.discovery = _discover(project, config["discover"], embedder, codebook_name, user, say)
        result.timings["discover"] = time.perf_counter() - started
    return result


def _read_options(step: dict[str, Any], base: Path) -> ReadOptions:
    attributes = step.get("attributes")
    return ReadOptions(
        kind=SourceKind(step["kind"]) if step.get("kind") else None,
        split=step.get("split"),
        id_column=step.get("id_column"),
        text_columns=list(step.get("text_columns", [])),
        attribute_columns=step.get("attribute_columns"),
        participant=step.get("participant"),
        wave=step.get("wave"),
        attributes=read_attributes_file(base / attributes) if attributes else None,
    )


def _code(project: Project, step: dict[str, Any], embedder: Embedder, base: Path, user: str, say: Say) -> Any:
    from narratives.codebook.files import load_codebook
    from narratives.coding.config import CodingConfig
    from narratives.coding.runner import code_project
    from narratives.schema import SegmentUnit

    codebook = load_codebook(base / step["codebook"])
    unit = SegmentUnit(step["unit"]) if step.get("unit") else None
    config = CodingConfig(**{k: v for k, v in step.items() if k in CodingConfig.model_fields})
    outcome = code_project(project, codebook, unit=unit, embedder=embedder, user=user, config=config)
    say(f"coded with {codebook.name} {codebook.version}: {outcome}")
    return outcome


def _discover(
    project: Project,
    step: dict[str, Any],
    embedder: Embedder,
    codebook_name: str | None,
    user: str,
    say: Say,
) -> Any:
    from narratives.discovery.topics import discover_themes
    from narratives.schema import SegmentUnit

    outcome = discover_themes(
        project,
        embedder=embedder,
        codebook_name=codebook_name,
        seed=int(step.get("seed", 42)),
        unit=SegmentUnit(step["unit"]) if step.get("unit") else None,
        seed_topics=bool(step.get("guided", False)),
        user=user,
    )
    say(f"discovery: {outcome}")
    return outcome
