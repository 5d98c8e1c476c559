"""A co-production panel round in real Chromium on the team server (`narratives serve`).

The steps run in order and build on each other: a researcher opens a round and makes invitation
links on the Panel page; a second browser joins through one link, sees only the round's
de-identified quotes and plain themes, answers, changes the answer and reloads; the researcher
then reads the answers per theme; a link that was used is refused. The invitation page and the
panel member's page pass axe-core without serious or critical violations.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from narratives.review.panel import choose_panel_quote
from narratives.review.record import record_review
from narratives.schema import Decision, Document, Review, SourceKind
from narratives.store.tables import panel_responses
from tests.builders.demo_project import CODEBOOK, DemoProject, build_demo_project, sentence_segments
from tests.builders.project import ProjectBuilder
from tests.e2e.conftest import (
    Server,
    add_account,
    log_in,
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
RESEARCHER, MEMBER = "Ana Researcher", "Robin Panel"
NEVER = "I never know who is coming."
NAMED = "Mrs Higgins never knows who is coming."  # the de-identifier replaces "Mrs Higgins"
THEME = "Seeing the same people"  # continuity's plain name; its codebook name is "Continuity of care"
ROUND = "Spring round"
SERIOUS = {"serious", "critical"}
shared: dict[str, Any] = {}  # what one step leaves for the next: the invitation codes


@pytest.fixture(scope="module")
def panel_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoProject]:
    """The demo project with a quote naming a person; both chosen for continuity; two accounts."""
    built = build_demo_project(tmp_path_factory.mktemp("panel") / "demo")
    with built.project.begin() as c:
        build = ProjectBuilder(c, codebook=CODEBOOK)
        build.add_document(Document(kind=SourceKind.survey, title="R09", text=NAMED), sentence_segments)
        for segment in (built.segment_ids[NEVER], build.segment_ids()[NAMED]):
            record_review(
                c,
                Review(
                    segment_id=segment,
                    code_id="continuity",
                    codebook=CODEBOOK,
                    decision=Decision.accept,
                    user="setup",
                ),
            )
            choose_panel_quote(c, CODEBOOK, "continuity", segment, "setup")
    add_account(built.project.path, RESEARCHER, "researcher", PASSWORD)
    yield built
    built.project.close()


@pytest.fixture(scope="module")
def panel_server(panel_project: DemoProject, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with start_team_server(panel_project.project.path, tmp_path_factory) as running:
        yield running


@pytest.fixture(scope="module")
def lead(browser: Any) -> Iterator[Any]:
    """The researcher's browser, for the whole module."""
    tab = new_tab(browser)
    yield tab
    tab.context.close()


@pytest.fixture(scope="module")
def member(browser: Any) -> Iterator[Any]:
    """The panel member's browser (its own cookies), for the whole module."""
    tab = new_tab(browser)
    yield tab
    tab.context.close()


def main(page: Any) -> Any:
    return page.locator('[data-testid="stMain"]')


def wait_for_title(page: Any, title: str) -> None:
    main(page).locator("h1").filter(has_text=title).first.wait_for()


def choose(page: Any, label: str, typed: str, option: str) -> None:
    """Pick ``option`` in the select or multiselect ``label`` after typing ``typed`` into it."""
    box = main(page).get_by_role("combobox", name=label)
    box.click()
    box.fill(typed)
    with script_run(page):
        page.get_by_role("option", name=option).click()
    page.keyboard.press("Escape")


def click(page: Any, name: str) -> None:
    with script_run(page):
        main(page).get_by_role("button", name=name).click()


def pick_verdict(page: Any, verdict: str) -> None:
    main(page).locator('[data-testid="stRadio"] label').filter(has_text=verdict).click()


def body(page: Any) -> str:
    return str(page.locator("body").inner_text())


def quiet(page: Any) -> None:
    """Focus and pointer away from the last widget used, for a stable screenshot and axe run."""
    main(page).locator("h1").first.click()
    page.mouse.move(1, 1)


def serious(violations: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    return [(v["id"], v["impact"], len(v["nodes"])) for v in violations if v.get("impact") in SERIOUS]


# ---------------------------------------------------------------------------------------- steps


def test_a_researcher_opens_a_round_and_makes_invitation_links(
    lead: Any, panel_server: Server, panel_project: DemoProject
) -> None:
    log_in(lead, panel_server, RESEARCHER, PASSWORD)
    with script_run(lead):
        lead.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="Panel", exact=True).click()
    main(lead).get_by_role("heading", name="Panel rounds").wait_for()
    title = main(lead).get_by_role("textbox", name="Title of the round")
    title.fill(ROUND)
    with script_run(lead):
        title.press("Enter")
    # the theme is found by its codebook name, and offered with both names
    choose(lead, "Themes (search by plain or codebook name)", "Continuity", f"{THEME} (Continuity of care)")
    for text in (NEVER, NAMED):
        choose(lead, "Quotes to show", text[:12], f"{THEME} (Continuity of care): {text}")
    click(lead, "Open the round")
    main(lead).get_by_text(f"Round “{ROUND}” opened.").wait_for()
    count = main(lead).get_by_role("spinbutton", name="How many invitations")
    count.fill("2")
    with script_run(lead):
        count.press("Enter")
    click(lead, "Make invitation codes")
    code_block = main(lead).locator('[data-testid="stCode"]')
    code_block.wait_for()
    links = [line.strip() for line in code_block.inner_text().splitlines() if line.strip()]
    assert len(links) == 2
    assert all(link.startswith(f"{panel_server.url}/?invite=") for link in links), links
    shared["codes"] = [re.sub(r".*\?invite=", "", link) for link in links]
    quiet(lead)
    screenshot(lead, "panel-researcher-round")


