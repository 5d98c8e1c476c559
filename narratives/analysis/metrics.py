"""Agreement and accuracy of multi-label coding: per-code P/R/F1/kappa, micro and macro F1.

Label sets are given as one ``set`` of code ids per item. Everything is computed by hand with numpy
so the definitions are visible: a code nobody applied and nobody predicted has no F1 (it is left out
of the macro mean), and kappa is 1.0 when both coders agree perfectly even on a constant labelling.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class CodeScores:
    """How well predictions match gold labels for one code."""

    code_id: str
    support: int  # gold positives
    predicted: int  # predicted positives
    true_positives: int
    precision: float
    recall: float
    f1: float
    kappa: float

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class MultiLabelScores:
    """Per-code scores plus micro and macro averages over codes with gold support."""

    per_code: list[CodeScores]
    micro_precision: float
    micro_recall: float
    micro_f1: float
    macro_f1: float
    n_items: int

    def as_dict(self) -> dict:
        return {
            "micro_precision": self.micro_precision,
            "micro_recall": self.micro_recall,
            "micro_f1": self.micro_f1,
            "macro_f1": self.macro_f1,
            "n_items": self.n_items,
            "per_code": [scores.as_dict() for scores in self.per_code],
        }


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator else 0.0


def f1_from_counts(tp: int, fp: int, fn: int) -> float:
    """F1 = 2TP / (2TP + FP + FN); 0.0 when there is nothing to find and nothing found."""
    return _ratio(2 * tp, 2 * tp + fp + fn)


def binary_kappa(gold: Sequence[bool] | np.ndarray, predicted: Sequence[bool] | np.ndarray) -> float:
    """Cohen's kappa of two yes/no codings of the same items.

    kappa = (p_o - p_e) / (1 - p_e). When chance agreement is 1 (both coders constant) it is 1.0 if
    they agree on every item and 0.0 otherwise.
    """
    a = np.asarray(gold, dtype=bool)
    b = np.asarray(predicted, dtype=bool)
    if a.shape != b.shape:
        raise ValueError(f"the two codings have different lengths: {a.shape[0]} and {b.shape[0]}")
    if a.size == 0:
        return float("nan")
    observed = float(np.mean(a == b))
    p_a, p_b = float(a.mean()), float(b.mean())
    expected = p_a * p_b + (1 - p_a) * (1 - p_b)
    if expected >= 1.0:
        return 1.0 if observed == 1.0 else 0.0
    return (observed - expected) / (1 - expected)


def cohens_kappa(
    a: Sequence[Iterable[str]], b: Sequence[Iterable[str]], codes: Iterable[str] | None = None
) -> dict[str, float]:
    """Per-code Cohen's kappa between two coders' label sets over the same items.

    ``a[i]`` and ``b[i]`` are the codes each coder applied to item i. ``codes`` defaults to every
    code either coder used. Also returns ``"mean"`` over those codes.
    """
    if len(a) != len(b):
        raise ValueError(f"the two coders labelled different numbers of items: {len(a)} and {len(b)}")
    sets_a, sets_b = [set(x) for x in a], [set(x) for x in b]
    code_ids = sorted(set(codes) if codes is not None else set().union(*sets_a, *sets_b))
    kappas = {
        code: binary_kappa([code in s for s in sets_a], [code in s for s in sets_b]) for code in code_ids
    }
    values = [v for v in kappas.values() if not np.isnan(v)]
    kappas["mean"] = float(np.mean(values)) if values else float("nan")
    return kappas


def label_matrix(label_sets: Sequence[Iterable[str]], code_ids: Sequence[str]) -> np.ndarray:
    """Boolean (items x codes) matrix: True where item i carries code j."""
    matrix = np.zeros((len(label_sets), len(code_ids)), dtype=bool)
    index = {code: j for j, code in enumerate(code_ids)}
    for i, labels in enumerate(label_sets):
        for code in labels:
            if code in index:
                matrix[i, index[code]] = True
    return matrix


def multilabel_scores(
    gold: Sequence[Iterable[str]], predicted: Sequence[Iterable[str]], code_ids: Sequence[str]
) -> MultiLabelScores:
    """Per-code precision, recall, F1, kappa and support; micro F1; macro F1 over supported codes."""
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold items but {len(predicted)} predicted")
    y_true = label_matrix(gold, code_ids)
    y_pred = label_matrix(predicted, code_ids)
    per_code = [_code_scores(code, y_true[:, j], y_pred[:, j]) for j, code in enumerate(code_ids)]
    tp = int((y_true & y_pred).sum())
    fp = int((~y_true & y_pred).sum())
    fn = int((y_true & ~y_pred).sum())
    supported = [scores.f1 for scores in per_code if scores.support > 0]
    return MultiLabelScores(
        per_code=per_code,
        micro_precision=_ratio(tp, tp + fp),
        micro_recall=_ratio(tp, tp + fn),
        micro_f1=f1_from_counts(tp, fp, fn),
        macro_f1=float(np.mean(supported)) if supported else 0.0,
        n_items=len(gold),
    )


def _code_scores(code_id: str, truth: np.ndarray, guess: np.ndarray) -> CodeScores:
    tp = int((truth & guess).sum())
    fp = int((~truth & guess).sum())
    fn = int((truth & ~guess).sum())
    return CodeScores(
        code_id=code_id,
        support=int(truth.sum()),
        predicted=int(guess.sum()),
        true_positives=tp,
        precision=_ratio(tp, tp + fp),
        recall=_ratio(tp, tp + fn),
        f1=f1_from_counts(tp, fp, fn),
        kappa=binary_kappa(truth, guess) if truth.size else float("nan"),
    )
