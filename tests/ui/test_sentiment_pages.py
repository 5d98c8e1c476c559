"""Sentiment in the explorer: the review queue shows it and takes a correction, the document view
counts it, the Analysis page's Sentiment tab crosses it with the themes (streamlit AppTest)."""

from __future__ import annotations

from pathlib import Path

import pytest

from narratives.analysis.sentiment import themes_by_sentiment
from narratives.coding.runner import code_project
from narratives.coding.sentiment_run import score_sentiment
from narratives.store.project import Project
from narratives.store.sentiments import current_sentiments
from tests.builders.themes import FakeEmbedder, make_codebook
from tests.ui.test_analysis_page import downloads, open_section
from tests.ui.test_pages import open_app, texts


@pytest.fixture
def scored(themed_project: Project, shared_cache_home: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.setenv("XDG_CACHE_HOME", str(shared_cache_home))
    code_project(themed_project, make_codebook(), embedder=FakeEmbedder(), user="ana")
    score_sentiment(themed_project, FakeEmbedder(), user="ana")
    return themed_project


def test_the_review_queue_shows_the_sentiment_and_takes_a_correction(monkeypatch, scored: Project) -> None:
    at = open_app(monkeypatch, scored.path, "review")
    (radio,) = [r for r in at.radio if r.key and r.key.startswith("review_sentiment_")]
    segment_id = int(radio.key.rsplit("_", 1)[1])
    with scored.connect() as connection:
        before = current_sentiments(connection, [segment_id])[segment_id]
    assert radio.value == before.label and radio.label.startswith("Sentiment (machine, ")
    other = next(o for o in radio.options if o != before.label)
    radio.set_value(other).run()
    assert not at.exception, [e.value for e in at.exception]
    assert f"Sentiment set to {other}." in texts(at.success)
    with scored.connect() as connection:
        after = current_sentiments(connection, [segment_id])[segment_id]
    assert (after.label, after.source) == (other, "reviewer")
    at.run()
    (radio,) = [r for r in at.radio if r.key == f"review_sentiment_{segment_id}"]
    assert radio.value == other and radio.label == "Sentiment (corrected by a reviewer)"


def test_documents_and_analysis_show_sentiment(monkeypatch, scored: Project) -> None:
    at = open_app(monkeypatch, scored.path, "documents")
    assert "Sentiment of its " in texts(at.caption)
    at = open_section(open_app(monkeypatch, scored.path, "analysis"), "Sentiment")
    assert not at.exception, [e.value for e in at.exception]
    assert downloads(at) == ["Download themes by sentiment (CSV)"]
    (table,) = at.dataframe
    assert list(table.value.columns) == ["theme", "positive", "mixed", "negative"]
    assert "Waiting for care" in table.value["theme"].tolist()
    # small cells are hidden by the people behind them, as everywhere on the page (threshold 5)
    with scored.connect() as connection:
        frame = themes_by_sentiment(connection, "test-book")
    shown = table.value.set_index("theme")
    for row in frame.itertuples():
        expected = "<5" if 0 < row.people < 5 else str(row.count)
        assert shown.loc[row.code_name, row.sentiment] == expected, row


def test_a_sentiment_scored_again_while_the_page_is_open_is_not_taken_for_a_correction(
    monkeypatch, scored: Project
) -> None:
    from sqlalchemy import func, select

    from narratives.store.sentiments import save_sentiments
    from narratives.store.tables import sentiment_reviews

    at = open_app(monkeypatch, scored.path, "review")
    (radio,) = [r for r in at.radio if r.key and r.key.startswith("review_sentiment_")]
    segment_id = int(radio.key.rsplit("_", 1)[1])
    other = next(o for o in radio.options if o != radio.value)
    with scored.begin() as connection:  # as a new `narratives sentiment` run would
        row = {"segment_id": segment_id, "label": other, "positive": 0.0, "mixed": 0.0, "negative": 0.0}
        save_sentiments(connection, [{**row, other: 1.0}], "fake", "test")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    (radio,) = [r for r in at.radio if r.key == f"review_sentiment_{segment_id}"]
    assert radio.value == other and radio.label.startswith("Sentiment (machine, 1.00")
    with scored.connect() as connection:
        assert connection.execute(select(func.count()).select_from(sentiment_reviews)).scalar_one() == 0


def test_the_analysis_page_scores_sentiment_with_a_button(
    monkeypatch, themed_project: Project, tiny_model: Path, shared_cache_home: Path
) -> None:
    from narratives.models_local import choose_model

    monkeypatch.setenv("XDG_CACHE_HOME", str(shared_cache_home))
    code_project(themed_project, make_codebook(), embedder=FakeEmbedder(), user="ana")
    with themed_project.begin() as connection:
        choose_model(connection, str(tiny_model))  # a real model that embeds the rated comments in seconds
    at = open_section(open_app(monkeypatch, themed_project.path, "analysis"), "Sentiment")
    assert "No segment has a sentiment yet" in texts(at.info) and not at.dataframe
    at.button(key="analysis_sentiment_score").click().run()
    assert not at.exception, [e.value for e in at.exception]
    with themed_project.connect() as connection:
        labels = current_sentiments(connection, list(range(1, 100)))
    assert len(labels) == 24  # every sentence segment of the eight documents
    assert "Sentiment of 24 sentence segments: " in texts(at.success)
    assert at.button(key="analysis_sentiment_score").label.startswith("Score sentiment again")
    (table,) = at.dataframe
    assert "Waiting for care" in table.value["theme"].tolist()
