"""Long stories in the review queue, in real headless Chromium against a real ``streamlit run``: the
sentence that decides a suggestion (the passage coder's evidence) is marked in the story, the line
under the suggestion quotes it, a reload shows the same, and the page raises no error and requests
nothing that fails."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from narratives.store import init_project
from tests.builders.demo_project import DemoProject
from tests.builders.stories import SENTENCES, coded_stories
from tests.e2e.conftest import script_run

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoProject]:
    """Replaces the conftest's project: 40 stories, 24 of them reviewed whole, coded by response."""
    project = init_project(tmp_path_factory.mktemp("passages") / "stories")
    coded_stories(project, 40, seed=9)
    yield DemoProject(project, {}, {}, {}, [])
    project.close()


def marked_passage(page: Any) -> str:
    mark = page.locator(".review-segment mark")
    mark.wait_for()
    return str(mark.inner_text()).strip()


def test_the_queue_marks_the_sentence_that_decides(page: Any, server: Any, tmp_path: Path) -> None:
    crashes: list[str] = []
    failed: list[str] = []
    missing: list[str] = []
    page.on("pageerror", lambda error: crashes.append(str(error)))
    page.on("requestfailed", lambda request: failed.append(f"{request.url} {request.failure}"))
    page.on("response", lambda response: missing.append(response.url) if response.status >= 400 else None)

    with script_run(page):
        page.goto(server.url + "/review")
    page.locator('[data-testid="stMain"] h1').filter(has_text="Review queue").wait_for()
    sentence = marked_passage(page)
    assert sentence in SENTENCES  # a whole sentence of the story
    story = str(page.locator(".review-segment").inner_text())
    assert sentence in story and len(story) > 2 * len(sentence)
    page.get_by_text(f"Evidence, marked in the text: “{sentence}”").wait_for()
    page.screenshot(path=str(tmp_path / "passage.png"), full_page=True)

    with script_run(page):
        page.reload()
    assert marked_passage(page) == sentence
    assert crashes == [] and failed == []
    # Streamlit probes /<page>/_stcore/health and host-config before the root ones on a typed page URL
    assert all("/_stcore/" in url for url in missing), missing
