"""Theme discovery: filler left out, parameters scaled to the collection, reproducible candidates."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

import narratives.discovery.topics as discover
from narratives.coding.runner import code_project
from narratives.discovery.topics import clustering_parameters, discover_themes, is_substantive
from narratives.errors import CodingError
from narratives.store.project import Project, init_project
from narratives.store.tables import candidates, discovery_runs, events
from tests.builders.themes import (
    FILLER,
    VOCAB,
    FakeEmbedder,
    add_documents,
    comments,
    fake_fit,
    make_codebook,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("N/A", False),
        ("  nothing to add. ", False),
        ("No comment", False),
        ("", False),
        ("ok fine", False),
        ("-", False),
        ("Nothing else to say", False),
        ("The carers were kind to me.", True),
        ("Nobody came for weeks", True),
    ],
)
def test_empty_and_filler_answers_are_left_out(text: str, expected: bool) -> None:
    assert is_substantive(text) is expected


@pytest.mark.parametrize(
    ("n", "min_size", "neighbours"), [(60, 3, 5), (300, 10, 15), (600, 10, 15), (20000, 50, 15)]
)
def test_parameters_scale_with_the_collection(n: int, min_size: int, neighbours: int) -> None:
    params = clustering_parameters(n)
    assert params["min_topic_size"] == params["min_cluster_size"] == min_size
    assert params["n_neighbors"] == neighbours
    assert clustering_parameters(n, min_topic_size=7)["min_cluster_size"] == 7


def test_too_few_texts_says_so(tmp_path: Path) -> None:
    made = init_project(tmp_path / "tiny")
    add_documents(made, [["The carers were kind."], ["N/A"], ["Nothing to add."]])
    with pytest.raises(CodingError, match="only 1 of 3 sentence segments"):
        discover_themes(made, embedder=FakeEmbedder(), user="ana")


def test_candidates_carry_quotes_sizes_and_overlap(survey: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    code_project(survey, make_codebook(), embedder=FakeEmbedder(), user="ana")
    monkeypatch.setattr(discover, "_fit_topics", fake_fit)
    result = discover_themes(survey, embedder=FakeEmbedder(), user="ana", codebook_name="test-book")
    substantive = len(comments()) - len(FILLER)
    assert result.stats["dropped_short_or_filler"] == len(FILLER) and result.stats["clustered"] == substantive
    assert len(result.candidates) == 5 and sum(c.size for c in result.candidates) == substantive
    money = next(c for c in result.candidates if "charges" in c.keywords)
    assert 3 <= len(money.quotes) <= 5 and all(q["segment_id"] in money.segment_ids for q in money.quotes)
    assert sum(money.sizes["kind"].values()) == money.size and set(money.sizes["kind"]) <= {"survey", "blog"}
    assert set(money.sizes["need_group"]) <= {"older", "learning"} and "council" in money.sizes
    assert money.overlap and money.overlap[0]["code_id"] == "money" and 0 < money.overlap[0]["share"] <= 1
    with survey.connect() as connection:
        stored = connection.execute(select(candidates).where(candidates.c.run_id == result.run_id)).all()
        run = connection.execute(select(discovery_runs)).one()
        kinds = set(connection.execute(select(events.c.kind)).scalars())
    assert len(stored) == 5 and run.model == "fake-bag-of-stems" and "discovery.run" in kinds
    assert run.stats["dropped_short_or_filler"] == len(FILLER)


def test_guided_discovery_needs_a_codebook(survey: Project) -> None:
    with pytest.raises(CodingError, match="guided discovery needs a codebook"):
        discover_themes(survey, embedder=FakeEmbedder(), user="ana", seed_topics=True)


@pytest.mark.slow
def test_same_seed_gives_the_same_candidates(survey: Project) -> None:
    """One real BERTopic fit (UMAP + HDBSCAN) on 150 short answers, twice, then guided."""
    embedder = FakeEmbedder()
    first = discover_themes(survey, embedder=embedder, user="ana", seed=7)
    second = discover_themes(survey, embedder=embedder, user="ana", seed=7)
    assert first.run_id != second.run_id
    assert 3 <= len(first.candidates) <= 8

    def summary(result):
        return [
            (c.label, c.keywords, c.segment_ids, [q["segment_id"] for q in c.quotes])
            for c in result.candidates
        ]

    assert summary(first) == summary(second)
    themes = {
        max(VOCAB, key=lambda theme: len(set(VOCAB[theme]) & set(c.keywords))) for c in first.candidates
    }
    assert len(themes) >= 4  # the planted themes come out as separate candidates
    code_project(survey, make_codebook(), embedder=embedder, user="ana")
    guided = discover_themes(
        survey, embedder=embedder, user="ana", seed=7, codebook_name="test-book", seed_topics=True
    )
    assert guided.config["guidance"] == "guided" and guided.candidates
