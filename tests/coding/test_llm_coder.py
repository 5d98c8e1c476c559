"""The LLM coder against a real HTTP server the tests start (tests/builders/fake_llm_server.py):
quoted evidence with offsets and reasons, the answer cache, invented quotes, malformed and slow
replies, server errors, a server that is down, and the loopback-only rule."""

from __future__ import annotations

import socket

import pytest
from sqlalchemy import select

from narratives.coding.config import CodingConfig
from narratives.coding.llm.prompt import MalformedAnswer, locate_quote, parse_answer
from narratives.coding.llm.settings import LLMSettings, check_server
from narratives.coding.runner import code_project
from narratives.errors import LLMError
from narratives.store.project import Project
from narratives.store.tables import coding_runs, llm_answers, segments, suggestions
from tests.builders.fake_llm_server import THEME_KEYWORDS as KEYWORDS
from tests.builders.fake_llm_server import FakeLLMServer
from tests.builders.themes import THEMES, FakeEmbedder, add_documents, make_codebook


def settings(llm_server: FakeLLMServer, **changes: object) -> LLMSettings:
    values: dict[str, object] = {
        "url": llm_server.url,
        "model": "fake-model",
        "retries": 2,
        "timeout_s": 60.0,
    }
    return LLMSettings.model_validate(values | changes)


def code(project: Project, llm: LLMSettings, **config: object):
    chosen = CodingConfig.model_validate({"llm": llm.model_dump(), "store_components": ["llm"], **config})
    return code_project(project, make_codebook(), embedder=FakeEmbedder(), user="ana", config=chosen)


def llm_rows(project: Project) -> list:
    with project.connect() as connection:
        return list(
            connection.execute(
                select(suggestions, segments.c.text.label("segment_text"))
                .join(segments, segments.c.id == suggestions.c.segment_id)
                .where(suggestions.c.coder == "llm", suggestions.c.current.is_(True))
            )
        )


def expected_cells(project: Project) -> set[tuple[str, str]]:
    """(segment text, code) the fake server codes: the code's keyword occurs in the text."""
    with project.connect() as connection:
        texts = list(connection.execute(select(segments.c.text)).scalars())
    return {(text, code) for text in texts for code, word in KEYWORDS.items() if word in text.lower()}


# ------------------------------------------------------------------------------ whole runs


def test_llm_suggestions_carry_a_quote_of_the_segment_and_a_reason(
    themed_project: Project, llm_server: FakeLLMServer
) -> None:
    result = code(themed_project, settings(llm_server))
    rows = llm_rows(themed_project)
    assert {(row.segment_text, row.code_id) for row in rows} == expected_cells(themed_project)
    for row in rows:
        assert row.segment_text[row.evidence_start : row.evidence_end] == row.evidence
        assert row.reason == f"It mentions {KEYWORDS[row.code_id]}."
        assert row.score == pytest.approx(0.9)
    with themed_project.connect() as connection:
        run = connection.execute(select(coding_runs.c.config).where(coding_runs.c.id == result.run_id)).one()
        ensemble_reasons = connection.execute(
            select(suggestions.c.reason).where(
                suggestions.c.coder == "ensemble", suggestions.c.reason.is_not(None)
            )
        ).all()
    provenance = run.config["llm"]
    assert provenance["server"] == llm_server.url and provenance["llm_model"] == "fake-model"
    assert len(provenance["prompt_hash"]) == 64 and provenance["asked"] > 0
    assert ensemble_reasons, "the ensemble keeps the LLM's evidence and reason where it decides"
    # the prompt carried the codebook and the segments asked about
    first = llm_server.requests[0]
    assert "Waiting a long time for an assessment or care." in first["messages"][0]["content"]
    assert first["response_format"]["type"] == "json_schema"
    assert first["model"] == "fake-model" and first["temperature"] == 0.0


def test_a_second_run_sends_nothing_already_answered(
    themed_project: Project, llm_server: FakeLLMServer
) -> None:
    code(themed_project, settings(llm_server))
    asked = len(llm_server.asked)
    assert asked == len(set(llm_server.asked)) > 0
    again = code(themed_project, settings(llm_server), threshold=0.6)  # other settings: everything re-scored
    assert again.run_id is not None and len(llm_server.asked) == asked
    with themed_project.connect() as connection:
        stored = connection.execute(select(llm_answers.c.text_hash)).all()
        run = connection.execute(select(coding_runs.c.config).where(coding_runs.c.id == again.run_id)).one()
    assert len(stored) == asked and run.config["llm"]["asked"] == 0
    add_documents(themed_project, [["My lonely neighbour waits for a carer."]], prefix="new")
    code(themed_project, settings(llm_server), threshold=0.6)
    assert llm_server.asked[asked:] == ["My lonely neighbour waits for a carer."]


def test_invented_quotes_are_dropped_and_counted(themed_project: Project, llm_server: FakeLLMServer) -> None:
    llm_server.behave("invented")
    result = code(themed_project, settings(llm_server))
    assert llm_rows(themed_project) == []
    (warning,) = [w for w in result.warnings if "invented evidence" in w]
    assert warning.endswith(f": {len(expected_cells(themed_project))}")


def test_a_malformed_answer_is_asked_for_again(themed_project: Project, llm_server: FakeLLMServer) -> None:
    llm_server.behave("malformed", times=1)
    result = code(themed_project, settings(llm_server, batch_size=50, workers=1))
    assert len(llm_server.requests) == 2
    assert {(r.segment_text, r.code_id) for r in llm_rows(themed_project)} == expected_cells(themed_project)
    assert not [w for w in result.warnings if w.startswith("llm:")]


