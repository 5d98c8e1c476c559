"""The typer application and the helpers every command module shares.

Command modules (``narratives/cli/*_cmds.py``) add commands to :data:`app`; each command parses its
options, calls the library and prints a summary. Library errors become one clear line, no traceback.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from narratives.errors import NarrativesError

if TYPE_CHECKING:
    from rich.progress import Progress

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# The tool uses no pydantic plugins; looking for them scans every installed package's entry points
# (about 20 ms of each start-up). Set PYDANTIC_DISABLE_PLUGINS yourself to use one.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

app = typer.Typer(
    name="narratives",
    help=(
        "Qualitative research on lived-experience narratives in adult social care.\n\n"
        "Example: narratives init demo && narratives ingest demo corpus/*.md --kind blog"
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
# Output that is not a terminal (a pipe, a file, a test) is never wrapped to a guessed width, so what a
# command prints does not depend on the terminal or on how long a path is.
PIPE_WIDTH = 1000


def make_console(stderr: bool = False) -> Console:
    """A console that wraps at the terminal's width, and not at all when the output is not a terminal."""
    console = Console(stderr=stderr)
    if not console.is_terminal:
        console = Console(stderr=stderr, width=PIPE_WIDTH)
    return console


console = make_console()
err_console = make_console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")


def friendly_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn a library error into one red line and exit code 1 (sqlite-utils' ClickException habit)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except NarrativesError as error:
            err_console.print(f"[bold red]Error[/] {escape(str(error))}", highlight=False)
            raise typer.Exit(code=1) from None

    return wrapper


def configure_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


def default_user() -> str:
    """Who is acting: $NARRATIVES_USER, else the login name."""
    import getpass

    return os.environ.get("NARRATIVES_USER") or getpass.getuser() or "unknown"


# The --engine, --ray-address and --workers options of run, segment and code, declared once
ENGINE_OPTION = typer.Option(
    "local",
    "--engine",
    help="Where segmenting and coding run: local (this process) or ray (needs narratives[ray]).",
)
RAY_ADDRESS_OPTION = typer.Option(
    None,
    "--ray-address",
    help="With --engine ray: the address of a running Ray cluster, e.g. ray://head:10001 (default: a local Ray).",
)
WORKERS_OPTION = typer.Option(
    None,
    "--workers",
    help="With --engine ray: workers (one CPU each) per stage (default: every CPU Ray has).",
)


def stage_reporter(bar: Progress) -> Callable[[str, int, int], None]:
    """``report(stage, done, total)`` drawing one task of ``bar`` per stage, as the library's
    progress callbacks (coding, sentiment) call it."""
    tasks: dict[str, Any] = {}

    def report(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=total)
        bar.update(tasks[stage], completed=done, total=total)

    return report


def progress_bar() -> Progress:
    """A rich progress bar for anything longer than a second."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
