"""Fixtures for the browser tests: a demo project, the real Streamlit server, headless Chromium, axe.

The browser tests need Debian's Chromium (``/usr/bin/chromium``, which ``scripts/test.sh``
installs) and the ``playwright`` Python package; they are skipped, saying which is missing, when
either is absent. ``playwright install`` is never run: it downloads a browser, which fails here.
axe-core comes from npm (``tests/e2e/package.json``; ``scripts/test.sh`` runs ``npm install``).

Outputs land in ``test-output/``: ``screenshots/<page>.png`` and ``axe/<page>.json``.

Nothing here waits a fixed time: every wait is for a condition, with timeouts generous enough for
a 2-core machine that another job keeps busy. How the tests know that Streamlit has finished a
script run: an init script wraps the page's ``WebSocket`` and reads the top-level field of each
``ForwardMsg`` the server sends (``new_session`` starts a run, ``script_finished`` ends one, with
``FINISHED_EARLY_FOR_RERUN`` between the runs of an ``st.rerun()`` chain) and of each ``BackMsg``
the page sends (``rerun_script`` asks for a run). The field numbers come from the installed
Streamlit's own protobuf descriptors, and the decoder is checked against messages encoded with
them before the first test. See :func:`script_run` and :func:`wait_for_app`.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from narratives.bench.browser import CHROMIUM_ARGS as BENCH_CHROMIUM_ARGS
from tests.builders.demo_project import DemoProject, build_demo_project

REPO = Path(__file__).resolve().parents[2]
E2E = Path(__file__).resolve().parent
CHROMIUM = Path("/usr/bin/chromium")
AXE_JS = E2E / "node_modules" / "axe-core" / "axe.min.js"
OUTPUT = REPO / "test-output"
SCREENSHOTS = OUTPUT / "screenshots"
AXE_OUT = OUTPUT / "axe"
CHROMIUM_ARGS = [*BENCH_CHROMIUM_ARGS, "--disable-quic"]  # the benchmark's, and no QUIC
REVIEWER = "Alex Tester"  # the local researcher the explorer tests act as
SERVER_START_TIMEOUT = 240.0  # seconds: a cold start (imports, first page) on a loaded machine
APP_TIMEOUT = 120_000  # milliseconds: Playwright's default for every wait, click and navigation


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
    login: bool = False  # True: the team server (`narratives serve`), everyone logs in
    user: str | None = REVIEWER  # the local researcher of `narratives explore` (login=False)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        from narratives.ui.server_config import server_environment, streamlit_command, wait_until_healthy

        command = streamlit_command(
            REPO / "app.py", self.project_path, "127.0.0.1", self.port, login=self.login, user=self.user
        )
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(command, cwd=REPO, env=server_environment(), stdout=log, stderr=log)
        wait_until_healthy(self.process, self.url, self.log_path, SERVER_START_TIMEOUT)

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
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=APP_TIMEOUT
        )
        yield launched
        launched.close()


def new_context(browser: Any) -> Any:
    """A fresh browser profile (its own cookies: one person at one computer) with the generous
    timeouts and the run tracker every explorer test needs."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-GB")
    context.set_default_timeout(APP_TIMEOUT)
    context.set_default_navigation_timeout(APP_TIMEOUT)
    context.add_init_script(script=RUN_TRACKER_JS % json.dumps(streamlit_protocol()))
    return context


def new_tab(browser: Any) -> Any:
    """A tab in a :func:`new_context` (close it with ``tab.context.close()``)."""
    return new_context(browser).new_page()


@pytest.fixture(scope="module")
def page(browser: Any) -> Iterator[Any]:
    """One tab for the whole module, so the session lives across steps."""
    context = new_context(browser)
    tab = context.new_page()
    check_decoder(tab)
    yield tab
    context.close()


# --------------------------------------------------------------------------- Streamlit helpers


