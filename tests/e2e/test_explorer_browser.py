"""The explorer's main journeys in real headless Chromium against a real ``streamlit run``.

One module-scoped server, browser tab and demo project; the steps run in order and build on each
other: review three suggestions with the keyboard, edit a code, promote a discovered theme, reload
and restart to see everything persisted, then visit every page for a screenshot and an axe-core
accessibility check (no page may have a serious or critical violation; all findings are recorded
in test-output/axe/summary.md). This is the local explorer (`narratives explore --user`): no login,
the researcher it was started for; tests/e2e/test_team_server_browser.py covers the team server.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from sqlalchemy import select

from narratives.store.tables import candidate_events, codes, events, reviews
from tests.builders.demo_project import CODEBOOK, DemoProject
from tests.e2e.conftest import (
    REVIEWER,
    Server,
    copy_for_docs,
    run_axe,
    screenshot,
    script_run,
    write_axe_summary,
)

pytestmark = pytest.mark.browser

NEW_DEFINITION = "Whether the same care workers come, and people know who is coming (edited in the browser)."
EDITED_CODE = "continuity"
PROMOTED_CODE = "rushed_carers"
PAGES = {  # sidebar link -> name of the screenshot and axe results
    "Overview": "overview",
    "Review queue": "review",
    "Documents": "document",
    "Codebook": "codebook",
    "Discover": "discover",
    "Panel": "panel",
    "Audit": "audit",
}
TITLES = {"Panel": "What we heard", "Audit": "Audit log"}  # page title, where not the link's name
SERIOUS = {"serious", "critical"}
findings: dict[str, list[dict[str, Any]]] = {}


# ------------------------------------------------------------------------------------- helpers
# Each action that makes Streamlit rerun runs inside `script_run` (which waits, after it, for a run
# that began after it to finish), and then waits for what it should show; nothing waits a set time.


def wait_for_title(page: Any, title: str) -> None:
    page.locator('[data-testid="stMain"] h1').filter(has_text=title).first.wait_for()


def open_app(page: Any, server: Server) -> None:
    with script_run(page):
        page.goto(server.url + "/")
    wait_for_title(page, "Overview")


def check_signed_in(page: Any, name: str = REVIEWER) -> None:
    """The local explorer acts as the researcher it was started for (`--user`); no name to type."""
    page.locator('[data-testid="stSidebar"]').get_by_text(f"Signed in as {name}").wait_for()
    assert page.get_by_role("combobox", name="Role").count() == 0  # the role is never a selector


def go_to(page: Any, link: str) -> None:
    """Follow a sidebar link (a client-side page switch: the session, and the name, stay)."""
    with script_run(page):
        page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=link, exact=True).click()
    page.wait_for_function(
        "(title) => [...document.querySelectorAll('[data-testid=\"stSidebarNavLink\"]')]"
        ".some(a => a.getAttribute('aria-current') === 'page' && a.innerText.trim().endsWith(title))",
        arg=link,
    )
    wait_for_title(page, TITLES.get(link, link))


def shown_segment(page: Any) -> str:
    """The segment under review, as displayed (a speaker label may come first)."""
    return str(page.locator(".review-segment").inner_text()).strip()


def segment_text(shown: str, texts: Any) -> str:
    """Which known segment text the displayed one is (it ends with the text)."""
    found = [text for text in texts if shown.endswith(text)]
    assert len(found) == 1, (shown, found)
    return found[0]


def press_and_wait(page: Any, key: str, before: str) -> str:
    """Press a review shortcut with the focus outside any field; wait for the next item."""
    page.get_by_role("heading", name="Review queue").click()
    # The shortcuts are a script in a component iframe: it must have run before a key does anything.
    page.wait_for_function("() => typeof window.__narrativesShortcuts === 'function'")
    with script_run(page):
        page.keyboard.press(key)
    page.wait_for_function(
        "(before) => { const s = document.querySelector('.review-segment');"
        " return !s || s.innerText.trim() !== before; }",
        arg=before,
    )
    return shown_segment(page) if page.locator(".review-segment").count() else ""


def waiting_count(page: Any) -> int:
    caption = page.get_by_text("item(s) waiting with these filters").inner_text()
    return int(caption.split()[0])


def reviews_by(demo: DemoProject, user: str) -> list[Any]:
    with demo.project.connect() as connection:
        return connection.execute(select(reviews).where(reviews.c.user == user).order_by(reviews.c.id)).all()


def code_tree_labels(page: Any) -> list[str]:
    return [t.strip() for t in page.locator('[data-testid="stExpander"] summary').all_inner_texts()]


# ---------------------------------------------------------------------------------------- steps


def test_review_three_suggestions_with_the_keyboard(
    page: Any, server: Server, demo_project: DemoProject
) -> None:
    open_app(page, server)
    check_signed_in(page)
    go_to(page, "Review queue")
    page.get_by_role("button", name="Accept (a)").wait_for()
    total = waiting_count(page)
    ids = {text: sid for (text, _code), sid in demo_project.suggestion_ids.items()}
    shown = [shown_segment(page)]
    for key in "arna":  # accept, reject, next (skipped: no review), accept
        shown.append(press_and_wait(page, key, shown[-1]))
    texts = {s: ids[segment_text(s, ids)] for s in shown}
    first, second, third, fourth, after = shown

    rows = reviews_by(demo_project, REVIEWER)
    assert [(r.decision, r.suggestion_id) for r in rows] == [
        ("accept", texts[first]),
        ("reject", texts[second]),
        ("accept", texts[fourth]),
    ]
    assert all(r.user == REVIEWER and r.source == "ui" for r in rows)
    assert texts[third] not in {r.suggestion_id for r in rows}
    assert after not in {first, second, fourth}
    assert waiting_count(page) == total - 4  # three reviewed, one skipped for this session


def test_edit_a_code_definition(page: Any, server: Server, demo_project: DemoProject) -> None:
    go_to(page, "Codebook")
    page.get_by_role("tab", name="Edit", exact=True).click()
    form = page.locator('[data-testid="stForm"]').filter(has=page.get_by_role("button", name="Save changes"))
    form.get_by_role("textbox", name="Definition", exact=True).fill(NEW_DEFINITION)
    with script_run(page):
        form.get_by_role("button", name="Save changes").click()
    page.get_by_text("Saved Continuity of care.").first.wait_for()

    with demo_project.project.connect() as connection:
        edits = connection.execute(
            select(events).where(events.c.kind == "code.edit", events.c.target == f"{CODEBOOK}/{EDITED_CODE}")
        ).all()
    assert len(edits) == 1
    assert edits[0].user == REVIEWER
    assert edits[0].payload["after"]["definition"] == NEW_DEFINITION


def test_promote_a_discovered_theme(page: Any, server: Server, demo_project: DemoProject) -> None:
    go_to(page, "Discover")
    candidate = demo_project.candidate_ids[0]
    with script_run(page):
        page.get_by_role("button", name=f"Promote #{candidate}").click()
    page.get_by_text(f"Promoted candidate #{candidate}").first.wait_for()

    with demo_project.project.connect() as connection:
        code = connection.execute(
            select(codes).where(codes.c.codebook == CODEBOOK, codes.c.code_id == PROMOTED_CODE)
        ).first()
        acted = connection.execute(
            select(candidate_events).where(candidate_events.c.candidate_id == candidate)
        ).all()
        promoted = connection.execute(select(events).where(events.c.kind == "candidate.promote")).all()
    assert code is not None and code.name == "Rushed carers"
    assert [(a.action, a.code_id, a.user) for a in acted] == [("promote", PROMOTED_CODE, REVIEWER)]
    assert len(promoted) == 1 and promoted[0].user == REVIEWER


def check_persisted(page: Any, demo_project: DemoProject) -> None:
    """After a reload (a new session) the work done before is all there."""
    check_signed_in(page)
    go_to(page, "Review queue")
    page.get_by_role("button", name="Accept (a)").wait_for()
    reviewed = {r.segment_id for r in reviews_by(demo_project, REVIEWER)}
    texts_by_segment = {sid: text for text, sid in demo_project.segment_ids.items()}
    reviewed_texts = {texts_by_segment[s] for s in reviewed}
    known = list(texts_by_segment.values())
    remaining = waiting_count(page)
    assert remaining == len(demo_project.suggestion_ids) - len(reviewed)
    seen = [shown_segment(page)]
    for _ in range(remaining - 1):
        seen.append(press_and_wait(page, "n", seen[-1]))
    assert not reviewed_texts & {segment_text(s, known) for s in seen}
    assert len(set(seen)) == remaining

    go_to(page, "Codebook")
    labels = code_tree_labels(page)
    assert any(PROMOTED_CODE in label for label in labels), labels
    page.locator('[data-testid="stExpander"] summary').filter(has_text=EDITED_CODE).first.click()
    page.get_by_text(NEW_DEFINITION).first.wait_for()

    go_to(page, "Discover")
    page.get_by_text(f"Already promoted ({PROMOTED_CODE})").wait_for()


def test_work_persists_after_reload(page: Any, server: Server, demo_project: DemoProject) -> None:
    with script_run(page):
        page.reload()
    wait_for_title(page, "Discover")  # the page the last step left open
    check_persisted(page, demo_project)


def test_work_persists_after_server_restart(page: Any, server: Server, demo_project: DemoProject) -> None:
    server.restart()
    open_app(page, server)
    check_persisted(page, demo_project)


@pytest.mark.parametrize("link", list(PAGES))
def test_every_page_screenshot_and_accessibility(page: Any, server: Server, link: str) -> None:
    name = PAGES[link]
    go_to(page, link)
    if link == "Documents":  # the interview, with speaker turns and highlights
        page.get_by_role("combobox", name="Document", exact=True).click()
        with script_run(page):
            page.get_by_role("option", name="Interview P01 (interview)").click()
        page.get_by_text("participant P01").first.wait_for()
    page.locator('[data-testid="stMain"] h1').first.click()  # focus away from the last widget used
    page.mouse.move(1, 1)  # and the pointer off the heading's anchor link
    screenshot(page, name)
    violations = run_axe(page, name)
    findings[name] = violations
    write_axe_summary(findings)
    serious = [(v["id"], v["impact"], len(v["nodes"])) for v in violations if v.get("impact") in SERIOUS]
    assert not serious, f"{link} has serious or critical accessibility violations: {serious}"


def test_copy_screenshots_for_the_readme() -> None:
    """Only when asked (NARRATIVES_UPDATE_SCREENSHOTS=1), so a test run leaves docs/ alone."""
    if os.environ.get("NARRATIVES_UPDATE_SCREENSHOTS") != "1":
        pytest.skip("set NARRATIVES_UPDATE_SCREENSHOTS=1 to copy the screenshots to docs/screenshots/")
    copy_for_docs({name: name for name in PAGES.values()})
