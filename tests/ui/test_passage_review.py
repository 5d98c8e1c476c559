"""The review queue of long segments marks the passage that decides a suggestion (streamlit AppTest)."""

from __future__ import annotations

import re

from narratives.coding.runner import code_project
from narratives.schema import SegmentUnit
from narratives.store.project import Project
from tests.builders.stories import FILLER, add_stories, review_whole, stories
from tests.builders.themes import THEMES, FakeEmbedder, make_codebook
from tests.ui.test_pages import open_app, texts

SENTENCES = {sentence for group in THEMES.values() for sentence in group} | set(FILLER)


def test_the_queue_marks_the_deciding_sentence_of_a_long_story(monkeypatch, tmp_project: Project) -> None:
    told = stories(40, seed=9)
    ids = add_stories(tmp_project, told)
    book, unit = make_codebook(), SegmentUnit.response
    code_project(tmp_project, book, embedder=FakeEmbedder(), user="ana", unit=unit)
    review_whole(tmp_project, told[:24], ids)
    code_project(tmp_project, book, embedder=FakeEmbedder(), user="ana", unit=unit)
    at = open_app(monkeypatch, tmp_project.path, "review")
    page = texts(at.markdown)
    marked = re.findall(r"<mark>(.*?)</mark>", page)
    assert marked and marked[0] in SENTENCES  # a whole sentence of the story, not a phrase
    assert f"Evidence, marked in the text: “{marked[0]}”" in texts(at.caption)
