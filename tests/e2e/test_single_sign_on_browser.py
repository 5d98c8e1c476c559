"""Single sign-on on the team server, through Streamlit's OIDC support and a real local provider.

The project's ``secrets.toml`` points Streamlit at :class:`tests.e2e.fake_oidc.FakeIdentityProvider`;
the identity it vouches for gets the role of the project account of that e-mail address (made with
``narratives users add ... --sso``, which has no password), and an identity without one gets none.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from narratives.store.events import list_events
from tests.builders.demo_project import DemoProject
from tests.e2e.conftest import (
    Server,
    add_account,
    free_port,
    new_tab,
    script_run,
)
from tests.e2e.conftest import (
    team_server as start_team_server,
)

pytestmark = pytest.mark.browser

MEMBER = "sam@example.org"


@pytest.fixture(scope="module")
def provider() -> Iterator[Any]:
    pytest.importorskip("authlib", reason="single sign-on needs Authlib (pip install -e '.[dev]')")
    from tests.e2e.fake_oidc import FakeIdentityProvider

    running = FakeIdentityProvider().start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def sso_server(
    demo_project: DemoProject, provider: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    add_account(demo_project.project.path, MEMBER, "researcher", None)
    port = free_port()
    secrets_file = demo_project.project.path / "secrets.toml"
    secrets_file.write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_hex(32)}"\n'
        f'client_id = "{provider.client_id}"\n'
        f'client_secret = "{provider.client_secret}"\n'
        f'server_metadata_url = "{provider.url}/.well-known/openid-configuration"\n',
        encoding="utf-8",
    )
    secrets_file.chmod(0o600)
    with start_team_server(demo_project.project.path, tmp_path_factory, port) as running:
        yield running


@pytest.fixture
def tab(browser: Any) -> Iterator[Any]:
    page = new_tab(browser)
    yield page
    page.context.close()


def sign_in(page: Any, server: Server) -> None:
    with script_run(page):
        page.goto(server.url + "/")
    page.get_by_role("button", name="Log in with single sign-on").wait_for()
    with script_run(page):  # to the provider and back, then a new page and session
        page.get_by_role("button", name="Log in with single sign-on").click()


def test_an_identity_with_an_account_gets_its_role(
    tab: Any, sso_server: Server, provider: Any, demo_project: DemoProject
) -> None:
    provider.email = MEMBER
    sign_in(tab, sso_server)
    tab.locator('[data-testid="stSidebar"]').get_by_text(f"Signed in as {MEMBER} (researcher)").wait_for()
    assert "/token" in provider.requests  # the server really asked the provider
    with script_run(tab):
        tab.reload()
    tab.locator('[data-testid="stSidebar"]').get_by_text(f"Signed in as {MEMBER}").wait_for()
    with demo_project.project.connect() as connection:
        logins = [e for e in list_events(connection, kinds=["login"]) if e.payload.get("sso")]
    assert logins and logins[0].user == MEMBER

    with script_run(tab):  # logging out ends the project's session and the provider's sign-in here
        tab.get_by_role("button", name="Log out").click()
    tab.get_by_role("button", name="Log in with single sign-on").wait_for()
    with script_run(tab):
        tab.goto(sso_server.url + "/review")
    assert tab.locator('[data-testid="stMain"] h1').first.inner_text().strip() == "Log in"
    assert tab.locator('[data-testid="stSidebarNav"]').count() == 0


def test_an_identity_without_an_account_gets_nothing(
    tab: Any, sso_server: Server, provider: Any, demo_project: DemoProject
) -> None:
    provider.email = "stranger@example.org"
    sign_in(tab, sso_server)
    tab.get_by_text("stranger@example.org signed in, but has no account in this project").wait_for()
    assert tab.locator('[data-testid="stSidebarNav"]').count() == 0
    assert tab.locator('[data-testid="stMain"] h1').first.inner_text().strip() == "Log in"
    with demo_project.project.connect() as connection:
        refused = [e.target for e in list_events(connection, kinds=["login.failed"]) if e.payload.get("sso")]
    assert refused == ["stranger@example.org"]
