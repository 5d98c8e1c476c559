"""How far to trust discovery: stability across seeds, redundancy with the codebook, and purity,
NMI and outliers against human codes."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

import narratives.discovery.topics as discover
from narratives.cli import app
from narratives.coding.runner import code_project
from narratives.discovery.quality import against_gold, redundant, stability
from narratives.discovery.topics import discover_themes
from narratives.store.project import Project
from tests.builders.themes import VOCAB, FakeEmbedder, fake_fit, make_codebook
from tests.ui.test_pages import open_app, texts


def test_a_candidate_recurs_when_a_rerun_shares_half_its_members() -> None:
    base = np.array([0, 0, 0, 0, 1, 1, 1, 1, -1])
    same = np.array([5, 5, 5, 5, 7, 7, 7, 7, -1])  # other topic ids, the same groups
    split = np.array([5, 5, 6, 6, 7, 7, 7, -1, 7])  # topic 0 halved; topic 1 loses one, gains one
    found = stability(base, {1: same, 2: split})
    assert found.best_jaccard == {0: [1.0, 0.5], 1: [1.0, 0.6]}
    assert found.recurs == {0: 2, 1: 2} and found.recurring_share == 1.0
    scattered = np.array([5, 6, 7, 8, 5, 6, 7, 8, -1])
    assert stability(base, {1: scattered}).recurring_share == 0.0


def test_redundant_candidates_mostly_repeat_a_code() -> None:
    overlaps = {0: [{"code_id": "money", "share": 0.8}], 1: [{"code_id": "staff", "share": 0.3}], 2: []}
    assert redundant(overlaps) == {0: {"code_id": "money", "share": 0.8}}


def test_purity_nmi_and_outliers_against_human_codes() -> None:
    topics = np.array([0, 0, 0, 1, 1, -1, 1])
    gold = [["a"], ["a", "b"], ["b"], ["c"], ["c"], ["a"], []]  # the last has no human code: left out
    found = against_gold(topics, gold)
    assert (found.texts, found.clustered, found.candidates) == (6, 5, 2)
    assert found.purity == pytest.approx(
        4 / 5, abs=1e-4
    )  # topic 0 is mostly "a": the text coded only "b" misses
    assert found.outlier_share == pytest.approx(1 / 6, abs=1e-4)
    perfect = against_gold(np.array([0, 0, 1, 1]), [["a"], ["a"], ["b"], ["b"]])
    assert perfect.purity == 1.0 and perfect.nmi == pytest.approx(1.0)


def test_a_run_with_stability_records_how_often_each_candidate_recurs(
    survey: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    code_project(survey, make_codebook(), embedder=FakeEmbedder(), user="ana")
    monkeypatch.setattr(discover, "_fit_topics", fake_fit)
    said: list[str] = []
    result = discover_themes(
        survey,
        embedder=FakeEmbedder(),
        user="ana",
        codebook_name="test-book",
        stability_seeds=2,
        progress=said.append,
    )
    stable = result.stats["stability"]
    assert stable["seeds"] == [43, 44] and stable["topics_per_run"] == [len(VOCAB), len(VOCAB)]
    assert (
        stable["recurs"] == {str(c.topic): 2 for c in result.candidates} and stable["recurring_share"] == 1.0
    )
    assert said == [
        "clustering",
        *(f"clustering again with seed {s} ({k} of 2), for stability" for k, s in ((1, 43), (2, 44))),
    ]
    assert result.config["stability_seeds"] == 2 and 0 <= result.stats["outlier_share"] < 1
    # a candidate is redundant when half its segments or more carry one code; respite has no code
    found = result.stats["redundant"]
    assert found, "some candidates repeat the codebook's codes"
    for candidate in result.candidates:
        top = max((o["share"] for o in candidate.overlap), default=0.0)
        assert (str(candidate.topic) in found) == (top >= 0.5)
    respite = next(c for c in result.candidates if "respite" in c.keywords)
    assert str(respite.topic) not in found


def test_the_command_and_the_discover_page_show_stability_and_redundancy(
    survey: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    code_project(survey, make_codebook(), embedder=FakeEmbedder(), user="ana")
    monkeypatch.setattr(discover, "_fit_topics", fake_fit)
    monkeypatch.setattr("narratives.embed.load_embedder", lambda name=None: FakeEmbedder())
    result = CliRunner().invoke(
        app, ["discover", str(survey.path), "--codebook", "test-book", "--stability", "1", "--model", "fake"]
    )
    assert result.exit_code == 0, result.output
    assert "recurs" in result.output and "1 of 1" in result.output
    assert "Stability: 100% of the candidates recur in every re-run" in result.output
    assert "Redundant: " in result.output and "(redundant)" in result.output
    at = open_app(monkeypatch, survey.path, "discover")
    shown = texts(at.caption)
    assert "recur in every one of 1 re-run(s)" in shown and "candidate(s) mostly repeating" in shown
    assert "Recurs in 1 of 1 re-run(s)" in shown and "Redundant: " in shown
