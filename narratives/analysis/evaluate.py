"""How well the coders reproduce human coding: zero-shot and after k reviewed examples per code.

A gold file is any CSV with a text column and a label column (code names or ids joined by ``sep``;
an empty cell means "no code applies"). The learning curve simulates a researcher who reviews
comments until every code has ``k`` accepted examples: each reviewed comment comes with all its gold
codes accepted and every other code rejected. The learned coder and the ensemble are trained on
those, and the rest of the gold file is coded and scored. ``train`` (cross-site) samples the reviews
from another file and scores the whole gold file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from narratives.analysis.metrics import multilabel_scores
from narratives.coding.base import LabelledExamples
from narratives.coding.ensemble import EnsembleCoder
from narratives.coding.fine_tune import FineTuneSettings, ReviewedTexts, fine_tune, fine_tuned_models
from narratives.coding.learned import LearnedCoder
from narratives.coding.llm.coder import FileAnswers, LLMCoder
from narratives.coding.llm.settings import LLMSettings
from narratives.coding.passages import PassageCoder
from narratives.coding.phrase import PhraseCoder
from narratives.coding.similarity import SimilarityCoder, codes_to_score
from narratives.embed import CachedEmbedder, Embedder, NpyEmbeddingCache, SentenceTransformerEmbedder
from narratives.errors import EvaluationError
from narratives.paths import user_cache
from narratives.schema import Codebook

logger = logging.getLogger(__name__)

DETAIL_KS = (0, 25)


@dataclass
class GoldSet:
    """Texts with their gold code ids, read from one file."""

    path: str
    texts: list[str]
    labels: list[set[str]]


@dataclass
class EvaluationSettings:
    ks: Sequence[int] = (0, 5, 10, 25, 50)
    seeds: int = 3
    use_codebook_examples: bool = True
    llm: LLMSettings | None = None  # also the LLM coder, on this server (its answers cached in llm_cache)
    llm_cache: str | None = None
    passages: bool = False  # also the passage coder (multiple-instance learning over sentences)
    # fine-tune the embedder on each run's reviews first (models and their vectors kept in fine_tune_cache)
    fine_tune: FineTuneSettings | None = None
    fine_tune_cache: str | None = None


@dataclass
class EvaluationReport:
    settings: dict
    runs: list[dict] = field(default_factory=list)  # one per (k, seed)
    summary: list[dict] = field(default_factory=list)  # one per k: mean and sd
    per_code: dict[int, list[dict]] = field(default_factory=dict)  # k -> per-code scores (seed 0)
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {
            "settings": self.settings,
            "summary": self.summary,
            "runs": self.runs,
            "per_code": {str(k): rows for k, rows in self.per_code.items()},
            "seconds": round(self.seconds, 1),
        }


# ------------------------------------------------------------------------------------- reading


def parse_where(where: str | None) -> tuple[str, str] | None:
    """``"substantive=True"`` -> ("substantive", "True")."""
    if not where:
        return None
    if "=" not in where:
        raise EvaluationError(
            f"--where {where!r} is not COLUMN=VALUE.", fix="write it like substantive=True."
        )
    column, value = where.split("=", 1)
    return column.strip(), value.strip()


def read_gold(
    path: str | Path,
    codebook: Codebook,
    text_column: str = "text",
    labels_column: str = "labels",
    sep: str = "|",
    where: str | None = None,
) -> GoldSet:
    """Read a labelled CSV; label strings may be code names or ids of ``codebook``."""
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as error:
        raise EvaluationError(
            f"cannot read the CSV ({error}).", where=path, fix="check the path and format."
        ) from None
    condition = parse_where(where)
    wanted = [text_column, labels_column] + ([condition[0]] if condition else [])
    missing = [column for column in wanted if column not in table.columns]
    if missing:
        raise EvaluationError(
            f"missing column(s) {', '.join(missing)}; the file has: {', '.join(map(str, table.columns))}.",
            where=path,
            fix="name the right columns with --text-column / --labels-column / --where.",
        )
    if condition:
        table = table[table[condition[0]].str.strip().str.lower() == condition[1].lower()]
    lookup = _label_lookup(codebook)
    labels, unknown = [], set()
    for cell in table[labels_column]:
        names = [name.strip() for name in cell.split(sep) if name.strip()] if sep else [cell.strip()]
        unknown |= {name for name in names if name.lower() not in lookup}
        labels.append({lookup[name.lower()] for name in names if name.lower() in lookup})
    if unknown:
        raise EvaluationError(
            f"labels not in the codebook '{codebook.name}': {', '.join(sorted(unknown)[:10])}.",
            where=path,
            fix="use code names or ids from the codebook, or check --sep.",
        )
    return GoldSet(str(path), table[text_column].astype(str).tolist(), labels)


def _label_lookup(codebook: Codebook) -> dict[str, str]:
    lookup = {code.name.lower(): code.id for code in codebook.codes}
    lookup |= {code.id.lower(): code.id for code in codebook.codes}
    return lookup


# ---------------------------------------------------------------------------------- simulation


def sample_reviewed(
    labels: Sequence[set[str]], code_ids: Sequence[str], k: int, seed: int, top_up: bool = False
) -> list[int]:
    """Rows a researcher reviews: ``k`` positives sampled per code (all it has, if fewer).

    With ``top_up`` a code already holding ``k`` accepted examples from rows sampled for other
    codes gets no more (fewer reviews in all).
    """
    rng = np.random.default_rng(seed)
    chosen: list[int] = []
    taken: set[int] = set()
    counts = dict.fromkeys(code_ids, 0)
    for code_id in rng.permutation(list(code_ids)):
        pool = [i for i, row in enumerate(labels) if code_id in row and i not in taken]
        need = max(0, k - counts[code_id]) if top_up else k
        for i in rng.permutation(pool)[:need]:
            chosen.append(int(i))
            taken.add(int(i))
            for other in labels[int(i)]:
                if other in counts:
                    counts[other] += 1
    return chosen


def reviewed_examples(
    gold: GoldSet, rows: Sequence[int], embeddings: np.ndarray, code_ids: Sequence[str]
) -> LabelledExamples:
    """The reviewer sees each comment with all its gold codes: the rest are implicit rejections."""
    labels = [set(gold.labels[i]) & set(code_ids) for i in rows]
    return LabelledExamples(
        texts=[gold.texts[i] for i in rows],
        embeddings=embeddings[list(rows)],
        labels=labels,
        rejected=[set(code_ids) - accepted for accepted in labels],
    )


def build_coder(k: int, settings: EvaluationSettings, seed: int = 0) -> EnsembleCoder:
    """The ensemble evaluated at ``k``: phrase + similarity (+ learned when there is anything to learn)."""
    use = settings.use_codebook_examples
    coders: list = [PhraseCoder(), SimilarityCoder(use_examples=use)]
    if k > 0 or use:
        coders.append(LearnedCoder(use_codebook_examples=use, random_state=seed))
    if settings.passages and k > 0:
        coders.append(PassageCoder(use_codebook_examples=use, random_state=seed))
    if settings.llm is not None:
        store = FileAnswers(settings.llm_cache) if settings.llm_cache else None
        coders.append(LLMCoder(settings.llm, store, seed=seed))
    return EnsembleCoder(coders)


def evaluate(
    codebook: Codebook,
    gold: GoldSet,
    embed: Callable[[Sequence[str]], np.ndarray],
    embedder: Embedder,
    settings: EvaluationSettings,
    train: GoldSet | None = None,
    progress: Callable[[str], None] | None = None,
) -> EvaluationReport:
    """Score the coders on ``gold`` for each k and seed; ``embed`` is a cached encoder of texts."""
    started = time.perf_counter()
    gold_vectors = embed(gold.texts)
    pool, pool_vectors = (train, embed(train.texts)) if train is not None else (gold, gold_vectors)
    report = EvaluationReport(settings=_settings_dict(settings, gold, train, embedder))
    for k in settings.ks:
        for seed in range(settings.seeds if k > 0 else 1):
            if progress:
                progress(f"k={k} seed={seed}")
            run, per_code = _one_run(
                codebook, gold, gold_vectors, pool, pool_vectors, embedder, settings, k, seed
            )
            report.runs.append(run)
            if seed == 0 and k in DETAIL_KS:
                report.per_code[k] = per_code
    report.summary = summarise(report.runs)
    report.seconds = time.perf_counter() - started
    return report


def _one_run(
    codebook: Codebook,
    gold: GoldSet,
    gold_vectors: np.ndarray,
    pool: GoldSet,
    pool_vectors: np.ndarray,
    embedder: Embedder,
    settings: EvaluationSettings,
    k: int,
    seed: int,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    started = time.perf_counter()
    code_ids = [code.id for code in codes_to_score(codebook)]
    reviewed = sample_reviewed(pool.labels, code_ids, k, seed) if k > 0 else []
    examples = reviewed_examples(pool, reviewed, pool_vectors, code_ids) if reviewed else None
    tuned: dict[str, Any] = {}
    if examples is not None and settings.fine_tune is not None:
        embedder, gold_vectors, pool_vectors, tuned = _fine_tuned(gold, pool, examples, settings, seed)
        examples = replace(examples, embeddings=pool_vectors[list(reviewed)])
    coder = build_coder(k, settings, seed).fit(codebook, embedder, examples)
    used = set(reviewed) if pool is gold else set()
    rows = [i for i in range(len(gold.texts)) if i not in used]
    output = coder.predict([gold.texts[i] for i in rows], gold_vectors[rows])
    predicted = coder.decide(output)
    scores = multilabel_scores([gold.labels[i] for i in rows], predicted, code_ids)
    run = {
        "k": k,
        "seed": seed,
        "n_reviewed": len(reviewed),
        "n_scored": len(rows),
        "micro_f1": round(scores.micro_f1, 4),
        "macro_f1": round(scores.macro_f1, 4),
        "micro_precision": round(scores.micro_precision, 4),
        "micro_recall": round(scores.micro_recall, 4),
        "mode": coder.mode_,
        "seconds": round(time.perf_counter() - started, 2),
        **tuned,
    }
    logger.info("evaluate %s", run)
    per_code = [row.as_dict() for row in scores.per_code if row.support or row.predicted]
    return run, per_code


def _fine_tuned(
    gold: GoldSet, pool: GoldSet, examples: LabelledExamples, settings: EvaluationSettings, seed: int
) -> tuple[Embedder, np.ndarray, np.ndarray, dict[str, Any]]:
    """The embedder fine-tuned on this run's reviewed ``examples`` (made once per reviews, settings
    and seed, then kept in ``settings.fine_tune_cache``) and the gold and pool vectors it gives."""
    assert settings.fine_tune is not None
    tuning = replace(settings.fine_tune, seed=seed, holdout=0.0)  # the gold file is the test
    texts = ReviewedTexts(examples.texts, examples.labels, examples.rejected)
    basis = json.dumps([texts.texts, [sorted(a) for a in texts.accepted], asdict(tuning)], sort_keys=True)
    root = (
        Path(settings.fine_tune_cache)
        if settings.fine_tune_cache
        else user_cache("embeddings") / "fine-tuned"
    )
    folder = root / hashlib.sha256(basis.encode()).hexdigest()[:16]
    made = fine_tuned_models(folder)
    model = made[-1] if made else fine_tune(texts, folder, settings=tuning)
    embedder = CachedEmbedder(SentenceTransformerEmbedder(model.path), NpyEmbeddingCache(root / "vectors"))
    gold_vectors = embedder.encode(gold.texts)
    pool_vectors = gold_vectors if pool is gold else embedder.encode(pool.texts)
    about = {
        "fine_tuned": model.name,
        "fine_tune_seconds": model.card.get("seconds"),
        "fine_tune_steps": model.card.get("steps"),
        "fine_tune_pairs": model.card.get("pairs"),
    }
    return embedder, gold_vectors, pool_vectors, about


def summarise(runs: list[dict]) -> list[dict]:
    """Mean and standard deviation of micro and macro F1 per k."""
    summary = []
    for k in sorted({run["k"] for run in runs}):
        mine = [run for run in runs if run["k"] == k]
        row = {"k": k, "seeds": len(mine), "n_reviewed": float(np.mean([r["n_reviewed"] for r in mine]))}
        for metric in ("micro_f1", "macro_f1"):
            values = np.array([run[metric] for run in mine])
            row[metric] = round(float(values.mean()), 4)
            row[f"{metric}_sd"] = round(float(values.std(ddof=1)) if len(values) > 1 else 0.0, 4)
        summary.append(row)
    return summary


def _settings_dict(
    settings: EvaluationSettings, gold: GoldSet, train: GoldSet | None, embedder: Embedder
) -> dict:
    return {
        "ks": list(settings.ks),
        "seeds": settings.seeds,
        "use_codebook_examples": settings.use_codebook_examples,
        "gold": gold.path,
        "n_gold": len(gold.texts),
        "train": train.path if train is not None else None,
        "model": embedder.name,
        "llm": {"server": settings.llm.url, "model": settings.llm.model} if settings.llm else None,
        "passages": settings.passages,
        "fine_tune": asdict(settings.fine_tune) if settings.fine_tune else None,
    }
