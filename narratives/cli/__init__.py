"""The `narratives` command line: thin typer commands over the library."""

from __future__ import annotations

import importlib

from narratives.cli.app import app

# Each module adds its commands to ``app`` when imported.
_COMMAND_MODULES = [
    "project_cmds",
    "ingest_cmds",
    "codebook_cmds",
    "coding_cmds",
    "discover_cmds",
    "evaluate_cmds",
    "explore_cmds",
    "run_cmds",
    "bench_cmds",
    "analysis_cmds",
    "privacy_cmds",
]
for _name in _COMMAND_MODULES:
    try:
        importlib.import_module(f"narratives.cli.{_name}")
    except ModuleNotFoundError as error:  # a module not written yet during development
        if error.name != f"narratives.cli.{_name}":
            raise


def main() -> None:
    app()


__all__ = ["app", "main"]
