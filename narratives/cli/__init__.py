"""The `narratives` command line: thin typer commands over the library.

Importing this package registers every command but loads no heavy library: each command imports
the library modules it needs (and with them torch, spaCy, pandas, BERTopic, alembic) inside its
body, so `narratives --help`, `status` and `codebook validate` start at once.
``tests/cli/test_startup.py`` keeps it so; ``narratives bench --startup-only`` reports the time.
"""

from __future__ import annotations

import importlib

from narratives.cli.app import app

# Each module adds its commands to ``app`` when imported; `--help` lists them in this order.
COMMAND_MODULES = (
    "project_cmds",
    "backup_cmds",
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
    "users_cmds",
    "agreement_cmds",
    "import_cmds",
    "search_cmds",
    "models_cmds",
    "llm_cmds",
    "sentiment_cmds",
)
for _name in COMMAND_MODULES:
    importlib.import_module(f"narratives.cli.{_name}")


def main() -> None:
    app()


__all__ = ["app", "main"]
