"""The LLM coder on `--engine ray`: the workers score with the answers the command asked for (the
coder travels with its answers, not the project's database link), so Ray writes exactly the local
engine's suggestions, quotes and reasons; against the fake OpenAI-compatible server."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from narratives.coding.config import CodingConfig
from narratives.coding.llm.settings import LLMSettings
from narratives.engines import LOCAL, EngineOptions, code_with
from narratives.store import init_project
from narratives.store.project import open_project
from narratives.store.tables import suggestions
from tests.builders.themes import FakeEmbedder, add_documents, make_codebook, theme_documents
from tests.engines.snapshots import snapshot

pytest.importorskip("ray")


def coded_with_llm(engine: EngineOptions, folder: Path, server_url: str) -> dict:
    project = init_project(folder)
    add_documents(project, theme_documents())
    config = CodingConfig(llm=LLMSettings(url=server_url, model="fake-model"))
    result = code_with(engine, project, make_codebook(), embedder=FakeEmbedder(), user="t", config=config)
    project.close()
    assert result.warnings == [] and result.suggestions_written > 0
    return snapshot(folder)


def test_ray_scores_the_llm_coder_as_the_local_engine_does(
    ray_engine: EngineOptions, llm_server, tmp_path: Path
) -> None:
    local = coded_with_llm(LOCAL, tmp_path / "local", llm_server.url)
    asked = len(llm_server.requests)
    on_ray = coded_with_llm(ray_engine, tmp_path / "ray", llm_server.url)
    assert on_ray["suggestions"] == local["suggestions"]
    assert asked > 0 and len(llm_server.requests) == 2 * asked  # the same questions, asked once each
    project = open_project(tmp_path / "ray")
    with project.connect() as connection:
        reasons = (
            connection.execute(
                select(suggestions.c.reason).where(
                    suggestions.c.coder == "ensemble", suggestions.c.reason.is_not(None)
                )
            )
            .scalars()
            .all()
        )
    project.close()
    assert reasons and all(reason.startswith("It mentions ") for reason in reasons)
