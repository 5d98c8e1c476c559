"""Promoting, merging and dismissing discovered themes, each with its history."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

import narratives.discovery.topics as discover
from narratives.coding.runner import code_project
from narratives.discovery.promote import (
    dismiss_candidate,
    list_candidates,
    load_candidate,
    merge_candidate,
    promote_candidate,
)
from narratives.discovery.topics import discover_themes
from narratives.errors import CandidateError, CodebookEditError
from narratives.store.codebooks import code_history, current_codebook
from narratives.store.project import Project
from narratives.store.tables import candidate_events, events
from tests.builders.themes import FakeEmbedder, fake_fit, make_codebook

BOOK = "test-book"


@pytest.fixture
def discovered(survey: Project, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    code_project(survey, make_codebook(), embedder=FakeEmbedder(), user="ana")
    monkeypatch.setattr(discover, "_fit_topics", fake_fit)
    discover_themes(survey, embedder=FakeEmbedder(), user="ana", codebook_name=BOOK)
    yield survey


def candidate_about(project: Project, word: str) -> int:
    with project.connect() as connection:
        return next(c.id for c in list_candidates(connection) if word in c.keywords)


def actions(project: Project) -> list[tuple[int, str, str | None, str]]:
    with project.connect() as connection:
        rows = connection.execute(select(candidate_events).order_by(candidate_events.c.id)).all()
    return [(r.candidate_id, r.action, r.code_id, r.user) for r in rows]


def test_promotion_creates_a_code_with_examples_and_history(discovered: Project) -> None:
    candidate_id = candidate_about(discovered, "respite")
    code = promote_candidate(
        discovered, candidate_id, codebook_name=BOOK, code_id="respite", name="Needing a break", user="ben"
    )
    assert "respite" in code.definition and 3 <= len(code.examples) <= 5
    with discovered.connect() as connection:
        stored = current_codebook(connection, BOOK).code("respite")
        history = code_history(connection, BOOK, "respite")
        event = connection.execute(
            select(events).where(events.c.kind == "code.create", events.c.target == f"{BOOK}/respite")
        ).one()
        candidate = load_candidate(connection, candidate_id)
    assert stored == code and [h["action"] for h in history] == ["create"]
    assert event.payload["from_candidate"] == candidate_id and event.user == "ben"
    assert candidate.status == "promote" and candidate.status_code_id == "respite"
    assert actions(discovered) == [(candidate_id, "promote", "respite", "ben")]


def test_promotion_refuses_an_existing_id_or_unknown_parent(discovered: Project) -> None:
    candidate_id = candidate_about(discovered, "respite")
    with pytest.raises(CodebookEditError, match="already used"):
        promote_candidate(discovered, candidate_id, codebook_name=BOOK, code_id="money", name="x", user="ben")
    with pytest.raises(CodebookEditError, match="code 'nope' is not in codebook"):
        promote_candidate(
            discovered, candidate_id, codebook_name=BOOK, code_id="r", name="x", parent="nope", user="ben"
        )
    assert actions(discovered) == []


def test_promotion_into_a_codebook_the_project_does_not_hold_is_refused(discovered: Project) -> None:
    from narratives.errors import UnknownCodebook

    candidate_id = candidate_about(discovered, "respite")
    with pytest.raises(UnknownCodebook, match="no codebook named 'tset-book'"):
        promote_candidate(
            discovered, candidate_id, codebook_name="tset-book", code_id="respite", name="Respite", user="ben"
        )
    assert actions(discovered) == []


@pytest.mark.parametrize(
    ("code_id", "name", "message"),
    [("", "Respite", "needs an id"), ("   ", "Respite", "needs an id"), ("respite", "  ", "has no name")],
)
def test_promotion_goes_through_the_checks_of_a_new_code(
    discovered: Project, code_id: str, name: str, message: str
) -> None:
    candidate_id = candidate_about(discovered, "respite")
    with pytest.raises(CodebookEditError, match=message):
        promote_candidate(
            discovered, candidate_id, codebook_name=BOOK, code_id=code_id, name=name, user="ben"
        )
    assert actions(discovered) == []


def test_merge_adds_quotes_as_examples_of_an_existing_code(discovered: Project) -> None:
    candidate_id = candidate_about(discovered, "charges")
    before = make_codebook().code("money").examples
    merged = merge_candidate(discovered, candidate_id, "money", "ben")
    assert merged.examples[: len(before)] == before and len(merged.examples) > len(before)
    with discovered.connect() as connection:
        history = code_history(connection, BOOK, "money")
    assert history[-1]["action"] == "edit" and history[-1]["user"] == "ben"
    assert actions(discovered) == [(candidate_id, "merge", "money", "ben")]


def test_dismissal_is_recorded_and_final(discovered: Project) -> None:
    candidate_id = candidate_about(discovered, "lonely")
    dismiss_candidate(discovered, candidate_id, "ben", reason="same as isolation")
    assert actions(discovered) == [(candidate_id, "dismiss", None, "ben")]
    with discovered.connect() as connection:
        event = connection.execute(select(events).where(events.c.kind == "candidate.dismiss")).one()
    assert event.payload["reason"] == "same as isolation"
    with pytest.raises(CandidateError, match="already acted on: dismiss"):
        promote_candidate(
            discovered, candidate_id, codebook_name=BOOK, code_id="lonely2", name="x", user="ben"
        )


def test_unknown_candidate(discovered: Project) -> None:
    with pytest.raises(CandidateError, match="candidate 999 does not exist"):
        dismiss_candidate(discovered, 999, "ben")


def test_promoted_code_is_coded_next_run(discovered: Project) -> None:
    candidate_id = candidate_about(discovered, "respite")
    promote_candidate(
        discovered, candidate_id, codebook_name=BOOK, code_id="respite", name="Needing a break", user="ben"
    )
    with discovered.connect() as connection:
        book = current_codebook(connection, BOOK)
    result = code_project(discovered, book, embedder=FakeEmbedder(), user="ben")
    assert result.codes_recoded == ["respite"]


def test_cli_discovers_and_promotes(survey: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    import narratives.embed
    from narratives.cli import app

    code_project(survey, make_codebook(), embedder=FakeEmbedder(), user="ana")
    monkeypatch.setattr(narratives.embed, "load_embedder", lambda name=None: FakeEmbedder())
    monkeypatch.setattr(discover, "_fit_topics", fake_fit)
    cli = CliRunner()
    found = cli.invoke(app, ["discover", str(survey.path), "--codebook", BOOK], terminal_width=200)
    assert found.exit_code == 0, found.output
    assert "5 candidates" in found.output and "money" in found.output
    candidate_id = candidate_about(survey, "respite")
    args = ["promote", str(survey.path), str(candidate_id), "--user", "ben"]
    promoted = cli.invoke(
        app, [*args, "--code-id", "respite", "--name", "Needing a break"], terminal_width=200
    )
    assert (
        promoted.exit_code == 0 and "Code 'respite' (Needing a break) created in test-book" in promoted.output
    )
    twice = cli.invoke(app, [*args, "--dismiss"], terminal_width=200)
    assert twice.exit_code == 1 and "already acted on: promote" in twice.output
    missing = cli.invoke(app, ["promote", str(survey.path), str(candidate_about(survey, "lonely"))])
    assert missing.exit_code == 1 and "--code-id and --name" in missing.output
