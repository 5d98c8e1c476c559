"""The review queue shows the LLM coder's quote and reason (streamlit AppTest, in process)."""

from __future__ import annotations

from narratives.coding.config import CodingConfig
from narratives.coding.llm.settings import LLMSettings
from narratives.coding.runner import code_project
from narratives.store.project import Project
from tests.builders.themes import FakeEmbedder, make_codebook
from tests.ui.test_pages import open_app, texts


def test_the_queue_shows_the_quote_and_the_reason(monkeypatch, themed_project: Project, llm_server) -> None:
    config = CodingConfig(coders=["llm"], llm=LLMSettings(url=llm_server.url, model="fake-model"))
    code_project(themed_project, make_codebook(), embedder=FakeEmbedder(), user="ana", config=config)
    at = open_app(monkeypatch, themed_project.path, "review")
    shown = texts(at.caption)
    assert "Quoted by the LLM coder: “" in shown
    assert "The LLM coder's reason: It mentions " in shown


def test_the_llm_coder_is_set_and_switched_off_from_the_review_page(
    monkeypatch, themed_project: Project
) -> None:
    from narratives.coding.llm.settings import project_llm

    code_project(themed_project, make_codebook(), embedder=FakeEmbedder(), user="ana")
    at = open_app(monkeypatch, themed_project.path, "review")
    at.text_input(key="llm_url").set_value("http://10.1.2.3:8000/v1")
    at.text_input(key="llm_model").set_value("m").run()
    at.button(key="llm_save").click().run()
    assert "not this machine" in texts(at.error) and project_llm(themed_project) is None
    at.checkbox(key="llm_allow_remote").check().run()
    at.button(key="llm_save").click().run()
    assert "sends the text of every segment" in texts(at.warning)
    saved = project_llm(themed_project)
    assert saved is not None and (saved.url, saved.model, saved.allow_remote) == (
        "http://10.1.2.3:8000/v1",
        "m",
        True,
    )
    at.run()
    at.button(key="llm_off").click().run()
    assert project_llm(themed_project) is None and "The LLM coder is off." in texts(at.success)
