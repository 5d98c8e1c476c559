"""`narratives explore`: open the project in the Streamlit explorer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import typer

from narratives.cli.app import app, console, friendly_errors

ENTRY = "import sys\nfrom narratives.ui.common import navigation\n\nnavigation(sys.argv[1:]).run()\n"


def explorer_script(project_cache: Path) -> Path:
    """The repository's app.py, or (installed without it) a copy of its two lines in the cache."""
    repo_app = Path(__file__).resolve().parents[2] / "app.py"
    if repo_app.is_file():
        return repo_app
    script = project_cache / "explorer_app.py"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(ENTRY, encoding="utf-8")
    return script


def streamlit_command(script: Path, project: Path, host: str, port: int) -> list[str]:
    return [
        sys.executable, "-m", "streamlit", "run", str(script),
        "--server.headless", "true",
        "--server.address", host,
        "--server.port", str(port),
        "--browser.gatherUsageStats", "false",
        "--", "--project", str(project),
    ]  # fmt: skip


@app.command()
@friendly_errors
def explore(
    path: Path = typer.Argument(..., help="The project folder."),
    port: int = typer.Option(8501, "--port", help="Port to serve the explorer on."),
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to listen on (127.0.0.1: this machine only)."
    ),
) -> None:
    """Open the explorer (review queue, documents, codebook, panel, audit) in your browser.

    Example: narratives explore my-study --port 8502
    """
    from narratives.store.project import open_project

    project = open_project(path)  # fails early, with the fix, when there is no project here
    project.close()
    script = explorer_script(project.cache_dir)
    console.print(f"Explorer for [bold]{path}[/] at http://{host}:{port} (Ctrl+C to stop).")
    environment = {**os.environ, "NARRATIVES_PROJECT": str(path.resolve()), "HF_HUB_OFFLINE": "1"}
    try:
        completed = subprocess.run(streamlit_command(script, path.resolve(), host, port), env=environment)
    except KeyboardInterrupt:
        return
    if completed.returncode not in (0, -2):
        raise typer.Exit(code=completed.returncode)
