"""Where the heavy stages run: in this process (``local``, the default) or on Ray (``ray``).

With ``ray`` (the extra ``narratives[ray]``), segmentation, embedding and coding's scoring run as Ray
Data pipelines whose actors load spaCy or the model once each, on a local Ray or on the cluster at
``address``; the workers read and write the project's database themselves (PostgreSQL when they run
on several machines), with inserts that skip rows already there, so a task retried after its
worker died writes nothing twice. Both engines give the same segments and the same suggestions.
``import ray`` happens only in :mod:`narratives.engines.ray_engine` and the workers it starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from narratives.errors import EngineError

if TYPE_CHECKING:
    from collections.abc import Callable

    from narratives.coding.config import CodingConfig, CodingRunResult
    from narratives.coding.engine import Progress
    from narratives.embed import Embedder
    from narratives.schema import Codebook, SegmentUnit
    from narratives.segment.to_project import SegmentReport
    from narratives.store.project import Project

ENGINES = ("local", "ray")


@dataclass(frozen=True)
class EngineOptions:
    """``name``: local or ray; ``address``: a running Ray cluster (default: start a local Ray);
    ``workers``: actors per stage (default: the CPUs Ray has); ``batch_size``: items per Ray task."""

    name: str = "local"
    address: str | None = None
    workers: int | None = None
    batch_size: int = 256

    def __post_init__(self) -> None:
        if self.name not in ENGINES:
            raise EngineError(f"unknown engine '{self.name}'.", fix=f"choose one of: {', '.join(ENGINES)}.")
        if self.workers is not None and self.workers < 1:
            raise EngineError(
                f"--workers must be at least 1, not {self.workers}.", fix="give --workers 1 or more."
            )
        if self.batch_size < 1:
            raise EngineError(
                f"the batch size must be at least 1, not {self.batch_size}.", fix="give 1 or more."
            )


LOCAL = EngineOptions()


def start_engine(options: EngineOptions) -> str:
    """Connect to (or start) what ``options`` names; a line saying which engine and how many workers."""
    if options.name == "local":
        return "engine: local (this process)"
    from narratives.engines.ray_engine import ray_session

    return ray_session(options).describe()


def segment_with(
    options: EngineOptions,
    project: Project,
    unit: SegmentUnit | str,
    *,
    user: str,
    kinds: list[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SegmentReport:
    """:func:`narratives.segment.to_project.segment_project` on the engine ``options`` names;
    ``progress(done, total)`` counts documents (on Ray, after each block of them)."""
    if options.name == "local":
        from narratives.segment.to_project import segment_project

        return segment_project(project, unit, user=user, kinds=kinds, progress=progress)
    from narratives.engines.ray_engine import ray_session, segment_on_ray

    return segment_on_ray(ray_session(options), project, unit, user=user, kinds=kinds, progress=progress)


def code_with(
    options: EngineOptions,
    project: Project,
    codebook: Codebook,
    *,
    embedder: Embedder,
    user: str,
    unit: SegmentUnit | None = None,
    config: CodingConfig | None = None,
    progress: Progress | None = None,
) -> CodingRunResult:
    """:func:`narratives.coding.runner.code_project`, embedding and scoring on the engine named."""
    from narratives.coding.runner import code_project

    engine = None
    if options.name == "ray":
        from narratives.engines.ray_engine import RayCodingEngine, ray_session

        engine = RayCodingEngine(ray_session(options), project)
    return code_project(
        project,
        codebook,
        embedder=embedder,
        user=user,
        unit=unit,
        config=config,
        progress=progress,
        engine=engine,
    )
