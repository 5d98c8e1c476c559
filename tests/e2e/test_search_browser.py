"""The Search page in real headless Chromium against a real ``streamlit run`` on the e2e demo
project: a typed URL shows its results with the matched words marked, two results ticked and coded
are coded after a reload, the page raises no error in the browser, and axe-core finds no serious or
critical violation. The screenshot lands in test-output/screenshots/search.png."""

from __future__ import annotations

from typing import Any

import pytest

from narratives.review.state import latest_reviews
from tests.builders.demo_project import CODEBOOK, DemoProject
from tests.e2e.conftest import Server, run_axe, screenshot, script_run

pytestmark = pytest.mark.browser

SERIOUS = {"serious", "critical"}


def results(page: Any) -> Any:
    return page.locator('[data-testid="stMain"] .search-hit')


def test_a_typed_url_searches_and_code_all_these_codes_the_ticked(
    page: Any, server: Server, demo_project: DemoProject
) -> None:
    errors: list[str] = []
    crashes: list[str] = []
    page.on("pageerror", lambda error: crashes.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    missing: list[str] = []
    page.on("response", lambda response: missing.append(response.url) if response.status >= 400 else None)
    with script_run(page):
        page.goto(server.url + "/search?q=carers%20OR%20carer&mode=words")
    page.locator('[data-testid="stMain"] h1').filter(has_text="Search").first.wait_for()
    results(page).first.wait_for()
    assert page.get_by_label("Search for").input_value() == "carers OR carer"
    marked = page.locator('[data-testid="stMain"] .search-hit mark').all_inner_texts()
    assert marked and {m.lower() for m in marked} <= {"carers", "carer"}
    boxes = page.locator('[data-testid="stMain"] [data-testid="stCheckbox"]')
    ticked = [boxes.nth(0).inner_text().strip(), boxes.nth(1).inner_text().strip()]
    for k in (0, 1):
        with script_run(page):
            boxes.nth(k).locator("label").click()
    code = page.get_by_role("combobox", name="Code", exact=True)
    code.scroll_into_view_if_needed()
    with script_run(page):
        code.click()
        page.keyboard.type("Choice and")
        page.keyboard.press("Enter")
    with script_run(page):
        page.get_by_role("button", name="Code all these").click()
    page.get_by_text("Coded 2 segments with Choice and control").wait_for()
    with script_run(page):
        page.reload()
    results(page).first.wait_for()
    captions = page.locator('[data-testid="stMain"] [data-testid="stCaptionContainer"]').all_inner_texts()
    coded = [c for c in captions if "Codes now:" in c and "Choice and control" in c]
    assert len(coded) >= 2, captions
    with demo_project.project.connect() as connection:
        holding = latest_reviews(connection, CODEBOOK)
    searched = [p for p, review in holding.items() if p[1] == "choice" and review.user]
    assert len(searched) >= 2 and ticked[0] != ticked[1]
    screenshot(page, "search")
    violations = run_axe(page, "search")
    serious = [
        (v["id"], v.get("impact"), len(v.get("nodes", []))) for v in violations if v.get("impact") in SERIOUS
    ]
    assert not serious, serious
    assert not crashes, crashes
    # Streamlit probes /<page>/_stcore/health and host-config before the root ones on a typed page URL
    assert all("/_stcore/" in url for url in missing), missing
    assert all(e.startswith("Failed to load resource") for e in errors) and len(errors) <= len(missing), (
        errors
    )
