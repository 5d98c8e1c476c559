"""The project's settings file, ``narratives.toml``, and where a database password is kept.

The file is written with a TOML library (``tomli-w``), so any character in a database URL (a ``"``,
a backslash) reads back as written. A password in the URL never goes into it: the URL is stored
without the password, and the password goes into ``database-secret.toml`` beside it (owner-only), or
comes from the environment variable :data:`PASSWORD_ENV`, which wins. :func:`database_url` puts the
URL back together. A project written before this kept its password in ``narratives.toml``: it still
opens, with a warning saying how to move the password out (:func:`move_password_out`, which
``narratives init PROJECT`` runs on an existing project).
"""

from __future__ import annotations

import logging
import os
import tomllib
from pathlib import Path
from typing import Any

import tomli_w
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from narratives.errors import ProjectError
from narratives.store.files import write_private

logger = logging.getLogger(__name__)

CONFIG_NAME = "narratives.toml"
# Not secrets.toml: `narratives serve` keeps Streamlit's single sign-on secrets under that name.
SECRET_NAME = "database-secret.toml"
PASSWORD_ENV = "NARRATIVES_DB_PASSWORD"
URL_ENV = "NARRATIVES_DB_URL"
HEADER = "# narratives project settings (the database password, if any, is in database-secret.toml)\n"


def _parsed(url: str) -> URL | None:
    try:
        return make_url(url)
    except ArgumentError:  # not a URL at all: opening it says so, with the fix
        return None


def split_password(url: str) -> tuple[str, str | None]:
    """``(url without its password, the password or None)``."""
    parsed = _parsed(url)
    if parsed is None or parsed.password is None:
        return url, None
    without = parsed._replace(password=None)  # URL is a NamedTuple; URL.set(password=None) keeps it
    return without.render_as_string(hide_password=False), str(parsed.password)


def with_password(url: str, password: str | None) -> str:
    """``url`` with ``password`` put in (replacing its own, if any); ``url`` as it is for no password."""
    parsed = _parsed(url)
    if parsed is None or password is None:
        return url
    return parsed.set(password=password).render_as_string(hide_password=False)


def write_settings(folder: Path, db_url: str) -> None:
    """Write ``narratives.toml`` (``db_url`` empty means the SQLite file beside it) and, when the URL
    carries a password, ``database-secret.toml`` with it; both owner-only, each replaced at once."""
    stored, password = split_password(db_url)
    if password is not None:
        write_private(folder / SECRET_NAME, tomli_w.dumps({"password": password}))
    write_private(folder / CONFIG_NAME, HEADER + tomli_w.dumps({"db_url": stored}))


def _read_toml(file: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        fix = (
            f'correct the file by hand (it holds one line: db_url = "..."), or delete it and run '
            f"narratives init {file.parent} --db URL again."
        )
        raise ProjectError(f"the project settings cannot be read ({error}).", where=file, fix=fix) from None


def stored_db_url(folder: Path) -> str:
    """The URL as ``narratives.toml`` holds it (empty: the SQLite file in the project folder)."""
    return str(_read_toml(folder / CONFIG_NAME).get("db_url") or "")


def stored_password(folder: Path) -> str | None:
    """The database password: :data:`PASSWORD_ENV` if set, else ``database-secret.toml``'s."""
    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV]
    secret = folder / SECRET_NAME
    if not secret.exists():
        return None
    value = _read_toml(secret).get("password")
    return None if value is None else str(value)


def database_url(folder: Path, default: str) -> str:
    """The full database URL of the project in ``folder``: :data:`URL_ENV`, else the stored URL
    (``default`` if empty), with the password put back in."""
    url = os.environ.get(URL_ENV) or stored_db_url(folder) or default
    if split_password(stored_db_url(folder))[1] is not None and not os.environ.get(URL_ENV):
        logger.warning(
            "%s keeps the database password in plain text; run `narratives init %s` to move it into "
            "%s (owner-only), or keep it in the environment variable %s instead.",
            folder / CONFIG_NAME,
            folder,
            SECRET_NAME,
            PASSWORD_ENV,
        )
    return with_password(url, stored_password(folder))


def move_password_out(folder: Path) -> bool:
    """Rewrite a ``narratives.toml`` that holds a password without it, the password going into
    ``database-secret.toml``; returns whether there was one to move."""
    stored = stored_db_url(folder)
    if split_password(stored)[1] is None:
        return False
    write_settings(folder, stored)
    return True
