"""Nothing the explorer shows makes the browser talk to anything but the explorer's own server.

Real headless Chromium against a real ``streamlit run``: every researcher page of the local
explorer (``narratives explore``), then the login page of the team server (``narratives serve``)
and the page a panel member sees. Every request the browser makes is recorded (documents,
scripts, styles, fonts, images, the favicon, fetches and websockets), and so is every resource the
page's own Performance API lists (which also sees what a service worker or the cache served); a
host other than 127.0.0.1 fails the test. The toolbar has no Deploy button and no developer entries,
for everyone, and Streamlit's usage statistics (its metrics script) are never loaded.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from narratives.ui.common import PANEL_PAGE, RESEARCHER_PAGES
from tests.builders.demo_project import DemoProject
from tests.e2e.conftest import (
    APP_TIMEOUT,
    RUN_TRACKER_JS,
    Server,
    add_account,
    free_port,
    log_in,
    screenshot,
    script_run,
    streamlit_protocol,
)

pytestmark = pytest.mark.browser

LOCAL_HOST = "127.0.0.1"
LOCAL_SCHEMES = {"data", "blob", "about"}  # no request leaves the page for these
# Streamlit's usage statistics: its front end fetches https://data.streamlit.io/metrics.json and
# loads a Segment script when browser.gatherUsageStats is on.
METRICS_MARKS = ("data.streamlit.io", "metrics.json", "segment.com", "segment.io", "/analytics.js")
# Toolbar items of a developer or of Streamlit's cloud; none may show to anyone.
# (Streamlit 1.67's labels and test ids, read off a server started with toolbarMode=developer.)
DEVELOPER_ENTRIES = ("Deploy", "Clear cache", "Record screen", "Rerun", "Developer options")
DEVELOPER_ITEMS = ("rerun", "autoRerun", "clearCache", "recordScreencast", "deploy", "developerOptions")
MENU_ITEMS_JS = """() => [...document.querySelectorAll('[data-testid^="stMainMenuItem-"]')]
    .map(e => e.dataset.testid.slice('stMainMenuItem-'.length))"""
TEAM_ADMIN = ("Morgan Admin", "correct horse battery 1")
PANEL_MEMBER = ("Pat Panel", "correct horse battery 2")

CURRENT_PAGE_JS = """(title) => [...document.querySelectorAll('[data-testid="stSidebarNavLink"]')]
    .some(a => a.getAttribute('aria-current') === 'page' && a.innerText.trim().endsWith(title))"""
FAVICON_JS = "() => [...document.querySelectorAll('link[rel~=icon]')].map(l => l.href)"
RESOURCES_JS = """() => performance.getEntriesByType('resource').map(e => e.name)
    .concat(performance.getEntriesByType('navigation').map(e => e.name))"""
# What the page itself points at: every src/href, and the icons, styles and scripts in <head>.
POINTED_AT_JS = """() => [...document.querySelectorAll('[src], [href], link, script')]
    .map(e => e.getAttribute('src') || e.getAttribute('href') || '')
    .filter(u => u && !u.startsWith('#') && !u.startsWith('javascript:'))
    .map(u => new URL(u, location.href).href)"""


@dataclass
class Traffic:
    """Every URL the browser asked for, by what asked (request, websocket, performance, page)."""

    seen: dict[str, set[str]] = field(default_factory=dict)

    def add(self, how: str, url: str) -> None:
        self.seen.setdefault(how, set()).add(url)

    def remote(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for how, urls in self.seen.items():
            for url in sorted(urls):
                parsed = urlparse(url)
                if parsed.scheme in LOCAL_SCHEMES:
                    continue
                if parsed.hostname != LOCAL_HOST:
                    found.setdefault(how, []).append(url)
        return found

    def all_urls(self) -> set[str]:
        return set().union(*self.seen.values()) if self.seen else set()


@dataclass
class Tab:
    page: Any
    traffic: Traffic


@pytest.fixture(scope="module")
def open_tab(browser: Any) -> Iterator[Any]:
    """A factory of fresh tabs (own cookies and cache), each recording its traffic."""
    contexts: list[Any] = []

    def make() -> Tab:
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-GB")
        contexts.append(context)
        context.set_default_timeout(APP_TIMEOUT)
        context.set_default_navigation_timeout(APP_TIMEOUT)
        context.add_init_script(script=RUN_TRACKER_JS % json.dumps(streamlit_protocol()))
        traffic = Traffic()
        context.on("request", lambda request: traffic.add("request", request.url))
        context.on("requestfailed", lambda request: traffic.add("request", request.url))
        tab = context.new_page()
        tab.on("websocket", lambda socket: traffic.add("websocket", socket.url))
        tab.on("popup", lambda popup: traffic.add("popup", popup.url))
        return Tab(page=tab, traffic=traffic)

    yield make
    for context in contexts:
        context.close()


def record_page(tab: Tab) -> None:
    """What the Performance API and the document say this document loaded or points at."""
    for url in tab.page.evaluate(RESOURCES_JS):
        tab.traffic.add("performance", url)
    for url in tab.page.evaluate(POINTED_AT_JS):
        tab.traffic.add("page", url)
    for frame in tab.page.frames:
        tab.traffic.add("frame", frame.url)


def assert_only_local(tab: Tab, where: str) -> None:
    record_page(tab)
    assert tab.traffic.seen.get("request"), "no request recorded: the recorder is not listening"
    assert tab.traffic.seen.get("websocket"), "no websocket recorded: the recorder is not listening"
    remote = tab.traffic.remote()
    assert not remote, f"{where}: the browser reached beyond {LOCAL_HOST}: {remote}"
    metrics = sorted(url for url in tab.traffic.all_urls() if any(m in url.lower() for m in METRICS_MARKS))
    assert not metrics, f"{where}: usage statistics were loaded: {metrics}"


def check_toolbar(tab: Tab, where: str) -> None:
    """No Deploy button, and no developer entry in the main menu (the minimal toolbar hides the
    menu altogether; should one show, it is opened and read)."""
    page = tab.page
    header = page.locator('[data-testid="stHeader"]')
    header.wait_for(state="attached")
    assert page.locator('[data-testid="stAppDeployButton"]').count() == 0, f"{where}: a Deploy button"
    shown, items = header.inner_text(), []
    menu = page.locator('[data-testid="stMainMenuButton"]')
    if menu.count():
        menu.click()
        listing = page.locator('[data-testid="stMainMenuList"]')
        listing.wait_for()
        shown += "\n" + listing.inner_text()
        items = page.evaluate(MENU_ITEMS_JS)
        page.keyboard.press("Escape")
    assert not [item for item in items if item in DEVELOPER_ITEMS], f"{where}: the menu offers {items}"
    for entry in DEVELOPER_ENTRIES:
        assert entry not in shown, f"{where}: the toolbar offers {entry!r}: {shown!r}"


def open_page(tab: Tab, server: Server, url_path: str) -> None:
    """A fresh document for the page (a full load: everything it needs is fetched again)."""
    with script_run(tab.page):
        tab.page.goto(f"{server.url}/{url_path}")


def test_the_recorder_sees_a_remote_request(open_tab: Any, server: Server) -> None:
    """The recorder itself: a page pointing at another host is reported (nothing is reached here)."""
    tab = open_tab()
    tab.page.route("http://example.invalid/**", lambda route: route.abort())
    open_page(tab, server, "")
    with tab.page.expect_request("http://example.invalid/x.js"):
        tab.page.evaluate("() => { fetch('http://example.invalid/x.js').catch(() => null); }")
    tab.page.evaluate(
        "() => { const i = document.createElement('img'); i.src = 'http://example.invalid/i.png';"
        " document.body.appendChild(i); }"
    )
    record_page(tab)
    remote = tab.traffic.remote()
    assert "http://example.invalid/x.js" in remote["request"]
    assert "http://example.invalid/i.png" in remote["page"]


@pytest.mark.parametrize("spec", RESEARCHER_PAGES, ids=[spec.url_path for spec in RESEARCHER_PAGES])
def test_a_researcher_page_loads_nothing_from_elsewhere(
    open_tab: Any, server: Server, demo_project: DemoProject, spec: Any
) -> None:
    tab = open_tab()
    default = spec is RESEARCHER_PAGES[0]
    open_page(tab, server, "" if default else spec.url_path)
    current = tab.page.locator('[data-testid="stSidebarNavLink"][aria-current="page"]')
    assert current.inner_text().strip().endswith(spec.title)
    screenshot(tab.page, f"offline-{spec.url_path}")
    assert_only_local(tab, spec.title)
    check_toolbar(tab, spec.title)
    # What was looked at includes the fonts (the nav icons' Material Symbols among them) and the
    # favicon Streamlit chose for the page (a page's `:material/...:` icon would be a CDN address).
    fonts = [
        url for url in tab.traffic.all_urls() if urlparse(url).path.endswith((".woff2", ".woff", ".ttf"))
    ]
    assert any("MaterialSymbols" in url for url in fonts), fonts
    favicon = tab.page.evaluate(FAVICON_JS)
    assert favicon and all(urlparse(url).hostname == LOCAL_HOST for url in favicon), favicon


def test_switching_pages_in_the_sidebar_loads_nothing_from_elsewhere(open_tab: Any, server: Server) -> None:
    """A page switch in the same document (no reload): the favicon and icons stay local."""
    tab = open_tab()
    open_page(tab, server, "")
    for spec in (*RESEARCHER_PAGES[1:], RESEARCHER_PAGES[0]):
        link = tab.page.locator('[data-testid="stSidebarNav"]').get_by_role(
            "link", name=spec.title, exact=True
        )
        with script_run(tab.page):
            link.click()
        tab.page.wait_for_function(CURRENT_PAGE_JS, arg=spec.title)
        favicon = tab.page.evaluate(FAVICON_JS)
        assert favicon and all(urlparse(url).hostname == LOCAL_HOST for url in favicon), (spec.title, favicon)
        record_page(tab)
    assert_only_local(tab, "the pages, switched in the sidebar")


def test_the_team_server_login_and_panel_pages_load_nothing_from_elsewhere(
    open_tab: Any, server: Server, demo_project: DemoProject, tmp_path: Path
) -> None:
    server.stop()  # the last test: the local explorer is done with, one server at a time is enough
    add_account(demo_project.project.path, TEAM_ADMIN[0], "admin", TEAM_ADMIN[1])
    add_account(demo_project.project.path, PANEL_MEMBER[0], "panel", PANEL_MEMBER[1])
    team = Server(
        project_path=demo_project.project.path,
        port=free_port(),
        log_path=tmp_path / "team-server.log",
        login=True,
        user=None,
    )
    team.start()
    try:
        tab = open_tab()
        open_page(tab, team, "")
        tab.page.locator('[data-testid="stMain"] h1').filter(has_text="Log in").first.wait_for()
        screenshot(tab.page, "offline-login")
        assert_only_local(tab, "the login page")
        check_toolbar(tab, "the login page")

        panel = open_tab()
        log_in(panel.page, team, *PANEL_MEMBER)
        panel.page.locator('[data-testid="stMain"] h1').first.wait_for()
        assert panel.page.locator('[data-testid="stSidebarNav"]').count() == 0  # one page, no list
        screenshot(panel.page, f"offline-{PANEL_PAGE.url_path}")
        assert_only_local(panel, "the panel page")
        check_toolbar(panel, "the panel page")

        admin = open_tab()
        log_in(admin.page, team, *TEAM_ADMIN)
        assert_only_local(admin, "the team server after an admin's login")
        check_toolbar(admin, "the team server after an admin's login")
    finally:
        team.stop()
