"""One short request to an LLM server, to show a user that it answers as the coder needs."""

from __future__ import annotations

from narratives.coding.llm.client import ChatClient
from narratives.coding.llm.prompt import MalformedAnswer, answer_schema, parse_answer, user_message
from narratives.coding.llm.settings import LLMSettings
from narratives.errors import LLMError

CHECK_TEXT = "I waited six months for an assessment and nobody called me back."
CHECK_SYSTEM = (
    'Code the segment with the code "waiting" when it describes waiting for care. Answer with JSON only: '
    '{"segments": [{"id": 0, "codes": [{"code": "waiting", "quote": <exact words of the segment>, '
    '"reason": <one sentence>, "confidence": <0 to 1>}]}]}'
)


def check_answers(settings: LLMSettings) -> str:
    """A one-line report of the server's answer to a known segment; raises LLMError if it fails."""
    messages = [
        {"role": "system", "content": CHECK_SYSTEM},
        {"role": "user", "content": user_message([CHECK_TEXT])},
    ]
    content = ChatClient(settings).complete(messages, answer_schema(["waiting"]))
    try:
        answer = parse_answer(content, 1, ["waiting"])
    except MalformedAnswer as error:
        raise LLMError(
            f"{settings.model} at {settings.url} answered, but not with the JSON asked for ({error}).",
            fix="use an instruction-tuned model that supports JSON output.",
        ) from None
    codes = answer.get(0, [])
    if not codes:
        return f"{settings.model} at {settings.url} answers in JSON, but did not code the test segment."
    return f"{settings.model} at {settings.url} answers in JSON: quoted “{codes[0]['quote']}”."
