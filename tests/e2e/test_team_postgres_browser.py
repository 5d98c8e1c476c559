"""Two researchers review at once, in two browsers, on a team server backed by PostgreSQL.

The PostgreSQL server is the throw-away one `scripts/test.sh` starts (NARRATIVES_TEST_PG_URL);
without it this module is skipped, saying why. Both press keys in the same moment, several times;
afterwards every decision each of them made is in the database under their own name.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from sqlalchemy import select

from narratives.store.tables import reviews
from tests.builders.demo_project import DemoProject, build_demo_project
from tests.e2e.conftest import (
    Server,
    add_account,
    log_in,
    new_tab,
    script_run,
)
from tests.e2e.conftest import (
    team_server as start_team_server,
)
from tests.store.conftest import PG_URL, _drop_pg_database, _fresh_pg_database

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

PASSWORD = "a long test password"
ANA, BEN = "Ana Researcher", "Ben Researcher"
ROUNDS = 3


@pytest.fixture(scope="module")
def pg_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoProject]:
    if not PG_URL:
        pytest.skip(
            "PostgreSQL tests skipped: no server reachable (set NARRATIVES_TEST_PG_URL, as scripts/test.sh does)"
        )
    url, name = _fresh_pg_database()
    built = build_demo_project(tmp_path_factory.mktemp("pg-team") / "demo", db_url=url)
    yield built
    built.project.close()
    _drop_pg_database(name)


@pytest.fixture(scope="module")
def pg_server(pg_demo: DemoProject, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    for name in (ANA, BEN):
        add_account(pg_demo.project.path, name, "researcher", PASSWORD)
    with start_team_server(pg_demo.project.path, tmp_path_factory) as running:
        yield running


def test_two_researchers_reviewing_at_once_lose_nothing(
    browser: Any, pg_server: Server, pg_demo: DemoProject
) -> None:
    ana, ben = new_tab(browser), new_tab(browser)
    for tab, name in ((ana, ANA), (ben, BEN)):
        log_in(tab, pg_server, name, PASSWORD)
        with script_run(tab):
            tab.goto(pg_server.url + "/review")
        tab.get_by_role("button", name="Accept (a)").wait_for()
    keys = {ANA: "arar"[:ROUNDS], BEN: "aarr"[:ROUNDS]}
    for step in range(ROUNDS):
        with ExitStack() as both:  # both keys go out before either page is waited for
            for tab in (ana, ben):
                both.enter_context(script_run(tab))
            ana.keyboard.press(keys[ANA][step])
            ben.keyboard.press(keys[BEN][step])
    with pg_demo.project.connect() as connection:
        rows = connection.execute(select(reviews.c.user, reviews.c.decision).order_by(reviews.c.id)).all()
    decided = {name: [d for u, d in rows if u == name] for name in (ANA, BEN)}
    expected = {name: ["accept" if k == "a" else "reject" for k in keys[name]] for name in (ANA, BEN)}
    assert decided == expected
    for tab in (ana, ben):
        tab.context.close()
