"""Theme discovery: filler left out, parameters scaled to the collection, reproducible candidates."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

import narratives.coding.discover as discover
from narratives.coding.discover import clustering_parameters, discover_themes, is_substantive
from narratives.coding.runner import code_project
from narratives.errors import CodingError
from narratives.schema import SourceKind
from narratives.store.project import Project, init_project
from narratives.store.tables import candidates, discovery_runs, events
from tests.coding.test_runner import FakeEmbedder, add_documents, make_codebook

VOCAB = {
    "waiting": ["waited", "months", "assessment", "delay", "queue", "weeks", "reply", "list"],
    "staff": ["carer", "different", "agency", "rota", "workers", "continuity", "strangers", "visits"],
    "money": ["charges", "bills", "savings", "pension", "costs", "invoice", "fees", "afford"],
    "lonely": ["lonely", "isolated", "alone", "friends", "company", "silence", "nobody", "talk"],
    "respite": ["respite", "break", "exhausted", "sleep", "holiday", "rest", "tired", "relief"],
}
FILLER = ["N/A", "Nothing to add.", "no", "None", "ok fine", "-", "Nothing else to say"]


def comments(per_theme: int = 30, seed: int = 0) -> list[tuple[str, str]]:
    """(theme, comment) survey answers built from each theme's words, plus filler answers."""
    rng = random.Random(seed)
    found = []
    for theme, words in VOCAB.items():
        for _ in range(per_theme):
            a, b, c, d = rng.sample(words, 4)
            found.append((theme, f"Honestly the {a} and {b} made {c} worse, {d} again."))
    found += [("filler", text) for text in FILLER]
    rng.shuffle(found)
    return list(dict((text, (theme, text)) for theme, text in found).values())


@pytest.fixture
def survey(tmp_path: Path) -> Iterator[Project]:
    made = init_project(tmp_path / "project")
    answers = comments()
    half = len(answers) // 2
    groups = {"need_group": lambda n: {"need_group": "older" if n % 3 else "learning", "council": "Leeds"}}
    add_documents(
        made,
        [[t] for _, t in answers[:half]],
        kind=SourceKind.survey,
        prefix="s",
        attributes=groups["need_group"],
    )
    add_documents(made, [[t] for _, t in answers[half:]], kind=SourceKind.blog, prefix="b")
    yield made
    made.close()


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


def fake_fit(texts, vectors, params, seed, embedder, guidance, keybert):  # type: ignore[no-untyped-def]
    """Cluster by the theme words, standing in for BERTopic in the fast tests."""
    topics = np.array(
        [next((k for k, words in enumerate(VOCAB.values()) if any(w in t for w in words)), -1) for t in texts]
    )
    keywords = {k: words[:5] for k, words in enumerate(VOCAB.values())}
    labels = {k: " / ".join(words[:3]) for k, words in keywords.items()}
    return discover._Fit(topics=topics, keywords=keywords, labels=labels, stats={"fit_seconds": 0.0})


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

    def summary(result):  # type: ignore[no-untyped-def]
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
