"""The machine coder against reviewers, on out-of-fold predictions.

The reviewed segments (what :func:`~narratives.review.state.reviewed_labels` says holds now, an
adjudication included) are split into ``folds`` folds with a fixed seed; for each fold the learned
per-code heads (:class:`~narratives.coding.learned.LearnedCoder`, embeddings plus TF-IDF) are
retrained on the other folds and predict the held-out one, so no prediction has seen its own
review. Embeddings come from the project's cache; only texts missing from it are embedded.

Per code, the units are the held-out segments with a review of that code (a segment reviewed for
other codes only says nothing about it); the prediction applies at 0.5. Precision, recall, F1 and
Cohen's kappa get bootstrap 95% intervals (segments resampled, the same replicates for every code);
overall figures pool every reviewed (segment, code). Each code gets a verdict: ``ready`` when the
interval's lower bound of F1 reaches ``target`` with at least ``min_reviews`` reviewed segments,
``needs more reviews`` below ``min_reviews``, else ``unreliable``, naming the code it is most
confused with (the reviewed code of its false positives and the predicted code of its misses).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from narratives.analysis.agreement_stats import (
    DEFAULT_BOOTSTRAP,
    Estimate,
    _interval,
    bootstrap_weights,
    kappa_of,
)
from narratives.analysis.metrics import binary_kappa, f1_from_counts
from narratives.errors import MachineAgreementError

if TYPE_CHECKING:
    import pandas as pd

    from narratives.embed import Embedder
    from narratives.store.project import Project

TARGET_F1 = 0.75
MIN_REVIEWS = 30
APPLIES_AT = 0.5


@dataclass(frozen=True)
class CodeMachineAgreement:
    """Out-of-fold agreement of the machine with reviewers on one code, and the verdict."""

    code_id: str
    n_reviewed: int  # held-out segments with a review of the code
    n_positive: int  # of which reviewers said it applies
    precision: Estimate
    recall: Estimate
    f1: Estimate
    kappa: Estimate
    verdict: str  # "ready", "needs more reviews", "unreliable", "not trained"
    confused_with: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class MachineAgreement:
    """The machine against reviewers, per code and overall, with how it was measured."""

    codebook: str
    folds: int
    seed: int
    n_segments: int
    per_code: list[CodeMachineAgreement]
    overall: dict[str, Estimate]
    target: float = TARGET_F1
    min_reviews: int = MIN_REVIEWS
    model: str = ""
    n_boot: int = DEFAULT_BOOTSTRAP
    embedded: int = 0  # texts that were not in the cache
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "measure": "machine (learned heads, out-of-fold) against reviewers",
            "codebook": self.codebook,
            "folds": self.folds,
            "seed": self.seed,
            "model": self.model,
            "n_segments": self.n_segments,
            "target_f1": self.target,
            "min_reviews": self.min_reviews,
            "bootstrap": {"replicates": self.n_boot, "seed": self.seed, "interval": 0.95},
            "overall": {name: e.as_dict() for name, e in self.overall.items()},
            "per_code": [code.as_dict() for code in self.per_code],
            "notes": self.notes,
        }

    def rows(self) -> list[dict[str, Any]]:
        found = []
        for code in self.per_code:
            row: dict[str, Any] = {
                "code": code.code_id,
                "n_reviewed": code.n_reviewed,
                "n_positive": code.n_positive,
            }
            for name in ("precision", "recall", "f1", "kappa"):
                estimate = getattr(code, name)
                row.update({name: estimate.value, f"{name}_low": estimate.low, f"{name}_high": estimate.high})
            found.append({**row, "verdict": code.verdict, "confused_with": code.confused_with or ""})
        return found

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.rows())


@dataclass
class _Reviewed:
    """The reviewed segments: texts, vectors and a truth/known matrix (segments x codes)."""

    segment_ids: list[int]
    texts: list[str]
    vectors: np.ndarray
    code_ids: list[str]
    truth: np.ndarray  # bool
    known: np.ndarray  # bool: the pair has a review


def _reviewed(project: Project, codebook: str, embedder: Embedder, folds: int) -> tuple[_Reviewed, Any, int]:
    from narratives.embed import EmbeddingCache
    from narratives.review.state import reviewed_labels
    from narratives.store.codebooks import current_codebook
    from narratives.store.segments import load_segments

    with project.connect() as connection:
        book = current_codebook(connection, codebook)
        labels = reviewed_labels(connection, codebook)
        ids = sorted({label.segment_id for label in labels})
        texts = {int(s.id or 0): s.text for s in load_segments(connection, ids=ids, current_only=False)}
    code_ids = [code.id for code in book.active_codes]
    ids = [i for i in ids if i in texts]
    if folds < 2 or len(ids) < folds:
        raise MachineAgreementError(
            f"{len(ids)} reviewed segments in codebook '{codebook}': too few for {folds} folds.",
            fix="review more segments (narratives explore), or pass --folds with a smaller number (at least 2).",
        )
    row, column = {s: i for i, s in enumerate(ids)}, {c: j for j, c in enumerate(code_ids)}
    truth = np.zeros((len(ids), len(code_ids)), dtype=bool)
    known = np.zeros_like(truth)
    for label in labels:
        if label.segment_id in row and label.code_id in column:
            known[row[label.segment_id], column[label.code_id]] = True
            truth[row[label.segment_id], column[label.code_id]] = label.applies
    cache = EmbeddingCache(project.engine)
    vectors = cache.embed(embedder, [texts[i] for i in ids]) if ids else np.zeros((0, embedder.dim))
    return _Reviewed(ids, [texts[i] for i in ids], vectors, code_ids, truth, known), book, cache.misses


def out_of_fold_scores(
    reviewed: _Reviewed, book: Any, embedder: Embedder, folds: int, seed: int
) -> np.ndarray:
    """segments x codes: each fold's scores from heads trained on the other folds (NaN: not trained)."""
    from sklearn.model_selection import KFold

    from narratives.coding.base import LabelledExamples
    from narratives.coding.learned import LearnedCoder

    scores = np.full(reviewed.truth.shape, np.nan, dtype=float)
    splitter = KFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(reviewed.vectors):
        examples = LabelledExamples(
            texts=[reviewed.texts[i] for i in train],
            embeddings=reviewed.vectors[train],
            labels=[_codes(reviewed, i, True) for i in train],
            rejected=[_codes(reviewed, i, False) for i in train],
        )
        coder = LearnedCoder(cv_folds=0, random_state=seed).fit(book, embedder, examples)
        output = coder.predict([reviewed.texts[i] for i in test], reviewed.vectors[test])
        for j, code_id in enumerate(reviewed.code_ids):
            if code_id in coder.estimators_:
                scores[test, j] = output.scores[:, output.code_ids.index(code_id)]
    return scores


