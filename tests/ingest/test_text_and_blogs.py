from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from narratives.errors import IngestError
from narratives.ingest.blogs import blog_documents, preview_split, resolve_strategy
from narratives.ingest.text import read_text
from narratives.schema import SourceKind


def test_text_file_is_one_document_with_the_text_exactly(tmp_path: Path) -> None:
    text = "# Waiting for care\r\n\r\nI waited six weeks – “six weeks”.\r\n"
    path = tmp_path / "story.md"
    path.write_bytes(text.encode("utf-8"))
    document = read_text(path, kind=SourceKind.blog)
    assert document.text == text
    assert document.title == "Waiting for care"
    assert (document.kind, document.source_format) == (SourceKind.blog, "md")


def test_text_title_falls_back_to_file_name_when_first_line_is_long(tmp_path: Path) -> None:
    path = tmp_path / "long_story.txt"
    path.write_text(" ".join(["word"] * 40) + ".\n", encoding="utf-8")
    assert read_text(path, kind=SourceKind.interview).title == "long_story"


def test_heuristic_split_finds_the_posts_of_a_real_blog(fixtures: Path) -> None:
    text = (fixtures / "blog_multi_post.txt").read_text(encoding="utf-8")
    spans = preview_split(text, "auto")
    titles = [span.title for span in spans]
    assert resolve_strategy(text) == "heuristic"
    assert 6 <= len(spans) <= 9
    for known in (
        "Commissioning",
        "Fear and Loathing in the Public Sector – Or Why I despise Oliver Letwin",
        "Waiting for Dilnot",
        "Making Adult Social Care Better 1",
    ):
        assert known in titles
    for false_start in ("Firstly", "Image via Wikipedia", "The main recommendations are"):
        assert false_start not in titles


def test_blog_post_texts_are_exact_slices_of_the_file(fixtures: Path) -> None:
    path = fixtures / "blog_multi_post.txt"
    text = path.read_text(encoding="utf-8")
    documents = blog_documents(text, path)
    spans = preview_split(text)
    assert len(documents) == len(spans)
    for index, (document, span) in enumerate(zip(documents, spans, strict=True), start=1):
        assert document.text == text[span.start : span.end]
        assert document.text == document.text.strip()
        assert document.path == f"{path}#post-{index}"
        assert document.kind == SourceKind.blog
    assert documents[0].text.startswith("Yesterday, I caught up with a friend")


HEADINGS = """Intro before any post.

# First post

Body one.

## A subsection

Still body one.

# Second post #

Body two.
"""


def test_headings_split_on_the_top_level_only() -> None:
    spans = preview_split(HEADINGS, "headings")
    assert [s.title for s in spans] == ["Intro before any post.", "First post", "Second post"]
    assert HEADINGS[spans[1].start : spans[1].end].startswith("Body one.")
    assert "## A subsection" in HEADINGS[spans[1].start : spans[1].end]
    assert HEADINGS[spans[2].start : spans[2].end] == "Body two."
    assert resolve_strategy(HEADINGS) == "headings"


MARKERS = """---
title: Front matter post
date: 2021-03-04
---
The body of the first post.
---
title: Second
The body of the second post.
---

No title here, just a paragraph that runs on for a while.
"""


def test_markers_split_with_titles_and_front_matter() -> None:
    spans = preview_split(MARKERS, "auto")
    assert [s.title for s in spans][:2] == ["Front matter post", "Second"]
    assert [MARKERS[s.start : s.end] for s in spans] == [
        "The body of the first post.",
        "The body of the second post.",
        "No title here, just a paragraph that runs on for a while.",
    ]
    assert spans[2].title.startswith("No title here")


def test_split_none_keeps_one_post() -> None:
    spans = preview_split(MARKERS, "none")
    assert len(spans) == 1 and MARKERS[spans[0].start : spans[0].end] == MARKERS.strip()


def test_unknown_split_strategy_is_an_error() -> None:
    with pytest.raises(IngestError, match="unknown split"):
        preview_split("text", "paragraphs")


@given(st.text(alphabet=st.sampled_from(list("ab #-\n\r–’:.T")), max_size=300))
def test_every_split_gives_ordered_exact_slices(text: str) -> None:
    for strategy in ("auto", "headings", "markers", "heuristic", "none"):
        spans = preview_split(text, strategy)
        previous_end = 0
        for span in spans:
            assert previous_end <= span.start < span.end <= len(text)
            assert text[span.start : span.end] == text[span.start : span.end].strip()
            previous_end = span.end
