"""narratives.toml is written by a TOML library, so any character of a --db URL reads back; a
database password never goes into it (a 0600 database-secret.toml, or NARRATIVES_DB_PASSWORD,
which wins); an older project with its password in narratives.toml still opens, with a warning,
and `narratives init` moves the password out. Exports are owner-only from their first byte."""

from __future__ import annotations

import logging
import os
import stat
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
import tomli_w
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from narratives.cli import app
from narratives.store import init_project, open_project
from narratives.store.settings_file import (
    CONFIG_NAME,
    PASSWORD_ENV,
    SECRET_NAME,
    database_url,
    move_password_out,
    split_password,
    with_password,
    write_settings,
)
from tests.store.conftest import PG_URL, _drop_pg_database, _fresh_pg_database

PASSWORDS = ["s3cret", 'p@ss:w/rd"\\ q', "pässwörd#%?&="]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def open_umask(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    monkeypatch.delenv("NARRATIVES_DB_URL", raising=False)
    previous = os.umask(0)
    yield
    os.umask(previous)


def test_a_quote_and_a_backslash_in_init_db_round_trip(tmp_path: Path) -> None:
    database = tmp_path / 'odd "quoted" \\ folder' / "study.db"
    database.parent.mkdir()
    url = f"sqlite:///{database}"
    result = CliRunner().invoke(app, ["init", str(tmp_path / "p"), "--db", url])
    assert result.exit_code == 0, result.output
    assert tomllib.loads((tmp_path / "p" / CONFIG_NAME).read_text(encoding="utf-8"))["db_url"] == url
    project = open_project(tmp_path / "p")
    try:
        assert project.db_url == url and database.exists()
    finally:
        project.close()


@pytest.mark.parametrize("password", PASSWORDS)
def test_a_password_is_kept_out_of_the_settings_and_put_back_on_opening(
    tmp_path: Path, password: str
) -> None:
    url = make_url("postgresql+psycopg://ana@db.example:5432/study").set(password=password)
    full = url.render_as_string(hide_password=False)
    write_settings(tmp_path, full)
    settings = (tmp_path / CONFIG_NAME).read_text(encoding="utf-8")
    assert password not in settings and "db.example" in settings
    assert mode(tmp_path / CONFIG_NAME) == 0o600 and mode(tmp_path / SECRET_NAME) == 0o600
    assert tomllib.loads((tmp_path / SECRET_NAME).read_text(encoding="utf-8"))["password"] == password
    rebuilt = database_url(tmp_path, "unused")
    assert make_url(rebuilt).password == password and rebuilt == full


def test_the_environment_password_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_settings(tmp_path, "postgresql+psycopg://ana:from-file@db.example/study")
    monkeypatch.setenv(PASSWORD_ENV, "from-env")
    assert make_url(database_url(tmp_path, "unused")).password == "from-env"


def test_an_old_settings_file_with_a_password_opens_warns_and_is_moved(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / CONFIG_NAME).write_text(
        '# narratives project\ndb_url = "postgresql+psycopg://ana:old-pass@db.example/study"\n',
        encoding="utf-8",
    )
    with caplog.at_level(logging.WARNING):
        assert make_url(database_url(tmp_path, "unused")).password == "old-pass"
    assert f"narratives init {tmp_path}" in caplog.text and "plain text" in caplog.text
    assert move_password_out(tmp_path)
    assert "old-pass" not in (tmp_path / CONFIG_NAME).read_text(encoding="utf-8")
    assert make_url(database_url(tmp_path, "unused")).password == "old-pass"
    assert not move_password_out(tmp_path)  # nothing left to move


def test_urls_without_a_password_pass_through() -> None:
    assert split_password("sqlite:////data/study.db") == ("sqlite:////data/study.db", None)
    assert split_password("not a url") == ("not a url", None)
    assert with_password("postgresql://ana@h/db", None) == "postgresql://ana@h/db"


@pytest.mark.postgres
def test_a_postgresql_project_with_a_password_opens_from_the_secret_file(tmp_path: Path) -> None:
    if not PG_URL:
        pytest.skip("PostgreSQL tests skipped: no server reachable (set NARRATIVES_TEST_PG_URL)")
    url, name = _fresh_pg_database()
    with_secret = make_url(url).set(password='pa"ss\\word').render_as_string(hide_password=False)
    try:
        init_project(tmp_path / "p", db_url=with_secret).close()  # the test server trusts any password
        stored = tomllib.loads((tmp_path / "p" / CONFIG_NAME).read_text(encoding="utf-8"))["db_url"]
        assert make_url(stored).password is None and mode(tmp_path / "p" / SECRET_NAME) == 0o600
        project = open_project(tmp_path / "p")
        assert make_url(project.db_url).password == 'pa"ss\\word'
        project.close()
        init_project(tmp_path / "p", db_url=with_secret).close()  # the same URL again: the same project
        (tmp_path / "p" / SECRET_NAME).unlink()  # as an older version left it: the password in the settings
        (tmp_path / "p" / CONFIG_NAME).write_text(tomli_w.dumps({"db_url": with_secret}), encoding="utf-8")
        old = open_project(tmp_path / "p")
        assert make_url(old.db_url).password == 'pa"ss\\word'
        old.close()
        assert CliRunner().invoke(app, ["init", str(tmp_path / "p")]).exit_code == 0
        assert 'pa"ss' not in (tmp_path / "p" / CONFIG_NAME).read_text(encoding="utf-8")
        assert mode(tmp_path / "p" / SECRET_NAME) == 0o600
        moved = open_project(tmp_path / "p")
        assert make_url(moved.db_url).password == 'pa"ss\\word'
        moved.close()
    finally:
        _drop_pg_database(name)


def test_exports_are_owner_only_under_an_open_umask(tmp_path: Path) -> None:
    from narratives.interop.refi_qda import export_qdpx
    from narratives.interop.report import write_report
    from narratives.interop.reviews_csv import export_reviews_csv
    from narratives.interop.tables import export_csv, export_xlsx
    from tests.builders.demo_project import CODEBOOK, build_demo_project

    built = build_demo_project(tmp_path / "demo", with_discovery=False)
    project, out = built.project, tmp_path / "out"
    try:
        export_reviews_csv(project, out / "reviews.csv")
        export_qdpx(project, CODEBOOK, out / "study.qdpx", user="ana")
        with project.connect() as connection:
            written = export_csv(connection, CODEBOOK, out / "coded.csv")
            export_xlsx(connection, CODEBOOK, out / "coded.xlsx")
            write_report(connection, CODEBOOK, out / "report.html")
            write_report(connection, CODEBOOK, out / "report.md")
    finally:
        project.close()
    files = sorted(out.iterdir())
    assert {f.name for f in files} >= {"reviews.csv", "study.qdpx", "coded.xlsx", "report.html", "report.md"}
    assert all(f in files for f in written)
    assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