def test_a_panel_member_joins_through_the_invitation_link(
    member: Any, panel_server: Server, panel_project: DemoProject
) -> None:
    with script_run(member):
        member.goto(f"{panel_server.url}/?invite={shared['codes'][0]}")
    wait_for_title(member, "Join the panel")
    screenshot(member, "panel-invitation")
    violations = run_axe(member, "panel-invitation")
    assert not serious(violations), f"invitation page: {serious(violations)}"
    main(member).get_by_role("textbox", name="Name", exact=True).fill(MEMBER)
    main(member).get_by_role("textbox", name="Password", exact=True).fill(PASSWORD)
    main(member).get_by_role("textbox", name="Password again", exact=True).fill(PASSWORD)
    click(member, "Join")
    member.locator('[data-testid="stSidebar"]').get_by_text(f"Signed in as {MEMBER}").wait_for()
    wait_for_title(member, "What we heard")


def test_the_member_sees_only_de_identified_quotes_and_plain_themes(
    member: Any, panel_server: Server, panel_project: DemoProject
) -> None:
    main(member).get_by_role("heading", name=ROUND).wait_for()
    main(member).get_by_role("heading", name=THEME).wait_for()
    shown = body(member)
    assert NEVER in shown and "never knows who is coming" in shown
    assert "Higgins" not in shown  # the de-identifier took the name out
    for hidden in ("continuity", "Continuity of care", "Summary for the research team", "Panel rounds"):
        assert hidden not in shown, hidden
    assert str(panel_project.project.path) not in shown and "Project:" not in shown
    assert member.locator('[data-testid="stSidebarNav"]').count() == 0  # no page list
    assert member.get_by_role("button", name="Download").count() == 0
    assert "care" not in member.locator('[data-testid="stSidebar"]').inner_text().split()  # no codebook
    quiet(member)
    screenshot(member, "panel-member")
    violations = run_axe(member, "panel-member")
    assert not serious(violations), f"panel member's page: {serious(violations)}"


def test_the_member_answers_changes_the_answer_and_reloads(
    member: Any, panel_server: Server, panel_project: DemoProject
) -> None:
    pick_verdict(member, "This misses something")
    click(member, f"Submit my answer about “{THEME}”")
    main(member).get_by_text("Your answer now: This misses something").wait_for()
    pick_verdict(member, "This rings true")
    main(member).get_by_role("textbox", name="A better name for this theme (optional)").fill("Same faces")
    click(member, f"Change my answer about “{THEME}”")
    main(member).get_by_text("Your answer now: This rings true").wait_for()
    with panel_project.project.connect() as c:
        rows = c.execute(
            select(panel_responses.c.verdict)
            .where(panel_responses.c.user == MEMBER)
            .order_by(panel_responses.c.id)
        )
        assert rows.scalars().all() == ["misses_something", "rings_true"]  # the earlier answer stays
    with script_run(member):
        member.reload()
    member.locator('[data-testid="stSidebar"]').get_by_text(f"Signed in as {MEMBER}").wait_for()
    main(member).get_by_text("Your answer now: This rings true").wait_for()
    assert main(member).get_by_role("radio", name="This rings true").is_checked()
    assert main(member).get_by_role(
        "textbox", name="A better name for this theme (optional)"
    ).input_value() == ("Same faces")
    screenshot(member, "panel-member-answered")


def test_the_researcher_sees_the_answers_per_theme(
    lead: Any, panel_server: Server, panel_project: DemoProject
) -> None:
    with script_run(lead):
        lead.reload()
    main(lead).get_by_role("heading", name="Answers in a round").wait_for()
    main(lead).get_by_text("1 panel members have answered (1 joined).").wait_for()
    tables = main(lead).locator('[data-testid="stTable"]')
    rounds_row = tables.nth(0).locator("tr").filter(has_text=ROUND)
    assert [t.strip() for t in rounds_row.locator("th, td").all_inner_texts()][-2:] == ["2", "1"]
    theme_row = tables.nth(1).locator("tr").filter(has_text=THEME)
    cells = [t.strip() for t in theme_row.locator("th, td").all_inner_texts()]
    assert cells == [THEME, "1", "0", "0", "1"], cells  # the latest answer only: rings true
    expander = main(lead).locator('[data-testid="stExpander"]').filter(has_text=f"{THEME}: names").first
    expander.locator("summary").click()  # the round's own (the codebook's summary comes after)
    expander.get_by_text("Suggested name: Same faces").wait_for()
    quiet(lead)
    screenshot(lead, "panel-researcher-summary")


def test_a_used_invitation_link_is_refused(browser: Any, panel_server: Server) -> None:
    tab = new_tab(browser)
    try:
        with script_run(tab):
            tab.goto(f"{panel_server.url}/?invite={shared['codes'][0]}")
        wait_for_title(tab, "Join the panel")
        main(tab).get_by_text("this invitation has already been used").wait_for()
        assert main(tab).get_by_role("button", name="Join").count() == 0
    finally:
        tab.context.close()
