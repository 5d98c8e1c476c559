"""One chat completion from an OpenAI-compatible server (Ollama, vLLM, llama.cpp's server, ...).

``POST {url}/chat/completions`` with the messages, ``temperature``, a ``seed`` and a JSON-schema
``response_format``; the reply's first choice's ``message.content`` is returned. A server that rejects
``response_format`` (HTTP 400 naming it) is asked again without it: the prompt asks for the same JSON.
Timeouts, refused or reset connections, HTTP 429 and 5xx are tried again ``retries`` times with
exponential backoff; a server that cannot be reached after that, or a 4xx, raises :class:`LLMError`
naming the server and what it said.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from narratives.coding.llm.settings import LLMSettings
from narratives.errors import LLMError

logger = logging.getLogger(__name__)

BACKOFF_S = 0.5  # first wait before trying again; doubles each time
RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}
BODY_EXCERPT = 300


def chat_url(settings: LLMSettings) -> str:
    return settings.url.rstrip("/") + "/chat/completions"


class ChatClient:
    """Chat completions from one server; ``sleep`` is how it waits between tries."""

    def __init__(self, settings: LLMSettings, sleep: Callable[[float], None] = time.sleep):
        self.settings = settings
        self.sleep = sleep
        self.structured = True  # False once the server has refused response_format

    def complete(self, messages: list[dict[str, str]], schema: dict[str, Any], seed: int = 0) -> str:
        """The content of the reply to ``messages``; see the module doc for tries and errors."""
        attempts = self.settings.retries + 1
        last: str = ""
        for attempt in range(attempts):
            if attempt:
                self.sleep(BACKOFF_S * 2 ** (attempt - 1))
            try:
                return self._once(messages, schema, seed)
            except _Retry as retry:
                last = str(retry)
                logger.info("LLM request %d/%d failed: %s", attempt + 1, attempts, last)
        raise LLMError(
            f"the LLM server at {self.settings.url} gave no answer after {attempts} tries ({last}).",
            fix="check that it is running and serves the model (e.g. `ollama serve`, `ollama list`), "
            "or give it longer with --llm-timeout.",
        )

    def _once(self, messages: list[dict[str, str]], schema: dict[str, Any], seed: int) -> str:
        body: dict[str, Any] = {
            "model": self.settings.model,
            "messages": messages,
            "temperature": self.settings.temperature,
            "seed": seed,
            "stream": False,
        }
        if self.structured:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "codes", "schema": schema, "strict": True},
            }
        request = urllib.request.Request(
            chat_url(self.settings),
            data=json.dumps(body).encode("utf-8"),
            headers={"Content-Type": "application/json", "Accept": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.settings.timeout_s) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            text = _excerpt(error.read())
            if error.code == 400 and self.structured and "response_format" in text:
                self.structured = False
                logger.info("the LLM server refuses response_format; asking with the prompt alone")
                return self._once(messages, schema, seed)
            if error.code in RETRY_STATUS:
                raise _Retry(f"HTTP {error.code}: {text}") from None
            raise LLMError(
                f"the LLM server at {self.settings.url} refused the request (HTTP {error.code}: {text}).",
                fix=f"check the model name ('{self.settings.model}') and the URL (the API base, ending in /v1).",
            ) from None
        except TimeoutError:
            raise _Retry(f"no reply within {self.settings.timeout_s:g} s") from None
        except urllib.error.URLError as error:
            if isinstance(error.reason, TimeoutError):
                raise _Retry(f"no reply within {self.settings.timeout_s:g} s") from None
            raise _Retry(f"cannot connect: {error.reason}") from None
        except OSError as error:  # a reset or broken connection
            raise _Retry(f"connection failed: {error}") from None
        return _content(raw)


class _Retry(Exception):
    """A failure worth another try."""


def _content(raw: bytes) -> str:
    """The first choice's message; :class:`_Retry` when the server answered something else (HTML,
    no choices, an empty message)."""
    try:
        document = json.loads(raw.decode("utf-8"))
        content = document["choices"][0]["message"]["content"]
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, IndexError, TypeError):
        raise _Retry(f"not a chat completion: {_excerpt(raw)}") from None
    if not isinstance(content, str) or not content.strip():
        raise _Retry("not a chat completion: an empty message")
    return content


def _excerpt(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace").strip().replace("\n", " ")
    return text[:BODY_EXCERPT] + ("…" if len(text) > BODY_EXCERPT else "")
