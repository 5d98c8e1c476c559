"""One short request to an LLM server, with the coder's own prompt, to show a user that it answers
as the coder needs."""

from __future__ import annotations

from narratives.coding.llm.client import ChatClient
from narratives.coding.llm.prompt import (
    MalformedAnswer,
    answer_schema,
    parse_answer,
    system_message,
    user_message,
)
from narratives.coding.llm.settings import LLMSettings
from narratives.errors import LLMError
from narratives.schema import Code

CHECK_TEXT = "I waited six months for an assessment and nobody called me back."
CHECK_CODE = Code(
    id="waiting", name="Waiting for care", definition="Waiting a long time for an assessment or care."
)


def check_answers(settings: LLMSettings) -> str:
    """A one-line report of the server's answer to a known segment; raises LLMError if it fails."""
    messages = [
        {"role": "system", "content": system_message([CHECK_CODE])},
        {"role": "user", "content": user_message([CHECK_TEXT])},
    ]
    content = ChatClient(settings).complete(messages, answer_schema([CHECK_CODE.id]))
    try:
        answer = parse_answer(content, 1, [CHECK_CODE.id])
    except MalformedAnswer as error:
        raise LLMError(
            f"{settings.model} at {settings.url} answered, but not with the JSON asked for ({error}).",
            fix="use an instruction-tuned model that supports JSON output.",
        ) from None
    codes = answer.get(0, [])
    if not codes:
        return f"{settings.model} at {settings.url} answers in JSON, but did not code the test segment."
    return f"{settings.model} at {settings.url} answers in JSON: quoted “{codes[0]['quote']}”."
