"""Fixtures for the browser tests: a demo project, the real Streamlit server, headless Chromium, axe.

The browser tests need Debian's Chromium (``/usr/bin/chromium``, which ``scripts/test.sh``
installs) and the ``playwright`` Python package; they are skipped, saying which is missing, when
either is absent. ``playwright install`` is never run: it downloads a browser, which fails here.
axe-core comes from npm (``tests/e2e/package.json``; ``scripts/test.sh`` runs ``npm install``).

Outputs land in ``test-output/``: ``screenshots/<page>.png`` and ``axe/<page>.json``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.builders.demo_project import DemoProject, build_demo_project

REPO = Path(__file__).resolve().parents[2]
E2E = Path(__file__).resolve().parent
CHROMIUM = Path("/usr/bin/chromium")
AXE_JS = E2E / "node_modules" / "axe-core" / "axe.min.js"
OUTPUT = REPO / "test-output"
SCREENSHOTS = OUTPUT / "screenshots"
AXE_OUT = OUTPUT / "axe"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SERVER_START_TIMEOUT = 60.0


def _missing_browser() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (install Debian's chromium: apt-get install chromium; scripts/test.sh does)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing (pip install -e '.[dev]')"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = _missing_browser()
    if reason is None:
        return
    skip = pytest.mark.skip(reason=f"browser tests skipped: {reason}")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


# ---------------------------------------------------------------------------------- the project


@pytest.fixture(scope="module")
def demo_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoProject]:
    """The explorer tests' small project (documents, segments, codebook, suggestions, candidates)."""
    built = build_demo_project(tmp_path_factory.mktemp("e2e") / "demo")
    yield built
    built.project.close()


# ----------------------------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A real ``streamlit run app.py`` process; ``restart()`` stops it and starts a fresh one."""

    project_path: Path
    port: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(REPO / "app.py"),
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(self.port),
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
            "--client.toolbarMode",
            "minimal",
            "--",
            "--project",
            str(self.project_path),
        ]
        environment = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(command, cwd=REPO, env=environment, stdout=log, stderr=log)
        self._wait_healthy()

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"streamlit exited early; log:\n{self.log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.25)
        raise RuntimeError(
            f"streamlit did not answer in {SERVER_START_TIMEOUT}s; log:\n{self.log_path.read_text()[-3000:]}"
        )

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture(scope="module")
def server(demo_project: DemoProject, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if _missing_browser():
        pytest.skip(f"browser tests skipped: {_missing_browser()}")
    running = Server(
        project_path=demo_project.project.path,
        port=free_port(),
        log_path=tmp_path_factory.mktemp("server") / "streamlit.log",
    )
    running.start()
    yield running
    running.stop()


# ---------------------------------------------------------------------------------- the browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def page(browser: Any) -> Iterator[Any]:
    """One tab for the whole module, so the session (reviewer name) lives across steps."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-GB")
    context.set_default_timeout(20_000)
    tab = context.new_page()
    yield tab
    context.close()


# --------------------------------------------------------------------------- Streamlit helpers


IDLE_SCRIPT = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.getAttribute('data-test-script-state') === 'running') return false;
    if (document.querySelector('[data-testid="stStatusWidgetRunningIcon"]')) return false;
    if (document.querySelector('[data-testid="stMain"] [data-testid="stSkeleton"]')) return false;
    return !!document.querySelector('[data-testid="stMain"] h1');
}"""


def wait_for_app(page: Any, timeout: float = 30_000) -> None:
    """Until the page is drawn and no script run is in progress: no "running" status widget, no
    skeleton, a page title. Checked twice a moment apart, as a rerun can start right after one ends."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout)
    for _ in range(2):
        page.wait_for_function(IDLE_SCRIPT, timeout=timeout)
        page.wait_for_timeout(250)
    page.wait_for_function(IDLE_SCRIPT, timeout=timeout)


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def run_axe(page: Any, name: str | None = None) -> list[dict[str, Any]]:
    """axe-core's violations for the page as it is now; saved to test-output/axe/<name>.json."""
    if not AXE_JS.exists():
        pytest.skip(f"axe-core missing: run `npm install` in {E2E} (scripts/test.sh does)")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    results = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return {url: r.url, testEngine: r.testEngine, violations: r.violations};
        }"""
    )
    if name:
        AXE_OUT.mkdir(parents=True, exist_ok=True)
        (AXE_OUT / f"{name}.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    return list(results["violations"])


def write_axe_summary(findings: dict[str, list[dict[str, Any]]]) -> Path:
    """A table per page of rule id, impact and number of elements, for the record."""
    lines = [
        "# axe-core findings per page",
        "",
        "Written by tests/e2e/test_explorer_browser.py; the full results are beside this file.",
        "",
        "| page | rule | impact | elements | help |",
        "|---|---|---|---|---|",
    ]
    for page_name, violations in findings.items():
        if not violations:
            lines.append(f"| {page_name} | (none) | | 0 | |")
        for violation in violations:
            lines.append(
                f"| {page_name} | {violation['id']} | {violation.get('impact') or ''} | "
                f"{len(violation.get('nodes', []))} | {violation.get('help', '')} |"
            )
    AXE_OUT.mkdir(parents=True, exist_ok=True)
    path = AXE_OUT / "summary.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def copy_for_docs(names: dict[str, str]) -> None:
    """Copy test-output/screenshots/<page>.png to docs/screenshots/<doc name>.png for the README."""
    target = REPO / "docs" / "screenshots"
    target.mkdir(parents=True, exist_ok=True)
    for page_name, doc_name in names.items():
        source = SCREENSHOTS / f"{page_name}.png"
        if source.exists():
            shutil.copyfile(source, target / f"{doc_name}.png")
