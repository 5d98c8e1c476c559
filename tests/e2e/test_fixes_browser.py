"""What the browser check of issue 12 found, checked again in real Chromium against the local
explorer (`narratives explore`): the overview's review counts, hand coding one unit undone in one
step, renaming, the codebook's tab and history, discovery overlap across units on a long run, control
borders at 3:1, code marks with a text label, and errors announced (role=alert).

The project is the explorer tests' demo with, as `narratives demo` makes, turn segments beside the
coded sentences, five rejections of which a retrain left one suggestion current, and a discovery
run over turns of 25 candidates. The steps run in order on one server and one tab.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from narratives.discovery.candidates import describe_candidates
from narratives.review.state import latest_reviews
from narratives.schema import Decision, SegmentUnit
from narratives.store.codebooks import current_codebook
from narratives.store.discovery import store_candidates
from narratives.store.documents import load_document
from narratives.store.segments import load_segments
from narratives.store.suggestions import set_current
from narratives.store.tables import events
from tests.builders.demo_project import CODEBOOK, DemoProject, build_demo_project
from tests.builders.project import ProjectBuilder
from tests.e2e.conftest import REVIEWER, Server, run_axe, screenshot, script_run
from tests.review.test_hand_coding_fixes import add_turn_segments

pytestmark = pytest.mark.browser

BLOG = "Waiting for an assessment"
INTERVIEW = "Interview P01"
REJECTED = [
    ("The carers are always rushed.", "continuity"),
    ("I never know who is coming.", "continuity"),
    ("My personal budget gives me choice.", "choice"),
    ("The paperwork is exhausting.", "paperwork"),
    ("Getting an assessment took eight months.", "waiting"),
]
CANDIDATES = 25
MAX_PAGE_HEIGHT = (
    8000  # px: ten candidates a page (about 6,300 px), quotes folded away; 25 unpaged were ~20,000
)
SERIOUS = {"serious", "critical"}


# ------------------------------------------------------------------------------------ the project


@pytest.fixture(scope="module")
def demo_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoProject]:
    """Replaces the conftest's project for this module's server (see the module docstring)."""
    built = build_demo_project(tmp_path_factory.mktemp("fixes") / "demo")
    add_turn_segments(built.project, built.document_ids)
    with built.project.begin() as connection:
        build = ProjectBuilder(connection, codebook=CODEBOOK)
        for text, code in REJECTED:
            build.review(
                built.segment_ids[text],
                code,
                Decision.reject,
                user="Sam",
                suggestion_id=built.suggestion_ids[(text, code)],
            )
        set_current(connection, [built.suggestion_ids[pair] for pair in REJECTED[1:]], False)  # a retrain
        turns = [s for s in load_segments(connection) if s.unit == SegmentUnit.turn]
        many = turns * CANDIDATES  # each candidate: every turn once, a few of them as quotes
        topics = np.repeat(np.arange(CANDIDATES), len(turns))
        vectors = np.eye(len(many), dtype=np.float32)
        keywords = {t: ["care", f"theme{t}"] for t in range(CANDIDATES)}
        labels = {t: f"Theme {t}" for t in range(CANDIDATES)}
        found = describe_candidates(
            connection, many, vectors, topics, keywords, labels, current_codebook(connection, CODEBOOK)
        )
        store_candidates(connection, found, {"codebook": CODEBOOK, "unit": "turn"}, {}, "fake", "setup")
    yield built
    built.project.close()


# ---------------------------------------------------------------------------------------- helpers


def wait_for_title(page: Any, title: str) -> None:
    page.locator('[data-testid="stMain"] h1').filter(has_text=title).first.wait_for()


def go_to(page: Any, link: str, title: str | None = None) -> None:
    with script_run(page):
        page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=link, exact=True).click()
    wait_for_title(page, title or link)


def metric(page: Any, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]').get_by_text(label, exact=True)
    )
    return str(box.locator('[data-testid="stMetricValue"]').inner_text()).strip()


def choose(page: Any, scope: Any, combobox: str, option: str, *, in_form: bool = False) -> None:
    """Pick ``option`` in a select box (nothing to do, and no run, when it is already chosen; no
    run either inside a form, until it is submitted)."""
    field = scope.get_by_role("combobox", name=combobox, exact=True)
    if field.input_value() == option:
        return
    field.click()
    if in_form:
        page.get_by_role("option", name=option, exact=True).click()
        page.wait_for_function("([e, v]) => e.value === v", arg=[field.element_handle(), option])
        return
    with script_run(page):
        page.get_by_role("option", name=option, exact=True).click()


def pick_radio(page: Any, label: str) -> None:
    with script_run(page):
        page.locator('[data-testid="stRadioOption"]').filter(has_text=label).first.click()


def type_number(page: Any, label: str, value: int) -> None:
    field = page.get_by_role("spinbutton", name=label, exact=True)
    with script_run(page):
        field.fill(str(value))
        field.press("Enter")


def serious_findings(page: Any, name: str) -> list[tuple[str, str]]:
    """axe's serious and critical findings, once any toast has gone (Streamlit's toast is an
    alertdialog whose label axe cannot resolve: aria-dialog-name, reported to the lead)."""
    for toast in page.locator('[data-testid="stToast"]').all():
        toast.wait_for(state="detached")
    return [(v["id"], v["impact"]) for v in run_axe(page, f"fixes-{name}") if v.get("impact") in SERIOUS]


def hand_events(demo: DemoProject) -> list[Any]:
    with demo.project.connect() as connection:
        return connection.execute(
            select(events)
            .where(events.c.kind == "code.hand", events.c.user == REVIEWER)
            .order_by(events.c.id)
        ).all()


CONTRAST_JS = """(selector) => {
    const rgb = (text) => (text.match(/[\\d.]+/g) || []).slice(0, 4).map(Number);
    const lum = ([r, g, b]) => {
        const c = [r, g, b].map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
    };
    const backdrop = (el) => {
        for (let node = el.parentElement; node; node = node.parentElement) {
            const c = rgb(getComputedStyle(node).backgroundColor);
            if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c;
        }
        return [255, 255, 255];
    };
    const found = [];
    for (const el of document.querySelectorAll(selector)) {
        const style = getComputedStyle(el);
        if (parseFloat(style.borderTopWidth) === 0 || style.borderTopStyle === 'none') continue;
        if (!el.getClientRects().length) continue;
        const a = lum(rgb(style.borderTopColor)), b = lum(backdrop(el));
        found.push({border: style.borderTopColor, ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)});
    }
    return found;
}"""


# ------------------------------------------------------------------------------------------ steps


def test_overview_counts_reviews_made_apart_from_current_suggestions(page: Any, server: Server) -> None:
    with script_run(page):
        page.goto(server.url + "/")
    wait_for_title(page, "Overview")
    page.get_by_role("heading", name="Reviews made").wait_for()
    assert metric(page, "Reject decisions") == "5"  # what the reviewer did
    assert metric(page, "Accept decisions") == "0"
    assert metric(page, "Rejected now") == "1"  # what the current suggestions say after the retrain
    page.get_by_role("heading", name="Current suggestions").wait_for()
    assert serious_findings(page, "overview") == []
    screenshot(page, "fixes-overview")


def test_a_hand_coded_range_codes_one_unit_and_one_undo_removes_it(
    page: Any, server: Server, demo_project: DemoProject
) -> None:
    go_to(page, "Documents")
    choose(page, page, "Document", f"{BLOG} (blog)")
    with demo_project.project.connect() as connection:
        text = load_document(connection, demo_project.document_ids[BLOG]).text
    pick_radio(page, "Character range")
    type_number(page, "To character", len(text))
    page.get_by_text("Codes 3 sentence segment(s), as one action.").wait_for()
    choose(page, page, "Code", "Access to support")
    with script_run(page):
        page.get_by_role("button", name="Code selection", exact=True).click()
    page.get_by_text("Coded 3 sentence segment(s) as Access to support").first.wait_for()

    coded = hand_events(demo_project)
    with demo_project.project.connect() as connection:
        units = {s.unit for s in load_segments(connection, ids=[int(e.target.split("/")[1]) for e in coded])}
    assert len(coded) == 3 and units == {SegmentUnit.sentence}  # not the turn covering them as well
    assert len({e.payload.get("group") for e in coded}) == 1 and coded[0].payload.get("group")
    labels = page.locator(".code-label").filter(has_text="Access to support · coded by hand")
    assert labels.count() == 3
    assert "Access to support" in str(labels.first.get_attribute("title"))
    assert labels.first.get_attribute("tabindex") == "0"
    assert serious_findings(page, "documents") == []

    go_to(page, "Audit", "Audit log")
    with script_run(page):
        page.get_by_role("button", name="Undo my last action").click()
    page.get_by_text("Undone:").first.wait_for()
    with demo_project.project.connect() as connection:
        live = [r for r in latest_reviews(connection, CODEBOOK).values() if r.user == REVIEWER]
    assert live == []  # all three taken back by one undo


def test_a_range_across_speakers_is_refused_with_an_announced_error(
    page: Any, server: Server, demo_project: DemoProject
) -> None:
    go_to(page, "Documents")
    choose(page, page, "Document", f"{INTERVIEW} (interview)")
    with demo_project.project.connect() as connection:
        turns = load_document(connection, demo_project.document_ids[INTERVIEW]).turns
    pick_radio(page, "Character range")
    type_number(page, "To character", turns[1].start + 10)
    type_number(page, "From character", turns[0].end - 5)
    alert = page.locator('[role="alert"]').filter(has_text="one speaker")
    alert.first.wait_for()
    assert page.get_by_role("button", name="Code selection", exact=True).is_disabled()
    marks = page.locator(".code-label")
    assert marks.count() >= 1 and all(str(t).strip() for t in marks.all_inner_texts())
    circles = page.evaluate(CONTRAST_JS, '[data-testid="stRadioOption"] *')
    assert circles and min(c["ratio"] for c in circles) >= 3.0, circles


def test_rename_refuses_a_taken_name_then_saves_clears_and_keeps_the_tab(
    page: Any, server: Server, demo_project: DemoProject
) -> None:
    go_to(page, "Codebook")
    with script_run(page):
        page.get_by_role("tab", name="Rename", exact=True).click()
    form = page.locator('[data-testid="stForm"]').filter(has=page.get_by_role("button", name="Rename code"))
    choose(page, form, "Code", "Choice and control (choice)", in_form=True)
    form.get_by_role("textbox", name="New name", exact=True).fill("Paperwork")
    with script_run(page):
        form.get_by_role("button", name="Rename code").click()
    page.locator('[role="alert"]').filter(has_text="already named 'Paperwork'").first.wait_for()
    with demo_project.project.connect() as connection:
        assert current_codebook(connection, CODEBOOK).code("choice").name == "Choice and control"
    borders = page.evaluate(CONTRAST_JS, '[data-testid="stTextInput"] *, [data-testid="stSelectbox"] *')
    assert borders and min(b["ratio"] for b in borders) >= 3.0, borders

    form.get_by_role("textbox", name="New name", exact=True).fill("Choice and say")
    with script_run(page):
        form.get_by_role("button", name="Rename code").click()
    page.get_by_text("Renamed Choice and control (choice) to Choice and say.").first.wait_for()
    with demo_project.project.connect() as connection:
        assert current_codebook(connection, CODEBOOK).code("choice").name == "Choice and say"
    assert page.get_by_role("tab", name="Rename", exact=True).get_attribute("aria-selected") == "true"
    assert form.get_by_role("textbox", name="New name", exact=True).input_value() == ""
    assert serious_findings(page, "codebook") == []


def test_history_shows_old_and_new_values(page: Any, server: Server) -> None:
    with script_run(page):
        page.get_by_role("tab", name="History", exact=True).click()
    panel = page.locator('[role="tabpanel"]').filter(
        has=page.get_by_role("combobox", name="Code", exact=True)
    )
    choose(page, panel, "Code", "Choice and say (choice)")
    grid = page.locator('[data-testid="stDataFrame"]').filter(visible=True)
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=\"stDataFrame\"]')]"
        ".some(d => d.textContent.includes('Choice and say'))"
    )
    shown = " ".join(grid.all_text_contents())
    assert "Old value" in shown and "New value" in shown
    assert "Choice and control" in shown and "Choice and say" in shown


def test_discover_shows_overlap_across_units_on_a_bounded_page(page: Any, server: Server) -> None:
    go_to(page, "Discover")
    page.get_by_text(f"{CANDIDATES} candidate(s) from the latest run").wait_for()
    overlap = page.get_by_text("Overlap with codes now:").first
    overlap.wait_for()
    assert "Continuity of care" in str(page.locator('[data-testid="stMain"]').inner_text())
    headers = page.locator('[data-testid="stMain"] h2').filter(has_text="Theme ")
    assert headers.count() == 10
    height = page.evaluate(
        "() => Math.max(document.body.scrollHeight,"
        ' ...[...document.querySelectorAll(\'[data-testid="stMain"], [data-testid="stAppViewContainer"]\')]'
        ".map(e => e.scrollHeight))"
    )
    assert height < MAX_PAGE_HEIGHT, height
    assert page.get_by_text("Example quotes (3) and groups").count() == 10
    assert serious_findings(page, "discover") == []
    screenshot(page, "fixes-discover")
