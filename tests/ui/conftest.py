"""Fixtures for the explorer's tests: the demo project of :mod:`tests.builders.demo_project`."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from narratives.store.project import Project, init_project
from tests.builders.demo_project import DemoProject, build_demo_project

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[DemoProject]:
    built = build_demo_project(tmp_path / "demo")
    yield built
    built.project.close()


@pytest.fixture
def empty_project(tmp_path: Path) -> Iterator[Project]:
    project = init_project(tmp_path / "empty")
    yield project
    project.close()
