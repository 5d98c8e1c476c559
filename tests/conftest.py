"""Fixtures shared across the test suite. Add new ones here; keep each one small and documented."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class HashingEmbedder:
    """A deterministic fake embedder: a bag of words, each word a fixed random vector.

    Texts sharing words get similar vectors; nothing is downloaded. ``calls`` and ``encoded`` count
    what went through :meth:`encode`, so cache tests can check that nothing was re-encoded.
    """

    name = "fake-hashing-bow"

    def __init__(self, dim: int = 64):
        self.dim = dim
        self.calls = 0
        self.encoded = 0

    def _word_vector(self, word: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(word.encode("utf-8")).digest()[:4], "little")
        return np.random.default_rng(seed).standard_normal(self.dim)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        self.encoded += len(texts)
        rows = np.zeros((len(texts), self.dim))
        for i, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                rows[i] += self._word_vector(word[:-1] if word.endswith("s") and len(word) > 3 else word)
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        return (rows / np.where(norms == 0, 1, norms)).astype(np.float32)


@pytest.fixture
def fake_embedder() -> HashingEmbedder:
    """A fresh :class:`HashingEmbedder` (64 dimensions) with its call counters at zero."""
    return HashingEmbedder()


@pytest.fixture
def themed_project(tmp_path: Path) -> Iterator:
    """A project holding the themed documents of :mod:`tests.builders.themes`, not yet coded."""
    from narratives.store import init_project
    from tests.builders.themes import add_documents, theme_documents

    project = init_project(tmp_path / "project")
    add_documents(project, theme_documents())
    yield project
    project.close()


@pytest.fixture
def tmp_project(tmp_path: Path) -> Iterator:
    """A new, empty SQLite project workspace under the test's temporary folder."""
    from narratives.store import init_project

    project = init_project(tmp_path / "proj")
    yield project
    project.close()


@pytest.fixture
def study(tmp_path: Path) -> Iterator:
    """The small hand-checked study of :mod:`tests.builders.study`, in a temporary project."""
    from tests.builders.study import build_study

    built = build_study(tmp_path / "study")
    yield built
    built.project.close()


@pytest.fixture
def demo(tmp_path: Path) -> Iterator:
    """The small explorer project of :mod:`tests.builders.demo_project` (coded, with discovery).

    On SQLite; with ``NARRATIVES_TEST_DEMO_ON_PG=1`` (and ``NARRATIVES_TEST_PG_URL``) on a fresh
    PostgreSQL database instead, to run every test that uses it against PostgreSQL (a manual check:
    ``NARRATIVES_TEST_DEMO_ON_PG=1 pytest tests/review tests/analysis tests/ui``)."""
    from tests.builders.demo_project import build_demo_project

    if os.environ.get("NARRATIVES_TEST_DEMO_ON_PG") == "1":
        from tests.store.conftest import PG_URL, _drop_pg_database, _fresh_pg_database

        if not PG_URL:
            pytest.skip("NARRATIVES_TEST_DEMO_ON_PG=1 needs NARRATIVES_TEST_PG_URL")
        url, name = _fresh_pg_database()
        built = build_demo_project(tmp_path / "demo", db_url=url)
        yield built
        built.project.close()
        _drop_pg_database(name)
        return
    built = build_demo_project(tmp_path / "demo")
    yield built
    built.project.close()


@pytest.fixture
def empty_project(tmp_path: Path) -> Iterator:
    """A project with nothing in it, for the explorer's empty states."""
    from narratives.store import init_project

    project = init_project(tmp_path / "empty")
    yield project
    project.close()


@pytest.fixture
def survey(tmp_path: Path) -> Iterator:
    """Survey answers and blog posts on five themes (:mod:`tests.builders.themes`), for discovery."""
    from narratives.schema import SourceKind
    from narratives.store import init_project
    from tests.builders.themes import add_documents, comments

    made = init_project(tmp_path / "project")
    answers = comments()
    half = len(answers) // 2

    def groups(n: int) -> dict[str, str]:
        return {"need_group": "older" if n % 3 else "learning", "council": "Leeds"}

    add_documents(
        made, [[t] for _, t in answers[:half]], kind=SourceKind.survey, prefix="s", attributes=groups
    )
    add_documents(made, [[t] for _, t in answers[half:]], kind=SourceKind.blog, prefix="b")
    yield made
    made.close()


@pytest.fixture(scope="session")
def shared_cache_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One XDG cache folder for the whole run: the shipped sentiment comments are embedded (by the
    test embedder) once, not once per test."""
    return tmp_path_factory.mktemp("xdg-cache")


@pytest.fixture
def llm_server() -> Iterator:
    """The fake OpenAI-compatible server (tests/builders/fake_llm_server.py) on a loopback port,
    coding the themed documents by :data:`~tests.builders.fake_llm_server.THEME_KEYWORDS`."""
    from tests.builders.fake_llm_server import THEME_KEYWORDS, FakeLLMServer

    fake = FakeLLMServer(THEME_KEYWORDS).start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer, 32-dimension sentence-transformers model made here (tests/builders/tiny_model.py):
    a real model to fine-tune in seconds."""
    from tests.builders.tiny_model import make_tiny_model

    return make_tiny_model(tmp_path_factory.mktemp("tiny-model"))