def test_answers_that_stay_malformed_stop_the_run_with_nothing_written(
    themed_project: Project, llm_server: FakeLLMServer
) -> None:
    llm_server.behave("malformed")
    with pytest.raises(LLMError, match=r"answered none of the \d+ segments with the JSON asked for"):
        code(themed_project, settings(llm_server, retries=1))
    with themed_project.connect() as connection:
        assert connection.execute(select(suggestions.c.id)).first() is None


def test_a_slow_reply_times_out_and_is_asked_again(
    themed_project: Project, llm_server: FakeLLMServer
) -> None:
    llm_server.behave("slow", times=1)
    try:
        code(themed_project, settings(llm_server, timeout_s=2.0, batch_size=50, workers=1))
    finally:
        llm_server.release()
    assert len(llm_server.requests) == 2
    assert {(r.segment_text, r.code_id) for r in llm_rows(themed_project)} == expected_cells(themed_project)


def test_server_errors_are_retried(themed_project: Project, llm_server: FakeLLMServer) -> None:
    llm_server.behave("error", times=2)
    code(themed_project, settings(llm_server, batch_size=50, workers=1))
    assert len(llm_server.requests) == 3
    assert llm_rows(themed_project)


@pytest.mark.parametrize("behaviour", ["error", "html"])
def test_a_server_that_keeps_failing_gives_a_clear_error(
    themed_project: Project, llm_server: FakeLLMServer, behaviour: str
) -> None:
    llm_server.behave(behaviour)
    with pytest.raises(LLMError, match=r"gave no answer after 2 tries") as error:
        code(themed_project, settings(llm_server, retries=1, batch_size=50, workers=1))
    assert llm_server.url in str(error.value)


def test_a_server_that_is_down_names_the_url(themed_project: Project) -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    down = LLMSettings(url=f"http://127.0.0.1:{port}/v1", model="m", retries=1)
    with pytest.raises(LLMError, match=r"cannot connect") as error:
        code(themed_project, down)
    assert f"127.0.0.1:{port}" in str(error.value) and error.value.fix


def test_a_server_without_json_schema_is_asked_with_the_prompt_alone(
    themed_project: Project, llm_server: FakeLLMServer
) -> None:
    llm_server.behave("no_schema")
    code(themed_project, settings(llm_server, batch_size=50, workers=1))
    assert "response_format" in llm_server.requests[0] and "response_format" not in llm_server.requests[-1]
    assert {(r.segment_text, r.code_id) for r in llm_rows(themed_project)} == expected_cells(themed_project)


# --------------------------------------------------------------------------- loopback rule


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:11434/v1", "http://localhost:8000/v1", "http://[::1]:8080/v1"]
)
def test_this_machine_is_accepted_without_a_warning(url: str) -> None:
    assert check_server(LLMSettings(url=url, model="m")) is None


def test_another_machine_needs_allow_remote_and_then_warns() -> None:
    remote = LLMSettings(url="https://llm.example.org/v1", model="m")
    with pytest.raises(LLMError, match="not this machine") as error:
        check_server(remote)
    assert "--allow-remote-llm" in (error.value.fix or "")
    warning = check_server(remote.model_copy(update={"allow_remote": True}))
    assert (
        warning is not None and "sends the text of every segment" in warning and "llm.example.org" in warning
    )


def test_a_remote_server_is_refused_before_anything_is_sent(themed_project: Project) -> None:
    with pytest.raises(LLMError, match="not this machine"):
        code(themed_project, LLMSettings(url="http://10.20.30.40:8000/v1", model="m"))


def test_a_url_that_is_not_http_is_refused() -> None:
    with pytest.raises(LLMError, match="not an http"):
        check_server(LLMSettings(url="ftp://127.0.0.1/v1", model="m"))


# ----------------------------------------------------------------------- answers and quotes


def test_quotes_are_found_despite_case_space_and_typographic_marks() -> None:
    text = "We’ve waited   six months for an Assessment - and nobody called."
    exact = locate_quote(text, "six months")
    assert exact is not None and text[exact.start : exact.end] == "six months"
    loose = locate_quote(text, '"we\'ve waited six months for an assessment – and"')
    assert (
        loose is not None
        and text[loose.start : loose.end] == "We’ve waited   six months for an Assessment - and"
    )
    assert locate_quote(text, "we waited a year") is None
    assert locate_quote(text, "we") is None  # too short to be evidence


def test_parse_answer_keeps_known_codes_of_segments_asked_about() -> None:
    content = """```json
    {"segments": [
      {"id": 0, "codes": [{"code": "waiting", "quote": "six months", "reason": "A wait.", "confidence": 0.7},
                          {"code": "made-up", "quote": "x", "reason": "", "confidence": 0.9}]},
      {"id": "1", "codes": [{"code": "money", "quote": "the bill", "reason": "Cost.", "confidence": 7}]},
      {"id": 5, "codes": [{"code": "money", "quote": "q", "reason": "", "confidence": 0.5}]}
    ]}
    ```"""
    parsed = parse_answer(content, 2, ["waiting", "money"])
    assert parsed == {
        0: [{"code": "waiting", "quote": "six months", "reason": "A wait.", "confidence": 0.7}],
        1: [{"code": "money", "quote": "the bill", "reason": "Cost.", "confidence": None}],
    }
    with pytest.raises(MalformedAnswer, match="not JSON"):
        parse_answer("Sure! {", 1, ["waiting"])
    with pytest.raises(MalformedAnswer, match="segments"):
        parse_answer('{"codes": []}', 1, ["waiting"])


def test_every_theme_sentence_is_codable_by_the_fake() -> None:
    """The fixture's keywords hit every theme of the test documents, so the runs above code something."""
    for theme, word in KEYWORDS.items():
        assert any(word in sentence.lower() for sentence in THEMES[theme])
