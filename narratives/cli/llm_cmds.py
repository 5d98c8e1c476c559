"""`narratives llm set|show|off|check`: the OpenAI-compatible server a project codes with, if any.

The options are shared with `narratives code` (``--llm-url``, ``--llm-model``, ...), which can also
name a server for one run. Only this machine is accepted unless ``--allow-remote-llm`` is given, and
then a warning says that the segments' text leaves the machine.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from narratives.cli.app import app, console, friendly_errors
from narratives.cli.llm_options import (
    ALLOW_REMOTE_OPTION,
    LLM_BATCH_OPTION,
    LLM_TIMEOUT_OPTION,
    llm_settings,
    warn_if_remote,
)

llm_app = typer.Typer(
    help="The optional LLM coder: your own OpenAI-compatible server (Ollama, vLLM, llama.cpp).\n\n"
    "Example: narratives llm set my-project --url http://127.0.0.1:11434/v1 --model llama3.1:8b",
    no_args_is_help=True,
)
app.add_typer(llm_app, name="llm")


@llm_app.command("set")
@friendly_errors
def set_llm(
    path: Path = typer.Argument(..., help="The project folder."),
    url: str = typer.Option(..., "--url", help="API base, e.g. http://127.0.0.1:11434/v1."),
    model: str = typer.Option(..., "--model", help="The model the server should use."),
    allow_remote: bool = ALLOW_REMOTE_OPTION,
    timeout: float = LLM_TIMEOUT_OPTION,
    batch: int = LLM_BATCH_OPTION,
) -> None:
    """Code this project with an LLM too, from now on: every `narratives code` adds it to the ensemble.

    Example: narratives llm set my-project --url http://127.0.0.1:11434/v1 --model llama3.1:8b
    """
    from narratives.coding.llm.settings import set_project_llm
    from narratives.store.project import open_project

    settings = llm_settings(url, model, allow_remote, timeout, batch)
    assert settings is not None  # --url is required
    warn_if_remote(settings)
    set_project_llm(open_project(path), settings)
    console.print(f"The project codes with {escape(settings.model)} at {escape(settings.url)} from now on.")


@llm_app.command("show")
@friendly_errors
def show_llm(path: Path = typer.Argument(..., help="The project folder.")) -> None:
    """The LLM server the project codes with, if any.

    Example: narratives llm show my-project
    """
    from narratives.coding.llm.settings import project_llm
    from narratives.store.project import open_project

    settings = project_llm(open_project(path))
    if settings is None:
        console.print("No LLM coder: the project codes with the phrase, similarity and learned coders.")
        return
    remote = " (another machine: allowed with --allow-remote-llm)" if settings.allow_remote else ""
    console.print(f"{escape(settings.model)} at {escape(settings.url)}{remote}", highlight=False)


@llm_app.command("off")
@friendly_errors
def llm_off(path: Path = typer.Argument(..., help="The project folder.")) -> None:
    """Stop coding the project with an LLM (answers already stored are kept).

    Example: narratives llm off my-project
    """
    from narratives.coding.llm.settings import set_project_llm
    from narratives.store.project import open_project

    set_project_llm(open_project(path), None)
    console.print("The LLM coder is off for this project.")


@llm_app.command("check")
@friendly_errors
def check_llm(path: Path = typer.Argument(..., help="The project folder.")) -> None:
    """Ask the project's LLM server one short question, to see that it answers in the JSON asked for.

    Example: narratives llm check my-project
    """
    from narratives.coding.llm.check import check_answers
    from narratives.coding.llm.settings import project_llm
    from narratives.errors import LLMError
    from narratives.store.project import open_project

    settings = project_llm(open_project(path))
    if settings is None:
        raise LLMError(
            "the project has no LLM server.", fix="narratives llm set PROJECT --url URL --model NAME"
        )
    warn_if_remote(settings)
    console.print(escape(check_answers(settings)), highlight=False)
