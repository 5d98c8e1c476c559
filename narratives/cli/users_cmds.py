"""`narratives users add|list|remove|reset-password`: who may log in to `narratives serve`.

Passwords come from a prompt (asked twice, not echoed) or, for scripts, from the first line of
standard input with ``--password-stdin``; never from a command-line argument, which other users of
the machine can read in the process list.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.table import Table

from narratives.cli.app import app, console, default_user, friendly_errors
from narratives.kinds import Role

users_app = typer.Typer(help="Who may log in to the team server (`narratives serve`), and their roles.")
app.add_typer(users_app, name="users")

PASSWORD_STDIN_HELP = "Read the password from the first line of standard input instead of a prompt."


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@users_app.command("add")
@friendly_errors
def add(
    path: Path = typer.Argument(..., help="The project folder."),
    name: str = typer.Argument(..., help="The login name."),
    role: Role = typer.Option(Role.researcher, "--role", help="admin, researcher or panel."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help=PASSWORD_STDIN_HELP),
    sso: bool = typer.Option(
        False, "--sso", help="No password: logs in only by single sign-on (NAME is their e-mail address)."
    ),
) -> None:
    """Add a person who may log in.

    Example: narratives users add my-study Ana --role researcher
    """
    from narratives.auth.accounts import add_user
    from narratives.store.project import open_project

    password = None if sso else _password(password_stdin)
    project = open_project(path)
    with project.begin() as connection:
        account = add_user(connection, name, role, password, by=default_user())
    console.print(f"Added [bold]{account.name}[/] ({account.role.value}).")


@users_app.command("list")
@friendly_errors
def list_(path: Path = typer.Argument(..., help="The project folder.")) -> None:
    """List who may log in, with their roles (never their passwords).

    Example: narratives users list my-study
    """
    from narratives.auth.accounts import list_users
    from narratives.store.project import open_project

    project = open_project(path)
    with project.connect() as connection:
        accounts = list_users(connection)
    if not accounts:
        console.print(f"No users yet. Add one: narratives users add {path} YOUR-NAME --role admin")
        return
    table = Table(show_header=True)
    for column in ("name", "role", "added by", "added"):
        table.add_column(column)
    for account in accounts:
        table.add_row(
            account.name, account.role.value, account.created_by, f"{account.created:%Y-%m-%d %H:%M}"
        )
    console.print(table)


@users_app.command("remove")
@friendly_errors
def remove(
    path: Path = typer.Argument(..., help="The project folder."),
    name: str = typer.Argument(..., help="The login name."),
) -> None:
    """Remove a person: they can no longer log in, and their open sessions end at once.
    What they recorded stays, under their name.

    Example: narratives users remove my-study Ana
    """
    from narratives.auth.accounts import remove_user
    from narratives.store.project import open_project

    project = open_project(path)
    with project.begin() as connection:
        remove_user(connection, name, by=default_user())
    console.print(f"Removed [bold]{name}[/]; their sessions have ended.")


@users_app.command("reset-password")
@friendly_errors
def reset_password(
    path: Path = typer.Argument(..., help="The project folder."),
    name: str = typer.Argument(..., help="The login name."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help=PASSWORD_STDIN_HELP),
) -> None:
    """Set a new password; the person's open sessions end.

    Example: printf '%s\\n' "$NEW_PASSWORD" | narratives users reset-password my-study Ana --password-stdin
    """
    from narratives.auth.accounts import reset_password as reset
    from narratives.store.project import open_project

    password = _password(password_stdin)
    project = open_project(path)
    with project.begin() as connection:
        reset(connection, name, password, by=default_user())
    console.print(f"New password set for [bold]{name}[/]; their sessions have ended.")