def _codes(reviewed: _Reviewed, i: int, applies: bool) -> set[str]:
    mask = reviewed.known[i] & (reviewed.truth[i] == applies)
    return {reviewed.code_ids[j] for j in np.flatnonzero(mask)}


def machine_agreement(
    project: Project,
    codebook: str | None = None,
    *,
    folds: int = 5,
    seed: int = 0,
    embedder: Embedder | None = None,
    n_boot: int = DEFAULT_BOOTSTRAP,
    target: float = TARGET_F1,
    min_reviews: int = MIN_REVIEWS,
) -> MachineAgreement:
    """The learned machine coder against reviewers on out-of-fold predictions (module docstring)."""
    from narratives.embed import load_embedder
    from narratives.store.codebooks import resolve_codebook_name

    with project.connect() as connection:
        codebook = resolve_codebook_name(connection, codebook)
    embedder = embedder or load_embedder()
    reviewed, book, embedded = _reviewed(project, codebook, embedder, folds)
    scores = out_of_fold_scores(reviewed, book, embedder, folds, seed)
    per_code, overall = _scores(reviewed, scores, n_boot, seed, target, min_reviews)
    notes = [
        f"{c.code_id}: not trained (too few positive or negative reviews)"
        for c in per_code
        if c.verdict == "not trained"
    ]
    return MachineAgreement(
        codebook, folds, seed, len(reviewed.segment_ids), per_code, overall, target, min_reviews,
        embedder.name, n_boot, embedded, notes,
    )  # fmt: skip


def _scores(
    reviewed: _Reviewed, scores: np.ndarray, n_boot: int, seed: int, target: float, min_reviews: int
) -> tuple[list[CodeMachineAgreement], dict[str, Estimate]]:
    trained = ~np.isnan(scores)
    predicted = np.where(trained, scores, 0.0) >= APPLIES_AT
    known = reviewed.known & trained
    truth = reviewed.truth
    cells = {
        "tp": known & truth & predicted,
        "fp": known & ~truth & predicted,
        "fn": known & truth & ~predicted,
        "tn": known & ~truth & ~predicted,
    }
    weights = np.vstack([np.ones(len(truth)), bootstrap_weights(len(truth), n_boot, seed)])
    counts = {name: weights @ cell.astype(float) for name, cell in cells.items()}  # (1 + B) x codes
    per_code = [
        _code_result(reviewed, j, counts, predicted, trained[:, j].any(), target, min_reviews)
        for j in range(len(reviewed.code_ids))
    ]
    pooled = {name: value.sum(axis=1, keepdims=True) for name, value in counts.items()}
    overall = {name: e for name, e in _estimates(pooled, 0).items()}
    flat = known.ravel()
    overall["kappa"] = Estimate(
        binary_kappa(truth.ravel()[flat], predicted.ravel()[flat]) if flat.any() else float("nan"),
        overall["kappa"].low,
        overall["kappa"].high,
    )
    return per_code, overall


