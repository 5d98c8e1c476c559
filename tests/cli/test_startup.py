"""The command line starts at once: importing it, or asking for help, loads no heavy library.

Each check runs in a fresh interpreter, since this test process has long imported everything. How
fast it starts is reported by `narratives bench --startup-only`, not asserted here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from narratives.store import init_project

HEAVY = (
    "torch",
    "sentence_transformers",
    "bertopic",
    "umap",
    "streamlit",
    "spacy",
    "sklearn",
    "scipy",
    "pandas",
)
CODEBOOK = Path(__file__).resolve().parents[2] / "models" / "codebooks" / "social-care-lived-experience.yaml"


def modules_loaded_after(code: str, also: tuple[str, ...] = ()) -> list[str]:
    """Which of the heavy libraries (and ``also``) a fresh interpreter holds after running ``code``."""
    watched = [*HEAVY, *also]
    script = f"{code}\nimport json, sys\nprint(json.dumps([m for m in {watched!r} if m in sys.modules]))"
    completed = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        check=False,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.splitlines()[-1])


def invoke(arguments: list[str]) -> str:
    """Code that runs `narratives ARGUMENTS` through typer's CliRunner and checks it succeeded."""
    return (
        "from typer.testing import CliRunner\n"
        "from narratives.cli import app\n"
        f"result = CliRunner().invoke(app, {arguments!r})\n"
        "assert result.exit_code == 0, result.output\n"
    )


def test_importing_the_cli_loads_no_heavy_library() -> None:
    assert modules_loaded_after("import narratives.cli", also=("alembic",)) == []


def test_help_loads_no_heavy_library() -> None:
    assert modules_loaded_after(invoke(["--help"]), also=("alembic",)) == []


@pytest.mark.parametrize("command", ["status", "codebook validate"])
def test_quick_commands_load_no_heavy_library(command: str, tmp_path: Path) -> None:
    init_project(tmp_path / "p").close()
    arguments = (
        ["status", str(tmp_path / "p")] if command == "status" else ["codebook", "validate", str(CODEBOOK)]
    )
    # alembic too: a project whose schema is up to date opens without it.
    assert modules_loaded_after(invoke(arguments), also=("alembic",)) == []
