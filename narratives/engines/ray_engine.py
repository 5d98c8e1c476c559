"""The Ray engine: segmentation, embedding and scoring as Ray Data pipelines (``map_batches`` over an
actor pool of the ``*_worker`` modules' classes, each importing only what its stage needs), on a
local Ray or an existing cluster.

The driver (this process) reads what is still to do from the project, hands it to the workers in
blocks of ``batch_size`` items (one Ray task each) and waits; the workers write segments and
vectors to the project's database themselves. Coding keeps its one transaction: the driver fits
the ensemble once, shares it through Ray's object store, gathers the workers' suggestions, puts
them in the local engine's order and writes the run as :func:`~narratives.coding.runner.code_project`
always does. A worker that dies is restarted and its task run again (``max_restarts``,
``max_task_retries``); what it had written already is skipped, so nothing is stored twice.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from narratives.coding.engine import EMBED_CHUNK, LocalEngine, Progress, ScoringJob, in_local_order
from narratives.embed import CachedEmbedder, Embedder, EmbeddingCache
from narratives.engines import EngineOptions
from narratives.engines.embed_worker import EmbedWorker
from narratives.engines.score_worker import ScoreWorker
from narratives.engines.segment_worker import SegmentWorker
from narratives.engines.store_access import StoreAddress, StoreCachedEmbedder
from narratives.errors import EngineError, NotInstalled
from narratives.schema import SegmentUnit, Suggestion, text_hash
from narratives.segment.nlp import load_pipeline, pipeline_description
from narratives.segment.split import as_unit
from narratives.segment.to_project import SegmentReport, group_by_unit, record_segment_run
from narratives.store.embeddings import stored_hashes
from narratives.store.project import Project
from narratives.store.segments import documents_without_segments

logger = logging.getLogger(__name__)

RETRIES = 3  # restarts of a dead worker, and tries of the task it was running
WORKER_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


def _import_ray() -> Any:
    try:
        import ray
        import ray.data
    except ImportError:
        raise NotInstalled("narratives[ray]", "--engine ray") from None
    return ray


@dataclass
class RaySession:
    """A connected Ray and the number of actors each stage gets."""

    ray: Any
    workers: int
    batch_size: int
    address: str | None

    def describe(self) -> str:
        where = f"the Ray cluster at {self.address}" if self.address else "a local Ray"
        return f"engine: ray ({self.workers} worker{'s' if self.workers != 1 else ''}, on {where})"

    def map_batches(self, dataset: Any, worker: type, **constructor: Any) -> Any:
        """``dataset`` through a pool of ``workers`` actors of ``worker``, one CPU each, retried.

        The retries are set explicitly (Ray Data's default is to retry for ever); Ray 2.60 has no
        named parameter for them and warns that the catch-all goes in 2.64 (the extra pins 2.60).
        The pool is no larger than the dataset's blocks: an actor without a block would only load
        its model."""
        size = max(1, min(self.workers, dataset.num_blocks()))
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="`ray_remote_args` is deprecated")
            return dataset.map_batches(
                worker,
                fn_constructor_kwargs=constructor,
                batch_size=None,  # a block is one batch: the blocks are made batch_size long
                batch_format="numpy",
                # one call at a time per actor: the coders build matchers lazily and are not thread-safe
                compute=self.ray.data.ActorPoolStrategy(size=size, max_concurrent_calls_per_actor=1),
                num_cpus=1,
                max_restarts=RETRIES,
                max_task_retries=RETRIES,
            )

    def blocks(self, columns: Mapping[str, Sequence[Any] | np.ndarray], size: int | None = None) -> Any:
        """A dataset of ``columns`` in blocks of ``size`` rows (default ``batch_size``), one task each."""
        import pyarrow as pa

        table, size = pa.table(columns), size or self.batch_size
        return self.dataset([table.slice(start, size) for start in range(0, table.num_rows, size)])

    def dataset(self, tables: list[Any]) -> Any:
        """A dataset of these pyarrow tables as its blocks, made here: no read tasks, which would wait
        for the CPUs the actors hold."""
        return self.ray.data.from_arrow(tables)


def ray_session(options: EngineOptions) -> RaySession:
    """Ray as ``options`` asks: the cluster at ``address``, else the Ray already started in this
    process, else a new local one (with ``workers`` CPUs, or all of them)."""
    ray = _import_ray()
    if not ray.is_initialized():
        settings: dict[str, Any] = {
            "runtime_env": {"env_vars": WORKER_ENV},
            "logging_level": logging.WARNING,
            "include_dashboard": False,
        }
        try:
            if options.address:
                ray.init(address=options.address, **settings)
            else:
                ray.init(num_cpus=options.workers or os.cpu_count() or 1, **settings)
        except (ConnectionError, RuntimeError, ValueError) as error:
            raise EngineError(
                f"could not connect to Ray at {options.address or 'a new local Ray'}: {error}".splitlines()[
                    0
                ],
                fix="start the cluster (ray start --head on one machine, ray start --address=HEAD:6379 on the "
                "others) and give its address, or leave out --ray-address for a local Ray.",
            ) from None
    _quiet_ray_data(ray)
    cpus = int(ray.cluster_resources().get("CPU", 1))
    workers = options.workers or cpus
    if workers > cpus:
        raise EngineError(
            f"{workers} workers asked for, but Ray has {cpus} CPUs (one worker takes one).",
            fix=f"give --workers {cpus} or fewer, or add machines to the cluster.",
        )
    return RaySession(ray=ray, workers=workers, batch_size=options.batch_size, address=options.address)


def _quiet_ray_data(ray: Any) -> None:
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.verbose_stats_logs = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    logging.getLogger("ray.data._internal.progress").setLevel(logging.ERROR)  # "progress bars disabled"


def _results(dataset: Any, batch_format: str = "numpy") -> Iterator[Any]:
    """The pipeline's output batches as they come; a task that failed for good is an EngineError."""
    try:
        yield from dataset.iter_batches(batch_size=None, batch_format=batch_format)
    except Exception as error:  # Ray wraps the worker's error in its own exception types
        raise EngineError(
            f"a Ray task failed after {RETRIES} retries: {str(error).splitlines()[0]}",
            fix="see the worker's error above; what the finished tasks wrote is kept, so running the "
            "command again does only what is left.",
        ) from error


# ---------------------------------------------------------------------------------- segmentation


def segment_on_ray(
    session: RaySession,
    project: Project,
    unit: SegmentUnit | str,
    *,
    user: str,
    kinds: list[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SegmentReport:
    """Segment every current document not yet segmented into ``unit``, one Ray task per block of
    documents, each block stored in its own transaction (a document is stored whole or not at all;
    running it again does only the documents left). ``progress(done, total)`` after each block."""
    unit = as_unit(unit)
    report = SegmentReport(unit=unit, pipeline=pipeline_description(load_pipeline()))
    with project.connect() as connection:
        pending = documents_without_segments(connection, unit, kinds)
    rows: dict[str, list[Any]] = {"document_id": [], "use_unit": [], "text": [], "turns": []}
    for use_unit, docs in group_by_unit(pending, unit).items():
        for document_id, text, turns in docs:
            rows["document_id"].append(document_id)
            rows["use_unit"].append(use_unit.value)
            rows["text"].append(text)
            rows["turns"].append(json.dumps(turns))
    if pending:
        dataset = session.map_batches(
            session.blocks(rows), SegmentWorker, store=StoreAddress.of(project), unit=unit.value
        )
        done = 0
        for batch in _results(dataset):
            done += int(batch["given"].sum())
            if progress:
                progress(done, len(pending))
            report.documents += int(batch["documents"].sum())
            report.segments += int(batch["segments"].sum())
            report.failures += [failure for cell in batch["failures"] for failure in json.loads(str(cell))]
    project.write(lambda connection: record_segment_run(connection, report, user), what="the segment run")
    return report


# ---------------------------------------------------------------------------------- embedding, coding


@dataclass
class EmbeddingPlan:
    """The texts to encode, in the blocks the local engine would encode them in (its chunks of
    :data:`EMBED_CHUNK`, less what is stored or met in an earlier chunk), and the cache hits and
    misses the local engine would count."""

    blocks: list[dict[str, str]]  # text hash -> text
    hits: int = 0
    misses: int = 0


def plan_embedding(project: Project, model: str, texts: list[str]) -> EmbeddingPlan:
    hashes = [text_hash(text) for text in texts]
    with project.connect() as connection:
        seen = stored_hashes(connection, model, sorted(set(hashes)))
    plan = EmbeddingPlan(blocks=[])
    for start in range(0, len(texts), EMBED_CHUNK):
        missing: dict[str, str] = {}
        for digest, text in zip(
            hashes[start : start + EMBED_CHUNK], texts[start : start + EMBED_CHUNK], strict=True
        ):
            if digest in seen:
                plan.hits += 1
            else:
                plan.misses += 1
                missing.setdefault(digest, text)
        if missing:
            plan.blocks.append(missing)
            seen.update(missing)
    return plan


def embed_on_ray(
    session: RaySession, project: Project, embedder: Embedder, texts: list[str]
) -> EmbeddingPlan:
    """Store a vector for every text of ``texts`` not stored yet for ``embedder``, one Ray task per
    block of :func:`plan_embedding`."""
    import pyarrow as pa

    plan = plan_embedding(project, embedder.name, texts)
    if plan.blocks:
        tables = [pa.table({"text_hash": list(block), "text": list(block.values())}) for block in plan.blocks]
        store = StoreAddress.of(project)
        dataset = session.map_batches(session.dataset(tables), EmbedWorker, store=store, embedder=embedder)
        for _ in _results(dataset):
            pass
    return plan


class RayCodingEngine:
    """A :class:`~narratives.coding.engine.CodingEngine` whose embedding and scoring run on Ray."""

    name = "ray"

    def __init__(self, session: RaySession, project: Project):
        self.session = session
        self.project = project
        self.workers = session.workers

    def embed(
        self, cache: EmbeddingCache, embedder: Embedder, texts: list[str], report: Progress
    ) -> np.ndarray:
        """The workers store what is missing; the vectors are then read back through the cache (all
        hits), and the cache's counts set to what the local engine would have counted."""
        hits, misses = cache.hits, cache.misses
        report("embedding", 0, len(texts))
        plan = embed_on_ray(self.session, self.project, embedder, texts)
        vectors = LocalEngine().embed(cache, embedder, texts, report)
        cache.hits, cache.misses = hits + plan.hits, misses + plan.misses
        return vectors

    def score(self, job: ScoringJob, report: Progress) -> list[Suggestion]:
        """The planned rows scored by the workers, each with its own copy of the fitted ensemble."""
        report("coding", 0, len(job.rows))
        if not len(job.rows):
            return []
        shared = self.session.ray.put(self._travelling(job))  # kept here, so a restarted worker finds it
        dataset = self.session.map_batches(
            # blocks of the local engine's steps: the same rows scored together, so the same floats
            self.session.blocks({"position": np.asarray(job.rows, dtype=np.int64)}, size=job.step),
            ScoreWorker,
            job=[shared],
        )
        found: list[Suggestion] = []
        done = 0
        for table in _results(dataset, batch_format="pyarrow"):
            found.extend(Suggestion(**row) for row in table.to_pylist())
            done = min(done + job.step, len(job.rows))
            report("coding", done, len(job.rows))
        del shared
        report("coding", len(job.rows), len(job.rows))
        return in_local_order(job, found)

    def _travelling(self, job: ScoringJob) -> ScoringJob:
        """``job`` as a worker can use it: the embedders that encode while scoring (the ensemble's for
        sentence pooling, the passage coder's) go through the project's cache opened in the worker
        rather than this process's."""
        ensemble = copy.copy(job.ensemble)
        ensemble.coders = [copy.copy(coder) for coder in ensemble.coders]
        scorers: list[Any] = [ensemble, *ensemble.coders]
        for scorer in scorers:
            embedder = getattr(scorer, "embedder_", None)
            if embedder is not None:
                inner = embedder.embedder if isinstance(embedder, CachedEmbedder) else embedder
                scorer.embedder_ = StoreCachedEmbedder(inner, StoreAddress.of(self.project))
        return replace(job, ensemble=ensemble)
        inner = embedder.embedder if isinstance(embedder, CachedEmbedder) else embedder
        scorer = copy.copy(scorer)
        scorer.embedder_ = StoreCachedEmbedder(inner, StoreAddress.of(self.project))
        return scorer
