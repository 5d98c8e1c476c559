"""The Streamlit options the explorer always runs with, from the ``streamlit.toml`` shipped here."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

CONFIG_FILE = Path(__file__).parent / "streamlit.toml"


def shipped_options() -> dict[str, object]:
    """``{"client.toolbarMode": "minimal", ...}`` from the shipped file."""
    data = tomllib.loads(CONFIG_FILE.read_text(encoding="utf-8"))
    return {f"{section}.{key}": value for section, values in data.items() for key, value in values.items()}


def _flag_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def streamlit_flags(**overrides: object) -> list[str]:
    """Command-line flags for ``streamlit run`` (``server_address="..."`` style overrides win)."""
    options = shipped_options()
    for key, value in overrides.items():
        section, name = key.split("_", 1)
        camel = name.split("_")[0] + "".join(part.title() for part in name.split("_")[1:])
        options[f"{section}.{camel}"] = value
    flags: list[str] = []
    for key, value in options.items():
        flags += [f"--{key}", _flag_value(value)]
    return flags


SECRETS_NAME = "secrets.toml"  # in the project folder: single sign-on settings for `narratives serve`
START_TIMEOUT = 240.0  # seconds for a cold `streamlit run` (imports, first page) on a loaded machine


def streamlit_command(
    script: Path, project: Path, host: str, port: int, *, login: bool = False, user: str | None = None
) -> list[str]:
    """The `streamlit run` command of `narratives explore` (``user``) or `narratives serve`
    (``login``), with the shipped options; the benchmark and the tests start the explorer with it."""
    app_args = (
        ["--project", str(project)] + (["--login"] if login else []) + (["--user", user] if user else [])
    )
    flags = streamlit_flags(server_address=host, server_port=port)
    secrets = project / SECRETS_NAME
    if login and secrets.is_file():
        flags += ["--secrets.files", str(secrets)]
    return [sys.executable, "-m", "streamlit", "run", str(script), *flags, "--", *app_args]


def server_environment() -> dict[str, str]:
    """The environment the explorer runs in: models from installed packages only."""
    return {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def wait_until_healthy(
    process: subprocess.Popen[bytes], url: str, log: Path, timeout: float = START_TIMEOUT
) -> None:
    """Until the server at ``url`` answers its health check; RuntimeError, with the end of its log,
    when it exits first or does not answer within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited early; log:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=10) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.25)  # the interval between two polls of the health endpoint
    raise RuntimeError(f"streamlit did not answer in {timeout}s; log:\n{log.read_text()[-3000:]}")
