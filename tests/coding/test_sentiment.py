"""Segment sentiment: the model learned from the shipped NHS ratings, stored per segment,
reviewers' corrections winning and learned from, and themes by sentiment (crosstab, export, pages)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from narratives.analysis.sentiment import themes_by_sentiment
from narratives.cli import app
from narratives.coding.config import CodingConfig
from narratives.coding.runner import code_project
from narratives.coding.sentiment import LABELS, shipped_training_set, train_sentiment
from narratives.coding.sentiment_run import score_sentiment
from narratives.store.events import list_events
from narratives.store.project import Project
from narratives.store.segments import load_segments
from narratives.store.sentiments import current_sentiments, record_sentiment_review
from narratives.store.tables import segment_sentiments
from tests.builders.themes import FakeEmbedder, make_codebook

runner = CliRunner()


@pytest.fixture(autouse=True)
def own_cache(shared_cache_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(shared_cache_home))  # the shipped comments' vectors


@pytest.fixture(scope="module")
def model():
    return train_sentiment(FakeEmbedder().encode)


def test_the_shipped_ratings_have_three_classes() -> None:
    texts, labels = shipped_training_set()
    assert len(texts) == len(labels) == 3871
    assert {label: labels.count(label) for label in LABELS} == {
        "positive": 2420,
        "mixed": 520,
        "negative": 931,
    }


def test_the_model_tells_praise_from_complaint(model) -> None:
    texts = [
        "The staff were wonderful, kind and caring. Thank you so much.",
        "The driver was rude and we waited three hours; nobody phoned to say he was late.",
    ]
    embedder = FakeEmbedder()
    assert model.predict(texts, embedder.encode(texts)) == ["positive", "negative"]
    probabilities = model.predict_proba(texts, embedder.encode(texts))
    assert probabilities.shape == (2, 3) and probabilities.sum(axis=1) == pytest.approx([1.0, 1.0])


def test_every_segment_gets_a_sentiment_and_a_correction_wins(themed_project: Project) -> None:
    result = score_sentiment(themed_project, FakeEmbedder(), user="ana")
    with themed_project.connect() as connection:
        segs = load_segments(connection)
        found = current_sentiments(connection)
        stored = connection.execute(select(segment_sentiments)).all()
    assert result.segments == len(segs) == len(found) == len(stored) and result.corrections == 0
    assert sum(result.counts.values()) == len(segs)
    assert all(s.source == "machine" and s.label in LABELS for s in found.values())
    for row in stored:
        assert row.positive + row.mixed + row.negative == pytest.approx(1.0, abs=1e-3)
        assert getattr(row, row.label) == max(row.positive, row.mixed, row.negative)
    target = segs[0]
    other = next(label for label in LABELS if label != found[int(target.id or 0)].label)
    with themed_project.begin() as connection:
        record_sentiment_review(connection, int(target.id or 0), other, "bea")
    with themed_project.connect() as connection:
        now = current_sentiments(connection, [int(target.id or 0)])[int(target.id or 0)]
        kinds = [e.kind for e in list_events(connection)]
    assert (now.label, now.source) == (other, "reviewer")
    assert "sentiment.run" in kinds and "sentiment.review" in kinds
    again = score_sentiment(themed_project, FakeEmbedder(), user="ana")
    assert again.corrections == 1 and again.version != result.version
    with themed_project.connect() as connection:
        assert current_sentiments(connection, [int(target.id or 0)])[int(target.id or 0)].label == other


def test_themes_by_sentiment_crosstab_and_export(themed_project: Project, tmp_path: Path) -> None:
    config = CodingConfig()
    code_project(themed_project, make_codebook(), embedder=FakeEmbedder(), user="ana", config=config)
    with themed_project.connect() as connection:
        before = themes_by_sentiment(connection, "test-book")
    assert set(before["sentiment"]) == {*LABELS, "(not scored)"}
    assert before[before["sentiment"] != "(not scored)"]["count"].sum() == 0
    score_sentiment(themed_project, FakeEmbedder(), user="ana")
    with themed_project.connect() as connection:
        frame = themes_by_sentiment(connection, "test-book")
        labels = current_sentiments(connection)
    assert set(frame["sentiment"]) == set(LABELS)
    for _code_id, rows in frame.groupby("code_id"):
        assert rows["count"].sum() == rows["code_total"].iloc[0]
    shown = runner.invoke(app, ["crosstab", str(themed_project.path), "--by", "sentiment"])
    assert shown.exit_code == 0, shown.output
    assert "Themes by sentiment" in shown.output and "negative" in shown.output
    out = tmp_path / "coded.csv"
    exported = runner.invoke(app, ["export", str(themed_project.path), "--format", "csv", "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    import pandas as pd

    coded = pd.read_csv(next(out.parent.glob("coded*.csv")) if not out.exists() else out)
    assert "sentiment" in coded.columns
    assert [labels[int(s)].label for s in coded["segment_id"]] == coded["sentiment"].tolist()
