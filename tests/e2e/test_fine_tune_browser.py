"""The review page's Embedder panel in real headless Chromium against a real ``streamlit run``.

The demo project gets more segments on two of its codes and the reviewer's decisions on them (at
least 8 accepted segments for continuity and for waiting, 25 segments reviewed in all, so a fifth
of them are held out to score the result), and the tiny 2-layer BERT of ``tiny_model`` is made its
embedding model: the base the fine-tuning starts from, so it takes seconds, not MiniLM's minutes.
The reviewer opens the sidebar's "Embedder: tiny-bert" panel and presses Fine-tune; the job tunes
the model in the background, makes it the project's model and re-codes with it; the panel then
names the fine-tuned model, every current suggestion was made with it, and "Use the base model"
goes back to MiniLM. The page raises no error in the browser and requests nothing that fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from narratives.coding.fine_tune_run import project_fine_tuned
from narratives.interop.reviews_csv import import_reviews_csv
from narratives.models_local import choose_model
from narratives.schema import Document, SourceKind
from narratives.store.tables import suggestions
from tests.builders.demo_project import CODEBOOK, DemoProject, build_demo_project, sentence_segments
from tests.builders.project import ProjectBuilder
from tests.e2e.conftest import REVIEWER, Server, script_run

pytestmark = pytest.mark.browser

RETRAIN_TIMEOUT = 600_000  # milliseconds: fine-tuning, then re-coding, on a busy 2-core machine

# code -> sentences new to the demo project, one document per code
MORE = {
    "continuity": [
        "A new carer comes to the house every morning.",
        "The agency sends strangers who do not know my routine.",
        "We see a different care worker each visit.",
        "Nobody tells us which carer will turn up.",
        "The care staff keep changing from week to week.",
        "My father never sees the same carer twice.",
        "Each visit it is someone new from the agency.",
        "The rota changes and a stranger arrives instead.",
    ],
    "waiting": [
        "We waited nine months for the council assessment.",
        "The referral sat on a waiting list for a year.",
        "Nobody answered the phone for weeks on end.",
        "The assessment was postponed three times.",
        "We are still waiting for the occupational therapist.",
        "It took half a year before anyone visited.",
        "The delay for a care package left us stranded.",
        "Months passed before the council replied to my letter.",
    ],
    "paperwork": [
        "The forms ran to forty pages.",
        "I spent days filling in the benefit forms.",
        "The council lost our paperwork twice.",
    ],
    "choice": [
        "I choose who supports me with my direct payment.",
        "Having my own budget lets me decide my care.",
        "I can pick the times my support comes.",
    ],
}
# demo sentences the reviewer also accepts for the code the demo run suggested
DEMO_ACCEPTED = {
    "I never know who is coming.": "continuity",
    "But the carers change every week.": "continuity",
    "Getting an assessment took eight months.": "waiting",
}
REJECTED_WITH = {
    "continuity": "waiting",
    "waiting": "continuity",
    "paperwork": "choice",
    "choice": "paperwork",
}


@pytest.fixture(scope="module")
def demo_project(tmp_path_factory: pytest.TempPathFactory, tiny_model: Path) -> Iterator[DemoProject]:
    """Replaces the conftest's project for this module's server (see the module docstring)."""
    folder = tmp_path_factory.mktemp("fine-tune")
    built = build_demo_project(folder / "demo")
    project = built.project
    with project.begin() as connection:
        build = ProjectBuilder(connection, codebook=CODEBOOK)
        for code, sentences in MORE.items():
            document = Document(
                kind=SourceKind.blog, title=f"More on {code}", text=" ".join(sentences), path=f"{code}.md"
            )
            build.add_document(document, sentence_segments)
    lines = ["text,code,decision,user"]
    decided = [*DEMO_ACCEPTED.items(), *((s, code) for code, sentences in MORE.items() for s in sentences)]
    for sentence, code in decided:
        lines.append(f'"{sentence}",{code},accept,{REVIEWER}')
        lines.append(f'"{sentence}",{REJECTED_WITH[code]},reject,{REVIEWER}')
    path = folder / "reviews.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = import_reviews_csv(project, path, codebook_name=CODEBOOK)
    assert report.problems == [] and report.imported == 2 * len(decided) == 50
    with project.begin() as connection:
        choose_model(connection, str(tiny_model))
    yield built
    project.close()


def sidebar(page: Any) -> Any:
    return page.locator('[data-testid="stSidebar"]')


def embedder_panel(page: Any) -> Any:
    return (
        sidebar(page)
        .locator('[data-testid="stExpander"]')
        .filter(has=page.locator("summary", has_text="Embedder:"))
    )


# The expanders' titles in the sidebar (a summary's text starts with its icon's ligature name).
TITLES_JS = """() => [...document.querySelectorAll('[data-testid="stSidebar"] [data-testid="stExpander"] summary')]
    .map((s) => s.innerText.trim().split('\\n').pop().trim())"""


def panel_titles(page: Any) -> list[str]:
    return [str(title) for title in page.evaluate(TITLES_JS)]


def open_panel(page: Any) -> None:
    """Unfold the Embedder panel (in the browser only: no script run) unless it is open."""
    details = embedder_panel(page).locator("details")
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid="stSidebar"] [data-testid="stExpander"] details')]
            .some((d) => d.open && d.querySelector('summary').innerText.includes('Embedder:'))"""
    )


