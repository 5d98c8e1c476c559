"""The LLM coder's command-line options and their checks, shared by `narratives code` and `narratives llm`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape

from narratives.cli.app import err_console

if TYPE_CHECKING:
    from narratives.coding.llm.settings import LLMSettings

LLM_URL_OPTION: Any = typer.Option(
    None, "--llm-url", help="API base of an OpenAI-compatible server, e.g. http://127.0.0.1:11434/v1."
)
LLM_MODEL_OPTION: Any = typer.Option(None, "--llm-model", help="The model the server should use.")
ALLOW_REMOTE_OPTION: Any = typer.Option(
    False, "--allow-remote-llm", help="Accept a server on another machine: the segments' text is sent there."
)
LLM_TIMEOUT_OPTION: Any = typer.Option(120.0, "--llm-timeout", min=1, help="Seconds to wait for one reply.")
LLM_BATCH_OPTION: Any = typer.Option(4, "--llm-batch", min=1, max=50, help="Segments per request.")


def llm_settings(
    url: str | None, model: str | None, allow_remote: bool, timeout: float, batch: int
) -> LLMSettings | None:
    """LLMSettings from the command line, or None when no URL is given."""
    from narratives.coding.llm.settings import LLMSettings
    from narratives.errors import LLMError

    if url is None:
        if model is not None:
            raise LLMError(
                "--llm-model needs --llm-url.", fix="give both, e.g. --llm-url http://127.0.0.1:11434/v1"
            )
        return None
    if not model:
        raise LLMError(
            "--llm-url needs --llm-model.", fix="name the model the server serves (e.g. `ollama list`)."
        )
    return LLMSettings(url=url, model=model, allow_remote=allow_remote, timeout_s=timeout, batch_size=batch)


def warn_if_remote(settings: LLMSettings) -> None:
    from narratives.coding.llm.settings import check_server

    warning = check_server(settings)
    if warning:
        err_console.print(f"[bold red]{escape(warning)}[/]", highlight=False)