def streamlit_protocol() -> dict[str, Any]:
    """The field numbers the run tracker reads, from the installed Streamlit's descriptors."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    forward, back = ForwardMsg.DESCRIPTOR, BackMsg.DESCRIPTOR
    for descriptor, name in ((forward, "new_session"), (forward, "script_finished"), (back, "rerun_script")):
        field = descriptor.fields_by_name.get(name)
        assert field is not None and field.containing_oneof is not None, (
            f"{descriptor.name}.{name} is not a oneof member in this Streamlit: update tests/e2e/conftest.py"
        )
    return {
        "stream": "_stcore/stream",
        "newSession": forward.fields_by_name["new_session"].number,
        "scriptFinished": forward.fields_by_name["script_finished"].number,
        "earlyForRerun": int(ForwardMsg.FINISHED_EARLY_FOR_RERUN),
        "rerunScript": back.fields_by_name["rerun_script"].number,
    }


# The top-level fields of one protobuf message: [[field number, varint value or null], ...].
TOP_LEVEL_FIELDS_JS = r"""(bytes) => {
    const fields = [];
    let at = 0;
    const varint = () => {
        let value = 0, scale = 1, byte;
        do {
            if (at >= bytes.length) throw new Error('truncated varint');
            byte = bytes[at++];
            value += (byte & 0x7f) * scale;
            scale *= 128;
        } while (byte & 0x80);
        return value;
    };
    while (at < bytes.length) {
        const tag = varint();
        const field = Math.floor(tag / 8), wire = tag % 8;
        if (wire === 0) { fields.push([field, varint()]); continue; }
        if (wire === 1) at += 8;
        else if (wire === 2) { const length = varint(); at += length; }  // not `at += varint()`
        else if (wire === 5) at += 4;
        else throw new Error('unexpected wire type ' + wire);
        fields.push([field, null]);
    }
    return fields;
}"""

# Installed in every document before its own scripts run. window.__stRuns says, for this
# document: the current stream socket, whether it is open, how many runs were asked for, started
# and finished, how many of those finishes ended a run chain ("finals"), and what happened last.
RUN_TRACKER_JS = (
    r"""(() => {
    if (window !== window.top || window.__stRuns) return;
    const protocol = %s;
    const topLevel = """
    + TOP_LEVEL_FIELDS_JS.replace("%", "%%")
    + r""";
    const runs = window.__stRuns = {
        doc: Date.now() + ':' + Math.random(), socket: 0, open: false,
        requests: 0, starts: 0, finishes: 0, finals: 0, last: 'none', errors: 0, log: [],
    };
    const note = (socket, event) => {
        if (socket !== runs.socket) return;
        if (event === 'request') runs.requests++;
        else if (event === 'start') runs.starts++;
        else if (event === 'final') { runs.finishes++; runs.finals++; }
        else if (event === 'early') runs.finishes++;
        runs.last = event;
        runs.log.push(event);
        if (runs.log.length > 40) runs.log.shift();
    };
    const bytesOf = (data) => data instanceof ArrayBuffer ? new Uint8Array(data)
        : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : null;
    const read = (data) => {
        const bytes = bytesOf(data);
        if (!bytes) return [];
        try { return topLevel(bytes); } catch (error) { runs.errors++; return []; }
    };
    const Native = window.WebSocket;
    class TrackedWebSocket extends Native {
        constructor(url, protocols) {
            super(url, protocols);
            if (!String(url).includes(protocol.stream)) return;
            const socket = this.__stSocket = ++runs.socket;
            runs.open = false;
            runs.last = 'none';
            this.addEventListener('open', () => { if (socket === runs.socket) runs.open = true; });
            this.addEventListener('close', () => { if (socket === runs.socket) runs.open = false; });
            this.addEventListener('message', (event) => {
                for (const [field, value] of read(event.data)) {
                    if (field === protocol.newSession) note(socket, 'start');
                    else if (field === protocol.scriptFinished)
                        note(socket, value === protocol.earlyForRerun ? 'early' : 'final');
                }
            });
        }
        send(data) {
            if (this.__stSocket !== undefined) {
                for (const [field] of read(data)) if (field === protocol.rerunScript) note(this.__stSocket, 'request');
            }
            return super.send(data);
        }
    }
    window.WebSocket = TrackedWebSocket;
})();"""
)

RUN_MARK_JS = """() => {
    const r = window.__stRuns;
    return r ? {doc: r.doc, requests: r.requests, finals: r.finals} : {doc: null, requests: 0, finals: 0};
}"""

# True once the last thing on an open socket is the end of a run chain, that chain was asked for
# after `since` (in a new document, as after a reload, or by a rerun_script this page sent after
# `since`), and the page shows it: Streamlit says "not running" and connected, and there is no
# running icon, skeleton or stale element.
SETTLED_JS = """(since) => {
    const r = window.__stRuns;
    if (!r || !r.open || r.last !== 'final') return false;
    if (r.doc === since.doc && (r.requests <= since.requests || r.finals <= since.finals)) return false;
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
    if (app.getAttribute('data-test-connection-state') !== 'CONNECTED') return false;
    if (document.querySelector('[data-testid="stStatusWidgetRunningIcon"]')) return false;
    if (document.querySelector('[data-testid="stMain"] [data-testid="stSkeleton"]')) return false;
    if (document.querySelector('[data-stale="true"]')) return false;
    return !!document.querySelector('[data-testid="stMain"] h1');
}"""

STATE_JS = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    return {runs: window.__stRuns || null, url: location.href,
            scriptState: app && app.getAttribute('data-test-script-state'),
            connection: app && app.getAttribute('data-test-connection-state'),
            runningIcon: !!document.querySelector('[data-testid="stStatusWidgetRunningIcon"]'),
            stale: document.querySelectorAll('[data-stale="true"]').length};
}"""