def current_models(demo: DemoProject) -> set[str]:
    with demo.project.connect() as connection:
        query = select(suggestions.c.model).where(suggestions.c.current.is_(True))
        return set(connection.execute(query).scalars())


def test_fine_tune_tunes_recodes_and_goes_back_to_the_base_model(
    page: Any, server: Server, demo_project: DemoProject, tmp_path: Path
) -> None:
    project = demo_project.project
    crashes: list[str] = []
    errors: list[str] = []
    failed: list[str] = []
    missing: list[str] = []
    page.on("pageerror", lambda error: crashes.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("requestfailed", lambda request: failed.append(f"{request.url} {request.failure}"))
    page.on("response", lambda response: missing.append(response.url) if response.status >= 400 else None)

    with script_run(page):
        page.goto(server.url + "/review")
    page.locator('[data-testid="stMain"] h1').filter(has_text="Review queue").wait_for()
    embedder_panel(page).wait_for()
    assert "Embedder: tiny-bert" in panel_titles(page)
    open_panel(page)
    panel = embedder_panel(page)
    assert panel.get_by_role("button", name="Use the base model").count() == 0  # not fine-tuned yet

    with script_run(page):
        panel.get_by_role("button", name="Fine-tune", exact=True).click()
    done = sidebar(page).get_by_text("Fine-tuned fine-tuned-")
    done.wait_for(timeout=RETRAIN_TIMEOUT)
    said = str(done.inner_text())
    tuned = project_fine_tuned(project)
    assert tuned is not None, said
    assert said.startswith(f"Fine-tuned {tuned.name}; Tuned on "), said
    assert "Held-out macro-F1" in said and "Re-coded with it: " in said, said
    assert tuned.card["reviewed_texts"] == 25 and tuned.card["held_out_texts"] == 5
    assert tuned.card["codes_learned"] == ["continuity", "waiting"]
    assert current_models(demo_project) == {tuned.name}

    # The job's end reruns the whole page once: the panel then names the fine-tuned model.
    title = f"Embedder: {tuned.name}"
    page.wait_for_function(f"(title) => ({TITLES_JS})().includes(title)", arg=title, timeout=RETRAIN_TIMEOUT)
    assert "Embedder: tiny-bert" not in panel_titles(page)
    assert not sidebar(page).get_by_text("Fine-tuning failed").count()
    open_panel(page)
    panel = embedder_panel(page)
    panel.get_by_text(f"Tuned on {tuned.card['trained_on_texts']} reviewed segments").wait_for()
    panel.scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "fine-tuned.png"), full_page=True)

    with script_run(page):
        panel.get_by_role("button", name="Use the base model").click()
    sidebar(page).get_by_text("embeds with all-MiniLM-L6-v2 again").wait_for()
    # the same run already shows the base model: no stale title, caption or "back" button
    assert "Embedder: all-MiniLM-L6-v2" in panel_titles(page) and title not in panel_titles(page)
    assert embedder_panel(page).get_by_role("button", name="Use the base model").count() == 0
    assert project_fine_tuned(project) is None
    assert tuned.path.is_dir()  # the fine-tuned model stays in the project's models folder
    page.screenshot(path=str(tmp_path / "base-model.png"), full_page=True)
    with script_run(page):  # a fresh session: the panel names the base model, with no way "back"
        page.reload()
    page.wait_for_function(f"(title) => ({TITLES_JS})().includes(title)", arg="Embedder: all-MiniLM-L6-v2")
    open_panel(page)
    embedder_panel(page).get_by_role("button", name="Fine-tune", exact=True).wait_for()
    assert embedder_panel(page).get_by_role("button", name="Use the base model").count() == 0

    assert not crashes, crashes
    assert not failed, failed
    # Streamlit probes /<page>/_stcore/health and host-config before the root ones on a typed page URL
    assert all("/_stcore/" in url for url in missing), missing
    assert all(e.startswith("Failed to load resource") for e in errors) and len(errors) <= len(missing), (
        errors
    )
