"""The review queue of long segments marks the passage that decides a suggestion (streamlit AppTest)."""

from __future__ import annotations

import re

from narratives.store.project import Project
from tests.builders.stories import SENTENCES, coded_stories
from tests.ui.test_pages import open_app, texts


def test_the_queue_marks_the_deciding_sentence_of_a_long_story(monkeypatch, tmp_project: Project) -> None:
    coded_stories(tmp_project, 40, seed=9)
    at = open_app(monkeypatch, tmp_project.path, "review")
    page = texts(at.markdown)
    marked = re.findall(r"<mark>(.*?)</mark>", page)
    assert marked and marked[0] in SENTENCES  # a whole sentence of the story, not a phrase
    assert f"Evidence, marked in the text: “{marked[0]}”" in texts(at.caption)