def _estimates(counts: dict[str, np.ndarray], j: int) -> dict[str, Estimate]:
    tp, fp, fn, tn = (counts[name][:, j] for name in ("tp", "fp", "fn", "tn"))
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(tp + fp > 0, tp / np.where(tp + fp > 0, tp + fp, 1), 0.0)
        recall = np.where(tp + fn > 0, tp / np.where(tp + fn > 0, tp + fn, 1), 0.0)
        f1 = np.where(2 * tp + fp + fn > 0, 2 * tp / np.where(2 * tp + fp + fn > 0, 2 * tp + fp + fn, 1), 0.0)
    table = np.stack([np.stack([tp, fn], axis=-1), np.stack([fp, tn], axis=-1)], axis=-2)
    kappa = kappa_of({"table": table})
    found = {}
    for name, series in (("precision", precision), ("recall", recall), ("f1", f1), ("kappa", kappa)):
        found[name] = Estimate(float(series[0]), *_interval(np.asarray(series[1:], dtype=float)))
    return found


def _code_result(
    reviewed: _Reviewed,
    j: int,
    counts: dict[str, np.ndarray],
    predicted: np.ndarray,
    trained: bool,
    target: float,
    min_reviews: int,
) -> CodeMachineAgreement:
    code_id = reviewed.code_ids[j]
    n_reviewed = int(reviewed.known[:, j].sum())
    n_positive = int((reviewed.known[:, j] & reviewed.truth[:, j]).sum())
    found = _estimates(counts, j)
    tp, fp, fn = (int(counts[name][0, j]) for name in ("tp", "fp", "fn"))
    found["f1"] = Estimate(f1_from_counts(tp, fp, fn), found["f1"].low, found["f1"].high)
    confused = None
    if not trained:
        nothing = Estimate(float("nan"), float("nan"), float("nan"))
        found = {name: nothing for name in ("precision", "recall", "f1", "kappa")}
        verdict = "not trained"
    elif n_reviewed < min_reviews:
        verdict = "needs more reviews"
    elif found["f1"].low >= target:
        verdict = "ready"
    else:
        verdict, confused = "unreliable", most_confused(reviewed, predicted, j)
    return CodeMachineAgreement(
        code_id, n_reviewed, n_positive, found["precision"], found["recall"], found["f1"], found["kappa"],
        verdict, confused,
    )  # fmt: skip


def most_confused(reviewed: _Reviewed, predicted: np.ndarray, j: int) -> str | None:
    """The other code reviewers applied where the machine wrongly applied code j, or the machine
    applied where it missed j; the most frequent, None when there is none."""
    known, truth = reviewed.known, reviewed.truth
    false_positive = known[:, j] & ~truth[:, j] & predicted[:, j]
    missed = known[:, j] & truth[:, j] & ~predicted[:, j]
    tally: Counter[str] = Counter()
    for k, other in enumerate(reviewed.code_ids):
        if k != j:
            tally[other] += int((false_positive & known[:, k] & truth[:, k]).sum())
            tally[other] += int((missed & predicted[:, k]).sum())
    best = [code for code, n in tally.most_common(1) if n > 0]
    return best[0] if best else None


TARGET_SETTING = "machine_agreement_target"


def team_target(project: Project) -> float:
    """The F1 a code's lower bound must reach to be 'ready', as the team set it (default :data:`TARGET_F1`)."""
    from narratives.store.settings import get_setting

    with project.connect() as connection:
        value = get_setting(connection, TARGET_SETTING)
    return float(value) if value is not None else TARGET_F1


def set_team_target(project: Project, target: float) -> None:
    """Set the team's target F1 (between 0 and 1) for every later verdict."""
    from narratives.store.settings import set_setting

    if not 0 < target <= 1:
        raise MachineAgreementError(
            f"a target F1 of {target} is not between 0 and 1.", fix="give a value such as 0.75."
        )
    project.write(
        lambda connection: set_setting(connection, TARGET_SETTING, float(target)), what="the target F1"
    )
