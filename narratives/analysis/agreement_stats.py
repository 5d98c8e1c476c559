"""Agreement between coders as numbers: percent agreement, Cohen's kappa, Krippendorff's alpha and
Gwet's AC1, each with a bootstrap 95% interval.

Ratings are a ``coders x units`` array of nominal categories (small non-negative integers; NaN where
a coder did not rate a unit). Everything is worked out from per-unit sums, so a bootstrap replicate
is one weighted sum: the replicates of every code (and of all codes pooled) come from the same
resampled units in one matrix product, which keeps 5,000 units x 50 codes x 1,000 replicates fast.

- **percent agreement**: per unit with two or more ratings, the share of coder pairs that agree;
  averaged over those units (for two coders, the share of units they agree on).
- **Cohen's kappa** (two coders; Cohen 1960): (p_o - p_e) / (1 - p_e) over units both rated. When
  chance agreement is 1 (both coders constant) it is 1.0 if they agree everywhere, else 0.0, the
  rule of :func:`narratives.analysis.metrics.binary_kappa`, which gives the point value for yes/no.
- **Krippendorff's alpha**, nominal (Krippendorff 2011): 1 - D_o / D_e from the coincidence matrix
  of pairable values; the point value comes from the ``krippendorff`` package. Where all pairable
  values fall in one category alpha is undefined; it is reported as 1.0 then (every pair agrees),
  the same convention as kappa's.
- **Gwet's AC1** (Gwet 2008; Handbook 2014, ch. 4, any number of raters, missing ratings):
  (p_a - p_e) / (1 - p_e) with p_e = sum_k pi_k (1 - pi_k) / (q - 1), pi_k the mean over rated units
  of the share of a unit's ratings in category k, and q the number of categories.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from narratives.analysis.metrics import binary_kappa

DEFAULT_BOOTSTRAP = 1000
STATISTICS = ("percent", "kappa", "alpha", "ac1")


@dataclass(frozen=True)
class Estimate:
    """A statistic with its bootstrap 95% interval (NaN where it cannot be computed)."""

    value: float
    low: float
    high: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True)
class AgreementStats:
    """Every statistic for one code (or all codes pooled) over ``n_units`` units."""

    n_units: int
    n_coders: int
    percent: Estimate
    alpha: Estimate
    ac1: Estimate
    kappa: Estimate | None  # two coders only

    def as_dict(self) -> dict:
        found: dict = {"n_units": self.n_units, "n_coders": self.n_coders}
        for name in STATISTICS:
            estimate = getattr(self, name)
            found[name] = estimate.as_dict() if estimate is not None else None
        return found


# ----------------------------------------------------------------------------- per-unit sums


def rating_counts(ratings: np.ndarray, n_categories: int) -> np.ndarray:
    """``units x categories``: how many coders put each unit in each category."""
    values = np.asarray(ratings, dtype=float)
    counts = np.zeros((values.shape[1], n_categories))
    for k in range(n_categories):
        counts[:, k] = (values == k).sum(axis=0)
    return counts


def unit_sums(ratings: np.ndarray, n_categories: int) -> np.ndarray:
    """Per unit, the sums every statistic is made of (columns laid out by :func:`_columns`)."""
    values = np.asarray(ratings, dtype=float)
    counts = rating_counts(values, n_categories)
    m = counts.sum(axis=1)
    pairable = m >= 2
    safe_pairs = np.where(pairable, m * (m - 1), 1.0)
    agree = np.where(pairable, (counts * (counts - 1)).sum(axis=1) / safe_pairs, 0.0)
    rated = m >= 1
    shares = counts / np.where(rated, m, 1.0)[:, None]
    diagonal = np.where(pairable[:, None], counts * (counts - 1) / np.where(pairable, m - 1, 1.0)[:, None], 0)
    margins = np.where(pairable[:, None], counts, 0.0)
    columns = [pairable[:, None], agree[:, None], rated[:, None], shares, diagonal, margins]
    if values.shape[0] == 2:
        both = ~np.isnan(values).any(axis=0)
        first = np.where(both, values[0], -1).astype(int)
        second = np.where(both, values[1], -1).astype(int)
        table = np.zeros((values.shape[1], n_categories * n_categories))
        cells = first * n_categories + second
        table[both.nonzero()[0], cells[both]] = 1.0
        columns.append(table)
    return np.hstack([np.asarray(c, dtype=float) for c in columns])


def _columns(sums: np.ndarray, q: int) -> dict[str, np.ndarray]:
    """Split summed columns (``... x width``) back into named parts."""
    parts = {"pairable": sums[..., 0], "agree": sums[..., 1], "rated": sums[..., 2]}
    parts["shares"] = sums[..., 3 : 3 + q]
    parts["diagonal"] = sums[..., 3 + q : 3 + 2 * q]
    parts["margins"] = sums[..., 3 + 2 * q : 3 + 3 * q]
    if sums.shape[-1] > 3 + 3 * q:
        parts["table"] = sums[..., 3 + 3 * q :].reshape(*sums.shape[:-1], q, q)
    return parts


# ------------------------------------------------------------------------- statistics of sums


def _divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1), np.nan)


def percent_of(parts: dict[str, np.ndarray]) -> np.ndarray:
    return _divide(parts["agree"], parts["pairable"])


def ac1_of(parts: dict[str, np.ndarray], q: int) -> np.ndarray:
    p_a = percent_of(parts)
    pi = _divide(parts["shares"], parts["rated"][..., None])
    p_e = (pi * (1 - pi)).sum(axis=-1) / max(q - 1, 1)
    return _chance_corrected(p_a, p_e)


def alpha_of(parts: dict[str, np.ndarray]) -> np.ndarray:
    margins, n = parts["margins"], parts["margins"].sum(axis=-1)
    observed = n - parts["diagonal"].sum(axis=-1)  # coincidences off the diagonal
    expected = _divide(n * n - (margins * margins).sum(axis=-1), n - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = 1 - observed / np.where(expected > 0, expected, 1)
    alpha = np.where(expected > 0, alpha, np.where(observed == 0, 1.0, 0.0))
    return np.where(n >= 2, alpha, np.nan)


def kappa_of(parts: dict[str, np.ndarray]) -> np.ndarray:
    table = parts["table"]
    n = table.sum(axis=(-2, -1))
    p_o = _divide(np.trace(table, axis1=-2, axis2=-1), n)
    rows, cols = _divide(table.sum(axis=-1), n[..., None]), _divide(table.sum(axis=-2), n[..., None])
    return _chance_corrected(p_o, (rows * cols).sum(axis=-1))


def _chance_corrected(observed: np.ndarray, expected: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        value = (observed - expected) / (1 - expected)
    constant = np.where(observed >= 1.0, 1.0, 0.0)
    return np.where(np.isnan(observed), np.nan, np.where(expected >= 1.0, constant, value))


# ---------------------------------------------------------------------------------- estimates


def krippendorff_alpha(ratings: np.ndarray) -> float:
    """Nominal alpha of ``coders x units`` ratings, from the ``krippendorff`` package (NaN when no
    unit has two ratings; 1.0 when every pairable value is the same category)."""
    import krippendorff

    values = np.asarray(ratings, dtype=float)
    pairable = (~np.isnan(values)).sum(axis=0) >= 2
    domain = np.unique(values[:, pairable][~np.isnan(values[:, pairable])])
    if not pairable.any():
        return float("nan")
    if domain.size < 2:
        return 1.0
    return float(krippendorff.alpha(reliability_data=values, level_of_measurement="nominal"))


def point_values(ratings: np.ndarray, n_categories: int = 2) -> dict[str, float]:
    """Each statistic of one ``coders x units`` rating array, without intervals."""
    values = np.asarray(ratings, dtype=float)
    parts = _columns(unit_sums(values, n_categories).sum(axis=0), n_categories)
    found = {
        "percent": float(percent_of(parts)),
        "alpha": krippendorff_alpha(values),
        "ac1": float(ac1_of(parts, n_categories)),
    }
    if values.shape[0] == 2:
        found["kappa"] = _cohen_point(values, parts, n_categories)
    return found


def _cohen_point(values: np.ndarray, parts: dict[str, np.ndarray], q: int) -> float:
    both = ~np.isnan(values).any(axis=0)
    if q == 2 and both.any():
        return binary_kappa(values[0, both] == 1, values[1, both] == 1)
    return float(kappa_of(parts))


def bootstrap_weights(n_units: int, n_boot: int = DEFAULT_BOOTSTRAP, seed: int = 0) -> np.ndarray:
    """``n_boot x n_units``: how often each unit is drawn in each replicate (units resampled with
    replacement, a fixed seed)."""
    if n_units == 0 or n_boot <= 0:
        return np.zeros((max(n_boot, 0), n_units))
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n_units, size=(n_boot, n_units))
    offsets = (np.arange(n_boot) * n_units)[:, None]
    counts = np.bincount((draws + offsets).ravel(), minlength=n_boot * n_units)
    return counts.reshape(n_boot, n_units).astype(float)


def _interval(replicates: np.ndarray) -> tuple[float, float]:
    finite = replicates[np.isfinite(replicates)]
    if finite.size == 0:
        return float("nan"), float("nan")
    low, high = np.percentile(finite, [2.5, 97.5])
    return float(low), float(high)


def _estimates(
    points: Mapping[str, float], replicated: np.ndarray, q: int, two_coders: bool
) -> dict[str, Estimate]:
    parts = _columns(replicated, q)
    series = {"percent": percent_of(parts), "alpha": alpha_of(parts), "ac1": ac1_of(parts, q)}
    if two_coders:
        series["kappa"] = kappa_of(parts)
    return {name: Estimate(float(points[name]), *_interval(values)) for name, values in series.items()}


def agreement_by_code(
    ratings: Mapping[str, np.ndarray],
    *,
    n_boot: int = DEFAULT_BOOTSTRAP,
    seed: int = 0,
    n_categories: int = 2,
) -> tuple[dict[str, AgreementStats], AgreementStats | None]:
    """Statistics per code and over all codes pooled (every (unit, code) one decision), with
    intervals from the same resampled units for every code. Each value is ``coders x units`` with
    the same coders and units in the same order."""
    codes = list(ratings)
    if not codes:
        return {}, None
    n_coders, n_units = np.asarray(ratings[codes[0]]).shape
    weights = bootstrap_weights(n_units, n_boot, seed)
    sums = [unit_sums(ratings[code], n_categories) for code in codes]
    width = sums[0].shape[1]
    replicated = weights @ np.hstack(sums) if n_boot > 0 else np.zeros((0, width * len(codes)))
    found: dict[str, AgreementStats] = {}
    for j, code in enumerate(codes):
        points = point_values(ratings[code], n_categories)
        block = replicated[:, j * width : (j + 1) * width]
        found[code] = _stats(n_units, n_coders, _estimates(points, block, n_categories, n_coders == 2))
    pooled = np.hstack([np.asarray(ratings[code], dtype=float) for code in codes])
    pooled_points = point_values(pooled, n_categories)
    pooled_block = replicated.reshape(replicated.shape[0], len(codes), width).sum(axis=1)
    overall = _stats(n_units, n_coders, _estimates(pooled_points, pooled_block, n_categories, n_coders == 2))
    return found, overall


def agreement(
    ratings: np.ndarray, *, n_boot: int = DEFAULT_BOOTSTRAP, seed: int = 0, n_categories: int | None = None
) -> AgreementStats:
    """Every statistic of one ``coders x units`` array, with bootstrap intervals."""
    values = np.asarray(ratings, dtype=float)
    if n_categories is None:
        finite = values[~np.isnan(values)]
        n_categories = int(finite.max()) + 1 if finite.size else 2
    per_code, _ = agreement_by_code({"_": values}, n_boot=n_boot, seed=seed, n_categories=n_categories)
    return per_code["_"]


def _stats(n_units: int, n_coders: int, estimates: dict[str, Estimate]) -> AgreementStats:
    return AgreementStats(
        n_units=n_units,
        n_coders=n_coders,
        percent=estimates["percent"],
        alpha=estimates["alpha"],
        ac1=estimates["ac1"],
        kappa=estimates.get("kappa"),
    )


def ratings_from_labels(labels: Sequence[Sequence[bool | None]]) -> np.ndarray:
    """``coders x units`` floats (1.0 yes, 0.0 no, NaN not rated) from per-coder yes/no lists."""
    return np.array([[np.nan if v is None else float(v) for v in coder] for coder in labels], dtype=float)
