"""The team server (`narratives serve`) in real Chromium: logins, roles enforced on the server.

A logged-out browser reaches nothing but the login page, whatever URL it types; a panel member
reaches only the panel view, by the sidebar, a reload, a typed URL or a crafted query string; a
researcher's login survives a reload and ends at logout or when the session expires; a wrong
password is refused and recorded; two researchers in two browsers both keep their work; every page
of every role passes axe-core without serious or critical violations.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, update

from narratives.auth.accounts import MAX_FAILURES
from narratives.schema import utcnow
from narratives.store.events import list_events
from narratives.store.tables import login_sessions, reviews
from tests.builders.demo_project import DemoProject
from tests.e2e.conftest import (
    Server,
    add_account,
    log_in,
    new_context,
    new_tab,
    run_axe,
    screenshot,
    script_run,
)
from tests.e2e.conftest import (
    team_server as start_team_server,
)

pytestmark = pytest.mark.browser

PASSWORD = "a long test password"
ADMIN, RESEARCHER, OTHER, PANEL = "Morgan Admin", "Ana Researcher", "Ben Researcher", "Pat Panel"
RESEARCHER_PATHS = ["overview", "review", "documents", "codebook", "discover", "panel", "audit"]
TYPED_URLS = [
    "/",
    *[f"/{p}" for p in RESEARCHER_PATHS],
    "/panel-view",
    "/?page=review",
    "/review?role=admin",
    "/documents?document=1&role=researcher",
    "/audit?user=Ana%20Researcher",
    "/?invite=not-a-real-code",
    "/_stcore/../review",
]
SERIOUS = {"serious", "critical"}


@pytest.fixture(scope="module")
def team_server(demo_project: DemoProject, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    for name, role in ((ADMIN, "admin"), (RESEARCHER, "researcher"), (OTHER, "researcher"), (PANEL, "panel")):
        add_account(demo_project.project.path, name, role, PASSWORD)
    with start_team_server(demo_project.project.path, tmp_path_factory) as running:
        yield running


@pytest.fixture
def tab(browser: Any) -> Iterator[Any]:
    """A fresh browser (its own cookies) for each test: one person at one computer."""
    page = new_tab(browser)
    yield page
    page.context.close()


def visit(page: Any, url: str) -> None:
    with script_run(page):
        page.goto(url)


def title(page: Any) -> str:
    return page.locator('[data-testid="stMain"] h1').first.inner_text().strip()


def wait_for_title(page: Any, text: str) -> None:
    """Wait until the page's title is ``text``: logging out takes two script runs (the click ends
    the session, then the app reruns to the login page), and a loaded machine may show the first."""
    page.locator('[data-testid="stMain"] h1', has_text=text).first.wait_for()


def raw_texts(demo: DemoProject) -> list[str]:
    return list(demo.segment_ids)


def assert_no_researcher_content(page: Any, demo: DemoProject) -> None:
    body = page.locator("body").inner_text()
    leaked = [text for text in raw_texts(demo) if text in body]
    assert not leaked, f"raw segment text on {page.url}: {leaked[:3]}"
    assert page.locator('[data-testid="stSidebarNav"]').count() == 0, f"page list shown on {page.url}"
    assert str(demo.project.path) not in body and "Project:" not in body
    for heading in ("Review queue", "Documents", "Codebook", "Discover", "Audit log", "Overview"):
        assert title(page) != heading, f"{heading} reached at {page.url}"
    assert page.get_by_role("button", name="Download").count() == 0


def test_a_logged_out_browser_reaches_nothing(
    tab: Any, team_server: Server, demo_project: DemoProject
) -> None:
    for url in TYPED_URLS:
        visit(tab, team_server.url + url)
        assert title(tab) in {"Log in", "Join the panel"}, url
        assert_no_researcher_content(tab, demo_project)
    screenshot(tab, "team-login")
    violations = run_axe(tab, "team-login")
    assert not [v["id"] for v in violations if v.get("impact") in SERIOUS]


def test_a_wrong_password_is_refused_and_recorded(
    tab: Any, team_server: Server, demo_project: DemoProject
) -> None:
    visit(tab, team_server.url + "/")
    tab.get_by_role("textbox", name="Name", exact=True).fill(OTHER)
    tab.get_by_role("textbox", name="Password", exact=True).fill("not the password at all")
    with script_run(tab):
        tab.get_by_role("button", name="Log in").click()
    tab.get_by_text("the name or the password is wrong").wait_for()
    assert title(tab) == "Log in"
    assert_no_researcher_content(tab, demo_project)
    with demo_project.project.connect() as connection:
        failed = list_events(connection, kinds=["login.failed"])
    assert [e.target for e in failed][-1] == OTHER


def test_repeated_failures_lock_the_login(tab: Any, team_server: Server, demo_project: DemoProject) -> None:
    add_account(demo_project.project.path, "Lee Locked", "researcher", PASSWORD)
    visit(tab, team_server.url + "/")
    for attempt in range(MAX_FAILURES + 1):
        tab.get_by_role("textbox", name="Name", exact=True).fill("Lee Locked")
        tab.get_by_role("textbox", name="Password", exact=True).fill(
            PASSWORD if attempt == MAX_FAILURES else f"wrong guess {attempt}"
        )
        with script_run(tab):
            tab.get_by_role("button", name="Log in").click()
    tab.get_by_text("too many failed logins").wait_for()  # even the right password, now
    assert title(tab) == "Log in"
    with demo_project.project.connect() as connection:
        locked = list_events(connection, kinds=["login.locked"])
    assert [e.target for e in locked] == ["Lee Locked"]


def test_a_panel_member_reaches_only_the_panel_view(
    tab: Any, team_server: Server, demo_project: DemoProject
) -> None:
    log_in(tab, team_server, PANEL, PASSWORD)
    assert title(tab) == "What we heard"
    assert_no_researcher_content(tab, demo_project)
    assert tab.get_by_role("combobox", name="Role").count() == 0
    assert tab.get_by_role("combobox", name="Codebook").count() == 0
    for url in TYPED_URLS[:-2]:
        visit(tab, team_server.url + url)
        tab.locator('[data-testid="stSidebar"]').get_by_text(f"Signed in as {PANEL}").wait_for()
        assert title(tab) in {"What we heard", "Not available"}, url
        assert_no_researcher_content(tab, demo_project)
    with script_run(tab):
        tab.reload()
    assert title(tab) in {"What we heard", "Not available"}
    tab.locator('[data-testid="stSidebar"]').get_by_text(f"Signed in as {PANEL}").wait_for()
    visit(tab, team_server.url + "/panel-view")
    screenshot(tab, "team-panel-member")
    violations = run_axe(tab, "team-panel-member")
    assert not [v["id"] for v in violations if v.get("impact") in SERIOUS]


def test_a_login_survives_a_reload_and_ends_at_logout(
    tab: Any, team_server: Server, demo_project: DemoProject
) -> None:
    log_in(tab, team_server, RESEARCHER, PASSWORD)
    links = tab.locator('[data-testid="stSidebarNavLink"]').all_inner_texts()
    assert [link.strip().splitlines()[-1] for link in links] == [
        "Overview", "Review queue", "Documents", "Search", "Codebook", "Discover", "Analysis", "Agreement", "Panel",
        "Audit",
    ]  # fmt: skip
    visit(tab, team_server.url + "/review")
    assert title(tab) == "Review queue"
    tab.locator('[data-testid="stSidebar"]').get_by_text(f"Signed in as {RESEARCHER}").wait_for()
    with script_run(tab):
        tab.get_by_role("button", name="Log out").click()
    wait_for_title(tab, "Log in")
    tab.get_by_text("You are logged out.").wait_for()
    tab.wait_for_function("() => !document.cookie.includes('narratives_session=')")
    visit(tab, team_server.url + "/review")
    assert title(tab) == "Log in"
    assert_no_researcher_content(tab, demo_project)


def test_an_expired_session_asks_for_the_login_again(
    tab: Any, team_server: Server, demo_project: DemoProject
) -> None:
    log_in(tab, team_server, RESEARCHER, PASSWORD)
    with demo_project.project.begin() as connection:
        connection.execute(update(login_sessions).values(expires=utcnow()))
    visit(tab, team_server.url + "/documents")
    assert title(tab) == "Log in"
    assert_no_researcher_content(tab, demo_project)


def test_a_copied_cookie_stops_working_at_logout(
    browser: Any, tab: Any, team_server: Server, demo_project: DemoProject
) -> None:
    log_in(tab, team_server, RESEARCHER, PASSWORD)
    cookies = tab.context.cookies()
    (session,) = [c for c in cookies if c["name"] == "narratives_session"]
    assert session["sameSite"] == "Strict" and session["path"] == "/"
    thief = new_context(browser)
    thief.add_cookies(cookies)
    stolen = thief.new_page()
    visit(stolen, team_server.url + "/review")
    assert title(stolen) == "Review queue"  # the cookie is the session, so log out ends it everywhere
    with script_run(tab):
        tab.get_by_role("button", name="Log out").click()
    visit(stolen, team_server.url + "/review")
    assert title(stolen) == "Log in"
    thief.close()


@pytest.mark.parametrize("path", RESEARCHER_PATHS)
def test_every_page_of_the_admin_passes_axe(
    path: str, tab: Any, team_server: Server, demo_project: DemoProject
) -> None:
    log_in(tab, team_server, ADMIN, PASSWORD)
    visit(tab, f"{team_server.url}/{path}")
    tab.locator('[data-testid="stSidebar"]').get_by_text(f"Signed in as {ADMIN}").wait_for()
    screenshot(tab, f"team-admin-{path}")
    violations = run_axe(tab, f"team-admin-{path}")
    assert not [(v["id"], v["impact"]) for v in violations if v.get("impact") in SERIOUS]


def test_every_write_records_the_logged_in_user(
    tab: Any, team_server: Server, demo_project: DemoProject
) -> None:
    log_in(tab, team_server, OTHER, PASSWORD)
    visit(tab, team_server.url + "/review")
    tab.get_by_role("button", name="Accept (a)").wait_for()
    with demo_project.project.connect() as connection:
        before = connection.execute(select(reviews.c.id)).scalars().all()
    with script_run(tab):
        tab.get_by_role("button", name="Accept (a)").click()
    with demo_project.project.connect() as connection:
        new = (
            connection.execute(select(reviews.c.user).where(reviews.c.id.not_in(before or [0])))
            .scalars()
            .all()
        )
    assert new == [OTHER]


def test_undo_is_ones_own_and_an_admin_may_undo_anyones(
    browser: Any, tab: Any, team_server: Server, demo_project: DemoProject
) -> None:
    log_in(tab, team_server, RESEARCHER, PASSWORD)  # Ana accepts one item
    visit(tab, team_server.url + "/review")
    with script_run(tab):
        tab.get_by_role("button", name="Accept (a)").click()
    with demo_project.project.connect() as connection:
        anas = connection.execute(select(reviews.c.id).where(reviews.c.user == RESEARCHER)).scalars().all()
    assert anas

    other = new_context(browser)
    ben = other.new_page()
    log_in(ben, team_server, OTHER, PASSWORD)  # Ben, a researcher, can undo only his own
    visit(ben, team_server.url + "/audit")
    assert ben.get_by_role("combobox", name="Undo the last action of").count() == 0
    undo = ben.get_by_role("button", name="Undo my last action")
    undo.wait_for()
    if undo.is_enabled():  # Ben's own accept from an earlier test
        with script_run(ben):
            undo.click()
    with demo_project.project.connect() as connection:
        assert [
            e for e in list_events(connection, kinds=["review.undo"]) if e.payload.get("undone_user")
        ] == []
        undone_of_ana = [e for e in list_events(connection, kinds=["review.undo"]) if e.user == RESEARCHER]
    assert undone_of_ana == []
    other.close()

    admin_context = new_context(browser)
    admin = admin_context.new_page()
    log_in(admin, team_server, ADMIN, PASSWORD)
    visit(admin, team_server.url + "/audit")
    admin.get_by_role("combobox", name="Undo the last action of").click()
    with script_run(admin):
        admin.get_by_role("option", name=RESEARCHER).click()
    with script_run(admin):
        admin.get_by_role("button", name=f"Undo {RESEARCHER}'s last action").click()
    admin.get_by_text("Undone: review").first.wait_for()
    with demo_project.project.connect() as connection:
        undos = [e for e in list_events(connection, kinds=["review.undo"]) if e.payload.get("undone_user")]
    assert [(e.user, e.payload["undone_user"]) for e in undos] == [(ADMIN, RESEARCHER)]
    admin_context.close()
