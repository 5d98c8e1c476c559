"""The LLM coder's stored answers (migration 0004), and a project made before them and sentiment (0005)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect, text

from narratives.store import init_project
from narratives.store.llm_answers import count_answers, load_answers, save_answers
from narratives.store.migrations import HEAD_REVISION
from narratives.store.project import open_project


def test_answers_are_stored_once_per_model_prompt_and_text(tmp_path: Path) -> None:
    project = init_project(tmp_path / "p")
    try:
        first = {"h1": [{"code": "a", "quote": "q", "reason": "r", "confidence": 0.9}], "h2": []}
        with project.begin() as connection:
            save_answers(connection, "m", "p1", "http://127.0.0.1:1/v1", first)
            save_answers(connection, "m", "p1", "http://127.0.0.1:1/v1", {"h1": [], "h3": []})  # h1 kept
            save_answers(connection, "other", "p1", "http://127.0.0.1:1/v1", {"h1": []})
        with project.connect() as connection:
            assert load_answers(connection, "m", "p1", ["h1", "h2", "h3", "h4"]) == {**first, "h3": []}
            assert load_answers(connection, "m", "p2", ["h1"]) == {}
            assert count_answers(connection) == 4 and count_answers(connection, "other") == 1
    finally:
        project.close()


def test_a_project_made_before_the_llm_coder_and_sentiment_is_upgraded(tmp_path: Path) -> None:
    project = init_project(tmp_path / "old")
    with project.begin() as connection:  # as made before migrations 0004 and 0005
        connection.execute(text("DROP TABLE sentiment_reviews"))
        connection.execute(text("DROP TABLE segment_sentiments"))
        connection.execute(text("DROP TABLE llm_answers"))
        connection.execute(text("ALTER TABLE suggestions DROP COLUMN reason"))
        connection.execute(text("UPDATE alembic_version SET version_num = '0003'"))
    project.close()
    reopened = open_project(tmp_path / "old")
    try:
        schema = inspect(reopened.engine)
        assert {"llm_answers", "segment_sentiments", "sentiment_reviews"} <= set(schema.get_table_names())
        assert "reason" in {column["name"] for column in schema.get_columns("suggestions")}
        with reopened.connect() as connection:
            assert (
                connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
                == HEAD_REVISION
                == "0005"
            )
    finally:
        reopened.close()