def check_decoder(page: Any) -> None:
    """The tracker's protobuf reader finds what Streamlit's own encoder wrote."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    protocol = streamlit_protocol()
    samples: list[tuple[Any, int, int | None]] = []
    for status in (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_EARLY_FOR_RERUN):
        finished = ForwardMsg()
        finished.metadata.run.script_run_id = "run-1"
        finished.script_finished = status
        samples.append((finished, protocol["scriptFinished"], int(status)))
    started = ForwardMsg()
    started.new_session.name = "app"
    started.new_session.page_script_hash = "x" * 300  # a length that takes a two-byte varint
    samples.append((started, protocol["newSession"], None))
    rerun = BackMsg()
    rerun.rerun_script.query_string = "a=1"
    rerun.rerun_script.page_script_hash = "hash"
    samples.append((rerun, protocol["rerunScript"], None))
    for message, field, value in samples:
        data = list(message.SerializeToString())
        found = page.evaluate(f"(data) => ({TOP_LEVEL_FIELDS_JS})(new Uint8Array(data))", data)
        assert [field, value] in found, (message, found)


def run_mark(page: Any) -> dict[str, Any]:
    """Where the page's run record stands now; pass it to :func:`wait_for_app` after an action."""
    return dict(page.evaluate(RUN_MARK_JS))


def wait_for_app(page: Any, since: dict[str, Any], timeout: float = APP_TIMEOUT) -> None:
    """Until a script run chain that ended after ``since`` (a :func:`run_mark`, or a mark from an
    earlier document for a reload or navigation) is the last thing the page's socket saw, no rerun
    was asked for after it, and the page shows no run in progress."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(SETTLED_JS, arg=since, timeout=timeout)
    except PlaywrightTimeout as error:
        try:
            state = page.evaluate(STATE_JS)
        except Exception as failure:  # the page itself may be gone
            state = f"(state unreadable: {failure})"
        raise AssertionError(
            f"no finished script run after {since} within {timeout} ms; now: {state}"
        ) from error


@contextmanager
def script_run(page: Any, timeout: float = APP_TIMEOUT) -> Iterator[None]:
    """Around an action that makes Streamlit run the script (a key, a click, a reload, a URL):
    afterwards, wait until a run that began after the action has finished and is shown."""
    since = run_mark(page)
    yield
    wait_for_app(page, since, timeout)


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


@contextmanager
def team_server(
    project_path: Path, tmp_path_factory: pytest.TempPathFactory, port: int | None = None
) -> Iterator[Server]:
    """The team server (`narratives serve`: everyone logs in) on ``project_path``, started and,
    afterwards, stopped; for a module-scoped fixture to ``yield from``."""
    running = Server(
        project_path=project_path,
        port=port or free_port(),
        log_path=tmp_path_factory.mktemp("team-server") / "streamlit.log",
        login=True,
        user=None,
    )
    running.start()
    try:
        yield running
    finally:
        running.stop()


def log_in(page: Any, server: Server, name: str, password: str) -> None:
    """Log in on the team server (``server.login``) through its login form, as a person would."""
    with script_run(page):
        page.goto(server.url + "/")
    page.locator('[data-testid="stMain"] h1').filter(has_text="Log in").first.wait_for()
    page.get_by_role("textbox", name="Name", exact=True).fill(name)
    page.get_by_role("textbox", name="Password", exact=True).fill(password)
    with script_run(page):
        page.get_by_role("button", name="Log in").click()
    page.locator('[data-testid="stSidebar"]').get_by_text(f"Signed in as {name}").wait_for()


def add_account(project_path: Path, name: str, role: str, password: str | None) -> None:
    """A login for the team server, made the way `narratives users add` makes one (``None``: a
    single sign-on account, `--sso`)."""
    from narratives.auth.accounts import add_user
    from narratives.kinds import Role
    from narratives.store.project import open_project

    project = open_project(project_path)
    try:
        with project.begin() as connection:
            add_user(connection, name, Role(role), password)
    finally:
        project.close()
