"""Which OpenAI-compatible server the LLM coder asks, and whether it may be another machine.

By default only this machine is accepted: ``localhost`` or a loopback address (127.0.0.0/8, ::1).
Any other host needs ``allow_remote`` (``--allow-remote-llm``), and then :func:`check_server` returns a
warning for the caller to show: the segments' text will leave the machine.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from narratives.errors import LLMError

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from narratives.store.project import Project

logger = logging.getLogger(__name__)

SETTING_KEY = "llm"  # the project setting holding LLMSettings


class LLMSettings(BaseModel):
    """Where and how the LLM coder asks; part of the coding config, so its hash is on every suggestion."""

    model_config = ConfigDict(extra="forbid")

    url: str  # the API base, e.g. http://127.0.0.1:11434/v1 (…/chat/completions is added)
    model: str
    allow_remote: bool = False
    timeout_s: float = Field(default=120.0, gt=0)  # per request
    retries: int = Field(default=3, ge=0)  # further tries after a timeout, a 5xx or a malformed answer
    batch_size: int = Field(default=4, ge=1, le=50)  # segments per request
    workers: int = Field(default=2, ge=1, le=32)  # requests in flight at once
    temperature: float = Field(default=0.0, ge=0, le=2)
    max_examples: int = Field(default=2, ge=0, le=10)  # reviewed examples per code in the prompt


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_server(settings: LLMSettings) -> str | None:
    """Raise :class:`LLMError` unless the URL is http(s) on this machine, or remote and allowed;
    return the warning to show when it is remote (None for this machine)."""
    parts = urlsplit(settings.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise LLMError(
            f"'{settings.url}' is not an http(s) URL of an OpenAI-compatible server.",
            fix="give the API base, e.g. --llm-url http://127.0.0.1:11434/v1 (Ollama) or http://127.0.0.1:8000/v1 (vLLM).",
        )
    if is_loopback(parts.hostname):
        return None
    if not settings.allow_remote:
        raise LLMError(
            f"the LLM server '{parts.hostname}' is not this machine, and coding would send the segments' "
            "text (people's accounts of their care) to it.",
            fix="run the model on this machine (a loopback address such as 127.0.0.1), or, if your "
            "data agreement allows it, add --allow-remote-llm.",
        )
    warning = (
        f"WARNING: the LLM coder sends the text of every segment it codes to {parts.hostname}, "
        "another machine. Make sure your data-sharing agreement allows it."
    )
    logger.warning(warning)
    return warning


def project_llm(project: Project) -> LLMSettings | None:
    """The LLM server a project is set to code with (``narratives llm set``), if any."""
    from narratives.store.settings import get_setting

    with project.connect() as connection:
        stored = get_setting(connection, SETTING_KEY)
    return LLMSettings.model_validate(stored) if stored else None


def llm_for(project: Project, given: LLMSettings | None) -> LLMSettings | None:
    """The LLM server a run codes with: ``given`` (this run's own), else the project's setting."""
    return given if given is not None else project_llm(project)


def set_project_llm(project: Project, settings: LLMSettings | None) -> None:
    """Make ``settings`` the project's LLM server (checked first); None switches the LLM coder off."""
    from narratives.store.settings import set_setting

    if settings is not None:
        check_server(settings)
    value = settings.model_dump(mode="json") if settings is not None else None

    def store(connection: Connection) -> None:
        set_setting(connection, SETTING_KEY, value)

    project.write(store, what="the project's LLM settings")
