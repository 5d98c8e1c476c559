"""`narratives explore`: open the project in the Streamlit explorer."""

from __future__ import annotations

import subprocess
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


LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _run_streamlit(command: list[str]) -> None:
    from narratives.ui.server_config import server_environment

    try:
        completed = subprocess.run(command, env=server_environment())
    except KeyboardInterrupt:
        return
    if completed.returncode not in (0, -2):
        raise typer.Exit(code=completed.returncode)


@app.command()
@friendly_errors
def explore(
    path: Path = typer.Argument(..., help="The project folder."),
    port: int = typer.Option(8501, "--port", help="Port to serve the explorer on."),
    host: str = typer.Option("127.0.0.1", "--host", help="127.0.0.1 or localhost: this machine only."),
    user: str = typer.Option(
        None, "--user", help="The name your reviews and edits are recorded under (default: your login name)."
    ),
) -> None:
    """Open the explorer for yourself, on this machine only, without a login.

    For a team, use `narratives serve`, which asks everyone to log in.
    Example: narratives explore my-study --port 8502
    """
    from narratives.errors import AuthError
    from narratives.store.project import open_project

    if host not in LOOPBACK:
        raise AuthError(
            f"`narratives explore` has no logins, so it listens on this machine only, not on {host}.",
            fix="use `narratives serve PROJECT --host ...`, after `narratives users add`.",
        )
    project = open_project(path)  # fails early, with the fix, when there is no project here
    project.close()
    script = explorer_script(project.cache_dir)
    console.print(f"Explorer for [bold]{path}[/] at http://{host}:{port} (Ctrl+C to stop).")
    from narratives.ui.server_config import streamlit_command

    _run_streamlit(streamlit_command(script, path.resolve(), host, port, user=user))


@app.command()
@friendly_errors
def serve(
    path: Path = typer.Argument(..., help="The project folder."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (0.0.0.0: every interface)."),
    port: int = typer.Option(8501, "--port", help="Port to listen on."),
) -> None:
    """Run the team server: everyone logs in, and each sees what their role allows.

    Add people first with `narratives users add PROJECT NAME --role researcher`. Put it behind a
    TLS reverse proxy when it is reachable from other machines (see the README).
    Example: narratives serve my-study --host 0.0.0.0 --port 8501
    """
    from narratives.errors import AuthError
    from narratives.kinds import Role
    from narratives.store.project import open_project
    from narratives.store.users import user_rows

    project = open_project(path)
    with project.connect() as connection:
        team = [row for row in user_rows(connection) if row.role in (Role.admin.value, Role.researcher.value)]
    script = explorer_script(project.cache_dir)
    project.close()
    if not team:
        raise AuthError(
            "the project has no admin or researcher who could log in.",
            where=path,
            fix=f"add one first: narratives users add {path} YOUR-NAME --role admin",
        )
    from narratives.ui.server_config import SECRETS_NAME, streamlit_command

    _warn_about_single_sign_on(path.resolve() / SECRETS_NAME)
    if host not in LOOPBACK:
        console.print(
            f"[yellow]Listening on {host}: other machines can reach this server. "
            "Put it behind a TLS reverse proxy (README: Running a team server).[/]"
        )
    console.print(f"Team server for [bold]{path}[/] at http://{host}:{port} (Ctrl+C to stop).")
    _run_streamlit(streamlit_command(script, path.resolve(), host, port, login=True))


def _warn_about_single_sign_on(secrets: Path) -> None:
    """Single sign-on sends browsers to the identity provider: say so, and where."""
    if not secrets.is_file():
        return
    import tomllib
    from urllib.parse import urlparse

    from narratives.errors import AuthError

    try:
        auth = tomllib.loads(secrets.read_text(encoding="utf-8")).get("auth", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise AuthError(f"cannot read it: {error}.", where=secrets, fix="fix or remove the file.") from None
    if not auth:
        return
    provider = urlparse(str(auth.get("server_metadata_url", ""))).netloc or "the identity provider"
    console.print(
        f"[yellow]Single sign-on is configured ({secrets}): browsers will be sent to {provider} to "
        "log in, and this server will ask it for their identity.[/]"
    )
    if secrets.stat().st_mode & 0o077:
        console.print(
            f"[yellow]{secrets} is readable by others: chmod 600 it (it holds the client secret).[/]"
        )
