"""Fixtures for the coding tests: a survey of answers on five themes for discovery and promotion."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from narratives.schema import SourceKind
from narratives.store.project import Project, init_project
from tests.builders.themes import add_documents, comments


@pytest.fixture
def survey(tmp_path: Path) -> Iterator[Project]:
    made = init_project(tmp_path / "project")
    answers = comments()
    half = len(answers) // 2
    groups = {"need_group": lambda n: {"need_group": "older" if n % 3 else "learning", "council": "Leeds"}}
    add_documents(
        made,
        [[t] for _, t in answers[:half]],
        kind=SourceKind.survey,
        prefix="s",
        attributes=groups["need_group"],
    )
    add_documents(made, [[t] for _, t in answers[half:]], kind=SourceKind.blog, prefix="b")
    yield made
    made.close()
