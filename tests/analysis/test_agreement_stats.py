"""The agreement statistics against published worked examples and small cases worked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from narratives.analysis.agreement_stats import (
    _columns,
    agreement,
    agreement_by_code,
    alpha_of,
    bootstrap_weights,
    krippendorff_alpha,
    point_values,
    unit_sums,
)
from narratives.analysis.metrics import binary_kappa

N = np.nan

# Krippendorff, K. (2011). Computing Krippendorff's alpha-reliability. Annenberg School for
# Communication, University of Pennsylvania, section "C. Nominal data, any number of observers,
# missing data": 4 observers, 12 units, values 1-5, alpha_nominal = 0.743. The same data set is
# Gwet's (2014) Handbook of Inter-Rater Reliability, 4th ed., ch. 4 example of 4 raters and 12
# subjects (irrCAC's ``cac.raw4raters``), where AC1 = 0.7754 with p_a = 0.8182 and p_e = 0.1903.
KRIPPENDORFF_2011 = (
    np.array(
        [
            [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
            [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
            [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
            [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],
        ]
    )
    - 1  # categories 0-4
)

# Cohen's kappa, the worked example of Wikipedia's "Cohen's kappa" article (after Cohen 1960):
# 50 proposals, both readers say yes to 20, both no to 15, A yes and B no 5, A no and B yes 10:
# p_o = 0.7, p_e = 0.5, kappa = 0.4.
WIKIPEDIA_A = [1] * 20 + [1] * 5 + [0] * 10 + [0] * 15
WIKIPEDIA_B = [1] * 20 + [0] * 5 + [1] * 10 + [0] * 15


def test_krippendorffs_alpha_matches_krippendorff_2011_worked_example() -> None:
    found = agreement(KRIPPENDORFF_2011, n_boot=200)
    assert found.alpha.value == pytest.approx(0.743, abs=5e-4)
    assert found.alpha.low <= found.alpha.value <= found.alpha.high
    assert found.kappa is None  # four coders: no Cohen's kappa


def test_gwets_ac1_matches_gwet_2014_handbook_example() -> None:
    found = agreement(KRIPPENDORFF_2011, n_boot=0)
    assert found.percent.value == pytest.approx(0.8182, abs=1e-4)  # p_a = 9/11
    assert found.ac1.value == pytest.approx(0.7754, abs=1e-4)
    p_e = (found.percent.value - found.ac1.value) / (1 - found.ac1.value)
    assert p_e == pytest.approx(0.1903, abs=1e-4)


def test_cohens_kappa_matches_the_wikipedia_worked_example() -> None:
    found = agreement(np.array([WIKIPEDIA_A, WIKIPEDIA_B]), n_boot=0)
    assert found.kappa is not None and found.kappa.value == pytest.approx(0.4)
    assert found.percent.value == pytest.approx(0.7)
    # AC1 by hand: pi_yes = (25 + 30) / 100 = 0.55, p_e = 2 * 0.55 * 0.45 = 0.495
    assert found.ac1.value == pytest.approx((0.7 - 0.495) / (1 - 0.495))


def test_two_coders_by_hand() -> None:
    # units: yes/yes, yes/no, no/no, no/no. p_o = 3/4; Cohen p_e = 0.5*0.25 + 0.5*0.75 = 0.5 -> 0.5.
    # alpha: coincidences o_yy = 2, o_yn = o_ny = 1, o_nn = 4; n = 8, n_y = 3, n_n = 5:
    # D_o = 2/8, D_e = 2*3*5/(8*7) -> alpha = 1 - (2/8)/(30/56) = 1 - 14/30 = 8/15.
    ratings = np.array([[1, 1, 0, 0], [1, 0, 0, 0]], dtype=float)
    found = agreement(ratings, n_boot=0)
    assert found.kappa is not None and found.kappa.value == pytest.approx(0.5)
    assert found.alpha.value == pytest.approx(8 / 15)
    assert found.percent.value == pytest.approx(0.75)
    # AC1: pi_yes = 3/8, p_e = 2 * 3/8 * 5/8 = 30/64; (3/4 - 30/64) / (1 - 30/64) = 18/34
    assert found.ac1.value == pytest.approx(18 / 34)


def test_everyone_agreeing_gives_one_everywhere() -> None:
    ratings = np.array([[1, 0, 1, 0], [1, 0, 1, 0], [1, 0, 1, 0]], dtype=float)
    found = agreement(ratings, n_boot=50)
    assert (found.percent.value, found.alpha.value, found.ac1.value) == (1.0, 1.0, 1.0)
    assert found.percent.low == 1.0 and found.ac1.low == 1.0


def test_a_constant_coder_follows_the_kappa_rule_of_metrics() -> None:
    agree_on_no = np.zeros((2, 5))
    found = agreement(agree_on_no, n_boot=0, n_categories=2)
    assert found.kappa is not None and found.kappa.value == 1.0 == binary_kappa([0] * 5, [0] * 5)
    assert found.alpha.value == 1.0  # no variation, every pair agrees: 1.0 by our convention
    one_says_yes = np.array([[0, 0, 0, 0, 0], [0, 1, 0, 0, 0]], dtype=float)
    found = agreement(one_says_yes, n_boot=0)
    assert found.kappa is not None
    assert found.kappa.value == pytest.approx(binary_kappa([0] * 5, [0, 1, 0, 0, 0])) == 0.0
    assert found.percent.value == pytest.approx(0.8)
    assert found.ac1.value > 0.7  # AC1 stays high where kappa collapses: the point of AC1


def test_one_unit_gives_values_and_degenerate_intervals() -> None:
    found = agreement(np.array([[1.0], [1.0]]), n_boot=20, n_categories=2)
    assert found.percent.value == 1.0 and found.percent.low == found.percent.high == 1.0
    nobody_pairs = agreement(np.array([[1.0], [N]]), n_boot=20, n_categories=2)
    assert np.isnan(nobody_pairs.percent.value) and np.isnan(nobody_pairs.alpha.value)


def test_vectorised_alpha_equals_the_krippendorff_package_with_missing_data() -> None:
    rng = np.random.default_rng(7)
    for _ in range(20):
        ratings = rng.integers(0, 3, size=(3, 40)).astype(float)
        ratings[rng.random(ratings.shape) < 0.25] = N
        parts = _columns(unit_sums(ratings, 3).sum(axis=0), 3)
        assert float(alpha_of(parts)) == pytest.approx(krippendorff_alpha(ratings))


def test_bootstrap_is_fixed_by_its_seed_and_resamples_whole_units() -> None:
    weights = bootstrap_weights(30, 100, seed=3)
    assert weights.shape == (100, 30) and (weights.sum(axis=1) == 30).all()
    assert (weights == bootstrap_weights(30, 100, seed=3)).all()
    assert not (weights == bootstrap_weights(30, 100, seed=4)).all()


def test_by_code_pools_every_unit_code_decision_for_the_overall_figure() -> None:
    first = np.array([[1, 1, 0, 0], [1, 0, 0, 0]], dtype=float)
    second = np.array([[0, 1, 1, 0], [0, 1, 1, 0]], dtype=float)
    per_code, overall = agreement_by_code({"a": first, "b": second}, n_boot=100, seed=1)
    assert per_code["b"].kappa is not None and per_code["b"].kappa.value == 1.0
    assert overall is not None and overall.percent.value == pytest.approx(7 / 8)
    assert overall.kappa is not None
    assert overall.kappa.value == pytest.approx(point_values(np.hstack([first, second]))["kappa"])
    assert overall.kappa.low <= overall.kappa.value <= overall.kappa.high


def test_intervals_narrow_as_units_grow() -> None:
    rng = np.random.default_rng(0)
    truth = rng.random(2000) < 0.3
    noisy = truth ^ (rng.random(2000) < 0.1)
    small = agreement(np.array([truth[:100], noisy[:100]], dtype=float), n_boot=300)
    large = agreement(np.array([truth, noisy], dtype=float), n_boot=300)
    assert small.kappa is not None and large.kappa is not None
    assert (large.kappa.high - large.kappa.low) < (small.kappa.high - small.kappa.low)
