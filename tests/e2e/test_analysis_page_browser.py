"""The Analysis page in real headless Chromium against a real ``streamlit run``: it opens on a
demo-like project (40 participants in four need groups over two waves, one group of 4 people so
some cells are suppressed), the heatmap is drawn, changing the attribute redraws it, and axe-core
finds no serious or critical violation. The screenshot lands in test-output/screenshots/analysis.png.

``NARRATIVES_E2E_ANALYSIS_PROJECT=PATH`` runs it on a copy of another project instead (the README's
screenshot is of the demo project: ``NARRATIVES_E2E_ANALYSIS_PROJECT=demo-project``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from narratives.schema import Attribute, Codebook, Document, SourceKind
from narratives.store.project import Project, init_project
from tests.builders.demo_project import CODES, sentence_segments
from tests.builders.project import Cell, ProjectBuilder
from tests.e2e.conftest import Server, free_port, run_axe, screenshot, script_run

pytestmark = pytest.mark.browser

SERIOUS = {"serious", "critical"}
GROUPS = [("older person", 16), ("learning disability", 12), ("mental health", 8), ("autism", 4)]
SENTENCES = [  # (sentence, code): each participant says some of them, in each wave
    ("The carers change every week", "continuity"),
    ("I waited months for an assessment", "waiting"),
    ("The forms never end", "paperwork"),
    ("My budget gives me a real say", "choice"),
    ("The social worker listened to me", "listening"),
]


def _document(person: int, wave: int, need: str) -> tuple[Document, list[str]]:
    said = [(s, c) for k, (s, c) in enumerate(SENTENCES) if (person + wave) % (k + 2) != 0]
    text = " ".join(f"{s} (P{person:02}, wave {wave})." for s, _ in said)
    document = Document(
        kind=SourceKind.interview,
        title=f"Interview P{person:02} wave {wave}",
        text=text,
        participant=f"P{person:02}",
        wave=wave,
        path=f"p{person:02}-w{wave}.txt",
        participant_attributes=[
            Attribute.of("need_group", need),
            Attribute.of("council", "North" if person % 3 else "South"),
        ],
    )
    return document, [c for _, c in said]


def build_analysis_project(path: Path) -> Project:
    project = init_project(path)
    people = [need for need, size in GROUPS for _ in range(size)]
    with project.begin() as connection:
        build = ProjectBuilder(connection, codebook="care", user="setup")
        made = [_document(i, wave, need) for i, need in enumerate(people) for wave in (1, 2)]
        ids = build.add_documents([d for d, _ in made], split=sentence_segments)
        build.store_codebook(Codebook(name="care", version="1", codes=CODES))
        segments = build.segment_ids()
        cells = [
            Cell(segments[sentence], code, 0.9)
            for document, codes in made
            for sentence, code in zip(
                [t for t in segments if f"({document.participant}, wave {document.wave})" in t],
                codes,
                strict=True,
            )
        ]
        assert len(ids) == len(made)
        build.coding_run(cells)
    return project


@pytest.fixture(scope="module")
def analysis_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    target = tmp_path_factory.mktemp("analysis") / "project"
    other = os.environ.get("NARRATIVES_E2E_ANALYSIS_PROJECT")
    if other:
        shutil.copytree(other, target)
    else:
        build_analysis_project(target).close()
    yield target


@pytest.fixture(scope="module")
def analysis_server(analysis_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(
        project_path=analysis_project,
        port=free_port(),
        log_path=tmp_path_factory.mktemp("server") / "streamlit.log",
    )
    running.start()
    yield running
    running.stop()


def wait_for_heatmap(page: Any, attribute: str) -> None:
    page.get_by_role("button", name=f"Download themes by {attribute} (CSV)").wait_for()
    page.locator('[data-testid="stVegaLiteChart"]').first.wait_for()
    page.locator(
        '[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg'
    ).first.wait_for()


def test_open_the_analysis_change_the_attribute_and_check_accessibility(
    page: Any, analysis_server: Server
) -> None:
    with script_run(page):
        page.goto(analysis_server.url + "/analysis")
    page.locator('[data-testid="stMain"] h1').filter(has_text="Analysis").first.wait_for()
    wait_for_heatmap(page, "need_group")
    assert page.get_by_role("tab", name="Themes by group").count() == 1
    select = page.get_by_role("combobox", name="Group by")
    with script_run(page):
        select.click()
        page.get_by_role("option", name="council", exact=True).click()
    wait_for_heatmap(page, "council")
    with script_run(page):
        select.click()
        page.get_by_role("option", name="need_group", exact=True).click()
    wait_for_heatmap(page, "need_group")
    screenshot(page, "analysis")
    violations = run_axe(page, "analysis")
    serious = [
        (v["id"], v.get("impact"), len(v.get("nodes", []))) for v in violations if v.get("impact") in SERIOUS
    ]
    assert not serious, serious


def test_a_tab_is_computed_when_it_is_opened(page: Any, analysis_server: Server) -> None:
    """The page computes only the open tab: the wave tables appear once their tab is chosen, and
    the themes by group come back with theirs."""
    with script_run(page):
        page.goto(analysis_server.url + "/analysis")
    wait_for_heatmap(page, "need_group")
    waves = page.get_by_role("button", name="Download themes by wave (CSV)", include_hidden=True)
    assert waves.count() == 0  # not computed before its tab is opened, not even in a hidden panel
    with script_run(page):
        page.get_by_role("tab", name="Waves").click()
    waves.wait_for()
    assert page.get_by_role("tab", name="Waves").get_attribute("aria-selected") == "true"
    page.locator(
        '[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg'
    ).first.wait_for()
    with script_run(page):
        page.get_by_role("tab", name="Themes by group").click()
    wait_for_heatmap(page, "need_group")
    assert waves.count() == 0
