"""Metrics against values worked out by hand."""

from __future__ import annotations

import math

import pytest

from narratives.analysis.metrics import binary_kappa, cohens_kappa, multilabel_scores


def test_binary_kappa_hand_computed() -> None:
    # 10 items: both yes 4, both no 3, a-yes/b-no 2, a-no/b-yes 1.
    a = [1, 1, 1, 1, 0, 0, 0, 1, 1, 0]
    b = [1, 1, 1, 1, 0, 0, 0, 0, 0, 1]
    # p_o = 0.7; p_a = 0.6, p_b = 0.5; p_e = 0.6*0.5 + 0.4*0.5 = 0.5; kappa = 0.2 / 0.5 = 0.4
    assert binary_kappa(a, b) == pytest.approx(0.4)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [([1, 1, 0], [1, 1, 0], 1.0), ([0, 0, 0], [0, 0, 0], 1.0), ([1, 0], [0, 1], -1.0), ([1, 1], [1, 0], 0.0)],
)
def test_binary_kappa_edge_cases(a: list[int], b: list[int], expected: float) -> None:
    assert binary_kappa(a, b) == pytest.approx(expected)


def test_cohens_kappa_per_code_and_mean() -> None:
    a = [{"x"}, {"x", "y"}, set(), {"y"}]
    b = [{"x"}, {"x"}, set(), {"y"}]
    kappas = cohens_kappa(a, b)
    assert kappas["x"] == pytest.approx(1.0)
    # y: a = [0,1,0,1], b = [0,0,0,1]; p_o = 0.75, p_e = 0.5*0.25 + 0.5*0.75 = 0.5 -> 0.5
    assert kappas["y"] == pytest.approx(0.5)
    assert kappas["mean"] == pytest.approx(0.75)
    with pytest.raises(ValueError):
        cohens_kappa([{"x"}], [])


def test_multilabel_scores_hand_computed() -> None:
    gold = [{"a"}, {"a", "b"}, {"b"}, set()]
    predicted = [{"a"}, {"a"}, {"a", "b"}, {"c"}]
    scores = multilabel_scores(gold, predicted, ["a", "b", "c"])
    a, b, c = scores.per_code
    # a: tp 2, fp 1, fn 0 -> P 2/3, R 1, F1 0.8
    assert (a.support, a.predicted, a.precision, a.recall, a.f1) == (
        2,
        3,
        pytest.approx(2 / 3),
        1.0,
        pytest.approx(0.8),
    )
    # b: tp 1, fp 0, fn 1 -> P 1, R 0.5, F1 2/3
    assert (b.precision, b.recall, b.f1) == (1.0, 0.5, pytest.approx(2 / 3))
    assert c.support == 0 and c.f1 == 0.0
    # micro: tp 3, fp 2, fn 1 -> F1 6/9
    assert scores.micro_f1 == pytest.approx(6 / 9)
    assert scores.micro_precision == pytest.approx(3 / 5) and scores.micro_recall == pytest.approx(3 / 4)
    # macro over codes with gold support (a, b)
    assert scores.macro_f1 == pytest.approx((0.8 + 2 / 3) / 2)
    # kappa for a: gold [1,1,0,0], pred [1,1,1,0]: p_o .75, p_e .5*.75+.5*.25=.5 -> .5
    assert a.kappa == pytest.approx(0.5)
    assert not math.isnan(b.kappa)
