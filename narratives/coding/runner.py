"""Coding a project with a codebook: embed, score, and store suggestions, re-coding only what changed.

One run: the codebook is stored in the project (its changes become codebook events), the segments of
one unit are embedded through the project's cache, the phrase, similarity and learned coders (the
learned one trained on the reviews and the codebook's examples) are combined by the ensemble, and the
suggestions worth showing are written with the run's provenance (coder, model, codebook version,
config hash); ``narratives.store.coding_runs`` writes them.

A later run compares each code's fingerprint with the one recorded by the previous run for the same
codebook and unit: only new or changed codes are scored again (their old suggestions stop being
current), retired codes' suggestions stop being current, and new segments get every code. A change of
settings, model or reviews re-codes everything. All writes of a run are one transaction, run again
whole when a lock or a conflict (SQLite busy, a PostgreSQL deadlock) refuses it.

``progress(stage, done, total)`` hears of embedding, preparing the coders and coding (about
:data:`~narratives.coding.engine.PROGRESS_STEPS` times); codebook patterns the phrase coder had to
skip (too slow, or not compiling) end up in the result's ``warnings`` and the run's stats, never
stopping the run. The embedding and scoring are done by an engine (:mod:`narratives.coding.engine`):
in this process by default, on Ray workers with ``narratives.engines``; the run is written here.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from sqlalchemy import Connection

from narratives.coding.config import CodingConfig, CodingRunResult
from narratives.coding.engine import (
    CodingEngine,
    LocalEngine,
    Progress,
    ScoringJob,
    scoring_step,
)
from narratives.coding.ensemble import EnsembleCoder
from narratives.coding.learned import LearnedCoder
from narratives.coding.llm.coder import LLMCoder, ProjectAnswers
from narratives.coding.passages import PassageCoder, long_segments
from narratives.coding.phrase import PhraseCoder
from narratives.coding.similarity import SimilarityCoder, codes_to_score
from narratives.coding.training import Training, prepare_training, save_learned
from narratives.embed import CachedEmbedder, Embedder, EmbeddingCache
from narratives.errors import CodingError
from narratives.kinds import UNIT_ORDER
from narratives.schema import Codebook, Segment, SegmentUnit, Suggestion, utcnow
from narratives.store.codebooks import codebook_names, codebook_version, current_codebook, store_codebook
from narratives.store.coding_runs import (
    CodingRun,
    finish_run,
    insert_suggestions,
    latest_run,
    start_run,
    supersede,
)
from narratives.store.coding_runs import (
    config_hash as hash_of_config,
)
from narratives.store.project import Project, refresh_statistics
from narratives.store.segments import load_segments, segmented_units

logger = logging.getLogger(__name__)


@dataclass
class _Plan:
    codes: list[str]  # codes the ensemble scores now
    recode: list[str]  # codes scored again on every segment
    dropped: list[str]  # codes whose current suggestions stop being current
    new_rows: np.ndarray  # bool per segment: never coded with this codebook and unit
    full: bool

    @property
    def empty(self) -> bool:
        return not self.recode and not self.dropped and not self.new_rows.any()


def choose_unit(connection: Connection, unit: SegmentUnit | None = None) -> SegmentUnit:
    """``unit`` if the project has segments of it, else the finest unit it has."""
    present = set(segmented_units(connection))
    if unit is not None:
        if unit.value not in present:
            raise CodingError(
                f"the project has no {unit.value} segments (it has: {', '.join(sorted(present)) or 'none'}).",
                fix=f"segment it first: narratives segment PROJECT --unit {unit.value}",
            )
        return unit
    for candidate in UNIT_ORDER:
        if candidate.value in present:
            return candidate
    raise CodingError("the project has no segments to code.", fix="run: narratives segment PROJECT")


def code_project(
    project: Project,
    codebook: Codebook,
    *,
    embedder: Embedder,
    user: str,
    unit: SegmentUnit | None = None,
    config: CodingConfig | None = None,
    progress: Progress | None = None,
    engine: CodingEngine | None = None,
) -> CodingRunResult:
    """Code the project's segments with ``codebook``; see the module doc for what is re-coded.
    ``engine`` embeds and scores (default :class:`LocalEngine`, in this process)."""
    config = config or CodingConfig()
    engine = engine or LocalEngine()
    report = progress or (lambda stage, done, total: None)
    started_at, started = utcnow(), time.perf_counter()
    from_file, (codebook, store_file) = codebook, _as_merged(project, codebook, user)
    with project.connect() as connection:
        chosen = choose_unit(connection, unit or config.unit)
        segs = load_segments(connection, unit=chosen, exclude_speakers=config.skip_speakers)
        previous = latest_run(connection, codebook.name, chosen.value)
    cache = EmbeddingCache(project.engine)
    vectors = engine.embed(cache, embedder, [s.text for s in segs], report)
    training = prepare_training(project, codebook, embedder, cache, config, chosen)
    ensemble = _ensemble(config, training, codebook, project, [s.text for s in segs])
    config_doc = _config_document(config, embedder, ensemble, training, chosen)
    config_hash = hash_of_config(config_doc)
    fingerprints = codebook.fingerprints()
    plan = _plan(previous, fingerprints, [c.id for c in codes_to_score(codebook)], config_hash, segs)
    thresholds = dict(previous.stats.get("thresholds", {})) if previous is not None else {}
    rows: list[Suggestion] = []
    if not plan.empty:
        texts_cache = EmbeddingCache(project.engine)  # prototypes and sentences: not the segments' counts
        prototypes = cast(Embedder, CachedEmbedder(embedder, texts_cache))
        report("preparing coders", 0, 1)
        ensemble.fit(codebook, prototypes, training.examples)
        report("preparing coders", 1, 1)
        thresholds = {**ensemble.thresholds_, **config.thresholds}
        job = _scoring_job(ensemble, config, segs, vectors, plan)
        _embed_sentences(engine, texts_cache, embedder, job, report)
        _ask_llm(job, report)
        rows = _score(engine, job, report)
    warnings = [str(problem) for coder in ensemble.coders for problem in getattr(coder, "problems_", [])]
    recoded = set(plan.recode)

    def store_run(connection: Connection) -> CodingRunResult:
        # the run's one transaction; run again whole when a lock or a conflict refuses it
        _check_no_run_since(connection, codebook.name, chosen.value, previous)
        if store_file:
            store_codebook(connection, from_file, user)
        result = CodingRunResult(
            run_id=None,
            codebook=codebook.name,
            codebook_version=codebook_version(connection, codebook.name),
            unit=chosen.value,
            segments_total=len(segs),
            segments_coded=_coded(plan),
            new_segments=int(plan.new_rows.sum()),
            codes_recoded=plan.recode,
            codes_unchanged=[c for c in plan.codes if c not in recoded],
            codes_retired=plan.dropped,
            suggestions_written=len(rows),
            suggestions_superseded=0,
            cache_hits=cache.hits,
            cache_misses=cache.misses,
            learned=training.status,
            config_hash=config_hash,
            seconds=0.0,
            thresholds=thresholds,
            warnings=warnings,
        )
        if not plan.empty:
            if training.trained is not None:
                save_learned(connection, codebook.name, training)
            run_fingerprints = {code_id: fingerprints[code_id] for code_id in plan.codes}
            result.run_id = start_run(
                connection,
                codebook=result.codebook,
                codebook_version=result.codebook_version,
                unit=result.unit,
                model=embedder.name,
                config={**config_doc, "fingerprints": run_fingerprints, **_llm_provenance(ensemble)},
                config_hash=config_hash,
                codes=result.codes_recoded,
                stats={"max_segment_id": max((int(s.id or 0) for s in segs), default=0)},
                user=user,
                started=started_at,
            )
            result.suggestions_superseded = supersede(
                connection,
                codebook.name,
                chosen.value,
                sorted(set(plan.recode) | set(plan.dropped)),
                plan.full,
            )
            provenance = {
                "codebook": result.codebook,
                "codebook_version": result.codebook_version,
                "config_hash": config_hash,
                "model": embedder.name,
            }
            insert_suggestions(connection, result.run_id, rows, **provenance)
        result.seconds = round(time.perf_counter() - started, 2)
        if result.run_id is not None:
            stats = result.stats()
            event = {"codes": result.codes_recoded, **stats}
            finish_run(connection, result.run_id, stats, user, event=event)
        return result

    result = project.write(store_run, what=f"the coding run of '{codebook.name}'")
    if result.run_id is not None:
        refresh_statistics(project)
    logger.info("coding %s: %s", codebook.name, result)
    report("done", 1, 1)
    return result


def _as_merged(project: Project, codebook: Codebook, user: str) -> tuple[Codebook, bool]:
    """The codebook to code with: the project's codebook as it will stand once the file's changes are
    stored (file content plus edits made in the project, such as promoted themes), and whether the
    file must be stored. Worked out in a transaction that is rolled back: the run stores the file in
    its own final transaction, so a failed run leaves no trace. A codebook new to the project has no
    edits to merge and is stored code for code, so it skips the rehearsal (half the time of a large
    codebook's run)."""
    with project.connect() as connection, connection.begin() as transaction:
        if codebook.name in codebook_names(connection):
            now = current_codebook(connection, codebook.name)
            if now.codes == codebook.codes:  # the project's own codebook, passed back in
                return now, False
        elif len({code.id for code in codebook.codes}) == len(codebook.codes):
            return Codebook.model_validate(codebook.model_dump(mode="json")), True
        store_codebook(connection, codebook, user)
        merged = current_codebook(connection, codebook.name)
        transaction.rollback()
    return merged, True


def _check_no_run_since(connection: Connection, codebook: str, unit: str, previous: CodingRun | None) -> None:
    latest = latest_run(connection, codebook, unit)
    if (latest.id if latest else None) != (previous.id if previous else None):
        raise CodingError(
            f"another coding run of '{codebook}' finished while this one was scoring; nothing was written.",
            fix="run the command again: it will code only what is still new.",
        )


def _ensemble(
    config: CodingConfig, training: Training, codebook: Codebook, project: Project, texts: list[str]
) -> EnsembleCoder:
    unknown = set(config.coders) - {"phrase", "similarity", "learned", "llm"}
    if unknown:
        raise CodingError(
            f"unknown coder(s): {', '.join(sorted(unknown))}.",
            fix="choose from phrase, similarity, learned, llm.",
        )
    if "llm" in config.coders and config.llm is None:
        raise CodingError(
            "the llm coder is switched on, but no LLM server is configured.",
            fix="give --llm-url and --llm-model, or set them once: narratives llm set PROJECT --url URL --model NAME",
        )
    coders: list[Any] = []
    if "phrase" in config.coders:
        coders.append(PhraseCoder())
    if "similarity" in config.coders:
        coders.append(SimilarityCoder())
    if training.learned is not None:
        coders.append(training.learned)
    elif "learned" in config.coders and (
        training.examples is not None or any(code.examples for code in codebook.active_codes)
    ):
        training.trained = LearnedCoder(random_state=config.seed)
        training.status = "trained"
        coders.append(training.trained)
    if config.llm is not None:
        coders.append(LLMCoder(config.llm, ProjectAnswers(project.engine), seed=config.seed))
    if _wants_passages(config, texts) and (
        training.examples is not None or any(code.examples for code in codebook.active_codes)
    ):
        coders.append(PassageCoder(random_state=config.seed))
    if not coders:
        raise CodingError("no coder is switched on.", fix="enable at least one of phrase, similarity.")
    return EnsembleCoder(coders, threshold=config.threshold, min_reviewed=config.min_reviewed)


def _wants_passages(config: CodingConfig, texts: list[str]) -> bool:
    """Whether the run adds the passage coder: ``config.passages``, "auto" deciding by the texts."""
    if config.passages == "auto":
        return long_segments(texts)
    return config.passages == "on"


def _config_document(
    config: CodingConfig, embedder: Embedder, ensemble: EnsembleCoder, training: Training, unit: SegmentUnit
) -> dict[str, Any]:
    # the embedder name is below; the LLM coder's settings that change answers are in its own config
    # "passages" decides whether the passage coder is one of the coders, which are recorded below
    settings = config.model_dump(mode="json", exclude={"batch_size", "model", "llm", "passages"})
    settings["unit"] = unit.value
    coders: list[Any] = list(ensemble.coders)
    coder_configs = [c.get_config() for c in coders]
    for coder_config in coder_configs:
        coder_config.pop("model", None)  # set by fit; the embedder name is recorded below
    return {
        "settings": settings,
        "embedder": embedder.name,
        "ensemble": {k: v for k, v in ensemble.get_config().items() if k != "coders"},
        "coders": coder_configs,
        # Reviews, not codebook examples: a changed code's examples re-score that code (its
        # fingerprint), while new reviews retrain the coder and re-code everything.
        "training_digest": training.reviews_digest,
    }


def _plan(
    previous: CodingRun | None,
    fingerprints: dict[str, str],
    code_ids: list[str],
    config_hash: str,
    segs: list[Segment],
) -> _Plan:
    ids = np.array([s.id for s in segs], dtype=np.int64)
    scored = set(code_ids)
    if previous is None or previous.config_hash != config_hash:
        before = list(previous.config.get("fingerprints", {})) if previous is not None else []
        dropped = [c for c in before if c not in scored]
        return _Plan(list(code_ids), list(code_ids), dropped, np.ones(len(segs), dtype=bool), full=True)
    before = previous.config.get("fingerprints", {})
    recode = [c for c in code_ids if before.get(c) != fingerprints[c]]
    dropped = [c for c in before if c not in scored]
    new_rows = ids > int(previous.stats.get("max_segment_id", 0))
    return _Plan(list(code_ids), recode, dropped, new_rows, full=False)


def _coded(plan: _Plan) -> int:
    return len(plan.new_rows) if plan.recode else int(plan.new_rows.sum())


def _scoring_job(
    ensemble: EnsembleCoder, config: CodingConfig, segs: list[Segment], vectors: np.ndarray, plan: _Plan
) -> ScoringJob:
    recode = set(plan.recode)
    rows_to_score = np.arange(len(segs)) if plan.recode else np.flatnonzero(plan.new_rows)
    return ScoringJob(
        ensemble=ensemble,
        config=config,
        segment_ids=np.array([int(s.id or 0) for s in segs], dtype=np.int64),
        texts=[s.text for s in segs],
        vectors=vectors,
        new_rows=plan.new_rows,
        recode_columns=np.array([c in recode for c in ensemble.code_ids_], dtype=bool),
        rows=rows_to_score,
        step=scoring_step(config, len(rows_to_score)),
    )


def _embed_sentences(
    engine: CodingEngine, cache: EmbeddingCache, embedder: Embedder, job: ScoringJob, report: Progress
) -> None:
    """Embed, through the cache, the sentences the ensemble will score on their own, all before
    scoring: in the engine's chunks (the model reads them in long, length-sorted batches, not a
    few per scoring step), and on its workers when it has any. Scoring then finds them cached."""
    sentences = list(dict.fromkeys(job.ensemble.sentences_to_encode([job.texts[i] for i in job.rows])))
    if sentences:
        engine.embed(
            cache, embedder, sentences, lambda stage, done, total: report(f"{stage} sentences", done, total)
        )


def _llm_provenance(ensemble: EnsembleCoder) -> dict[str, Any]:
    """The LLM coder's server, model, prompt hash and what it asked, for the run's recorded config
    (after fitting: the prompt is built from the codebook and the reviews, which the hash covers)."""
    for coder in ensemble.coders:
        if isinstance(coder, LLMCoder) and hasattr(coder, "prompt_hash_"):
            return {
                "llm": {
                    **coder.get_config(),
                    "asked": coder.asked_,
                    "answers_reused": coder.cached_,
                    "dropped_quotes": len(coder.dropped_),
                    "unanswered": len(coder.unanswered_),
                }
            }
    return {}


def _ask_llm(job: ScoringJob, report: Progress) -> None:
    """Have the LLM coder (when there is one) answer for every text to score, before scoring: with a
    progress bar, answers stored as they come, and nothing sent that is answered already."""
    for coder in job.ensemble.coders:
        if isinstance(coder, LLMCoder):
            coder.ask([job.texts[i] for i in job.rows], report)


def _score(engine: CodingEngine, job: ScoringJob, report: Progress) -> list[Suggestion]:
    """The scoring step, done by the run's engine (one place a test can step in)."""
    return engine.score(job, report)
