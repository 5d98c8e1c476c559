"""The Streamlit options every explorer runs with: one shipped file, the same flags for
`narratives explore`, `narratives serve` and `streamlit run app.py`, and a real start with them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import tomllib
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from narratives.auth.accounts import add_user
from narratives.kinds import Role
from narratives.store import init_project
from narratives.ui.server_config import (
    CONFIG_FILE,
    START_TIMEOUT,
    shipped_options,
    streamlit_command,
    streamlit_flags,
    wait_until_healthy,
)
from tests.e2e.conftest import free_port

REPO = Path(__file__).resolve().parents[2]
PRIVATE = {  # what keeps the explorer from advertising or reporting elsewhere
    "browser.gatherUsageStats": False,
    "client.toolbarMode": "minimal",
    "client.showErrorDetails": "none",
    "global.developmentMode": False,
    "server.headless": True,
    "logger.hideWelcomeMessage": True,  # the banner looks up the machine's external address
}


def flag_pairs(command: list[str]) -> dict[str, str]:
    """``{"client.toolbarMode": "minimal", ...}`` from the ``--key value`` pairs before ``--``."""
    end = command.index("--")
    start = next(at for at, word in enumerate(command) if word.startswith("--"))
    flags = command[start:end]
    names, values = flags[0::2], flags[1::2]
    assert all(name.startswith("--") for name in names), flags
    return {name[2:]: value for name, value in zip(names, values, strict=True)}


def test_the_repository_config_is_the_shipped_one() -> None:
    # `streamlit run app.py` in the repository reads .streamlit/config.toml; everything else, the flags.
    copy = REPO / ".streamlit" / "config.toml"
    assert copy.read_bytes() == CONFIG_FILE.read_bytes(), "copy narratives/ui/streamlit.toml to .streamlit/"


def test_the_shipped_file_keeps_the_explorer_to_itself() -> None:
    options = shipped_options()
    assert options["server.address"] == "127.0.0.1"  # `streamlit run app.py` too: this machine only
    for key, value in PRIVATE.items():
        assert options[key] == value, key
    assert tomllib.loads(CONFIG_FILE.read_text(encoding="utf-8"))["browser"]["gatherUsageStats"] is False


@pytest.mark.parametrize("login", [False, True], ids=["explore", "serve"])
def test_both_commands_pass_the_private_options(login: bool, tmp_path: Path) -> None:
    command = streamlit_command(REPO / "app.py", tmp_path, "127.0.0.1", 8599, login=login, user="Sam")
    flags = flag_pairs(command)
    assert flags["client.toolbarMode"] == "minimal"
    assert flags["browser.gatherUsageStats"] == "false"
    assert flags["global.developmentMode"] == "false"
    assert flags["server.address"] == "127.0.0.1"
    assert flags["server.port"] == "8599"
    assert command[command.index("--") + 1 :][:2] == ["--project", str(tmp_path)]
    assert ("--login" in command) is login


def test_overrides_win_over_the_shipped_options() -> None:
    flags = flag_pairs([*streamlit_flags(server_address="0.0.0.0", client_toolbar_mode="viewer"), "--"])
    assert flags["server.address"] == "0.0.0.0"
    assert flags["client.toolbarMode"] == "viewer"
    assert flags["browser.gatherUsageStats"] == "false"


@pytest.mark.parametrize("key", sorted(shipped_options()))
def test_every_shipped_option_is_one_streamlit_knows(key: str) -> None:
    from streamlit import config

    config.get_option(key)  # raises for an option this Streamlit does not have


# ------------------------------------------------------------------- `narratives explore` starts


@contextmanager
def running_cli(arguments: list[str], log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A `narratives` command in its own process group (it runs Streamlit as a child), stopped after."""
    environment = {**os.environ, "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-c", "from narratives.cli import main; main()", *arguments]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=log_path.parent,  # not the repository: no .streamlit/config.toml to lean on, only the flags
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def child_commands(pid: int) -> list[list[str]]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [Path(f"/proc/{child}/cmdline").read_bytes().decode().split("\0")[:-1] for child in children]


def test_narratives_explore_starts_streamlit_with_the_flags(tmp_path: Path) -> None:
    init_project(tmp_path / "study").close()
    port = free_port()
    log_path = tmp_path / "explore.log"
    arguments = ["explore", str(tmp_path / "study"), "--port", str(port), "--user", "Sam"]
    with running_cli(arguments, log_path) as process:
        wait_until_healthy(process, f"http://127.0.0.1:{port}", log_path, START_TIMEOUT)
        streamlit = [command for command in child_commands(process.pid) if "streamlit" in command]
        assert len(streamlit) == 1, child_commands(process.pid)
        flags = flag_pairs(streamlit[0])
    for key, value in PRIVATE.items():
        assert flags[key] == ("true" if value is True else "false" if value is False else value), key
    assert flags["server.address"] == "127.0.0.1" and flags["server.port"] == str(port)
    log = log_path.read_text()
    assert f"http://127.0.0.1:{port}" in log  # the address, from narratives itself
    assert "Warning" not in log and "Error" not in log, log


def test_the_team_server_on_every_interface_asks_no_one_for_its_address(tmp_path: Path) -> None:
    """Streamlit's banner would look up an "External URL" (checkip.amazonaws.com) at start-up."""
    project = init_project(tmp_path / "study")
    with project.begin() as connection:
        add_user(connection, "Ana", Role.admin, "correct horse battery staple")
    project.close()
    port = free_port()
    log_path = tmp_path / "serve.log"
    with running_cli(
        ["serve", str(tmp_path / "study"), "--host", "0.0.0.0", "--port", str(port)], log_path
    ) as process:
        wait_until_healthy(process, f"http://127.0.0.1:{port}", log_path, START_TIMEOUT)
        wait_for_log(log_path, "Uvicorn server started")  # the banner comes after this line,
        # printed (after its blocking look-ups) on the event loop that must also answer this page:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as answer:
            assert answer.status == 200
    log = log_path.read_text()
    for looked_up in ("External URL", "Network URL", "Did not auto detect external IP"):
        assert looked_up not in log, log
    assert f"http://0.0.0.0:{port}" in log  # narratives says where it listens


def wait_for_log(log_path: Path, line: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while line not in log_path.read_text():
        assert time.monotonic() < deadline, f"no {line!r} in:\n{log_path.read_text()[-3000:]}"
        time.sleep(0.25)  # the interval between two reads of the log
