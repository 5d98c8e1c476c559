"""The whole pipeline runs with the network cut off: ingest, segment, code, discover, export and
report, through the command line, with the real all-MiniLM-L6-v2 model and BERTopic.

pytest-socket refuses every socket but a Unix one (SQLite needs none; the tokenizers and torch
threads none either) and every name lookup. Refusals a library might catch and hide are recorded
too, by a wrapper around the guard and by an audit hook (which also sees sockets made below
``socket.socket``, and child processes, which the guard could not follow), and the test fails on
any of them, caught or not.

A subset of the bundled corpus keeps it short: one plain-text interview and one WebVTT transcript,
coded and clustered at sentence level (about 220 segments; discovery's cost is mostly UMAP's
compilation, whatever the size).
"""

from __future__ import annotations

import _socket
import re
import socket
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_socket import SocketBlockedError, disable_socket, enable_socket
from sqlalchemy import func, select
from typer.testing import CliRunner

from narratives.cli import app
from narratives.store import open_project
from narratives.store.tables import candidates, suggestions

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
INTERVIEWS = REPO / "corpus" / "interviews"
SUBSET = [INTERVIEWS / "synthetic_P01_wave1.txt", INTERVIEWS / "synthetic_P04_wave2.vtt"]
ATTRIBUTES = INTERVIEWS / "synthetic_participants.csv"
CODEBOOK = REPO / "models" / "codebooks" / "social-care-lived-experience.yaml"
CODEBOOK_NAME = "social-care-lived-experience"
# What would reach the network, as Python's audit events name it.
SOCKET_METHODS = {"socket.__new__", "socket.bind", "socket.connect", "socket.sendto", "socket.sendmsg"}
LOOKUPS = {"socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex", "socket.gethostbyaddr"}
CHILD_EVENTS = {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.fork"}
REMOTE_RESOURCE = re.compile(
    r"""(src|href)\s*=\s*["']?\s*(https?:)?//|url\(\s*["']?\s*(https?:)?//|@import""", re.I
)

_recording: list[str] | None = None  # the audit hook's log while a test cuts the network off


def _is_unix(sock: object) -> bool:
    return getattr(sock, "family", None) == socket.AF_UNIX


def _audit(event: str, args: tuple[Any, ...]) -> None:
    log = _recording
    if log is None:
        return
    if event in CHILD_EVENTS:
        log.append(f"{event}{args[:2]!r}")
    elif event in SOCKET_METHODS:  # args[0] is the socket
        unix = args[1] == socket.AF_UNIX if event == "socket.__new__" else _is_unix(args[0])
        if not unix:
            log.append(f"{event}{args[1:]!r}")
    elif event in LOOKUPS:
        log.append(f"{event}{args!r}")


sys.addaudithook(_audit)  # hooks cannot be removed; this one records only while `_recording` is set


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Sockets and name lookups refused for the test; yields the list of every attempt."""
    global _recording
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setenv("NARRATIVES_USER", "Offline Tester")
    # urllib3 (imported by the Hugging Face libraries) probes for IPv6 when first imported, by
    # binding a socket to ::1: on this machine only, so the probe runs before the guard goes up.
    import urllib3.util.connection  # noqa: F401

    attempts: list[str] = []
    with pytest.MonkeyPatch.context() as patch:
        disable_socket(allow_unix_socket=True)
        guarded: Any = socket.socket
        guarded_lookup = socket.getaddrinfo

        class RecordingSocket(guarded):
            def __new__(cls, family: int = -1, *args: Any, **kwargs: Any) -> Any:
                if family != socket.AF_UNIX:
                    attempts.append(f"socket.socket({family!r})")
                return super().__new__(cls, family, *args, **kwargs)

        def recording_lookup(host: object, *args: Any, **kwargs: Any) -> Any:
            attempts.append(f"socket.getaddrinfo({host!r})")
            return guarded_lookup(host, *args, **kwargs)

        patch.setattr(socket, "socket", RecordingSocket)
        patch.setattr(socket, "getaddrinfo", recording_lookup)
        _recording = attempts
        try:
            yield attempts
        finally:
            _recording = None
    enable_socket()  # after the context has put pytest-socket's guard back


def test_the_guard_refuses_and_records_a_connection(no_network: list[str]) -> None:
    with pytest.raises(SocketBlockedError):
        socket.create_connection(("example.org", 80), timeout=5)
    with pytest.raises(SocketBlockedError):
        socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    assert any("example.org" in attempt for attempt in no_network)
    assert any(attempt.startswith("socket.socket(") for attempt in no_network)
    left, right = socket.socketpair(socket.AF_UNIX)  # what a local pipe between threads may use
    left.close()
    right.close()
    no_network.clear()
    _socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()  # below the guard: the hook sees it
    subprocess.run([sys.executable, "-c", "pass"], check=True)  # a child the guard would not follow
    assert [attempt.split("(")[0] for attempt in no_network] == ["socket.__new__", "subprocess.Popen"]


def invoke(runner: CliRunner, *args: str | Path) -> str:
    result = runner.invoke(app, [str(arg) for arg in args])
    assert result.exit_code == 0, f"narratives {args[0]} failed:\n{result.output}\n{result.exception!r}"
    return result.output


def test_the_pipeline_runs_with_the_network_cut_off(no_network: list[str], tmp_path: Path) -> None:
    runner = CliRunner()
    project_path = tmp_path / "offline-study"
    invoke(runner, "init", project_path)
    invoke(runner, "ingest", project_path, *SUBSET, "--kind", "interview", "--attributes", ATTRIBUTES)
    invoke(runner, "segment", project_path, "--unit", "sentence")
    invoke(runner, "code", project_path, "--codebook", CODEBOOK, "--unit", "sentence")
    discovered = invoke(runner, "discover", project_path, "--unit", "sentence", "--seed", "42")
    assert "segments clustered" in discovered
    exports = project_path / "exports"
    invoke(runner, "export", project_path, "--format", "csv", "--include-machine")
    invoke(runner, "export", project_path, "--format", "qdpx", "--out", "study.qdpx")
    invoke(runner, "report", project_path, "--out", "report.html")

    assert no_network == [], f"something tried to reach the network: {no_network}"

    project = open_project(project_path)
    try:
        with project.connect() as connection:
            assert connection.execute(select(func.count()).select_from(suggestions)).scalar_one() > 0
            assert connection.execute(select(func.count()).select_from(candidates)).scalar_one() > 0
    finally:
        project.close()
    coded = (exports / f"{CODEBOOK_NAME}.csv").read_text(encoding="utf-8")
    assert coded.count("\n") > 1  # a header and coded segments (machine suggestions included)
    with zipfile.ZipFile(exports / "study.qdpx") as archive:
        assert "project.qde" in archive.namelist()
        assert len([name for name in archive.namelist() if name.startswith("sources/")]) == len(SUBSET)
    report = (exports / "report.html").read_text(encoding="utf-8")
    assert "<html" in report.lower()
    assert REMOTE_RESOURCE.search(report) is None, "the report would load something from elsewhere"
